"""Router: a group of routes under a path prefix, included into an app.

::

    users = Router(prefix="/users", tags=["users"])

    @users.get("/{user_id}")
    async def get_user(user_id: int) -> dict: ...

    app.include_router(users)            # GET /users/{user_id}
    app.include_router(users, prefix="/v2")  # GET /v2/users/{user_id}

A router only records what its decorators declare; the app compiles each
route when the router is included, with the prefixes joined and the tags
added up (``app.route_tags``, for documentation). Routers nest with
``router.include_router``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["Router"]

F = TypeVar("F", bound=Callable[..., Any])


def check_prefix(prefix: str, who: str) -> str:
    """A prefix is "" or starts with "/" and does not end with one."""
    if not isinstance(prefix, str) or (
        prefix and (not prefix.startswith("/") or prefix.endswith("/"))
    ):
        raise ValueError(
            f"{who}: prefix {prefix!r} must start with '/' and not end with one (or be '')"
        )
    return prefix


class Router:
    """Routes declared apart from an app (see the module docstring)."""

    def __init__(self, prefix: str = "", tags: list[str] | None = None) -> None:
        self.prefix = check_prefix(prefix, "Router")
        self.tags: list[str] = list(tags or [])
        # (method, path without this router's prefix, handler, route kwargs, tags)
        self.records: list[tuple[str, str, Callable[..., Any], dict[str, Any], list[str]]] = []

    def route(self, method: str, path: str, **kwargs: Any) -> Callable[[F], F]:
        """Record the decorated handler for ``method`` and ``prefix + path``;
        the keyword arguments are ``Spikard.route``'s."""
        if not path.startswith("/"):
            raise ValueError(f"Router.route: path {path!r} must start with '/'")

        def decorator(handler: F) -> F:
            self.records.append((method, path, handler, kwargs, []))
            return handler

        return decorator

    def get(self, path: str, **kwargs: Any) -> Callable[[F], F]:
        return self.route("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Callable[[F], F]:
        return self.route("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Callable[[F], F]:
        return self.route("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Callable[[F], F]:
        return self.route("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Callable[[F], F]:
        return self.route("DELETE", path, **kwargs)

    def head(self, path: str, **kwargs: Any) -> Callable[[F], F]:
        return self.route("HEAD", path, **kwargs)

    def options(self, path: str, **kwargs: Any) -> Callable[[F], F]:
        return self.route("OPTIONS", path, **kwargs)

    def trace(self, path: str, **kwargs: Any) -> Callable[[F], F]:
        return self.route("TRACE", path, **kwargs)

    def include_router(
        self, router: Router, *, prefix: str = "", tags: list[str] | None = None
    ) -> None:
        """Take another router's routes under ``prefix + router.prefix``."""
        prefix = check_prefix(prefix, "Router.include_router")
        for method, path, handler, kwargs, more in router.expanded():
            self.records.append((method, prefix + path, handler, kwargs, [*(tags or []), *more]))

    def expanded(self) -> list[tuple[str, str, Callable[..., Any], dict[str, Any], list[str]]]:
        """The records with this router's prefix and tags applied."""
        return [(m, self.prefix + p, h, kw, [*self.tags, *t]) for m, p, h, kw, t in self.records]
