"""The brief's samples and the route decorators, end to end."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from msgspec import Struct

import spikard
from spikard import Spikard

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "python" / "quickstart.py"


class User(Struct):
    id: int
    name: str
    email: str


def load_quickstart() -> Spikard:
    spec = importlib.util.spec_from_file_location("quickstart_example", EXAMPLE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["quickstart_example"] = module
    spec.loader.exec_module(module)
    return module.app  # type: ignore[no-any-return]


def test_quickstart_get(serve):
    client = serve(load_quickstart())
    reply = client.get("/users/7")
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("application/json")
    assert reply.json() == {"id": 7, "name": "Alice", "email": "alice@example.com"}


def test_quickstart_post_echoes(serve):
    client = serve(load_quickstart())
    user = {"id": 1, "name": "A", "email": "a@x.io"}
    reply = client.post("/users", json_body=user)
    assert reply.status == 200
    assert reply.json() == user


def test_quickstart_bad_body_is_422_problem(serve):
    client = serve(load_quickstart())
    reply = client.post("/users", json_body={"id": "x", "name": "A", "email": "a@x.io"})
    assert reply.status == 422
    problem = reply.json()
    assert problem["status"] == 422
    assert "errors" in problem or "detail" in problem


def test_quickstart_bad_path_is_422(serve):
    client = serve(load_quickstart())
    assert client.get("/users/abc").status == 422


METHODS = ["get", "post", "put", "patch", "delete", "options", "trace"]


@pytest.mark.parametrize("method", METHODS)
def test_instance_decorators(serve, method):
    app = Spikard()
    decorator = getattr(app, method)

    @decorator("/thing")
    async def handler():
        return {"method": method}

    reply = serve(app).request(method.upper(), "/thing")
    assert reply.status == 200
    assert reply.json() == {"method": method}


@pytest.mark.parametrize("method", METHODS)
def test_standalone_decorators(serve, method):
    app = Spikard()
    decorator = getattr(spikard, method)

    @decorator("/thing/{n}")
    def handler(n: int):
        return {"method": method, "n": n}

    reply = serve(app).request(method.upper(), "/thing/3")
    assert reply.status == 200
    assert reply.json() == {"method": method, "n": 3}


def test_head_decorators(serve):
    app = Spikard()

    @app.head("/a")
    async def a():
        return None

    @spikard.head("/b")
    def b():
        return None

    client = serve(app)
    assert client.request("HEAD", "/a").status == 200
    assert client.request("HEAD", "/b").status == 200
    assert client.request("HEAD", "/a").body == b""


def test_get_answers_head(serve):
    app = Spikard()

    @app.get("/g")
    async def g():
        return {"x": 1}

    reply = serve(app).request("HEAD", "/g")
    assert reply.status == 200
    assert reply.body == b""


def test_brief_route_registration_sample(serve):
    app = Spikard()

    @spikard.get("/users")
    async def list_users():
        return {"users": []}

    @spikard.post("/users")
    async def create_user(user: User):
        return user

    @spikard.put("/users/{user_id}")
    async def update_user(user_id: int, user: User):
        return user

    @spikard.patch("/users/{user_id}")
    async def patch_user(user_id: int, updates: dict):
        return updates

    @spikard.delete("/users/{user_id}")
    async def delete_user(user_id: int):
        return {"deleted": True}

    client = serve(app)
    user = {"id": 2, "name": "B", "email": "b@x.io"}
    assert client.get("/users").json() == {"users": []}
    assert client.post("/users", json_body=user).json() == user
    assert client.request("PUT", "/users/2", json_body=user).json() == user
    assert client.request("PATCH", "/users/2", json_body={"name": "C"}).json() == {"name": "C"}
    assert client.request("DELETE", "/users/2").json() == {"deleted": True}


def test_standalone_attach_to_latest_app():
    first = Spikard()
    second = Spikard()

    @spikard.get("/x")
    async def x():
        return 1

    assert not first.routes
    assert [r.path for r in second.routes] == ["/x"]


def test_unknown_route_is_404(serve):
    app = Spikard()

    @app.get("/known")
    async def known():
        return 1

    assert serve(app).get("/unknown").status == 404
