"""The API's own description: /api/v1/openapi.json."""

from __future__ import annotations

from flask import Blueprint, jsonify

from ..openapi import document

bp = Blueprint("meta", __name__)


@bp.get("/openapi.json")
def openapi():
    return jsonify(document())
