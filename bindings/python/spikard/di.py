"""Dependency injection: values and factories handlers receive by name or type.

::

    app.provide("config", {"db_url": "postgresql://localhost/app"})
    app.provide("db", Provide(make_pool, depends_on=["config"], singleton=True))

    @app.get("/stats")
    async def stats(config: dict[str, str], db: str): ...

A handler parameter whose name is a provided key (or whose annotation is a
provided type, ``app.provide(Pool, pool)``) is injected, never read from
the query. A factory (``def``, ``async def``, or a generator of either,
whose code after ``yield`` is its cleanup) gets its dependencies as keyword
arguments: ``depends_on`` names them, else its own parameters that are
provided keys. Each dependency is made once per request (one value shared
by every parameter and factory that asks for it), or once for the app with
``singleton=True``; a generator's cleanup runs after the answer has been
written (right away if the handler raised), newest first.

Dependencies resolve when the app starts: a missing one (a ``depends_on``
naming no key), a cycle, or a value that is not of its parameter's type is
logged naming the handler, the parameter and the cycle, and that route
answers 500 with the core's ``dependency-error`` problem document;
``Spikard(strict_dependencies=True)`` raises :class:`DependencyError` at
start instead. ``app.dependency_overrides[key] = value_or_Provide`` replaces
a dependency app-wide (for tests), ``@app.get(..., dependency_overrides=...)``
for one route.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import threading
import typing
from collections.abc import Callable, Mapping
from typing import Any

from . import _native, background
from ._schema import split_annotated, split_optional
from .hooks import _wait
from .routing import Route, describe

__all__ = ["DependencyError", "Provide", "inject_route", "injected_names"]

logger = logging.getLogger("spikard")

Key = str | type
_PROBLEM = _native.RESPONSE_PROBLEM


class Provide:
    """A factory dependency: ``factory(**its dependencies)`` makes the value
    (it may be async, or a generator whose code after ``yield`` is its
    cleanup). ``depends_on`` names the keys it takes (default: its own
    parameters that are provided keys); ``singleton=True`` makes it once for
    the app instead of once per request."""

    def __init__(
        self,
        factory: Callable[..., Any],
        *,
        depends_on: list[str] | None = None,
        singleton: bool = False,
    ) -> None:
        if not callable(factory):
            raise TypeError(f"Provide: {factory!r} is not callable")
        self.factory = factory
        self.depends_on = list(depends_on) if depends_on is not None else None
        self.singleton = singleton
        self._lock = threading.Lock()
        self._made = False
        self._value: Any = None

    def dependencies(self, keys: Mapping[Key, Any]) -> list[str]:
        if self.depends_on is not None:
            return self.depends_on
        try:
            params = inspect.signature(self.factory).parameters
        except (TypeError, ValueError):
            return []
        return [name for name in params if name in keys]

    def __repr__(self) -> str:
        return f"Provide({describe(self.factory)}, singleton={self.singleton})"


class DependencyError(Exception):
    """A route's dependencies cannot be resolved (``kind``: missing_dependency,
    circular_dependency or type_mismatch)."""

    def __init__(
        self,
        message: str,
        kind: str,
        key: str,
        cycle: list[str] | None = None,
        expected: str | None = None,
    ) -> None:
        super().__init__(message)
        self.kind, self.key, self.cycle, self.expected = kind, key, cycle, expected

    def description(self) -> bytes:
        """The core's dependency-error problem description (spikard.h)."""
        dep: dict[str, Any] = {"kind": self.kind, "key": self.key}
        if self.cycle is not None:
            dep["cycle"] = self.cycle
        if self.expected is not None:
            dep["expected"] = self.expected
        return json.dumps({"dependency": dep}).encode()


def _key_name(key: Key) -> str:
    return key if isinstance(key, str) else getattr(key, "__qualname__", repr(key))


def _check_graph(keys: Mapping[Key, Any], roots: list[Key]) -> None:
    """Raise DependencyError for a missing key or a cycle under roots."""
    done: set[Key] = set()

    def visit(key: Key, path: list[Key]) -> None:
        if key in path:
            cycle = [_key_name(k) for k in path[path.index(key) :]] + [_key_name(key)]
            raise DependencyError(
                f"circular dependency {' -> '.join(cycle)}",
                "circular_dependency",
                _key_name(key),
                cycle=cycle,
            )
        if key in done:
            return
        if key not in keys:
            raise DependencyError(
                f"dependency {_key_name(key)!r} is not registered",
                "missing_dependency",
                _key_name(key),
            )
        spec = keys[key]
        if isinstance(spec, Provide):
            for dep in spec.dependencies(keys):
                visit(dep, [*path, key])
        done.add(key)

    for root in roots:
        visit(root, [])


def _expected_type(annotation: Any) -> type | None:
    inner, _ = split_optional(split_annotated(annotation)[0])
    origin = typing.get_origin(inner) or inner
    return origin if isinstance(origin, type) and origin is not object else None


class _Resolver:
    """One route's injection: which parameter gets which key, and how a
    request makes the values."""

    def __init__(self, keys: Mapping[Key, Any], injected: dict[str, Key]) -> None:
        self.keys = keys
        self.injected = injected

    async def resolve_async(self, cache: dict[Key, Any], cleanups: list[Any]) -> dict[str, Any]:
        out = {}
        for name, key in self.injected.items():
            out[name] = await self._make_async(key, cache, cleanups)
        return out

    async def _make_async(self, key: Key, cache: dict[Key, Any], cleanups: list[Any]) -> Any:
        if key in cache:
            return cache[key]
        spec = self.keys[key]
        if not isinstance(spec, Provide):
            value = spec
        elif spec.singleton and spec._made:
            value = spec._value
        else:
            kwargs = {}
            for dep in spec.dependencies(self.keys):
                kwargs[dep] = await self._make_async(dep, cache, cleanups)
            value = await _call_async(spec, kwargs, cleanups)
        cache[key] = value
        return value

    def resolve_sync(
        self, cache: dict[Key, Any], cleanups: list[Any], loop: asyncio.AbstractEventLoop | None
    ) -> dict[str, Any]:
        return {
            name: self._make_sync(key, cache, cleanups, loop) for name, key in self.injected.items()
        }

    def _make_sync(
        self,
        key: Key,
        cache: dict[Key, Any],
        cleanups: list[Any],
        loop: asyncio.AbstractEventLoop | None,
    ) -> Any:
        if key in cache:
            return cache[key]
        spec = self.keys[key]
        if not isinstance(spec, Provide):
            value = spec
        elif spec.singleton and spec._made:
            value = spec._value
        else:
            kwargs = {
                dep: self._make_sync(dep, cache, cleanups, loop)
                for dep in spec.dependencies(self.keys)
            }
            value = (
                _wait(_call_async(spec, kwargs, cleanups), loop)
                if _is_async(spec)
                else _call_sync(spec, kwargs, cleanups)
            )
        cache[key] = value
        return value


def _is_async(spec: Provide) -> bool:
    f = spec.factory
    return inspect.iscoroutinefunction(f) or inspect.isasyncgenfunction(f)


async def _call_async(spec: Provide, kwargs: dict[str, Any], cleanups: list[Any]) -> Any:
    f = spec.factory
    if not _is_async(spec):
        return _call_sync(spec, kwargs, cleanups)
    if inspect.isasyncgenfunction(f):
        gen = f(**kwargs)
        value = await gen.__anext__()
        if not spec.singleton:
            cleanups.append(gen)
    else:
        value = await f(**kwargs)
    return _keep(spec, value)


def _call_sync(spec: Provide, kwargs: dict[str, Any], cleanups: list[Any]) -> Any:
    f = spec.factory
    if inspect.isgeneratorfunction(f):
        gen = f(**kwargs)
        value = next(gen)
        if not spec.singleton:
            cleanups.append(gen)
    else:
        value = f(**kwargs)
    return _keep(spec, value)


def _keep(spec: Provide, value: Any) -> Any:
    if spec.singleton:
        with spec._lock:
            if not spec._made:
                spec._value, spec._made = value, True
            return spec._value
    return value


async def _finish_async(gens: list[Any]) -> None:
    """Run generator factories' cleanups, newest first; a failure is logged."""
    for gen in reversed(gens):
        try:
            if inspect.isasyncgen(gen):
                with contextlib.suppress(StopAsyncIteration):
                    await gen.__anext__()
            else:
                with contextlib.suppress(StopIteration):
                    next(gen)
        except Exception:
            logger.exception("a dependency's cleanup failed")


def _finish_sync(gens: list[Any], loop: asyncio.AbstractEventLoop | None) -> None:
    """_finish_async from a pool thread (an async generator finishes on the
    loop it started on)."""
    _wait(_finish_async(gens), loop)


def _answer_failure(route: Route, err: DependencyError) -> Route:
    """route answering the dependency-error problem to every request."""

    def fail(ev: tuple[Any, ...]) -> Any:
        raise _Unresolved(err)

    failed = Route(route.method, route.path, route.handler, {}, fail, route.render)
    failed.declaration = dict(route.declaration)
    return failed


class _Unresolved(Exception):
    """Raised by a route whose dependencies did not resolve: its answer is
    the core's dependency-error problem (_dispatch._crash)."""

    def __init__(self, err: DependencyError) -> None:
        super().__init__(str(err))
        self.error = err

    def answer(self, exchange: int) -> tuple[int, int, None, bytes, int]:
        return (exchange, 500, None, self.error.description(), _PROBLEM)


def _injected(handler: Callable[..., Any], keys: Mapping[Key, Any]) -> dict[str, Key]:
    """The handler's parameters that keys provide, and the key of each."""
    try:
        hints = typing.get_type_hints(handler, include_extras=True)
        params = inspect.signature(handler).parameters
    except (NameError, TypeError, ValueError):
        return {}
    injected: dict[str, Key] = {}
    for name in params:
        if name in keys:
            injected[name] = name
            continue
        base = split_optional(split_annotated(hints.get(name, Any))[0])[0]
        if isinstance(base, type) and base in keys:
            injected[name] = base
    return injected


def injected_names(handler: Callable[..., Any], keys: Mapping[Key, Any]) -> frozenset[str]:
    """The names of the handler's parameters that keys provide."""
    return frozenset(_injected(handler, keys)) if keys else frozenset()


def inject_route(
    route: Route,
    keys: Mapping[Key, Any],
    *,
    strict: bool,
    loop: Callable[[], asyncio.AbstractEventLoop | None],
) -> Route:
    """route with its injected parameters left out of what the core
    validates and filled from ``keys`` per request (see the module
    docstring). Unresolvable: raise (strict) or log and answer 500."""
    if route.recompile is None or route.websocket is not None or not keys:
        return route
    handler = route.handler
    hints = typing.get_type_hints(handler, include_extras=True)
    injected = _injected(handler, keys)
    if not injected:
        return route
    name = ""
    try:
        for name, key in injected.items():
            _check_graph(keys, [key])
            spec, expected = keys[key], _expected_type(hints.get(name, Any))
            if (
                not isinstance(spec, Provide)
                and expected is not None
                and not isinstance(spec, expected)
            ):
                raise DependencyError(
                    f"dependency {_key_name(key)!r} is a {type(spec).__name__}, "
                    f"not {expected.__name__}",
                    "type_mismatch",
                    _key_name(key),
                    expected=expected.__name__,
                )
    except DependencyError as err:
        where = f"{describe(handler)}, parameter {name!r}: {err}"
        if strict:
            raise DependencyError(where, err.kind, err.key, err.cycle, err.expected) from None
        logger.error("dependency injection for %s %s: %s", route.method, route.path, where)
        return _answer_failure(route, err)

    resolver = _Resolver(keys, injected)
    if route.is_async:

        async def target_async(**kwargs: Any) -> Any:
            cleanups: list[Any] = []
            try:
                kwargs.update(await resolver.resolve_async({}, cleanups))
                result = await handler(**kwargs)
            except BaseException:
                await _finish_async(cleanups)
                raise
            if cleanups:
                background.run(_finish_async(cleanups))  # after the answer is written
            return result

        target: Callable[..., Any] = target_async
    else:

        def target_sync(**kwargs: Any) -> Any:
            cleanups: list[Any] = []
            try:
                kwargs.update(resolver.resolve_sync({}, cleanups, loop()))
                result = handler(**kwargs)
            except BaseException:
                _finish_sync(cleanups, loop())
                raise
            if cleanups:
                background.run(_finish_async(cleanups))  # on the loop, after the answer
            return result

        target = target_sync
    return route.recompile(exclude=frozenset(injected), call_target=target)
