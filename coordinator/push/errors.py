"""Error codes of Web Push notifications (docs/errors-push.md)."""

from __future__ import annotations

from ..errors import register

CODES: dict[str, str] = {
    "bad_subscription": "a push subscription that is not a browser's PushSubscription (an https endpoint, "
                        "a P-256 `p256dh` key and a 16-byte `auth` secret, base64url) or names an unknown kind",
    "too_many_subscriptions": "a member may have at most 10 devices subscribed; unsubscribe one first",
    "subscription_not_found": "no push subscription of yours has that endpoint",
}
register(CODES)
