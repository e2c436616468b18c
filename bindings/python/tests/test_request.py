"""A handler parameter annotated Request receives the raw request."""

from typing import Optional

import msgspec

from spikard import Query, Request, Spikard
from spikard.request import Headers
from spikard.routing import compile_route


def test_request_parameter_asks_the_core_for_the_request():
    async def plain(q: int = 1):
        return None

    async def wants(request: Request, q: int = 1):
        return None

    assert "facts" not in compile_route("GET", "/", plain).declaration
    doc = compile_route("GET", "/", wants).declaration
    assert doc["facts"] == ["meta", "cookies", "query", "claims"]
    assert list(doc["parameter_schema"]["properties"]) == ["q"]


def test_request_over_http(serve):
    app = Spikard()

    class Item(msgspec.Struct):
        name: str

    @app.post("/echo/{item_id}")
    async def echo(item_id: int, request: Request, item: Item, tag: Optional[str] = None):
        return {
            "id": item_id,
            "item": item.name,
            "tag": tag,
            "method": request.method,
            "path": request.path,
            "query": request.query,
            "ua": request.headers["USER-AGENT"],
            "has_token": "X-Token" in request.headers,
            "tokens": request.headers.getlist("x-token"),
            "cookies": request.cookies,
            "body_len": len(request.body),
            "json": request.json(),
        }

    @app.get("/sync")
    def sync(req: Request, n: int = Query(default=0)):
        return {"method": req.method, "n": n, "query": req.query, "body": req.body.decode()}

    client = serve(app)
    body = b'{"name": "pen"}'
    r = client.post(
        "/echo/7?tag=x&tag=y&empty=&sp=a%20b",
        body=body,
        headers={
            "content-type": "application/json",
            "user-agent": "probe/1",
            "x-token": "t1",
            "cookie": 'sid=abc; theme="dark"; flag',
        },
    )
    assert r.status == 200, r.body
    assert r.json() == {
        "id": 7,
        "item": "pen",
        "tag": "y",
        "method": "POST",
        "path": "/echo/7",
        "query": {"tag": ["x", "y"], "empty": [""], "sp": ["a b"]},
        "ua": "probe/1",
        "has_token": True,
        "tokens": ["t1"],
        "cookies": {"sid": "abc", "theme": "dark"},
        "body_len": len(body),
        "json": {"name": "pen"},
    }
    r = client.get("/sync?n=3")
    assert r.json() == {"method": "GET", "n": 3, "query": {"n": ["3"]}, "body": ""}


def test_headers_mapping():
    h = Headers([("Accept", "a"), ("x-multi", "1"), ("X-Multi", "2")])
    assert h["accept"] == "a" and h["ACCEPT"] == "a"
    assert h.get("X-MULTI") == "1" and h.getlist("x-multi") == ["1", "2"]
    assert len(h) == 2 and sorted(h) == ["accept", "x-multi"]
    assert "nope" not in h and h.get("nope") is None
    # Cookies come parsed by the core (the "cookies" fact); the first of a
    # repeated name wins.
    req = Request("GET", "/", "", [], None, None, [("a", "1"), ("a", "2"), ("b", "3")])
    assert req.cookies == {"a": "1", "b": "3"}
    assert req.json() is None and req.body == b""
