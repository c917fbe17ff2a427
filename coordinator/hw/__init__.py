"""The signer agent: the only package that may import HWI (docs/agent.md).

It pins wallet descriptors, and runs coordinator.psbt.checks against the pinned
one before any device signs. Importing the package registers its error codes;
HWI itself is loaded only by the modules that talk to devices."""

from . import errors as _errors  # noqa: F401  registers the agent's error codes
