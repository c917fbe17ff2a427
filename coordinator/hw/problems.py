"""HWI's failures, turned into our error codes with what to do about them.

HWI reports problems three ways: an ``HWWError`` with a numeric code, an
``error``/``code`` pair inside an enumerated device's dict, or a plain
exception from a transport (libusb missing, hidapi's "open failed" when udev
rules are missing). All three meet here (STYLE 4: translate where they enter).
"""

from __future__ import annotations

import sys

from hwilib import errors as hwi

from ..errors import Conflict, HuddleError, Unavailable

UDEV_HINT = ("install HWI's udev rules: `huddle agent doctor` prints the commands "
             "(https://github.com/bitcoin-core/HWI/tree/master/hwilib/udev)")
LIBUSB_HINT = ("Debian/Ubuntu: sudo apt install libusb-1.0-0; Fedora: sudo dnf install libusb1; "
               "macOS: brew install libusb")
BUSY_HINT = "close Ledger Live, Trezor Suite or any other wallet app using it, then retry"
# Ledger status words meaning "not in the Bitcoin app": CLA/INS not supported, app closed.
_LEDGER_APP_CLOSED = (0x6E00, 0x6D00, 0x6511, 0x6E01)


def from_exception(exc: BaseException, what: str) -> HuddleError:
    """The HuddleError for an exception raised while the device did ``what``."""
    if isinstance(exc, HuddleError):
        return exc
    if isinstance(exc, hwi.HWWError):
        return from_code(exc.get_code(), exc.get_msg(), what)
    text = str(exc)
    if type(exc).__name__ == "DenyError":  # ledger_bitcoin: status word 0x6985, rejected by the user
        return Conflict("device_declined", f"{what}: declined on the device")
    if isinstance(exc, OSError) and "libusb" in text:
        return Unavailable("libusb_missing", f"libusb-1.0 is not installed ({LIBUSB_HINT})")
    if isinstance(exc, PermissionError) or _permission_text(text):
        return _no_permission(what)
    if _app_closed(exc, text):
        return Unavailable("device_app_closed", f"{what}: open the Bitcoin app on the Ledger, then retry")
    return Unavailable("device_failed", f"{what}: {type(exc).__name__}: {text or 'no message'}")


def from_code(code: int, message: str, what: str) -> HuddleError:
    """An HWI error code (hwilib/errors.py) and its message, as ours."""
    if code == hwi.ACTION_CANCELED:
        return Conflict("device_declined", f"{what}: declined on the device")
    if code == hwi.DEVICE_BUSY:
        return Unavailable("device_busy", f"{what}: the device is busy; {BUSY_HINT}")
    if code in (hwi.DEVICE_NOT_READY, hwi.NO_PASSWORD):
        return Unavailable("device_locked", f"{what}: unlock the device (PIN) or give its passphrase, "
                           f"then retry ({message})")
    if code == hwi.NEED_TO_BE_ROOT or _permission_text(message):
        return _no_permission(what)
    if _app_closed(None, message):
        return Unavailable("device_app_closed", f"{what}: open the Bitcoin app on the Ledger, then retry")
    if code == hwi.DEVICE_CONN_ERROR and "busy" in message.lower():
        return Unavailable("device_busy", f"{what}: {BUSY_HINT}")
    return Unavailable("device_failed", f"{what}: {message or 'HWI error ' + str(code)}")


def from_listing(entry: dict) -> HuddleError | None:
    """The problem HWI noted in one enumerated device's dict, if any."""
    what = f"{entry.get('model') or entry.get('type')} at {entry.get('path')}"
    if entry.get("needs_pin_sent"):
        return Unavailable("device_locked", f"{what}: enter the PIN on the device, then retry")
    if entry.get("needs_passphrase_sent") and not entry.get("fingerprint"):
        return Unavailable("device_locked", f"{what}: enter the passphrase on the device, then retry")
    if "error" in entry:
        return from_code(int(entry.get("code", hwi.UNKNOWN_ERROR)), str(entry["error"]), what)
    return None


def _permission_text(text: str) -> bool:
    text = text.lower()
    return "permission denied" in text or "open failed" in text or "access denied" in text \
        or "libusb_error_access" in text


def _no_permission(what: str) -> HuddleError:
    if sys.platform.startswith("linux"):
        return Unavailable("udev_rules_missing", f"{what}: no permission to open the device; {UDEV_HINT}")
    return Unavailable("device_busy", f"{what}: the device could not be opened; {BUSY_HINT}")


def _app_closed(exc: BaseException | None, text: str) -> bool:
    """ledger_bitcoin's Cla/InsNotSupportedError, btchip's status word, or HWI's text about it."""
    name = type(exc).__name__ if exc is not None else ""
    lowered = text.lower()
    return name in ("ClaNotSupportedError", "InsNotSupportedError") \
        or getattr(exc, "sw", None) in _LEDGER_APP_CLOSED \
        or any(f"{sw:#06x}" in lowered for sw in _LEDGER_APP_CLOSED) or "bitcoin app" in lowered
