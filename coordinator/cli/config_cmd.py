"""``huddle config``: show the settings in force."""

from __future__ import annotations

import click

from . import context
from .io import emit_json, json_option


@click.group("config")
def group() -> None:
    """Inspect Huddle's settings."""


@group.command("show")
@json_option
def show(as_json: bool) -> None:
    """Print the resolved settings (the secret key stays hidden)."""
    from .. import config

    values = context.settings().public()
    if as_json:
        emit_json(values)
        return
    width = max(map(len, values))
    for name, value in values.items():
        env = config.SETTINGS[name][0]
        click.echo(f"{name:<{width}}  {value}    ({env})")
