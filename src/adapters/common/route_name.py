"""How a failed request is named in the log: by its route's template, never its path."""

from __future__ import annotations

from starlette.requests import Request


def route_of(request: Request) -> str:
    """The template of the route that answered (``/feed/{token}.ics``), or the method
    alone: a path can carry a secret (a calendar feed's token) and a log must not."""
    route = request.scope.get("route")
    template = getattr(route, "path", None)
    return f"{request.method} {template}" if isinstance(template, str) else request.method
