"""``huddle agent doctor``: what this machine lacks to reach a hardware wallet.

Each check gives one line: ok, or what is missing and the command that fixes it.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path

# USB vendor ids HWI's udev rules grant access to (Trezor/KeepKey, Ledger, Coldcard, Jade, BitBox02).
VENDOR_IDS = ("534c", "1209", "2c97", "d13e", "10c4", "1a86", "03eb", "2b24")
UDEV_DIRS = (Path("/etc/udev/rules.d"), Path("/lib/udev/rules.d"), Path("/usr/lib/udev/rules.d"))


@dataclass(frozen=True)
class Finding:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok     ' if self.ok else 'MISSING'} {self.name}: {self.detail}"


def run(platform: str = sys.platform, udev_dirs: tuple[Path, ...] = UDEV_DIRS) -> list[Finding]:
    findings = [python_version(), hwi()]
    if findings[-1].ok:
        findings.append(libusb(platform))
    if platform.startswith("linux"):
        findings.append(udev_rules(udev_dirs))
    return findings


def python_version(version: tuple[int, int] = sys.version_info[:2]) -> Finding:
    ok = (3, 11) <= version < (3, 13)
    text = f"{version[0]}.{version[1]}"
    return Finding("Python", ok, text if ok else f"{text}; HWI 3.2 needs Python 3.11 or 3.12")


def hwi() -> Finding:
    if importlib.util.find_spec("hwilib") is None:
        return Finding("HWI", False, "not installed: pip install 'huddle[agent]' (or -r requirements/agent.lock)")
    from hwilib import __version__

    return Finding("HWI", True, __version__)


def libusb(platform: str) -> Finding:
    try:
        import usb1

        version = usb1.getVersion()
    except OSError:  # usb1 raises FileNotFoundError when it finds no libusb-1.0
        fix = {"darwin": "brew install libusb"}.get(platform, "sudo apt install libusb-1.0-0 "
                                                    "(Fedora: sudo dnf install libusb1)")
        return Finding("libusb-1.0", False, f"not found; Trezor and KeepKey need it: {fix}")
    return Finding("libusb-1.0", True, f"{version.major}.{version.minor}.{version.micro}")


def udev_rules(dirs: tuple[Path, ...]) -> Finding:
    covered = set()
    for directory in dirs:
        for rules in sorted(directory.glob("*.rules")) if directory.is_dir() else []:
            try:
                text = rules.read_text(encoding="utf-8", errors="replace").lower()
            except OSError:
                continue
            covered |= {vid for vid in VENDOR_IDS if vid in text}
    if {"534c", "2c97", "d13e"} <= covered:
        return Finding("udev rules", True, "hardware wallet rules are installed")
    return Finding("udev rules", False, "not installed, so only root can open the devices: "
                   f"sudo cp {_hwi_rules()}/*.rules /etc/udev/rules.d/ && sudo udevadm control --reload "
                   "&& sudo udevadm trigger && sudo groupadd -f plugdev && sudo usermod -aG plugdev $USER "
                   "(log out and in again)")


def _hwi_rules() -> str:
    spec = importlib.util.find_spec("hwilib")
    if spec is None or spec.origin is None:
        return "<hwilib>/udev"
    return str(Path(spec.origin).parent / "udev")
