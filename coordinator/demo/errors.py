"""Error codes of ``huddle demo`` (docs/errors-demo.md)."""

from __future__ import annotations

from ..errors import register

register({
    "demo_failed": "huddle demo could not start one of its parts (the sandbox, the server or a demo agent); "
                   "the message quotes what that part said",
})
