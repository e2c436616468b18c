"""Lifecycle hooks: user functions the core pauses a request for.

Five phases, each a list of hooks run in registration order (``def`` or
``async def``):

* ``on_request`` and ``pre_validation`` take the :class:`~spikard.Request`
  (its ``headers`` may be changed: ``request.headers["X-User"] = "ada"``,
  ``del request.headers["Cookie"]``) and return it to go on, or a
  :class:`~spikard.Response` to answer at once. They run in the core's pre
  visit, after routing and before validation, so a changed header is what
  the route's parameters are validated from.
* ``pre_handler`` hooks do the same right before the handler, with the
  validated request (inside the request's own visit: no extra crossing).
* ``on_response`` hooks take the :class:`~spikard.Response` about to be
  sent (every answer: the handler's, a short circuit's, and the core's own
  error documents) and return it, changed or not.
* ``on_error`` hooks take the error response about to be sent (an
  :class:`ErrorResponse`) before ``on_response`` does: a handler's
  exception (its 500, or an ``HTTPException``'s problem document, with the
  exception on ``response.exception``) and the core's own 4xx and 5xx
  (404, 405, 413, 422, ...). They return it, or a replacement.

Returning None (or anything else) from a hook is an error naming the hook:
the request is answered 500 and the log says which hook. The core knows
which phases have hooks (spikard.h, Section - Lifecycle hooks), so an app
without hooks pays nothing.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

from . import _native
from .request import Headers, Request
from .responses import Response

__all__ = ["PHASES", "ErrorResponse", "HookError", "Hooks", "MutableHeaders"]

logger = logging.getLogger("spikard")

PHASES = ("on_request", "pre_validation", "pre_handler", "on_response", "on_error")
"""The phase names, as the core's "hooks" lists spell them."""

Hook = Callable[[Any], Any]
H = TypeVar("H", bound=Callable[..., Any])
Answer = tuple[int, int, Any, bytes, int]

_PRE = _native.HOOK_ON_REQUEST | _native.HOOK_PRE_VALIDATION
_CONTINUE = _native.RESPONSE_CONTINUE
_HANDLER_ERROR = _native.RESPONSE_HANDLER_ERROR


class HookError(TypeError):
    """A hook returned something other than what its phase continues with."""


class MutableHeaders(Headers):
    """Request headers a hook may change; the changes reach the core.

    Setting a header replaces every value it had; deleting removes it.
    """

    __slots__ = ("changes",)

    def __init__(self, raw: list[tuple[str, str]]) -> None:
        super().__init__(raw)
        self.changes: dict[str, str] = {}
        """Lower-case name -> new value ("" removes it), in change order."""

    def __setitem__(self, key: str, value: str) -> None:
        key = key.lower()
        self._raw = [(k, v) for k, v in self._raw if k != key] + [(key, value)]
        self._first[key] = value
        self.changes[key] = value

    def __delitem__(self, key: str) -> None:
        key = key.lower()
        if key not in self._first:
            raise KeyError(key)
        self._raw = [(k, v) for k, v in self._raw if k != key]
        del self._first[key]
        self.changes[key] = ""


class ErrorResponse(Response):
    """The error answer ``on_error`` hooks see: a Response whose ``content``
    is the body about to be sent (bytes; a problem document when the core
    rendered it), and ``exception``, the handler's exception if one caused
    it, else None."""

    __slots__ = ("exception",)

    def __init__(
        self,
        content: Any = None,
        status_code: int = 500,
        headers: dict[str, str] | None = None,
        exception: BaseException | None = None,
    ) -> None:
        super().__init__(content, status_code, headers)
        self.exception = exception

    def json(self) -> Any:
        """The content decoded as JSON."""
        return json.loads(self.content) if self.content else None


def _name(hook: Callable[..., Any]) -> str:
    return getattr(hook, "__qualname__", repr(hook))


class Hooks:
    """The hooks of an app, by phase, in registration order."""

    def __init__(self) -> None:
        self.by_phase: dict[str, list[Hook]] = {p: [] for p in PHASES}
        self.startup: list[Callable[[], Any]] = []
        self.shutdown: list[Callable[[], Any]] = []
        # Spikard(lifespan=...): a factory of an async context manager
        # entered at startup and left at shutdown.
        self.lifespan: Callable[[], Any] | None = None
        self._lifespan_cm: Any = None
        # Exceptions of handlers whose answer will make an error visit, by
        # exchange, for ErrorResponse.exception (any thread: dict ops).
        self._errors: dict[int, BaseException] = {}

    async def run_startup(self) -> None:
        """Startup hooks in order, then the lifespan's entry."""
        for fn in self.startup:
            out = fn()
            if inspect.isawaitable(out):
                await out
        if self.lifespan is not None:
            self._lifespan_cm = self.lifespan()
            await self._lifespan_cm.__aenter__()

    async def run_shutdown(self) -> None:
        """The lifespan's exit, then shutdown hooks in order; each failure is
        logged and the rest still run."""
        cm, self._lifespan_cm = self._lifespan_cm, None
        if cm is not None:
            try:
                await cm.__aexit__(None, None, None)
            except Exception:
                logger.exception("lifespan exit failed")
        for fn in self.shutdown:
            try:
                out = fn()
                if inspect.isawaitable(out):
                    await out
            except Exception:
                logger.exception("shutdown hook %s failed", _name(fn))

    def add(self, phase: str, hook: H) -> H:
        if not callable(hook):
            raise TypeError(f"@app.{phase}: {hook!r} is not callable")
        self.by_phase[phase].append(hook)
        return hook

    def phases(self) -> list[str]:
        """The phases with hooks, for the core's "hooks" list."""
        return [p for p in PHASES if self.by_phase[p]]

    @property
    def post(self) -> bool:
        """Whether error answers make an error visit (on_error or on_response hooks)."""
        return bool(self.by_phase["on_error"] or self.by_phase["on_response"])

    def remember(self, exchange: int, exc: BaseException) -> None:
        if self.post:
            self._errors[exchange] = exc

    # -- running hooks ----------------------------------------------------------

    def _chain(self, phases: tuple[str, ...]) -> Iterator[tuple[str, Hook]]:
        for phase in phases:
            for hook in self.by_phase[phase]:
                yield phase, hook

    @staticmethod
    def _check(phase: str, hook: Hook, out: Any, want: type) -> Any:
        if isinstance(out, Response) or (want is Request and isinstance(out, Request)):
            return out
        what = "the request to go on or a Response" if want is Request else "a Response"
        raise HookError(f"{phase} hook {_name(hook)} returned {out!r}; it must return {what}")

    async def run_async(self, phases: tuple[str, ...], value: Any, want: type) -> Any:
        """Run the hooks of ``phases`` on ``value`` (a Request or a Response),
        each on the last one's result; a Response ends a request chain."""
        for phase, hook in self._chain(phases):
            out = hook(value)
            if inspect.isawaitable(out):
                out = await out
            value = self._check(phase, hook, out, want)
            if want is Request and isinstance(value, Response):
                return value
        return value

    def run_sync(
        self,
        phases: tuple[str, ...],
        value: Any,
        want: type,
        loop: asyncio.AbstractEventLoop | None,
    ) -> Any:
        """run_async for a pool thread: an ``async def`` hook runs on the
        server's loop while this thread waits."""
        for phase, hook in self._chain(phases):
            out = hook(value)
            if inspect.isawaitable(out):
                out = _wait(out, loop)
            value = self._check(phase, hook, out, want)
            if want is Request and isinstance(value, Response):
                return value
        return value


def _wait(aw: Awaitable[Any], loop: asyncio.AbstractEventLoop | None) -> Any:
    """The result of an awaitable, from a thread that is not the loop's."""

    async def run() -> Any:
        return await aw

    if (
        loop is None
        or loop.is_closed()
        or threading.current_thread() is getattr(loop, "_thread", None)
    ):
        return asyncio.run(run())
    return asyncio.run_coroutine_threadsafe(run(), loop).result()
