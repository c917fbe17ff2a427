"""``huddle serve``: run the coordinator server (the API and Socket.IO).

Flask is imported only when the command runs: ``huddle --help`` stays light.
"""

from __future__ import annotations

import click

from . import context


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; keep loopback behind a TLS reverse proxy.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--origin", envvar="HUDDLE_ORIGIN", default=None,
              help="The URL members open, e.g. https://huddle.example.org (env HUDDLE_ORIGIN). "
                   "Passkeys are bound to it. Default: http://localhost:PORT.")
def command(host: str, port: int, origin: str | None) -> None:
    """Run the server. On the first run it prints a one-time setup link for the admin."""
    from ..accounts import setup
    from ..web import create_app
    from ..web.config import WebConfig, check_origin
    from ..web.realtime import socketio

    cfg, db = context.database()
    web = WebConfig(cfg.database, cfg.secret_key, check_origin(origin or f"http://localhost:{port}"), cfg.network,
                    trusted_proxies=cfg.trusted_proxies)
    app = create_app(web)
    token = setup.issue_token(db)
    db.close()
    if token is not None:
        click.echo(f"First run: open this link once to create the admin account:\n  {web.origin}/setup#{token}")
    click.echo(f"Huddle serving {web.origin} (listening on {host}:{port}, network {cfg.network})", err=True)
    socketio.run(app, host=host, port=port, allow_unsafe_werkzeug=True, use_reloader=False)
