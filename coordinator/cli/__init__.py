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
from ..edge import INTERNAL_EXIT, USAGE_EXIT, exit_code
from ..errors import HuddleError, InvalidInput


class HuddleGroup(click.Group):
    """Runs a command and turns any error into one line and an exit code."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        """click's main, except that its usage errors take our one error path too."""
        args = list(sys.argv[1:] if args is None else args)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as err:  # bare `huddle` or `huddle wallet`
            err.show()
            code = USAGE_EXIT
        except click.UsageError as err:
            bad = InvalidInput("usage", _usage_message(err))
            _fail(err.ctx, f"error: {bad.message} [{bad.code}]", USAGE_EXIT, bad, args)
        except click.ClickException as err:  # e.g. click.FileError: unreadable input
            bad = InvalidInput("bad_input", err.format_message())
            _fail(None, f"error: {bad.message} [{bad.code}]", exit_code(bad), bad, args)
        except click.Abort:  # click turns a Ctrl-C outside a command into Abort
            _fail(None, "interrupted", 130, None, args)
        if not standalone_mode:
            return code
        sys.exit(code if isinstance(code, int) else 0)

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


def _fail(ctx: click.Context | None, line: str, code: int, err: HuddleError | None,
          args: list[str] | None = None) -> None:
    if err is not None and _wants_json(ctx, sys.argv[1:] if args is None else args):
        click.echo(_json_dumps(err.to_dict()))
    click.echo(f"huddle: {line}", err=True)
    sys.exit(code)


def _wants_json(ctx: click.Context | None, args: list[str]) -> bool:
    while ctx is not None:
        if ctx.params.get("as_json"):
            return True
        ctx = ctx.parent
    return "--json" in args  # the command line may have failed before --json was parsed


def _usage_message(err: click.UsageError) -> str:
    """click's message on one line, and where to look (click prints usage + a hint)."""
    message = " ".join(err.format_message().split()).rstrip(".")
    where = err.ctx.command_path if err.ctx is not None else "huddle"
    return f"{message}; see `{where} --help`"


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
    from . import agent_cmd, audit_cmd, backup_cmd, chain_cmd, config_cmd, demo, descriptor, psbt, qr, serve_cmd, wallet

    for module in (agent_cmd, audit_cmd, config_cmd, descriptor, psbt, qr, wallet):
        main.add_command(module.group)
    main.add_command(demo.command)
    main.add_command(serve_cmd.command)
    main.add_command(backup_cmd.backup)
    main.add_command(backup_cmd.restore)
    main.add_command(chain_cmd.tx_group)
    main.add_command(chain_cmd.sandbox_group)
    wallet.group.add_command(chain_cmd.sync)


_register()
