"""CORS through real HTTP: CorsConfig app-wide and per route, applied by the core."""

from __future__ import annotations

import re
import socket

import pytest

from spikard import CorsConfig, Request, ServerConfig, Spikard
from spikard.streaming import SseEvent

POLICY = CorsConfig(
    allow_origins=["https://app.example", re.compile(r"https://[a-z]+\.tenant\.example")],
    allow_methods=["GET", "POST"],
    allow_headers=["X-Custom"],
    expose_headers=["X-Total"],
    max_age=3600,
)


def make_app() -> Spikard:
    app = Spikard(ServerConfig(cors=POLICY))

    @app.get("/items")
    async def items() -> dict[str, list[int]]:
        return {"items": []}

    @app.get("/open", cors=False)
    async def open_route() -> str:
        return "open"

    @app.get("/any", cors=CorsConfig(allow_origins=["*"], max_age=None))
    async def any_origin() -> str:
        return "any"

    @app.sse("/events")
    async def events():  # type: ignore[no-untyped-def]
        yield SseEvent(data="one")

    return app


def test_allowed_origin_gets_the_headers(serve):
    client = serve(make_app())
    reply = client.get("/items", headers={"Origin": "https://app.example"})
    assert reply.status == 200
    assert reply.headers["access-control-allow-origin"] == "https://app.example"
    assert reply.headers["access-control-expose-headers"] == "X-Total"
    assert reply.headers["vary"] == "Origin"
    regex = client.get("/items", headers={"Origin": "https://acme.tenant.example"})
    assert regex.headers["access-control-allow-origin"] == "https://acme.tenant.example"


def test_other_origins_are_refused_by_the_core(serve):
    client = serve(make_app())
    for origin in (
        "https://evil.example",
        "https://APP.example",
        "null",
        "https://acme.tenant.example.evil",
    ):
        reply = client.get("/items", headers={"Origin": origin})
        assert reply.status == 403, origin
        assert reply.headers["content-type"] == "application/problem+json"
        assert reply.json()["detail"] == f"CORS request from origin '{origin}' not allowed"


def test_preflight(serve):
    client = serve(make_app())
    ok = client.request(
        "OPTIONS",
        "/items",
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Content-Type, X-Custom",
        },
    )
    assert ok.status == 204
    assert ok.headers["access-control-allow-methods"] == "GET, POST"
    assert ok.headers["access-control-allow-headers"] == "Content-Type, X-Custom"
    assert ok.headers["access-control-max-age"] == "3600"
    refused = client.request(
        "OPTIONS",
        "/items",
        headers={"Origin": "https://app.example", "Access-Control-Request-Method": "DELETE"},
    )
    assert refused.status == 403
    assert refused.json()["detail"] == "CORS method 'DELETE' not allowed"


def test_route_policies(serve):
    client = serve(make_app())
    off = client.get("/open", headers={"Origin": "https://evil.example"})
    assert off.status == 200 and "access-control-allow-origin" not in off.headers
    star = client.get("/any", headers={"Origin": "https://whoever.example"})
    assert star.headers["access-control-allow-origin"] == "*" and "vary" not in star.headers


def test_sse_answers_carry_the_headers(serve):
    client = serve(make_app())
    with socket.create_connection((client.host, client.port), timeout=10) as s:
        s.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            head += s.recv(4096)
    text = head.decode().lower()
    assert "access-control-allow-origin: https://app.example" in text
    assert "content-type: text/event-stream" in text


def test_cors_config_is_checked_where_written():
    with pytest.raises(
        ValueError, match=r"CorsConfig.allow_origins=\['https://a.example/'\]: .*not an origin"
    ):
        CorsConfig(allow_origins=["https://a.example/"])
    with pytest.raises(
        ValueError, match=r"CorsConfig.allow_origins=\[\]: must list at least one origin"
    ):
        CorsConfig(allow_origins=[])
    with pytest.raises(
        ValueError, match=r"CorsConfig.allow_origins='https://a.example': must be a list"
    ):
        CorsConfig(allow_origins="https://a.example")
    with pytest.raises(ValueError, match=r"CorsConfig.max_age=-5"):
        CorsConfig(allow_origins=["*"], max_age=-5)
    with pytest.raises(
        ValueError, match=r"CorsConfig.allow_methods=\['G T'\]: \"G T\" is not a token"
    ):
        CorsConfig(allow_origins=["*"], allow_methods=["G T"])
    with pytest.raises(ValueError, match=r"CorsConfig.allow_origins=.*regex"):
        CorsConfig(allow_origins=[re.compile(r"(?<=a)b")])
    with pytest.raises(ValueError, match=r"ServerConfig.cors="):
        ServerConfig(cors={"allow_origins": ["*"]})  # type: ignore[arg-type]
    app = Spikard()
    with pytest.raises(TypeError, match=r"cors=True: must be a CorsConfig, False or None"):
        app.get("/x", cors=True)


def test_request_sees_no_cors_work_to_do():
    # A route without a policy in an app without one declares nothing.
    app = Spikard()

    @app.get("/plain")
    async def plain(request: Request) -> str:
        return "x"

    assert "cors" not in app.routes[0].declaration
