"""Web Push subscriptions (docs/notifications.md): the server's VAPID public key,
and a browser session's subscriptions, one per device, with the kinds of notice
chosen on each."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from ...errors import InvalidInput
from ...push import keys, subscriptions
from ..db import get_db
from ..openapi import STRING, obj, op
from .body import json_body
from .tokens import session_caller

bp = Blueprint("push", __name__)


@bp.get("/push/subscriptions")
def mine():
    caller = session_caller()
    return jsonify({"public_key": keys.public_key(current_app.extensions["huddle_push_key"]),
                    "kinds": list(subscriptions.KINDS),
                    "subscriptions": [s.to_dict() for s in subscriptions.of_user(get_db(), caller.user.id)]})


@bp.post("/push/subscriptions")
def subscribe():
    caller = session_caller()
    data = json_body({"subscription": dict, "kinds": list})
    allow_http = not current_app.config["HUDDLE"].secure_cookies  # plain http only where the server is (loopback)
    saved = subscriptions.save(get_db(), caller.user.id, data["subscription"], data["kinds"], allow_http)
    return jsonify({"subscription": saved.to_dict()}), 201


@bp.delete("/push/subscriptions")
def unsubscribe():
    caller = session_caller()
    endpoint = (request.get_json(silent=True) or {}).get("endpoint") if request.is_json else None
    if not isinstance(endpoint, str):
        raise InvalidInput("bad_subscription", "the body must be {\"endpoint\": \"...\"}")
    subscriptions.remove(get_db(), caller.user.id, endpoint)
    return jsonify({"removed": endpoint})


_SUBSCRIPTION = obj({"endpoint": STRING, "keys": obj({"p256dh": STRING, "auth": STRING})})
_KINDS = {"type": "array", "items": {"type": "string", "enum": list(subscriptions.KINDS)}}
PATHS = {
    "/push/subscriptions": {
        "get": op("The server's VAPID public key (the browser's applicationServerKey), the kinds of notice, and "
                  "the caller's push subscriptions", "session"),
        "post": op("Subscribe this device (its PushSubscription's JSON) to the kinds of notice chosen; the same "
                   "endpoint again updates them", "session", obj({"subscription": _SUBSCRIPTION, "kinds": _KINDS}),
                   ok=201),
        "delete": op("Unsubscribe a device of the caller's by its endpoint", "session",
                     obj({"endpoint": STRING}), errors=(404,)),
    },
}
