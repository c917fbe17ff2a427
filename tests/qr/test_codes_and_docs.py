"""Every qr_* code is registered on import and documented in docs/errors-qr.md;
every ``huddle qr`` command has its heading in docs/qr.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import coordinator.qr  # noqa: F401  (registers the codes)
from coordinator.cli import qr as qr_cli
from coordinator.errors import CODES, InvalidInput
from coordinator.qr import errors as qr_errors
from coordinator.qr.presets import AnimationSettings, density

DOCS = Path(__file__).resolve().parents[2] / "docs"
SOURCE = Path(qr_errors.__file__).resolve().parent


def test_codes_are_registered_on_import():
    assert set(qr_errors.CODES) <= set(CODES)


def test_every_code_raised_in_the_package_is_registered():
    raised = set()
    for path in list(SOURCE.glob("*.py")) + [Path(qr_cli.__file__)]:
        raised |= set(re.findall(r'"(qr_[a-z_]+)"', path.read_text()))
    assert raised <= set(qr_errors.CODES)


def test_every_code_is_documented():
    table = (DOCS / "errors-qr.md").read_text()
    documented = set(re.findall(r"^\| `?(qr_[a-z_]+)`? \|", table, re.M))
    assert documented == set(qr_errors.CODES)


def test_every_qr_command_has_a_heading():
    text = (DOCS / "qr.md").read_text()
    assert "### huddle qr\n" in text
    for name in qr_cli.group.commands:
        assert f"### huddle qr {name}\n" in text


def test_unknown_density_and_bad_settings_are_config_errors():
    for make in (lambda: density("ultra"), lambda: AnimationSettings(fps=0),
                 lambda: AnimationSettings(ecc="X")):
        with pytest.raises(InvalidInput) as err:
            make()
        assert err.value.code == "bad_config"
    assert AnimationSettings().ecc == "L" and AnimationSettings(fps=8).frame_seconds == 0.125
