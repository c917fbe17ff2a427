"""Finding devices: one broken HWI module hides nothing else, problems read as what to do,
devices are chosen by fingerprint, and one operation runs at a time with a timeout."""

from __future__ import annotations

import ctypes.util
import threading
import types

import pytest
from hwilib import errors as hwi
from hwilib.devices.ledger_bitcoin.btchip.btchipException import BTChipException
from hwilib.devices.ledger_bitcoin.exception.errors import ClaNotSupportedError, DenyError

from coordinator.errors import HuddleError
from coordinator.hw import devices, problems

from .software_device import SoftwareDevice, SoftwareFactory

LEDGER = {"type": "ledger", "model": "ledger_nano_s_plus", "path": "hid:1", "fingerprint": "0badf00d",
          "needs_pin_sent": False, "needs_passphrase_sent": False}


def hwi_module(entries=(), raises=None):
    """A stand-in for one hwilib.devices module: its enumerate lists ``entries`` or raises."""
    def enumerate(password=None, expert=False, chain=None, allow_emulators=False):
        if raises is not None:
            raise raises
        return [dict(e) for e in entries]
    return types.SimpleNamespace(enumerate=enumerate)


def no_libusb() -> FileNotFoundError:  # what usb1 raises when libusb-1.0 is absent
    return FileNotFoundError(2, "cannot find a suitable libusb-1.0: ['libusb-1.0.so.0', 'libusb-1.0.so']")


def factory(**modules) -> devices.HwiFactory:
    return devices.HwiFactory("testnet", modules=tuple(modules),
                              importer=lambda name: modules[name.rsplit(".", 1)[1]])


def test_without_libusb_the_hid_devices_are_still_listed_with_one_line_about_it():
    listing = factory(trezor=hwi_module(raises=no_libusb()), ledger=hwi_module([LEDGER]),
                      keepkey=hwi_module(raises=no_libusb())).enumerate()

    assert [d.fingerprint for d in listing.devices] == ["0badf00d"]
    assert [p.code for p in listing.problems] == ["libusb_missing"]
    line = listing.problems[0].message
    assert "trezor, keepkey" in line and "apt install libusb-1.0-0" in line and "\n" not in line


def test_real_hwi_enumeration_never_raises_and_names_a_missing_libusb():
    listing = devices.HwiFactory("testnet").enumerate()  # whatever this machine has

    codes = [p.code for p in listing.problems]
    assert ("libusb_missing" in codes) == (ctypes.util.find_library("usb-1.0") is None)


def test_a_module_that_cannot_be_imported_is_one_problem_not_a_failure():
    def importer(name):
        if name.endswith("bitbox02"):
            raise ImportError("No module named 'bitbox02'")
        return hwi_module([LEDGER])
    listing = devices.HwiFactory("testnet", modules=("bitbox02", "ledger"), importer=importer).enumerate()
    assert len(listing.devices) == 1 and "bitbox02" in listing.problems[0].message


@pytest.mark.parametrize("entry,code", [
    ({"needs_pin_sent": True}, "device_locked"),
    ({"needs_passphrase_sent": True, "fingerprint": None}, "device_locked"),
    ({"error": "Could not open client or get fingerprint information: open failed", "code": hwi.DEVICE_CONN_ERROR},
     "udev_rules_missing"),
    ({"error": "Device is busy", "code": hwi.DEVICE_BUSY}, "device_busy"),
    ({"error": "Exception: invalid status 0x6e00", "code": hwi.UNKNOWN_ERROR}, "device_app_closed"),
], ids=["pin", "passphrase", "no udev rules", "held by Ledger Live", "bitcoin app closed"])
def test_a_listed_devices_problem_is_translated(entry, code, monkeypatch):
    monkeypatch.setattr(problems.sys, "platform", "linux")
    listing = factory(ledger=hwi_module([{**LEDGER, **entry}])).enumerate()
    assert listing.devices[0].problem.code == code


@pytest.mark.parametrize("exc,code", [
    (hwi.ActionCanceledError("Cancelled by user"), "device_declined"),
    (hwi.DeviceBusyError("busy"), "device_busy"),
    (hwi.DeviceNotReadyError("PIN required"), "device_locked"),
    (hwi.NoPasswordError("passphrase needed"), "device_locked"),
    (hwi.NeedsRootError("need root"), "udev_rules_missing"),
    (OSError("open failed"), "udev_rules_missing"),
    (no_libusb(), "libusb_missing"),
    (hwi.DeviceConnectionError("Unable to open the Bitcoin app 0x6d00"), "device_app_closed"),
    (BTChipException("Invalid status", 0x6E00), "device_app_closed"),
    (ClaNotSupportedError(), "device_app_closed"),
    (DenyError(), "device_declined"),
    (ValueError("txid 6e00aa11 looks odd"), "device_failed"),
    (ValueError("something odd"), "device_failed"),
], ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else v)
def test_device_errors_become_our_codes(exc, code, monkeypatch):
    monkeypatch.setattr(problems.sys, "platform", "linux")
    assert problems.from_exception(exc, "signing").code == code


def test_a_device_is_chosen_by_fingerprint():
    a, b = SoftwareDevice(0), SoftwareDevice(1)
    chosen = devices.select(SoftwareFactory(a, b), b.fingerprint.upper())
    assert chosen.client is b and chosen.fingerprint == b.fingerprint


def test_an_unknown_fingerprint_names_what_is_connected():
    with pytest.raises(HuddleError) as err:
        devices.select(SoftwareFactory(SoftwareDevice(0)), "deadbeef")
    assert err.value.code == "device_not_found"
    assert SoftwareDevice(0).fingerprint in err.value.message and "passphrase" in err.value.message


@pytest.mark.parametrize("spec", ["", "xyz", "123456789"])
def test_a_malformed_fingerprint_is_refused(spec):
    with pytest.raises(HuddleError) as err:
        devices.select(SoftwareFactory(SoftwareDevice(0)), spec or " ")
    assert err.value.code in ("device_not_found", "device_ambiguous")


def test_two_devices_without_a_fingerprint_are_ambiguous():
    with pytest.raises(HuddleError) as err:
        devices.select(SoftwareFactory(SoftwareDevice(0), SoftwareDevice(1)))
    assert err.value.code == "device_ambiguous"


def test_a_locked_device_is_reported_when_chosen():
    with pytest.raises(HuddleError) as err:
        devices.select(factory(ledger=hwi_module([{**LEDGER, "needs_pin_sent": True}])), "0badf00d")
    assert err.value.code == "device_locked"


def test_a_device_that_does_not_answer_times_out_and_holds_the_next_call_back():
    release = threading.Event()
    worker = devices.Worker(timeout=0.2)

    with pytest.raises(HuddleError) as first:
        worker.run("signing", release.wait)
    with pytest.raises(HuddleError) as second:  # the first call still holds the device
        worker.run("showing an address", lambda: "tb1q...")
    release.set()

    assert first.value.code == second.value.code == "device_timeout"
    assert devices.Worker(timeout=5).run("showing an address", lambda: "tb1q...") == "tb1q..."


def test_closing_after_a_stuck_call_does_not_wait_for_it():
    release = threading.Event()
    soft = SoftwareDevice(0)
    device = devices.Device(soft, devices.Found("software", "software", "software:0", soft.fingerprint),
                            devices.Worker(timeout=0.2))
    with pytest.raises(HuddleError):
        device.worker.run("signing", release.wait)

    device.close()  # gives up on the held device instead of raising or waiting for the stuck call

    assert not release.is_set() and "close" not in soft.calls
    release.set()


def test_an_error_in_the_device_thread_arrives_translated():
    def declined():
        raise hwi.ActionCanceledError("Cancelled by user")
    with pytest.raises(HuddleError) as err:
        devices.Worker(timeout=5).run("signing", declined)
    assert err.value.code == "device_declined" and err.value.message.startswith("signing")
