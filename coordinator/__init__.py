"""Huddle: a self-hosted multisig signing coordinator.

The core (wallet, psbt, qr, sessions, governance) never imports Flask,
Socket.IO or HWI; the CLI and web layers are thin adapters over it.
"""

__version__ = "0.1.0"
