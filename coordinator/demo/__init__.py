"""``huddle demo``: the whole of Huddle on loopback, with demo signers (docs/demo.md).

- ``live``: the regtest sandbox, ``huddle serve`` on a throwaway data directory, a
  2-of-3 wallet set up through the real setup ceremony by three members' real agents
  driving demo devices (coordinator/hw/demo_device.py), funded, and a pending proposal.
- ``walkthrough``: ``huddle demo --cli``, the same spend at the command line.

**DEMO: keys are not secret** (people.py).
"""

from .walkthrough import FUNDING, PAYMENT, run  # noqa: F401  (huddle demo --cli and its tests)
