"""PSBTs: build spends, take in signatures safely, finalize (core, no web).

The same checks run in the coordinator and in the signer agent.
"""

from . import errors  # noqa: F401  (registers this package's error codes)
