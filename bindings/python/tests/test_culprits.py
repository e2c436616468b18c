"""Mistakes a new user makes first: each error names the culprit (the
handler, the parameter, the address) in words about their code."""

from __future__ import annotations

import errno
import logging
import socket

import pytest
from msgspec import Struct

from spikard import ListenError, Response, Spikard


class User(Struct):
    id: int


class Unusable:
    """A plain class: no schema can be derived from it."""


def test_the_same_route_twice_names_both_handlers() -> None:
    app = Spikard()

    @app.get("/users/{user_id}")
    async def first(user_id: int) -> dict:
        return {}

    with pytest.raises(ValueError) as err:

        @app.get("/users/{uid}")  # another name, the same requests
        async def second(uid: int) -> dict:
            return {}

    text = str(err.value)
    assert text.startswith("GET /users/{uid} is registered twice: by ")
    assert "<locals>.first (" in text and "<locals>.second (" in text
    assert __file__ in text


def test_another_method_or_type_on_one_path_is_not_a_duplicate() -> None:
    app = Spikard()

    @app.get("/items/{item_id:int}")
    async def by_id(item_id: int) -> dict:
        return {}

    @app.post("/items/{item_id:int}")
    async def update(item_id: int) -> dict:
        return {}

    @app.get("/items/{slug}")
    async def by_slug(slug: str) -> dict:
        return {}

    assert [r.method for r in app.routes] == ["GET", "POST", "GET"]


@pytest.mark.parametrize("where", ["query", "body"])
def test_an_unusable_annotation_names_handler_and_parameter(where: str) -> None:
    app = Spikard()
    with pytest.raises(TypeError) as err:
        if where == "query":

            @app.get("/q")
            async def query(flag: Unusable) -> dict:
                return {}

        else:

            @app.post("/b")
            async def body(payload: list[Unusable]) -> dict:
                return {}

    text = str(err.value)
    name = "query" if where == "query" else "body"
    param = "flag" if where == "query" else "payload"
    assert f"<locals>.{name} (" in text
    assert f"parameter {param!r}: spikard cannot validate the type" in text
    assert "schema_hook" not in text  # not msgspec's advice about its own API


def test_a_port_in_use_is_an_oserror_with_host_and_port() -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    app = Spikard()

    @app.get("/")
    async def root() -> dict:
        return {}

    try:
        with pytest.raises(ListenError) as err:
            app.serve_in_background(host="127.0.0.1", port=port)
    finally:
        taken.close()
    assert isinstance(err.value, OSError)
    assert (err.value.host, err.value.port) == ("127.0.0.1", port)
    assert str(err.value) == f"cannot listen on 127.0.0.1:{port}: bind: address already in use"
    assert err.value.errno is None or err.value.errno == errno.EADDRINUSE


def test_none_for_a_declared_return_type_is_a_500_that_says_so(serve, caplog) -> None:
    app = Spikard()

    @app.get("/user")
    async def missing() -> User:
        return None  # type: ignore[return-value]

    @app.get("/maybe")
    async def maybe() -> User | None:
        return None

    @app.get("/sync")
    def missing_sync() -> Response:
        return None  # type: ignore[return-value]

    client = serve(app)
    with caplog.at_level(logging.ERROR, logger="spikard"):
        reply = client.get("/user")
        assert reply.status == 500
        assert reply.json()["type"] == "https://spikard.dev/errors/internal-server-error"
        assert client.get("/sync").status == 500
    lines = [r.getMessage() for r in caplog.records]
    assert any(
        "GET /user:" in line
        and "<locals>.missing (" in line
        and "returned None, but its return annotation is" in line
        for line in lines
    ), lines
    assert any("<locals>.missing_sync (" in line for line in lines), lines
    assert not [r for r in caplog.records if r.exc_info], "the message says all: no traceback"
    reply = client.get("/maybe")
    assert (reply.status, reply.body) == (200, b"null")


def test_malformed_json_is_a_problem_document(serve) -> None:
    app = Spikard()

    @app.post("/users")
    async def create(user: User) -> User:
        return user

    client = serve(app)
    for raw in (b'{"id": ', b"not json", b'{"id": 1,}'):
        reply = client.post("/users", body=raw, headers={"content-type": "application/json"})
        assert reply.status == 400, raw
        assert reply.headers["content-type"] == "application/problem+json"
        assert reply.json() == {
            "type": "https://spikard.dev/errors/bad-request",
            "title": "Bad Request",
            "status": 400,
            "detail": "Invalid request format",
        }


class Order(Struct):
    items: list[int]


def test_a_list_item_error_names_the_expected_type(serve) -> None:
    app = Spikard()

    @app.post("/orders")
    async def create(order: Order) -> dict:
        return {}

    client = serve(app)
    (entry,) = client.post("/orders", json_body={"items": [1, "x"]}).json()["errors"]
    assert entry["loc"] == ["body", "items", 1]
    assert entry["type"] == "int_parsing"
    assert entry["msg"] == "Input should be a valid integer, unable to parse string as an integer"
