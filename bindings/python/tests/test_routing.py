"""Signature compilation: parameters, coercion, bodies, register_route."""

from __future__ import annotations

import datetime
import json
import uuid
from dataclasses import dataclass
from typing import Annotated, Optional

import pydantic
from msgspec import Struct

from spikard import Header, Query, Spikard
from spikard.routing import compile_route


class Item(Struct):
    name: str
    price: float
    tags: list[str] = []


class Order(Struct):
    item: Item
    quantity: int


def test_compile_declares_sources_and_required():
    async def handler(
        item_id: int,
        q: str,
        limit: int = Query(default=10),
        flag: Optional[bool] = None,
        ids: list[int] = Query(default=[]),
        x_token: str = Header(),
    ):
        return None

    route = compile_route("GET", "/items/{item_id}", handler)
    doc = json.loads(route.route_json())
    assert doc["method"] == "GET" and doc["lane"] == 0
    props = doc["parameter_schema"]["properties"]
    assert props["item_id"] == {"type": "integer", "source": "path"}
    assert props["q"] == {"type": "string", "source": "query"}
    assert props["limit"] == {"type": "integer", "source": "query", "default": 10}
    assert props["flag"] == {"type": "boolean", "source": "query"}
    assert props["ids"]["type"] == "array" and props["ids"]["source"] == "query"
    # Named after the Python parameter; the core reads header "x-token".
    assert props["x_token"] == {"type": "string", "source": "header"}
    assert sorted(doc["parameter_schema"]["required"]) == ["item_id", "q", "x_token"]


def test_compile_body_schema_inlines_defs():
    def handler(order: Order):
        return order

    doc = json.loads(compile_route("POST", "/orders", handler).route_json())
    assert doc["lane"] == 1
    body = doc["body_schema"]
    assert "$defs" not in body and "$ref" not in json.dumps(body)
    assert body["properties"]["item"]["properties"]["name"] == {"type": "string"}


def test_path_coercions(serve):
    app = Spikard()

    @app.get("/int/{v}")
    async def as_int(v: int):
        return {"v": v, "type": type(v).__name__}

    @app.get("/float/{v}")
    async def as_float(v: float):
        return {"v": v, "type": type(v).__name__}

    @app.get("/str/{v}")
    def as_str(v: str):
        return {"v": v, "type": type(v).__name__}

    @app.get("/bool/{v}")
    async def as_bool(v: bool):
        return {"v": v, "type": type(v).__name__}

    @app.get("/uuid/{v}")
    async def as_uuid(v: uuid.UUID):
        return {"v": str(v), "type": type(v).__name__}

    @app.get("/date/{v}")
    def as_date(v: datetime.date):
        return {"v": v.isoformat(), "type": type(v).__name__}

    @app.get("/datetime/{v}")
    async def as_datetime(v: datetime.datetime):
        return {"v": v.isoformat(), "type": type(v).__name__}

    client = serve(app)
    u = "a8098c1a-f86e-11da-bd1a-00112444be1e"
    assert client.get("/int/42").json() == {"v": 42, "type": "int"}
    assert client.get("/float/1.5").json() == {"v": 1.5, "type": "float"}
    assert client.get("/str/hello").json() == {"v": "hello", "type": "str"}
    assert client.get("/bool/true").json() == {"v": True, "type": "bool"}
    assert client.get(f"/uuid/{u}").json() == {"v": u, "type": "UUID"}
    assert client.get("/date/2024-03-15").json() == {"v": "2024-03-15", "type": "date"}
    reply = client.get("/datetime/2024-03-15T10:30:00Z").json()
    assert reply["type"] == "datetime" and reply["v"].startswith("2024-03-15T10:30:00")
    assert client.get("/int/nope").status == 422
    assert client.get("/uuid/nope").status == 422
    assert client.get("/date/2024-13-45").status == 422


def test_query_defaults_optional_and_lists(serve):
    app = Spikard()

    @app.get("/search")
    async def search(
        q: str,
        limit: int = Query(default=10),
        offset: int = Query(default=0),
    ):
        return {"query": q, "limit": limit, "offset": offset}

    @app.get("/opt")
    def opt(name: str | None = None, n: Optional[int] = None):
        return {"name": name, "n": n}

    @app.get("/list")
    async def as_list(device_ids: list[int] = Query(default=[])):
        return device_ids

    @app.get("/alias")
    async def alias(page_size: Annotated[int, Query(alias="pageSize")] = 5):
        return {"page_size": page_size}

    client = serve(app)
    assert client.get("/search?q=x").json() == {"query": "x", "limit": 10, "offset": 0}
    assert client.get("/search?q=x&limit=5&offset=2").json() == {
        "query": "x",
        "limit": 5,
        "offset": 2,
    }
    assert client.get("/search").status == 422
    assert client.get("/search?q=x&limit=abc").status == 422
    assert client.get("/opt").json() == {"name": None, "n": None}
    assert client.get("/opt?name=a&n=3").json() == {"name": "a", "n": 3}
    assert client.get("/list?device_ids=1&device_ids=2").json() == [1, 2]
    assert client.get("/list").json() == []
    assert client.get("/alias?pageSize=7").json() == {"page_size": 7}
    assert client.get("/alias").json() == {"page_size": 5}


def test_header_param(serve):
    app = Spikard()

    @app.get("/h")
    async def h(x_token: str = Header()):
        return {"token": x_token}

    client = serve(app)
    assert client.get("/h", headers={"X-Token": "abc"}).json() == {"token": "abc"}
    assert client.get("/h").status == 422


@dataclass
class Product:
    name: str
    price: float


class PydUser(pydantic.BaseModel):
    name: str
    age: int


def test_struct_dataclass_pydantic_bodies(serve):
    app = Spikard()

    @app.post("/items")
    async def create(item: Item):
        assert isinstance(item, Item)
        return {"name": item.name, "tag_count": len(item.tags)}

    @app.post("/products")
    def product(product: Product):
        assert isinstance(product, Product)
        return product

    @app.post("/pyd")
    async def pyd(user: PydUser):
        assert isinstance(user, PydUser)
        return user.model_dump()

    client = serve(app)
    reply = client.post("/items", json_body={"name": "a", "price": 1.0, "tags": ["x", "y"]})
    assert reply.json() == {"name": "a", "tag_count": 2}
    assert client.post("/items", json_body={"name": "a"}).status == 422
    assert client.post("/items", json_body={"name": "a", "price": "cheap"}).status == 422
    assert client.post(
        "/items", body=b"{not json", headers={"content-type": "application/json"}
    ).status in (400, 422)
    assert client.post("/products", json_body={"name": "p", "price": 2.5}).json() == {
        "name": "p",
        "price": 2.5,
    }
    assert client.post("/pyd", json_body={"name": "n", "age": 3}).json() == {"name": "n", "age": 3}
    assert client.post("/pyd", json_body={"name": "n", "age": "old"}).status == 422


def test_request_schema_dict(serve):
    app = Spikard()
    user_schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "email": {"type": "string"}},
        "required": ["name", "email"],
    }

    @app.post("/users", request_schema=user_schema)
    async def create_user(user: dict):
        return user

    client = serve(app)
    good = {"name": "a", "email": "a@x.io"}
    assert client.post("/users", json_body=good).json() == good
    assert client.post("/users", json_body={"name": "a"}).status == 422


def test_register_route_low_level(serve):
    app = Spikard()

    def handler(user_id, limit=1, body=None):
        return {"user_id": user_id, "limit": limit, "body": body}

    app.register_route(
        "POST",
        "/raw/{user_id}",
        parameter_schema={
            "type": "object",
            "properties": {
                "user_id": {"type": "integer", "source": "path"},
                "limit": {"type": "integer", "source": "query"},
            },
            "required": ["user_id"],
        },
        body_schema={
            "type": "object",
            "properties": {"a": {"type": "integer"}},
            "required": ["a"],
        },
    )(handler)

    async def ahandler(name):
        return {"name": name}

    app.register_route(
        "GET",
        "/rawa/{name}",
        parameter_schema={
            "type": "object",
            "properties": {"name": {"type": "string", "source": "path"}},
            "required": ["name"],
        },
    )(ahandler)

    client = serve(app)
    reply = client.post("/raw/5?limit=3", json_body={"a": 1})
    assert reply.json() == {"user_id": 5, "limit": 3, "body": {"a": 1}}
    assert client.post("/raw/5", json_body={"a": "x"}).status == 422
    assert client.post("/raw/x", json_body={"a": 1}).status == 422
    assert client.get("/rawa/bob").json() == {"name": "bob"}


def test_cookie_and_body_markers(serve):
    from spikard import Body, Cookie

    app = Spikard()

    @app.get("/c")
    async def c(session: str = Cookie(), theme: str = Cookie(default="light")):
        return {"session": session, "theme": theme}

    @app.post("/b")
    def b(payload: dict = Body()):
        return payload

    client = serve(app)
    reply = client.get("/c", headers={"Cookie": "session=abc"})
    assert reply.json() == {"session": "abc", "theme": "light"}
    assert client.get("/c").status == 422
    assert client.post("/b", json_body={"k": [1, 2]}).json() == {"k": [1, 2]}
