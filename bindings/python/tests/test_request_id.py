"""Request ids: the core's X-Request-ID, as the handler and the client see it."""

from __future__ import annotations

import asyncio
import re

from spikard import Request, ServerConfig, Spikard

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def id_app(config: ServerConfig | None = None) -> Spikard:
    app = Spikard(config)

    @app.get("/id")
    async def rid(request: Request) -> dict[str, str | None]:
        return {"id": request.request_id}

    @app.get("/sync")
    def rid_sync(request: Request) -> dict[str, str | None]:
        return {"id": request.request_id}

    @app.get("/slow")
    async def slow() -> str:
        await asyncio.sleep(30)
        return "late"

    return app


def test_generated_and_kept(serve):
    client = serve(id_app())
    for path in ("/id", "/sync"):
        reply = client.get(path)
        rid = reply.headers["x-request-id"]
        assert UUID4.match(rid), rid
        assert reply.json() == {"id": rid}
        mine = client.get(path, headers={"X-Request-ID": "trace-7"})
        assert mine.headers["x-request-id"] == "trace-7"
        assert mine.json() == {"id": "trace-7"}
        bad = client.get(path, headers={"X-Request-ID": "x" * 129})
        assert UUID4.match(bad.headers["x-request-id"])
        assert bad.json() == {"id": bad.headers["x-request-id"]}


def test_problem_documents_and_timeouts_carry_it(serve):
    client = serve(id_app(ServerConfig(request_timeout=0.2)))
    assert client.get("/nowhere", headers={"X-Request-ID": "a1"}).headers["x-request-id"] == "a1"
    late = client.get("/slow", headers={"X-Request-ID": "a2"})
    assert (late.status, late.headers["x-request-id"]) == (408, "a2")
    assert late.json()["type"] == "https://spikard.dev/errors/request-timeout"


def test_disabled(serve):
    client = serve(id_app(ServerConfig(enable_request_id=False)))
    reply = client.get("/id", headers={"X-Request-ID": "external"})
    assert "x-request-id" not in reply.headers
    assert reply.json() == {"id": "external"}
    assert client.get("/id").json() == {"id": None}
