"""The signer agent (a later issue): the only package that may import HWI.
It pins the wallet descriptor and runs coordinator.psbt.checks before any
device signs."""
