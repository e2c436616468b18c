"""Return values: how each kind of result is encoded."""

from __future__ import annotations

from msgspec import Struct

from spikard import Response, Spikard


class User(Struct):
    id: int
    name: str


def test_return_types(serve):
    app = Spikard()

    @app.get("/struct")
    async def struct():
        return User(id=1, name="a")

    @app.get("/dict")
    def as_dict():
        return {"a": 1}

    @app.get("/list")
    async def as_list():
        return [1, "two", None]

    @app.get("/str")
    async def as_str():
        return "héllo"

    @app.get("/bytes")
    def as_bytes():
        return b"\x00\x01"

    @app.get("/none")
    async def none():
        return None

    @app.get("/declared")
    async def declared() -> User:
        return {"id": "7", "name": "b"}  # type: ignore[return-value]

    @app.get("/declared-list")
    def declared_list() -> list[User]:
        return [{"id": 1, "name": "x"}]  # type: ignore[list-item]

    @app.post("/created", status_code=201)
    async def created():
        return {"ok": True}

    client = serve(app)
    reply = client.get("/struct")
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    assert reply.json() == {"id": 1, "name": "a"}
    assert client.get("/dict").json() == {"a": 1}
    assert client.get("/list").json() == [1, "two", None]
    reply = client.get("/str")
    assert reply.headers["content-type"] == "text/plain; charset=utf-8"
    assert reply.body.decode() == "héllo"
    reply = client.get("/bytes")
    assert reply.headers["content-type"] == "application/octet-stream"
    assert reply.body == b"\x00\x01"
    reply = client.get("/none")
    assert reply.status == 200 and reply.body == b"null"
    assert client.get("/declared").json() == {"id": 7, "name": "b"}
    assert client.get("/declared-list").json() == [{"id": 1, "name": "x"}]
    assert client.post("/created").status == 201


def test_response_object(serve):
    app = Spikard()

    @app.post("/users")
    async def create_user(user: User) -> Response:
        return Response(content=user, status_code=201, headers={"X-Custom": "value"})

    @app.get("/empty")
    def empty():
        return Response(status_code=204)

    @app.get("/text")
    async def text():
        return Response("plain", status_code=202, media_type="text/csv")

    client = serve(app)
    reply = client.post("/users", json_body={"id": 3, "name": "c"})
    assert reply.status == 201
    assert reply.headers["x-custom"] == "value"
    assert reply.headers["content-type"] == "application/json"
    assert reply.json() == {"id": 3, "name": "c"}
    reply = client.get("/empty")
    assert reply.status == 204 and reply.body == b""
    reply = client.get("/text")
    assert reply.status == 202
    assert reply.headers["content-type"] == "text/csv"
    assert reply.body == b"plain"
