"""The ``huddle`` command line: thin commands over the core.

Each command parses its arguments, calls the core and prints. Errors are
turned into one line on stderr and an exit code by ``HuddleGroup``, using the
single table in ``coordinator/edge.py``.
"""

from __future__ import annotations

import os
import sys

import click

from .. import __version__
from ..edge import INTERNAL_EXIT, exit_code
from ..errors import HuddleError


class HuddleGroup(click.Group):
    """Runs a command and turns any error into one line and an exit code."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except HuddleError as err:
            _fail(ctx, f"error: {err.message} [{err.code}]", exit_code(err), err)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            _fail(ctx, "interrupted", 130, None)
        except BrokenPipeError:  # `huddle qr encode ... | head`: the reader left
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(141)  # what a shell reports for SIGPIPE
        except Exception as err:  # a bug: say so in one line, no traceback
            if os.environ.get("HUDDLE_DEBUG"):
                raise
            _fail(ctx, f"internal error: {type(err).__name__}: {err} "
                       "(set HUDDLE_DEBUG=1 for a traceback, and please report it)",
                  INTERNAL_EXIT, None)


def _fail(ctx: click.Context, line: str, code: int, err: HuddleError | None) -> None:
    if err is not None and _wants_json(ctx):
        click.echo(_json_dumps(err.to_dict()))
    click.echo(f"huddle: {line}", err=True)
    sys.exit(code)


def _wants_json(ctx: click.Context) -> bool:
    while ctx is not None:
        if ctx.params.get("as_json"):
            return True
        ctx = ctx.parent  # type: ignore[assignment]
    return "--json" in sys.argv


def _json_dumps(obj) -> str:
    import json

    return json.dumps(obj, indent=2, sort_keys=False)


@click.group(cls=HuddleGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="huddle")
def main() -> None:
    """Huddle: a self-hosted multisig signing coordinator.

    Keys stay on your signers' devices; Huddle only ever sees public keys.
    """


def _register() -> None:
    from . import chain_cmd, config_cmd, demo, descriptor, psbt, qr, wallet

    for module in (config_cmd, descriptor, psbt, qr, wallet):
        main.add_command(module.group)
    main.add_command(demo.command)
    main.add_command(chain_cmd.tx_group)
    main.add_command(chain_cmd.sandbox_group)
    wallet.group.add_command(chain_cmd.sync)


_register()
