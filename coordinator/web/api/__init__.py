"""The JSON API under /api/v1: one blueprint per concept, each a thin adapter
over the core (accounts/, governance/, store/)."""

from __future__ import annotations

from flask import Flask

PREFIX = "/api/v1"


def init_app(app: Flask) -> None:
    from . import agent, drafts, invites, meta, proposals, session, setup, tokens, users, wallets

    for module in (meta, setup, session, invites, wallets, drafts, proposals, tokens, users, agent):
        app.register_blueprint(module.bp, url_prefix=PREFIX)
