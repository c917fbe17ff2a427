"""``huddle serve``: run the coordinator server (the API and Socket.IO).

Production runs under gunicorn, one worker with threads (web/production.py);
``--dev`` runs Werkzeug's development server instead. Flask and gunicorn are
imported only when the command runs: ``huddle --help`` stays light.
"""

from __future__ import annotations

import click

from ..errors import InvalidInput, register
from . import context

register({"cannot_listen": "huddle serve cannot listen on --host/--port: the port is taken (another huddle "
                           "serve?), the address is not this machine's, or a port below 1024 needs privileges"})
THREADS = 64  # web/production.py's default, kept here so --help imports no gunicorn
GRACEFUL_TIMEOUT = 30


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; keep loopback behind a TLS reverse proxy.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--origin", envvar="HUDDLE_ORIGIN", default=None,
              help="The URL members open, e.g. https://huddle.example.org (env HUDDLE_ORIGIN). "
                   "Passkeys are bound to it. Default: http://localhost:PORT.")
@click.option("--threads", default=THREADS, show_default=True, type=click.IntRange(4, 1024),
              help="Threads in the one worker process; each open WebSocket holds one.")
@click.option("--graceful-timeout", default=GRACEFUL_TIMEOUT, show_default=True, type=click.IntRange(1, 600),
              help="Seconds the requests in flight get to finish after SIGTERM.")
@click.option("--dev", is_flag=True,
              help="Werkzeug's development server in one process, instead of gunicorn (tests, the demo).")
def command(host: str, port: int, origin: str | None, threads: int, graceful_timeout: int, dev: bool) -> None:
    """Run the server. On the first run it prints a one-time setup link for the admin."""
    from ..accounts import setup
    from ..web import logs
    from ..web.config import WebConfig, check_origin

    cfg, db = context.database()  # settings checked and the database migrated before any fork
    web = WebConfig(cfg.database, cfg.secret_key, check_origin(origin or f"http://localhost:{port}"), cfg.network,
                    trusted_proxies=cfg.trusted_proxies, message_queue=cfg.message_queue,
                    chain=cfg.chain, tor_proxy=cfg.tor_proxy, watch_interval=cfg.watch_interval)
    _check_listen(host, port)  # before a new setup link replaces the one a running server printed
    token = setup.issue_token(db)
    db.close()
    logs.configure()
    if token is not None:  # on the console only: it is the one secret the operator must read
        click.echo(f"First run: open this link once to create the admin account:\n  {web.origin}/setup#{token}")
    logs.event("serving", origin=web.origin, listen=f"{host}:{port}", network=cfg.network,
               server="werkzeug" if dev else "gunicorn")
    if dev:
        _werkzeug(web, host, port)
    else:
        from ..web import production

        production.serve(lambda: _app(web), host, port, threads, graceful_timeout)


def _check_listen(host: str, port: int) -> None:
    import socket

    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will
            probe.bind((host, port))
    except OSError as err:
        raise InvalidInput("cannot_listen", f"cannot listen on {host}:{port}: {err.strerror or err} "
                           "(is another huddle serve running?)") from None


def _app(web):
    from ..web import create_app

    return create_app(web)


def _werkzeug(web, host: str, port: int) -> None:
    import signal

    from ..web import logs
    from ..web.realtime import socketio

    app = logs.init_app(_app(web), emit=True)
    signal.signal(signal.SIGTERM, _interrupt)  # stop as on Ctrl-C: Werkzeug closes and we exit 0
    socketio.run(app, host=host, port=port, allow_unsafe_werkzeug=True, use_reloader=False, log_output=False)


def _interrupt(signum, frame):
    raise KeyboardInterrupt
