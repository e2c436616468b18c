"""HTTPException, RequestValidationError and app.exception_handler over real HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from spikard import HTTPException, Request, RequestValidationError, Response, Spikard


def test_http_exception_is_the_cores_problem_document(serve):
    app = Spikard()

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, Any]:
        raise HTTPException(404, f"item {item_id} not found", headers={"X-Reason": "gone"})

    @app.get("/sync")
    def sync() -> dict[str, Any]:
        raise HTTPException(status_code=409)

    @app.on_request
    async def guard(request: Request) -> Request:
        if request.headers.get("x-block"):
            raise HTTPException(403, "blocked", {"WWW-Authenticate": "Bearer"})
        return request

    client = serve(app)
    r = client.get("/items/7")
    assert r.status == 404
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["x-reason"] == "gone"
    assert r.json() == {
        "type": "https://spikard.dev/errors/not-found",
        "title": "Not Found",
        "status": 404,
        "detail": "item 7 not found",
    }
    r = client.get("/sync")
    assert r.status == 409 and r.json()["title"] == "Conflict"
    r = client.get("/sync", headers={"X-Block": "1"})
    assert r.status == 403 and r.json()["detail"] == "blocked"
    assert r.headers["www-authenticate"] == "Bearer"


def test_http_exception_checks_its_status():
    with pytest.raises(ValueError, match=r"400\.\.599"):
        HTTPException(200)


def test_exception_handlers_map_exceptions_to_responses(serve):
    app = Spikard()

    class OutOfStock(Exception):
        pass

    class Backordered(OutOfStock):
        pass

    @app.exception_handler(OutOfStock)
    async def out_of_stock(request: Request, exc: OutOfStock) -> Response:
        return Response({"error": str(exc), "path": request.path}, status_code=409)

    @app.exception_handler(RequestValidationError)
    def invalid(request: Request, exc: RequestValidationError) -> Response:
        return Response({"invalid": True}, status_code=400)

    @app.get("/a")
    async def a() -> dict[str, Any]:
        raise Backordered("none left")

    @app.get("/s")
    def s() -> dict[str, Any]:
        raise OutOfStock("sold out")

    @app.post("/body")
    async def body(data: list[int]) -> list[int]:
        return data

    @app.get("/other")
    async def other() -> dict[str, Any]:
        raise RuntimeError("not mapped")

    client = serve(app)
    r = client.get("/a")
    assert (r.status, r.json()) == (409, {"error": "none left", "path": "/a"})
    r = client.get("/s")
    assert (r.status, r.json()) == (409, {"error": "sold out", "path": "/s"})
    r = client.post("/body", body=b'["x"]', headers={"content-type": "application/json"})
    assert r.status in (400, 422)
    r = client.get("/other")
    assert r.status == 500 and r.json()["type"].endswith("internal-server-error")
