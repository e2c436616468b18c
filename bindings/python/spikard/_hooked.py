"""How hooks meet the dispatcher: the core's HOOK visits, and routes wrapped
so that pre_handler and on_response hooks run inside the request's visit.

Each visit is written once, as a generator of steps: it yields
``(phases, value, want)`` (run these hooks on this value) and receives
their result, and returns the answer. The event loop drives it with the
hooks' ``run_async``, a pool thread with ``run_sync`` (an ``async def``
hook then runs on the loop while the thread waits).

The event loop's hot paths (a pre visit, a hooked async route) are flat
coroutines instead (visit_async, run_chain): each hook is called in turn
and awaited only when it returns an awaitable. With config
"hooks_in_request" (set when there are on_request or pre_validation hooks)
a request that validates as received brings those phases in its REQUEST,
and the hooked route runs them before pre_handler; hooks that change
headers answer CONTINUE (PreAnswer) and the core validates again.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import types
from collections.abc import Callable, Coroutine, Generator
from typing import Any

from . import _native
from ._results import (
    BYTES_HEADERS,
    JSON_HEADERS,
    TEXT_HEADERS,
    Rendered,
    encode_json,
    render_response,
)
from .exceptions import HTTPException
from .hooks import ErrorResponse, Hook, Hooks, MutableHeaders, _wait
from .request import Request
from .responses import Response
from .routing import Route

__all__ = [
    "PreAnswer",
    "drive_async",
    "drive_sync",
    "handled_route",
    "hooked_route",
    "resume",
    "visit",
    "visit_async",
]

logger = logging.getLogger("spikard")

Step = tuple[tuple[str, ...], Any, type]
Answer = tuple[int, int, Any, Any, int]
Visit = Generator[Step, Any, Answer]

_PRE = _native.HOOK_ON_REQUEST | _native.HOOK_PRE_VALIDATION
_CONTINUE = _native.RESPONSE_CONTINUE
_HANDLER_ERROR = _native.RESPONSE_HANDLER_ERROR
_PROBLEM = _native.RESPONSE_PROBLEM


class _HookRequest(Request):
    """The Request request hooks see: its headers, built on first access,
    may be changed (MutableHeaders); a hook that never reads them costs no
    header mapping."""

    __slots__ = ()

    @property
    def headers(self) -> MutableHeaders:
        headers = self._headers
        if headers is None:
            headers = self._headers = MutableHeaders(self._raw_headers)
        return headers  # type: ignore[return-value]


def _request(meta: Any, facts: Any, body: bytes | None) -> Request:
    """The Request a hook sees, with headers it may change."""
    return _HookRequest.from_event(meta, facts, body)


def _changes(request: Request) -> list[tuple[str, str]] | None:
    """The header changes request hooks made on the request they returned."""
    headers = request._headers
    # None first: Headers is a Mapping, so isinstance is an ABC check.
    if headers is not None and type(headers) is MutableHeaders and headers.changes:
        return list(headers.changes.items())
    return None


def _headers_dict(pairs: list[Any] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in pairs or ():
        name = k.decode("latin-1") if isinstance(k, bytes) else k
        out[name] = v.decode("latin-1") if isinstance(v, bytes) else v
    return out


def _response_of(rendered: Rendered) -> Response:
    """The Response on_response hooks see for a rendered answer: content is
    the body's bytes, headers as they will be sent."""
    status, headers, payload = rendered
    cookies = [h for h in headers or () if h[0] in (b"spikard-cookie", "spikard-cookie")]
    resp = Response(payload, status, _headers_dict([h for h in headers or () if h not in cookies]))
    resp.cookies = [json.loads(v) for _, v in cookies]  # kept apart: one header each
    return resp


# The header dicts of the renderer's shared header lists (_results), by
# identity: an answer with one of them builds its Response without decoding.
_SHARED_HEADERS: dict[int, dict[str, str]] = {
    id(shared): _headers_dict(shared) for shared in (JSON_HEADERS, TEXT_HEADERS, BYTES_HEADERS)
}


def _hook_response(rendered: Rendered) -> tuple[Response, dict[str, str]]:
    """_response_of, with a copy of the headers it was given, for _after."""
    headers = rendered[1]
    shared = _SHARED_HEADERS.get(id(headers)) if headers is not None else None
    if shared is None:
        resp = _response_of(rendered)
        return resp, dict(resp.headers)
    resp = Response(rendered[2], rendered[0], shared)
    return resp, shared


def _after(resp: Response, given: Response, before: dict[str, str], rendered: Rendered) -> Rendered:
    """The answer on_response hooks returned: the rendered one as it was when
    they handed back the Response they were given unchanged (no re-render),
    else the Response rendered."""
    if (
        resp is given
        and resp.status_code == rendered[0]
        and resp.content is rendered[2]
        and resp.media_type is None
        and resp.headers == before
        and type(resp) is Response
        and not _cookies_changed(resp, rendered)
    ):
        return rendered
    return _rendered(resp)


def _cookies_changed(resp: Response, rendered: Rendered) -> bool:
    if resp.cookies:
        return True  # compared by rendering them again
    headers = rendered[1]
    if headers is None or id(headers) in _SHARED_HEADERS:
        return False
    return any(h[0] in (b"spikard-cookie", "spikard-cookie") for h in headers)


def _rendered(resp: Response) -> Rendered:
    """A Response back to (status, headers, body); bytes content as is."""
    if type(resp.content) is bytes and resp.media_type is None:
        headers: list[Any] = list(resp.headers.items())
        headers += [(b"spikard-cookie", encode_json(c)) for c in resp.cookies]
        return resp.status_code, headers or None, resp.content
    return render_response(resp)


def visit(hooks: Hooks, ev: tuple[Any, ...]) -> Visit:
    """The answer to a HOOK event ``(exchange, route, None, kind, phases,
    body, (params, meta, facts))``."""
    exchange, code, body, (params, meta, facts) = ev[0], ev[4], ev[5], ev[6]
    if code & _PRE:
        request = _request(meta, facts, body)
        out = yield ("on_request", "pre_validation"), request, Request
        if isinstance(out, Response):  # a short circuit: the hooks' own answer
            rendered = yield from _on_response(hooks, _rendered(out))
            return (exchange, *rendered, 0)
        return (exchange, 0, _changes(out), b"", _CONTINUE)
    facts_doc = json.loads(params) if params else {}
    status = int(facts_doc.get("status", 500))
    before = {k: v for k, v in facts_doc.get("headers", [])}
    exc = hooks._errors.pop(exchange, None)
    resp: Response = ErrorResponse(body, status, dict(before), exc)
    resp = yield ("on_error",), resp, Response
    resp = yield ("on_response",), resp, Response
    if resp.status_code == status and resp.content == body and resp.media_type is None:
        # Only headers may have changed: core sends its own bytes.
        after = {k.lower(): v for k, v in resp.headers.items()}
        edits = [(k, v) for k, v in after.items() if before.get(k) != v]
        edits += [(k, "") for k in before if k not in after]
        return (exchange, 0, edits or None, b"", _CONTINUE)
    return (exchange, *_rendered(resp), 0)


def _on_response(hooks: Hooks, rendered: Rendered) -> Generator[Step, Any, Rendered]:
    if not hooks.by_phase["on_response"]:
        return rendered
    given, before = _hook_response(rendered)
    resp = yield ("on_response",), given, Response
    return _after(resp, given, before, rendered)


def _failed(exchange: int, exc: BaseException) -> Answer:
    if isinstance(exc, HTTPException):  # raised by a hook: the core renders it
        return (
            exchange,
            exc.status_code,
            list(exc.headers.items()) or None,
            exc.description(),
            _PROBLEM,
        )
    logger.error("lifecycle hook failed: %s", exc, exc_info=exc)
    return (exchange, 500, None, b"", _HANDLER_ERROR)


async def drive_async(hooks: Hooks, gen: Visit, exchange: int) -> Answer:
    """Run a visit on the event loop."""
    try:
        step = next(gen)
        while True:
            step = gen.send(await hooks.run_async(*step))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    except Exception as exc:
        return _failed(exchange, exc)


# -- the event loop's fast path -------------------------------------------------
#
# On the loop a visit runs as one flat coroutine that calls each hook in
# turn: no generator of steps, no coroutine per phase. A hook's coroutine
# that never suspends costs one await; one that does suspends this whole
# coroutine, which _dispatch carries on in a Task (resume). The steps and
# checks are the generators' above, so both paths answer alike.

Chain = tuple[tuple[str, Hook], ...]
_Coroutine = types.CoroutineType


def chain_of(hooks: Hooks, *phases: str) -> Chain:
    """The (phase, hook) pairs of phases, in the order they run."""
    return tuple((phase, hook) for phase in phases for hook in hooks.by_phase[phase])


def _unawaited(out: Any) -> bool:
    return type(out) is _Coroutine or inspect.isawaitable(out)


async def run_chain(chain: Chain, value: Any, want: type) -> Any:
    """Hooks.run_async over a precomputed chain: each hook on the last one's
    result, awaited only when it returned an awaitable; a Response ends a
    request chain. A hook returning what it was given is checked by
    identity alone."""
    for phase, hook in chain:
        out = hook(value)
        if out is value:
            continue
        if _unawaited(out):
            out = await out
            if out is value:
                continue
        value = Hooks._check(phase, hook, out, want)
        if want is Request and isinstance(value, Response):
            return value
    return value


async def visit_async(hooks: Hooks, ev: tuple[Any, ...]) -> Answer:
    """drive_async(visit(...)) for the event loop: a pre visit as one flat
    coroutine; an error visit (core's own problem answers) by the generator."""
    exchange, code = ev[0], ev[4]
    if not code & _PRE:
        return await drive_async(hooks, visit(hooks, ev), exchange)
    body, (_, meta, facts) = ev[5], ev[6]
    try:
        out = await run_chain(
            chain_of(hooks, "on_request", "pre_validation"), _request(meta, facts, body), Request
        )
        if isinstance(out, Response):  # a short circuit: the hooks' own answer
            rendered = _rendered(out)
            if hooks.by_phase["on_response"]:
                given, before = _hook_response(rendered)
                resp = await run_chain(chain_of(hooks, "on_response"), given, Response)
                rendered = _after(resp, given, before, rendered)
            return (exchange, *rendered, 0)
        return (exchange, 0, _changes(out), b"", _CONTINUE)
    except Exception as exc:
        return _failed(exchange, exc)


async def resume(coro: Coroutine[Any, Any, Any], yielded: Any) -> Any:
    """Carry on, in a Task, a coroutine whose first step ran outside one and
    suspended, having yielded ``yielded`` (what a coroutine yields to its
    Task: a Future to wait for, or None for a bare turn of the loop)."""
    while True:
        try:
            if yielded is None:
                await asyncio.sleep(0)
            else:
                # Wait for the future without taking its outcome: the
                # coroutine, resumed inside Future.__await__, takes it.
                await asyncio.wait([yielded])
            step = coro.send
            arg: Any = None
        except asyncio.CancelledError as cancelled:  # a DISCONNECT: into the hooks
            step, arg = coro.throw, cancelled
        try:
            yielded = step(arg)
        except StopIteration as finished:
            return finished.value


def drive_sync(
    hooks: Hooks, gen: Visit, exchange: int, loop: asyncio.AbstractEventLoop | None
) -> Answer:
    """Run a visit on a pool thread."""
    try:
        step = next(gen)
        while True:
            step = gen.send(hooks.run_sync(*step, loop))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    except Exception as exc:
        return _failed(exchange, exc)


class _Final:
    """A wrapped route's answer, rendered already (on_response has run)."""

    __slots__ = ("rendered",)

    def __init__(self, rendered: Rendered) -> None:
        self.rendered = rendered


class PreAnswer(Exception):
    """What a REQUEST's pre phases answer instead of the handler's answer
    (config "hooks_in_request", spikard.h): CONTINUE with the headers its
    hooks changed, or a failed hook's answer. Raised out of a hooked
    route's call; the dispatcher's _crash sends ``answer(exchange)``."""

    def __init__(self, rest: tuple[int, Any, Any, int]) -> None:
        super().__init__("pre phases answered")
        self.rest = rest

    def answer(self, exchange: int) -> Answer:
        return (exchange, *self.rest)


def _pre_outcome(out: Any) -> None:
    """Raise the PreAnswer of request hooks that changed headers."""
    changes = _changes(out)
    if changes is not None or type(out) is not _HookRequest:
        # A Request of a hook's own: the core validates what it carries.
        raise PreAnswer((0, changes, b"", _CONTINUE))


def _pre_failed(exc: Exception) -> PreAnswer:
    rest = _failed(0, exc)[1:]
    return PreAnswer(rest)


def hooked_route(
    route: Route, hooks: Hooks, loop: Callable[[], asyncio.AbstractEventLoop | None]
) -> Route:
    """route with its pre_handler hooks before the handler and on_response
    hooks on its answer, run in the request's own visit; and its "hooks"
    phases and the facts hooks read declared to the core."""
    phases = hooks.phases()
    if route.websocket is not None or not phases:
        return route
    pre = bool(hooks.by_phase["pre_handler"])
    post = bool(hooks.by_phase["on_response"])
    declaration = dict(route.declaration)
    if pre:
        facts = list(declaration.get("facts", []))
        declaration["facts"] = facts + [f for f in ("meta", "cookies", "query") if f not in facts]
    call, render = route.call, route.render

    def steps(ev: tuple[Any, ...], result: Any) -> Generator[Step, Any, Any]:
        """After the handler: its answer through on_response."""
        rendered = render(result)  # raises OpenStream for a stream: no on_response
        return _Final((yield from _on_response(hooks, rendered)))

    def before(ev: tuple[Any, ...]) -> Generator[Step, Any, Any]:
        if pre:
            out = yield ("pre_handler",), Request.from_event(ev[4], ev[6], ev[3]), Request
            if isinstance(out, Response):
                return _Final((yield from _on_response(hooks, _rendered(out))))
        return None

    def remember(ev: tuple[Any, ...], exc: BaseException) -> None:
        hooks.remember(ev[0], exc)

    if route.is_async:
        # One flat coroutine: the hooks called in turn (run_chain), the
        # handler's answer through on_response without re-rendering what
        # the hooks handed back unchanged (_after).
        pre_chain = chain_of(hooks, "pre_handler")
        post_chain = chain_of(hooks, "on_response")

        async def through_on_response(rendered: Rendered) -> _Final:
            given, unchanged = _hook_response(rendered)
            resp = await run_chain(post_chain, given, Response)
            return _Final(_after(resp, given, unchanged, rendered))

        request_chain = chain_of(hooks, "on_request", "pre_validation")

        async def call_async(ev: tuple[Any, ...]) -> Any:
            try:
                if len(ev) > 7 and ev[7]:  # the pre phases ride on this REQUEST
                    request: Request = _request(ev[4], ev[6], ev[3])
                    try:
                        out = await run_chain(request_chain, request, Request)
                    except Exception as exc:
                        raise _pre_failed(exc) from exc
                    if out is not request:
                        if isinstance(out, Response):  # a short circuit
                            if post_chain:
                                return await through_on_response(_rendered(out))
                            return _Final(_rendered(out))
                        _pre_outcome(out)  # a Request of a hook's own: CONTINUE
                    elif request._headers is not None:
                        _pre_outcome(out)  # CONTINUE if they changed headers
                    # pre_handler sees the same request, as received
                elif pre_chain:
                    request = Request.from_event(ev[4], ev[6], ev[3])
                if pre_chain:
                    out = await run_chain(pre_chain, request, Request)
                    if out is not request and isinstance(out, Response):
                        if post_chain:
                            return await through_on_response(_rendered(out))
                        return _Final(_rendered(out))
                result = await call(ev)
                if not post_chain:
                    return result
                # render raises OpenStream for a stream: no on_response
                rendered = render(result)
                given, unchanged = _hook_response(rendered)
                resp = await run_chain(post_chain, given, Response)
                return _Final(_after(resp, given, unchanged, rendered))
            except PreAnswer:
                raise
            except Exception as exc:
                remember(ev, exc)
                raise

        new_call: Callable[[tuple[Any, ...]], Any] = call_async
    else:

        def early(ev: tuple[Any, ...]) -> Generator[Step, Any, Any]:
            """The pre phases riding on the REQUEST; a short circuit's answer."""
            out = yield ("on_request", "pre_validation"), _request(ev[4], ev[6], ev[3]), Request
            if isinstance(out, Response):
                return _Final((yield from _on_response(hooks, _rendered(out))))
            _pre_outcome(out)
            return None

        def call_sync(ev: tuple[Any, ...]) -> Any:
            try:
                if len(ev) > 7 and ev[7]:  # the pre phases ride on this REQUEST
                    try:
                        short = _run_sync(hooks, early(ev), loop())
                    except PreAnswer:
                        raise
                    except Exception as exc:
                        raise _pre_failed(exc) from exc
                    if short is not None:
                        return short
                short = _run_sync(hooks, before(ev), loop())
                if short is not None:
                    return short
                result = call(ev)
                if not post:
                    return result
                return _run_sync(hooks, steps(ev, result), loop())
            except PreAnswer:
                raise
            except Exception as exc:
                remember(ev, exc)
                raise

        new_call = call_sync

    def new_render(result: Any) -> Rendered:
        if type(result) is _Final:
            return result.rendered
        return render(result)

    wrapped = Route(route.method, route.path, route.handler, {}, new_call, new_render)
    wrapped.declaration = declaration
    return wrapped


def _run_sync(
    hooks: Hooks, gen: Generator[Step, Any, Any], loop: asyncio.AbstractEventLoop | None
) -> Any:
    try:
        step = next(gen)
        while True:
            step = gen.send(hooks.run_sync(*step, loop))
    except StopIteration as done:
        return done.value


ExceptionHandler = Callable[[Request, Any], Any]


def _handler_for(
    handlers: dict[type[BaseException], ExceptionHandler], exc: BaseException
) -> ExceptionHandler | None:
    """The handler registered for the nearest class of exc (its MRO order)."""
    for cls in type(exc).__mro__:
        if cls in handlers:
            return handlers[cls]
    return None


def handled_route(
    route: Route,
    handlers: dict[type[BaseException], ExceptionHandler],
    loop: Callable[[], asyncio.AbstractEventLoop | None],
) -> Route:
    """route whose exceptions of a registered class are answered by that
    class's handler, ``handler(request, exc)`` (def or async def) returning
    the Response; the rest propagate as before."""
    if route.websocket is not None or not handlers:
        return route
    call = route.call
    declaration = dict(route.declaration)
    facts = list(declaration.get("facts", []))
    declaration["facts"] = facts + [f for f in ("meta", "cookies", "query") if f not in facts]

    if route.is_async:

        async def call_async(ev: tuple[Any, ...]) -> Any:
            try:
                return await call(ev)
            except Exception as exc:
                handler = _handler_for(handlers, exc)
                if handler is None:
                    raise
                out = handler(Request.from_event(ev[4], ev[6], ev[3]), exc)
                return await out if inspect.isawaitable(out) else out

        new_call: Callable[[tuple[Any, ...]], Any] = call_async
    else:

        def call_sync(ev: tuple[Any, ...]) -> Any:
            try:
                return call(ev)
            except Exception as exc:
                handler = _handler_for(handlers, exc)
                if handler is None:
                    raise
                out = handler(Request.from_event(ev[4], ev[6], ev[3]), exc)
                return _wait(out, loop()) if inspect.isawaitable(out) else out

        new_call = call_sync

    wrapped = Route(route.method, route.path, route.handler, {}, new_call, route.render)
    wrapped.declaration = declaration
    return wrapped
