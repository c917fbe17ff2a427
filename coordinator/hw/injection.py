"""Which device factory the agent uses: HWI's, or (in Huddle's own tests only) a software one.

``HUDDLE_AGENT_TEST_DEVICES=tests.hw.software_device:from_env`` makes a ``huddle
agent`` process use the software test device, so the CLI can be tested through
the real ``huddle`` script. It is honoured only when the named module is a file
inside the ``tests/`` directory of the checkout this very ``coordinator``
package was imported from. An installed Huddle (pip, not ``-e``) has no such
directory, so there the variable can only fail, loudly.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path

import coordinator

from typing import TYPE_CHECKING

from .. import networks
from ..errors import InvalidInput, Unavailable

if TYPE_CHECKING:
    from .devices import Factory

ENV = "HUDDLE_AGENT_TEST_DEVICES"
DEMO_ENV = "HUDDLE_AGENT_DEMO_DEVICE"  # set by `huddle demo` for its agents; regtest only (demo_device.py)


def factory(network: str, emulators: bool = False, env: dict[str, str] | None = None) -> Factory:
    env = os.environ if env is None else env
    spec = env.get(ENV)
    if spec:
        return _test_factory(spec)
    try:
        if env.get(DEMO_ENV):
            from .demo_device import DemoFactory

            return DemoFactory(env[DEMO_ENV], networks.check(network))
        from .devices import HwiFactory
    except ImportError as err:  # the server's install carries no HWI
        raise Unavailable("agent_not_ready", f"HWI is not installed ({err}): pip install 'huddle[agent]', "
                          "then run huddle agent doctor") from None
    return HwiFactory(network, emulators=emulators)


def _test_factory(spec: str) -> Factory:
    module_name, _, function = spec.partition(":")
    checkout = Path(coordinator.__file__).resolve().parent.parent
    tests = checkout / "tests"
    refuse = InvalidInput("bad_config", f"{ENV}={spec!r} is for Huddle's own tests and names a module in "
                          f"{tests}; unset it")
    if not module_name.startswith("tests.") or not function.isidentifier() \
            or not (tests / "__init__.py").is_file() or not (checkout / "pyproject.toml").is_file():
        raise refuse
    if str(checkout) not in sys.path:
        sys.path.append(str(checkout))
    found = importlib.util.find_spec(module_name)
    origin = Path(found.origin).resolve() if found and found.origin else None
    if origin is None or tests not in origin.parents:
        raise refuse
    return getattr(importlib.import_module(module_name), function)()
