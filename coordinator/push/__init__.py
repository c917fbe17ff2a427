"""Web Push notifications (issue 13 item 6, docs/notifications.md): a member's
subscriptions per device, who is told of which outbox event, the server's VAPID
key, and the delivery off the request thread. No Flask here; pywebpush (which
imports requests and aiohttp) is imported only when a notice is sent."""
