"""Dependency injection over real HTTP: values and factories by name and by
type, async and generator factories with cleanup after the answer,
per-request caching, singletons, nesting, overrides, and the core's
dependency-error problem for what cannot resolve."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest

from spikard import Spikard
from spikard.di import DependencyError, Provide


class Pool:
    def __init__(self, url: str) -> None:
        self.url = url


def test_values_factories_by_name_and_type(serve):
    app = Spikard()
    made: list[str] = []

    def make_pool(config: dict[str, str]) -> Pool:
        made.append("pool")
        return Pool(config["db_url"])

    async def make_user(pool: Pool, request_id: str) -> str:
        return f"user@{pool.url}#{request_id}"

    calls = {"n": 0}

    def request_id() -> str:
        calls["n"] += 1
        return f"r{calls['n']}"

    app.provide("config", {"db_url": "pg://x"})
    app.provide(Pool, Provide(make_pool, depends_on=["config"], singleton=True))
    app.provide("pool", Provide(lambda config: Pool(config["db_url"]), singleton=True))
    app.provide("request_id", Provide(request_id))
    app.provide("user", Provide(make_user))

    @app.get("/a")
    async def a(db: Pool, user: str, request_id: str, q: int = 0) -> dict[str, Any]:
        # request_id is made once per request, shared with user's factory.
        return {"db": db.url, "user": user, "rid": request_id, "q": q}

    @app.get("/s")
    def s(config: dict[str, str], db: Pool) -> dict[str, Any]:
        return {"env": config["db_url"], "db": db.url}

    client = serve(app)
    r = client.get("/a?q=3")
    assert (r.status, r.json()) == (
        200,
        {"db": "pg://x", "user": "user@pg://x#r1", "rid": "r1", "q": 3},
    )
    r = client.get("/a?request_id=evil&user=evil")  # injected: never a query parameter
    assert r.json()["rid"] == "r2" and r.json()["user"] == "user@pg://x#r2"
    r = client.get("/s")
    assert (r.status, r.json()) == (200, {"env": "pg://x", "db": "pg://x"})
    assert made == ["pool"]  # a singleton, made once


def test_generator_cleanup_runs_after_the_answer(serve):
    app = Spikard()
    events: list[str] = []
    closed = threading.Event()

    async def session():
        events.append("opened")
        yield "s-1"
        events.append("closed")
        closed.set()

    def tx(session: str):
        events.append(f"begin {session}")
        yield "tx"
        events.append("commit")

    app.provide("session", Provide(session))
    app.provide("tx", Provide(tx))

    @app.get("/x")
    async def x(session: str, tx: str) -> dict[str, str]:
        events.append("handler")
        return {"session": session, "tx": tx}

    @app.get("/boom")
    def boom(session: str) -> dict[str, str]:
        raise RuntimeError("fails")

    client = serve(app)
    r = client.get("/x")
    assert (r.status, r.json()) == (200, {"session": "s-1", "tx": "tx"})
    assert closed.wait(5)
    # Newest first: the transaction commits before the session closes.
    assert events == ["opened", "begin s-1", "handler", "commit", "closed"]
    events.clear()
    closed.clear()
    assert client.get("/boom").status == 500
    assert closed.wait(5)
    assert events == ["opened", "closed"]


def test_overrides_replace_dependencies(serve):
    app = Spikard()
    app.provide("db", "production")

    @app.get("/db")
    async def which(db: str) -> str:
        return db

    app.dependency_overrides["db"] = Provide(lambda: "test double")
    client = serve(app)
    assert client.get("/db").body == b"test double"


def test_unresolvable_routes_answer_the_dependency_error(serve, caplog):
    app = Spikard()
    app.provide("a", Provide(lambda b: b, depends_on=["b"]))
    app.provide("b", Provide(lambda a: a, depends_on=["a"]))
    app.provide("c", Provide(lambda ghost: ghost, depends_on=["ghost"]))
    app.provide("n", "not a number")

    @app.get("/cycle")
    async def cycle(a: str) -> str:
        return a

    @app.get("/missing")
    async def missing(c: str) -> str:
        return c

    @app.get("/mismatch")
    def mismatch(n: int) -> int:
        return n

    @app.get("/fine")
    async def fine() -> str:
        return "ok"

    with caplog.at_level(logging.ERROR, logger="spikard"):
        client = serve(app)
    r = client.get("/missing")
    assert r.status == 500
    assert r.json() == {
        "type": "https://spikard.dev/errors/dependency-error",
        "title": "Dependency Resolution Failed",
        "status": 500,
        "detail": "Required dependency not found",
        "errors": [
            {
                "type": "missing_dependency",
                "msg": "Dependency 'ghost' is not registered",
                "dependency_key": "ghost",
            }
        ],
    }
    r = client.get("/cycle")
    assert r.status == 500
    assert r.json()["errors"][0]["type"] == "circular_dependency"
    assert r.json()["errors"][0]["cycle"] == ["a", "b", "a"]
    r = client.get("/mismatch")
    assert r.status == 500 and r.json()["errors"][0]["type"] == "type_mismatch"
    assert client.get("/fine").status == 200
    text = "\n".join(rec.getMessage() for rec in caplog.records)
    assert "parameter 'a'" in text and "a -> b -> a" in text and "'ghost'" in text


def test_strict_dependencies_raise_at_start():
    app = Spikard(strict_dependencies=True)
    app.provide("c", Provide(lambda ghost: ghost, depends_on=["ghost"]))

    @app.get("/missing")
    async def missing(c: str) -> str:
        return c

    with pytest.raises(DependencyError, match="ghost"):
        app.serve_in_background(port=0)


def test_per_route_overrides(serve):
    app = Spikard()
    app.provide("db", "production")

    @app.get("/a")
    async def a(db: str) -> str:
        return db

    @app.get("/b", dependency_overrides={"db": Provide(lambda: "route double")})
    async def b(db: str) -> str:
        return db

    client = serve(app)
    assert client.get("/a").body == b"production"
    assert client.get("/b").body == b"route double"
