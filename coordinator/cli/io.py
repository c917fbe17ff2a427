"""Reading user files and printing results, shared by the commands."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..errors import InvalidInput

MAX_INPUT_BYTES = 1_000_000  # wallet files and descriptors are a few KB
BOM = "\ufeff".encode("utf-8")


def read_bytes(source: str, limit: int) -> bytes:
    """A file's bytes, or stdin for ``-``; refuses more than ``limit``."""
    try:
        if source == "-":
            data = sys.stdin.buffer.read(limit + 1)
        else:
            with open(Path(source).expanduser(), "rb") as handle:
                data = handle.read(limit + 1)
    except OSError as err:
        raise InvalidInput("bad_input", f"cannot read {source}: {err.strerror}") from None
    if len(data) > limit:
        raise InvalidInput("bad_input", f"{source} is larger than {limit} bytes")
    return data


def read_payload(source: str, limit: int) -> bytes:
    """``read_bytes`` for a PSBT or transaction (binary, base64 or hex), without
    a leading UTF-8 BOM, which Windows editors write before text. Wallet files
    accept one (``read_text``). Binary input cannot be mistaken for it: a PSBT
    starts with ``psbt\\xff``, a standard transaction with version 1, 2 or 3."""
    data = read_bytes(source, limit)
    return data[len(BOM):] if data.startswith(BOM) else data


def read_text(source: str) -> str:
    """A file's text, or stdin for ``-``; size-capped and UTF-8 only."""
    data = read_bytes(source, MAX_INPUT_BYTES)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("bad_input", f"{source} is not UTF-8 text") from None


def write_text(target: str, text: str) -> None:
    """Write an output file the user named; failures are their input's fault."""
    try:
        Path(target).expanduser().write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    except OSError as err:
        raise InvalidInput("bad_input", f"cannot write {target}: {err.strerror}") from None


def emit_json(obj: object) -> None:
    click.echo(json.dumps(obj, indent=2))


json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
