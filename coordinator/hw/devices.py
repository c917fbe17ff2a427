"""Finding hardware wallets through HWI and talking to one, safely.

- ``HwiFactory.enumerate`` asks each HWI device module on its own (HWI 3.2's
  ``commands.enumerate`` stops at the first module that raises: without libusb
  the Trezor module raises FileNotFoundError and hides every Ledger), and turns
  each failure into one line saying what to do (problems.py).
- ``select`` picks a device by master fingerprint, because a passphrase
  changes the fingerprint and paths can change between plugs.
- ``Device`` runs one operation at a time, in a worker thread, with a timeout:
  HWI's transports are not thread-safe and a device waiting for a button press
  must not hang the agent.

The agent takes a *factory* (``enumerate()`` and ``open(found)``), so tests
inject a software device (tests/hw/software_device.py) where HWI would open USB.
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass, field
from typing import Callable, Protocol

from hwilib import commands
from hwilib.common import Chain
from hwilib.hwwclient import HardwareWalletClient

from .. import networks
from ..errors import HuddleError, InvalidInput, NotFound, Unavailable
from . import problems
from ..wallet.descriptor import MultisigDescriptor

# hwilib.devices.__all__ in HWI 3.2, asked one by one.
MODULES = ("trezor", "ledger", "keepkey", "digitalbitbox", "coldcard", "bitbox02", "jade")
DEFAULT_TIMEOUT = 300.0  # seconds: reviewing a large spend on a small screen takes a while
_CHAINS = {"bitcoin": Chain.MAIN, "testnet": Chain.TEST, "testnet4": Chain.TESTNET4,
           "signet": Chain.SIGNET, "regtest": Chain.REGTEST}
# One device operation at a time in this process, whichever device (HID is not thread-safe).
_DEVICE_LOCK = threading.Lock()


def chain_of(network: str) -> Chain:
    return _CHAINS[networks.check(network)]


@dataclass(frozen=True)
class Found:
    """One device as enumeration saw it; ``problem`` says why it cannot be used yet."""

    type: str
    model: str
    path: str
    fingerprint: str | None
    problem: HuddleError | None = None

    def line(self) -> str:
        who = self.fingerprint or "--------"
        state = f"{self.problem.message} [{self.problem.code}]" if self.problem else "ready"
        return f"{who}  {self.model}  {state}"


@dataclass(frozen=True)
class Enumeration:
    devices: tuple[Found, ...]
    problems: tuple[HuddleError, ...] = ()  # one per device module that failed as a whole


class Factory(Protocol):
    def enumerate(self) -> Enumeration: ...

    def open(self, found: Found) -> HardwareWalletClient: ...


@dataclass
class HwiFactory:
    """Real devices through HWI. ``emulators`` also looks for HWI's emulators."""

    network: str
    password: str | None = None
    emulators: bool = False
    modules: tuple[str, ...] = MODULES
    importer: Callable[[str], object] = field(default=importlib.import_module, repr=False)

    def enumerate(self) -> Enumeration:
        found, failed = [], []
        for name in self.modules:
            try:
                module = self.importer(f"hwilib.devices.{name}")
                entries = module.enumerate(self.password, False, chain_of(self.network), self.emulators)
            except ImportError as exc:  # an optional device library is absent: that module only
                failed.append(Unavailable("device_failed", f"{name}: not available ({exc})"))
                continue
            except Exception as exc:  # noqa: BLE001 - one module's failure must not hide the others
                failed.append(_module_problem(name, problems.from_exception(exc, name)))
                continue
            found += [_found(entry) for entry in entries]
        return Enumeration(tuple(found), _merge(failed))

    def open(self, found: Found) -> HardwareWalletClient:
        return commands.get_client(found.type, found.path, self.password, False, chain_of(self.network))


def _found(entry: dict) -> Found:
    return Found(str(entry.get("type")), str(entry.get("model") or entry.get("type")), str(entry.get("path")),
                 entry.get("fingerprint"), problems.from_listing(entry))


def _module_problem(name: str, err: HuddleError) -> HuddleError:
    return type(err)(err.code, f"{name}: {err.message}", modules=[name])


def _merge(failed: list[HuddleError]) -> tuple[HuddleError, ...]:
    """One line per cause: a missing libusb breaks trezor and keepkey alike."""
    libusb = [err for err in failed if err.code == "libusb_missing"]
    rest = [err for err in failed if err.code != "libusb_missing"]
    if len(libusb) > 1:
        names = [name for err in libusb for name in err.details["modules"]]
        libusb = [Unavailable("libusb_missing", f"{', '.join(names)}: libusb-1.0 is not installed, so these "
                              f"devices cannot be listed ({problems.LIBUSB_HINT})", modules=names)]
    return tuple(libusb + rest)


# -- one device ------------------------------------------------------------------


class Worker:
    """Runs device calls one at a time in a daemon thread, giving up after ``timeout`` s."""

    def __init__(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.timeout = timeout

    def run(self, what: str, call: Callable[[], object]) -> object:
        box: dict[str, object] = {}

        def target() -> None:
            with _DEVICE_LOCK:  # a call still stuck from before keeps the next one waiting
                try:
                    box["value"] = call()
                except BaseException as exc:  # noqa: BLE001 - carried back to the caller's thread
                    box["error"] = exc

        thread = threading.Thread(target=target, name=f"huddle-device-{what}", daemon=True)
        thread.start()
        thread.join(self.timeout)
        if thread.is_alive():
            raise Unavailable("device_timeout", f"{what}: the device did not answer within "
                              f"{self.timeout:g} s (waiting for a button press, or held by another call)")
        if "error" in box:
            raise problems.from_exception(box["error"], what)
        return box["value"]


class Device:
    """An opened device: the few operations the agent needs, through the worker."""

    def __init__(self, client: HardwareWalletClient, found: Found, worker: Worker) -> None:
        self.client, self.found, self.worker = client, found, worker
        self.fingerprint = found.fingerprint or ""

    def master_fingerprint(self) -> str:
        return self.worker.run("reading the fingerprint", lambda: self.client.get_master_fingerprint().hex())

    def xpub(self, path: str) -> str:
        return self.worker.run("exporting a key", lambda: commands.getxpub(self.client, path)["xpub"])

    def sign(self, psbt_base64: str) -> str:
        """The device's PSBT, base64; the caller checks everything in it (signing.py)."""
        return self.worker.run("signing", lambda: commands.signtx(self.client, psbt_base64)["psbt"])

    def display_address(self, descriptor: MultisigDescriptor, branch: int, index: int) -> str:
        """Show address ``index`` of ``branch`` on the screen; the address the device shows."""
        text = one_address_descriptor(descriptor, branch, index)
        return self.worker.run("showing an address", lambda: commands.displayaddress(self.client, desc=text)["address"])

    def close(self) -> None:
        try:  # briefly: after a timeout the stuck call still holds the device
            Worker(min(5.0, self.worker.timeout)).run("closing", self.client.close)
        except HuddleError:
            pass  # closing is best effort: the operation already succeeded or failed


def select(factory: Factory, fingerprint: str | None = None, worker: Worker | None = None) -> Device:
    """Open the device with this master fingerprint (or the only one connected)."""
    listing = factory.enumerate()
    wanted = _check_fingerprint(fingerprint) if fingerprint else None
    matches = [d for d in listing.devices if wanted is None or (d.fingerprint or "").lower() == wanted]
    if wanted is None and len(matches) > 1:
        raise InvalidInput("device_ambiguous", "several devices are connected ("
                           + ", ".join(d.fingerprint or d.model for d in matches) + "); choose one with --device")
    if not matches:
        raise NotFound("device_not_found", _not_found(listing, wanted))
    found = matches[0]
    if found.problem is not None:
        raise found.problem
    worker = worker or Worker()
    client = worker.run("opening the device", lambda: factory.open(found))
    return Device(client, found, worker)


def one_address_descriptor(descriptor: MultisigDescriptor, branch: int, index: int) -> str:
    """The descriptor of exactly one address, as HWI's displayaddress takes it."""
    keys = ",".join(f"{c.key_expression()}/{branch}/{index}" for c in descriptor.cosigners)
    body = f"{'sortedmulti' if descriptor.sorted else 'multi'}({descriptor.threshold},{keys})"
    return f"wsh({body})" if descriptor.script_type == "wsh" else f"sh(wsh({body}))"


def _check_fingerprint(text: str) -> str:
    text = text.strip().lower()
    if len(text) != 8 or any(c not in "0123456789abcdef" for c in text):
        raise InvalidInput("device_not_found", f"{text!r} is not a master fingerprint (8 hex digits)")
    return text


def _not_found(listing: Enumeration, wanted: str | None) -> str:
    seen = ", ".join(f"{d.fingerprint or '?'} ({d.model})" for d in listing.devices) or "no device"
    where = f"no device with fingerprint {wanted}" if wanted else "no device is connected"
    extra = "".join(f"; {p.message}" for p in listing.problems)
    return (f"{where}; found {seen}{extra} (a passphrase changes the fingerprint; a Ledger is listed only "
            "while its Bitcoin app is open)")
