"""Lifecycle hooks over real HTTP: the five phases, sync and async, several
per phase in order, short circuits, changed headers, core's own errors,
None named as an error, startup/shutdown and lifespan."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from spikard import Header, Request, Response, Spikard
from spikard.hooks import ErrorResponse


def test_request_hooks_change_headers_validation_sees(serve):
    app = Spikard()
    order: list[str] = []

    @app.on_request
    def first(request: Request) -> Request:
        order.append("on_request 1")
        request.headers["X-User"] = request.headers.get("authorization", "").removeprefix("Bearer ")
        return request

    @app.on_request
    async def second(request: Request) -> Request:
        order.append("on_request 2")
        del request.headers["Authorization"]
        return request

    @app.pre_validation
    async def third(request: Request) -> Request:
        order.append("pre_validation")
        assert request.headers["x-user"] == "ada"
        return request

    @app.get("/me")
    async def me(
        x_user: str = Header(), authorization: str | None = Header(default=None)
    ) -> dict[str, Any]:
        return {"user": x_user, "auth": authorization}

    @app.get("/sync-me")
    def sync_me(x_user: str = Header()) -> dict[str, Any]:
        return {"user": x_user}

    client = serve(app)
    r = client.get("/me", headers={"Authorization": "Bearer ada"})
    assert r.status == 200, r.body
    assert r.json() == {"user": "ada", "auth": None}
    assert order == ["on_request 1", "on_request 2", "pre_validation"]
    order.clear()
    r = client.get("/sync-me", headers={"Authorization": "Bearer ada"})
    assert (r.status, r.json()) == (200, {"user": "ada"})
    assert order == ["on_request 1", "on_request 2", "pre_validation"]


def test_brief_style_short_circuit_then_on_response(serve):
    app = Spikard()
    handled: list[str] = []

    @app.pre_validation
    async def check_auth(request):
        token = request.headers.get("Authorization")
        if not token:
            return Response({"error": "Unauthorized"}, status_code=401)
        return request

    @app.on_response
    async def add_headers(response):
        response.headers["X-Frame-Options"] = "DENY"
        return response

    @app.post("/items")
    async def create(item: dict[str, Any]) -> dict[str, Any]:
        handled.append("yes")
        return item

    client = serve(app)
    r = client.post("/items", json_body={"a": 1})
    assert (r.status, r.json()) == (401, {"error": "Unauthorized"})
    assert r.headers["x-frame-options"] == "DENY"
    assert handled == []
    r = client.post("/items", json_body={"a": 1}, headers={"Authorization": "x"})
    assert (r.status, r.json()) == (200, {"a": 1})
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["content-type"] == "application/json"
    # Core's own 422 and 404 pass through on_response too.
    r = client.post(
        "/items", body=b"[1]", headers={"Authorization": "x", "content-type": "application/json"}
    )
    assert r.status == 422 and r.headers["x-frame-options"] == "DENY"
    assert r.headers["content-type"] == "application/problem+json"
    r = client.get("/nowhere")
    assert r.status == 404 and r.headers["x-frame-options"] == "DENY"


def test_pre_handler_hooks_sync_and_async_routes(serve):
    app = Spikard()

    @app.pre_handler
    def authenticate(request: Request) -> Request | Response:
        if request.headers.get("authorization") != "Bearer good":
            return Response({"error": "Unauthorized"}, status_code=401)
        return request

    @app.pre_handler
    async def authorize(request: Request) -> Request | Response:
        if request.query.get("role") != ["admin"]:
            return Response({"error": "Forbidden"}, status_code=403)
        return request

    @app.get("/a")
    async def a() -> dict[str, str]:
        return {"ok": "async"}

    @app.get("/s")
    def s() -> dict[str, str]:
        return {"ok": "sync"}

    client = serve(app)
    for path, name in (("/a", "async"), ("/s", "sync")):
        assert client.get(path).status == 401
        assert client.get(path, headers={"Authorization": "Bearer good"}).status == 403
        r = client.get(path + "?role=admin", headers={"Authorization": "Bearer good"})
        assert (r.status, r.json()) == (200, {"ok": name})


def test_on_error_sees_handler_exceptions_and_core_errors(serve):
    app = Spikard()
    seen: list[tuple[int, str | None]] = []

    @app.on_error
    def log_error(response: ErrorResponse) -> Response:
        exc = response.exception
        seen.append((response.status_code, type(exc).__name__ if exc else None))
        if response.status_code == 500:
            return Response({"error": "Internal Server Error", "error_id": "e-1"}, status_code=500)
        response.headers["X-Error"] = "seen"
        return response

    @app.get("/boom")
    async def boom() -> dict[str, Any]:
        raise RuntimeError("kaput")

    @app.get("/boom-sync")
    def boom_sync() -> dict[str, Any]:
        raise KeyError("kaput")

    @app.get("/n/{n}")
    async def n(n: int) -> dict[str, int]:
        return {"n": n}

    client = serve(app)
    r = client.get("/boom")
    assert (r.status, r.json()) == (500, {"error": "Internal Server Error", "error_id": "e-1"})
    assert r.headers["content-type"] == "application/json"
    r = client.get("/boom-sync")
    assert r.status == 500 and r.json()["error_id"] == "e-1"
    r = client.get("/n/x")
    assert r.status == 422 and r.headers["x-error"] == "seen"
    assert r.json()["type"].endswith("validation-error")
    r = client.get("/n/3")
    assert (r.status, r.json()) == (200, {"n": 3})
    assert seen == [(500, "RuntimeError"), (500, "KeyError"), (422, None)]


def test_a_hook_returning_none_is_an_error_naming_it(serve, caplog):
    app = Spikard()

    @app.on_request
    async def forgetful(request):
        print(request.method)

    @app.get("/x")
    async def x() -> str:
        return "never"

    client = serve(app)
    with caplog.at_level(logging.ERROR, logger="spikard"):
        r = client.get("/x")
    assert r.status == 500
    assert r.json()["type"].endswith("internal-server-error")
    assert any(
        "forgetful" in rec.getMessage() and "returned None" in rec.getMessage()
        for rec in caplog.records
    )


def test_startup_shutdown_and_lifespan():
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Spikard):
        events.append("lifespan enter")
        yield
        events.append("lifespan exit")

    app = Spikard(lifespan=lifespan)

    @app.on_startup
    async def start() -> None:
        events.append("startup")

    @app.on_shutdown
    def stop() -> None:
        events.append("shutdown")

    @app.get("/")
    async def index() -> list[str]:
        return list(events)

    with app.serve_in_background(port=0) as server:
        import urllib.request

        with urllib.request.urlopen(server.url + "/") as resp:
            assert resp.read() == b'["startup","lifespan enter"]'
    assert events == ["startup", "lifespan enter", "lifespan exit", "shutdown"]


def test_no_hooks_no_hooks_key():
    from spikard._dispatch import Server
    from spikard.config import ServerConfig

    app = Spikard()

    @app.get("/")
    async def index() -> str:
        return "x"

    server = Server(list(app.routes), ServerConfig(port=0))
    assert server._routes[0] is app.routes[0]  # not wrapped: nothing added per request
    server.close()


def test_hooks_that_suspend(serve):
    import asyncio

    app = Spikard()

    @app.on_request
    async def slow(request: Request) -> Request:
        await asyncio.sleep(0.01)
        await asyncio.sleep(0)
        request.headers["X-Slept"] = "yes"
        return request

    @app.on_error
    async def slow_error(response: ErrorResponse) -> Response:
        fut = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_later(0.01, fut.set_result, "late")
        response.headers["X-Waited"] = await fut
        return response

    @app.get("/s")
    async def s(x_slept: str = Header()) -> str:
        return x_slept

    client = serve(app)
    for _ in range(3):
        r = client.get("/s")
        assert (r.status, r.body) == (200, b"yes")
    r = client.get("/nowhere")
    assert r.status == 404 and r.headers["x-waited"] == "late"


def test_on_response_changes_in_place_reach_the_client(serve):
    """The answer an on_response hook hands back unchanged is sent as
    rendered; every change made in place on that same Response is sent."""
    app = Spikard()

    @app.on_response
    async def edit(response: Response) -> Response:
        what = {k.lower(): v for k, v in response.headers.items()}.get("x-what", "")
        if "status" in what:
            response.status_code = 201
        if "content" in what:
            response.content = b'{"edited":true}'
        if "cookie" in what:
            response.set_cookie("seen", "1")
        if "header" in what:
            response.headers["X-Edited"] = "yes"
        return response

    @app.get("/r/{what}")
    async def r(what: str) -> Response:
        return Response({"what": what}, headers={"X-What": what})

    @app.get("/plain")
    def plain() -> dict[str, int]:
        return {"n": 1}

    client = serve(app)
    got = client.get("/r/none")
    assert (got.status, got.json(), got.headers.get("x-edited")) == (200, {"what": "none"}, None)
    assert client.get("/r/status").status == 201
    assert client.get("/r/content").json() == {"edited": True}
    assert client.get("/r/cookie").headers["set-cookie"].startswith("seen=1")
    assert client.get("/r/header").headers["x-edited"] == "yes"
    got = client.get("/plain")
    assert (got.status, got.json(), got.headers["content-type"]) == (
        200,
        {"n": 1},
        "application/json",
    )


def test_request_hooks_may_return_awaitables_and_their_own_request(serve):
    import asyncio

    app = Spikard()

    @app.on_request
    def future(request: Request) -> Any:
        fut = asyncio.get_running_loop().create_future()
        fut.set_result(request)
        return fut

    @app.pre_validation
    async def replace(request: Request) -> Request:
        other = Request(request.method, request.path, request.query_string, [], b"")
        return other if request.headers.get("x-replace") else request

    @app.pre_handler
    async def mark(request: Request) -> Request:
        request.headers  # noqa: B018 -- read, not changed
        return request

    @app.get("/h")
    async def h(x_user: str = Header("none")) -> str:
        return x_user

    client = serve(app)
    assert client.get("/h", headers={"X-User": "ada"}).body == b"ada"
    # A Request of the hook's own changes no header: the request goes on as sent.
    assert client.get("/h", headers={"X-User": "ada", "X-Replace": "1"}).body == b"ada"


def test_request_hooks_in_the_request_and_in_a_pre_visit(serve):
    """Request hooks run on every request as received, whether they ride on
    its REQUEST (it validates as received) or get a pre visit (it does not,
    or core decodes its body): unchanged, changed, short-circuited, raising,
    on async and def routes alike."""
    from spikard import HTTPException

    app = Spikard()
    bodies: list[bytes] = []

    @app.on_request
    def gate(request: Request) -> Request | Response:
        bodies.append(request.body)
        action = request.headers.get("x-action")
        if action == "deny":
            return Response({"error": "denied"}, status_code=403)
        if action == "raise":
            raise HTTPException(418, "teapot")
        if action == "name":
            request.headers["X-User"] = "ada"
        return request

    @app.get("/a")
    async def a(x_user: str = Header()) -> str:
        return x_user

    @app.get("/s")
    def s(x_user: str = Header()) -> str:
        return x_user

    @app.post("/form")
    async def form(request: Request) -> dict[str, str]:
        return {"body": request.body.decode()}

    client = serve(app)
    for path in ("/a", "/s"):
        assert client.get(path, headers={"X-User": "eve"}).body == b"eve"
        assert client.get(path, headers={"X-User": "eve", "X-Action": "name"}).body == b"ada"
        assert client.get(path, headers={"X-Action": "name"}).body == b"ada"  # a pre visit
        assert client.get(path).status == 422  # the pre visit continued unchanged
        r = client.get(path, headers={"X-User": "eve", "X-Action": "deny"})
        assert (r.status, r.json()) == (403, {"error": "denied"})
        r = client.get(path, headers={"X-User": "eve", "X-Action": "raise"})
        assert (r.status, r.json()["detail"]) == (418, "teapot")
    bodies.clear()
    r = client.post(
        "/form", body=b"a=1", headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert r.status == 200 and bodies == [b"a=1"], (r.body, bodies)
