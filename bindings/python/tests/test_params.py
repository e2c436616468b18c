"""Parameter markers over HTTP: defaults, aliases, constraints, headers, cookies."""

from typing import Annotated, Optional

import annotated_types
import msgspec
import pydantic

from spikard import Cookie, Header, Path, Query, Spikard
from spikard.routing import compile_route


def _props(handler, path="/"):
    doc = compile_route("GET", path, handler).declaration
    return doc["parameter_schema"]["properties"], doc["parameter_schema"].get("required", [])


def test_marker_constraints_become_schema_keywords():
    async def handler(
        a: int = Query(default=10, ge=1, le=100),
        b: float = Query(default=1.0, gt=0, lt=5, multiple_of=0.5),
        c: str = Query(default="x", min_length=1, max_length=8, pattern="^[a-z]+$"),
        d: list[int] = Query(default=[], min_items=1, max_items=3),
        e: list[str] = Query(default=[], min_length=2),
    ):
        return None

    props, required = _props(handler)
    assert props["a"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 100,
        "source": "query",
        "default": 10,
    }
    assert props["b"]["exclusiveMinimum"] == 0 and props["b"]["exclusiveMaximum"] == 5
    assert props["b"]["multipleOf"] == 0.5
    assert props["c"]["minLength"] == 1 and props["c"]["maxLength"] == 8
    assert props["c"]["pattern"] == "^[a-z]+$"
    assert props["d"]["minItems"] == 1 and props["d"]["maxItems"] == 3
    assert props["e"]["minItems"] == 2 and "minLength" not in props["e"]
    assert required == []


def test_annotated_markers_and_foreign_constraints():
    async def handler(
        a: Annotated[int, Query(ge=1)],
        b: Annotated[int, msgspec.Meta(le=9)] = 3,
        c: Annotated[int, annotated_types.Gt(2), annotated_types.MultipleOf(2)] = 4,
        d: Annotated[str, pydantic.Field(min_length=2, max_length=4)] = "ab",
        e: Annotated[str, Query(alias="E-key", max_length=3)] = "e",
        f: Annotated[Optional[int], Query()] = None,
    ):
        return None

    props, required = _props(handler)
    assert props["a"] == {"type": "integer", "minimum": 1, "source": "query"}
    assert props["b"]["maximum"] == 9 and props["b"]["default"] == 3
    assert props["c"]["exclusiveMinimum"] == 2 and props["c"]["multipleOf"] == 2
    assert props["d"]["minLength"] == 2 and props["d"]["maxLength"] == 4
    assert props["e"] == {"type": "string", "maxLength": 3, "alias": "E-key", "source": "query"} | {
        "default": "e"
    }
    assert props["f"] == {"type": "integer", "source": "query"}
    assert required == ["a"]


def test_alias_only_when_given():
    async def handler(x_api_key: str = Header(), token: str = Header(alias="X-Token")):
        return None

    props, _ = _props(handler)
    assert props["x_api_key"] == {"type": "string", "source": "header"}
    assert props["token"] == {"type": "string", "source": "header", "alias": "X-Token"}


def test_query_defaults_constraints_and_lists_over_http(serve):
    app = Spikard()

    @app.get("/items")
    async def items(
        limit: int = Query(default=10, ge=1, le=50),
        tags: list[str] = Query(default=[]),
        ids: list[int] = Query(default=[]),
        sort: Optional[str] = None,
        page: Annotated[int, Query(ge=1)] = 1,
        name: str = Query(default="x", min_length=1, max_length=5),
    ):
        return {"limit": limit, "tags": tags, "ids": ids, "sort": sort, "page": page, "name": name}

    client = serve(app)
    assert client.get("/items").json() == {
        "limit": 10,
        "tags": [],
        "ids": [],
        "sort": None,
        "page": 1,
        "name": "x",
    }
    got = client.get("/items?limit=5&tags=a&tags=b&ids=1&ids=2&sort=asc&page=3&name=abc").json()
    assert got == {
        "limit": 5,
        "tags": ["a", "b"],
        "ids": [1, 2],
        "sort": "asc",
        "page": 3,
        "name": "abc",
    }
    for bad in ("limit=0", "limit=51", "page=0", "ids=x", "name=toolong", "limit=1.5"):
        r = client.get("/items?" + bad)
        assert r.status == 422, (bad, r.body)
        assert r.headers["content-type"] == "application/problem+json"
    r = client.get("/items?limit=0")
    assert r.json()["errors"][0]["loc"] == ["query", "limit"]


def test_each_list_default_is_fresh(serve):
    app = Spikard()

    @app.get("/acc")
    def acc(xs: list[int] = Query(default=[])):
        xs.append(1)
        return xs

    client = serve(app)
    assert client.get("/acc").json() == [1]
    assert client.get("/acc").json() == [1]


def test_headers_map_underscores_and_aliases(serve):
    app = Spikard()

    @app.get("/h")
    async def h(
        x_api_key: str = Header(),
        token: Annotated[str, Header(alias="X-Custom-Token")] = "none",
        retries: int = Header(default=0, ge=0, le=3),
    ):
        return {"key": x_api_key, "token": token, "retries": retries}

    client = serve(app)
    r = client.get("/h", headers={"X-API-Key": "k1"})
    assert r.status == 200, r.body
    assert r.json() == {"key": "k1", "token": "none", "retries": 0}
    r = client.get("/h", headers={"x-api-key": "k", "x-custom-token": "t", "Retries": "2"})
    assert r.json() == {"key": "k", "token": "t", "retries": 2}
    r = client.get("/h")
    assert r.status == 422
    loc = r.json()["errors"][0]["loc"]
    assert loc[0] in ("header", "headers") and loc[-1] == "x-api-key"
    assert client.get("/h", headers={"x-api-key": "k", "retries": "9"}).status == 422


def test_cookies_and_path_markers(serve):
    app = Spikard()

    @app.get("/users/{user_id}")
    async def user(
        user_id: int = Path(ge=1),
        session: str = Cookie(),
        theme: Annotated[str, Cookie(alias="ui-theme")] = "light",
    ):
        return {"id": user_id, "session": session, "theme": theme}

    @app.get("/things/{thing}")
    async def thing(ident: Annotated[str, Path(alias="thing", min_length=3)]):
        return {"ident": ident}

    client = serve(app)
    r = client.get("/users/5", headers={"cookie": "session=abc; ui-theme=dark"})
    assert r.status == 200, r.body
    assert r.json() == {"id": 5, "session": "abc", "theme": "dark"}
    assert client.get("/users/5", headers={"cookie": "session=s"}).json()["theme"] == "light"
    assert client.get("/users/0", headers={"cookie": "session=abc"}).status == 422
    r = client.get("/users/5")
    assert r.status == 422 and r.json()["errors"][0]["loc"][0] == "cookie"
    assert client.get("/things/abcd").json() == {"ident": "abcd"}
    assert client.get("/things/ab").status == 422
