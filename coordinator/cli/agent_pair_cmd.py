"""``huddle agent pair``: pair the agent with a server, from a URL and a code, a
pairing link (``huddle-pair:CODE?server=URL``) or a photo of its QR code
(docs/agent.md, "Pairing"). Added to ``huddle agent`` by agent_cmd.py.
"""

from __future__ import annotations

import click


@click.command("pair")
@click.argument("url", required=False, metavar="[URL | LINK]")
@click.option("--code", help="The pairing code (or huddle-pair: link) from the web UI; asked for when not given, "
                             "read from stdin when that is not a terminal.")
@click.option("--qr", "qr_image", metavar="IMAGE", help="Read the pairing link from a photo or screenshot of the "
                                                       "web UI's QR code (PNG, JPEG, ...).")
@click.option("--label", help="This agent's name on the server (default: this computer's host name).")
@click.option("--yes", is_flag=True, help="Do not ask to confirm the server that a pairing link names "
                                          "(scripts that checked it).")
def pair(url: str | None, code: str | None, qr_image: str | None, label: str | None, yes: bool) -> None:
    """Pair with a Huddle server: its URL (https://; http only for localhost) and a code,
    or the web UI's pairing link (huddle-pair:CODE?server=URL; quote it in a shell).

    A server named only by a link is shown, for you to confirm at the terminal.
    """
    import socket

    from ..errors import InvalidInput
    from ..hw import pairing
    from ..hw.pair_uri import is_pair_uri
    from ..hw.pinned import agent_dir

    link_text = url if url is not None and is_pair_uri(url) else None
    given = None if link_text is not None else url
    if given is not None:
        pairing.check_url(given)  # before asking for a code
    if sum(x is not None for x in (link_text, code, qr_image)) > 1:
        raise InvalidInput("usage", "give the code one way: a huddle-pair: link, --code or --qr")
    pairing.check_unpaired(agent_dir())
    if qr_image is not None:
        from ..hw import pair_qr

        link_text = pair_qr.read(qr_image)
    found = pairing.target(given, link_text or (code if code is not None else _read_code()))
    if found.confirm and not yes:
        _confirm_server(found.url)
    link = pairing.pair(agent_dir(), found.url, found.code, label or socket.gethostname()[:48] or "agent")
    click.echo(f"Paired with {link.url} as {link.user_name} (user {link.user_id}); "
               f"API token {link.token_id} kept in {agent_dir() / pairing.FILE} (mode 0600)")
    from ..hw import agent_key

    key, problem = agent_key.try_register(agent_dir(), link)
    if problem is None:
        click.echo(f"Agent key {key.public} registered with the server")
    else:
        click.echo(f"warning: agent key {key.public} is not registered yet ({problem.message} [{problem.code}]); "
                   "huddle agent key --register retries", err=True)


def _confirm_server(url: str) -> None:
    """A link can come from any page: the user checks the host it names (docs/agent.md)."""
    import urllib.parse

    from ..errors import Conflict

    host = urllib.parse.urlsplit(url).hostname
    click.echo(f"This pairing link is for the Huddle server at {host} ({url}). A link from another site can "
               "name any server: pair only if this is the address of your group's web UI.", err=True)
    try:
        agreed = click.confirm(f"Pair with {host}?", default=False, err=True)
    except click.Abort:  # no answer (end of input, Ctrl-C): nothing was sent
        click.echo(err=True)  # end the prompt's line
        agreed = False
    if not agreed:
        raise Conflict("pairing_declined", f"not paired: the server {host} was not confirmed at the terminal")


def _read_code() -> str:
    import sys

    from ..errors import InvalidInput

    if sys.stdin.isatty():
        return click.prompt("Pairing code or huddle-pair: link (from the web UI)").strip()
    line = sys.stdin.readline().strip()
    if not line:
        raise InvalidInput("usage", "no pairing code: pass --code CODE or a huddle-pair: link, or paste it when asked")
    return line
