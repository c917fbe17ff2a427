"""Multisig wallets: keys, descriptors, addresses and wallet files (core)."""
