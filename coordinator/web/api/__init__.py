"""The JSON API under /api/v1: one blueprint per concept, each a thin adapter
over the core (accounts/, governance/, sessions/, store/).

Every module here that defines ``bp`` is registered; a module may keep its
OpenAPI paths beside its routes as ``PATHS`` (web/openapi.py merges them)."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from flask import Flask

PREFIX = "/api/v1"


def modules() -> list[ModuleType]:
    """The blueprint modules of this package, in name order."""
    found = [importlib.import_module(f"{__name__}.{info.name}") for info in pkgutil.iter_modules(__path__)]
    return [module for module in found if hasattr(module, "bp")]


def init_app(app: Flask) -> None:
    for module in modules():
        app.register_blueprint(module.bp, url_prefix=PREFIX)
