"""The brief's samples and the route decorators, end to end."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from msgspec import Struct

import spikard
from spikard import Spikard
from spikard.routing import StandaloneRouteError

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


def test_brief_route_registration_sample(serve, module_from):
    mod = module_from(
        "brief_routes",
        """
        from msgspec import Struct
        import spikard
        from spikard import Spikard

        class User(Struct):
            id: int
            name: str
            email: str

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
        """,
    )
    client = serve(mod.app)
    user = {"id": 2, "name": "B", "email": "b@x.io"}
    assert client.get("/users").json() == {"users": []}
    assert client.post("/users", json_body=user).json() == user
    assert client.request("PUT", "/users/2", json_body=user).json() == user
    assert client.request("PATCH", "/users/2", json_body={"name": "C"}).json() == {"name": "C"}
    assert client.request("DELETE", "/users/2").json() == {"deleted": True}


def test_standalone_handler_belongs_to_its_modules_app(serve, module_from):
    # Decorated before the app exists: registered when the app starts.
    mod = module_from(
        "one_app",
        """
        from spikard import Spikard, get, sse

        @get("/early")
        async def early():
            return {"early": True}

        app = Spikard()

        @sse("/ticks")
        async def ticks():
            yield {"n": 1}
        """,
    )
    assert not mod.app.routes  # nothing is registered until the app starts
    client = serve(mod.app)
    assert client.get("/early").json() == {"early": True}
    assert client.get("/ticks").body == b'data: {"n":1}\n\n'
    assert sorted(r.path for r in mod.app.routes) == ["/early", "/ticks"]


def test_standalone_handler_in_a_module_without_an_app_is_an_error_at_start(module_from):
    module_from(
        "routes_without_app",
        """
        from spikard import post

        @post("/orders")
        async def create_order(order: dict):
            return order
        """,
    )
    main = module_from("main_with_app", "from spikard import Spikard\napp = Spikard()\n")
    with pytest.raises(StandaloneRouteError) as info:
        main.app.serve_in_background(port=0)
    msg = str(info.value)
    assert "@post('/orders') on routes_without_app.create_order" in msg
    assert "module 'routes_without_app' created no Spikard app" in msg
    with pytest.raises(StandaloneRouteError, match=r"routes_without_app\.create_order"):
        main.app.run(port=0)


def test_standalone_handler_in_a_module_with_two_apps_is_an_error(module_from):
    mod = module_from(
        "two_apps",
        """
        from spikard import Spikard, get

        admin = Spikard()
        public = Spikard()

        @get("/which")
        async def which():
            return 1
        """,
    )
    for app in (mod.admin, mod.public):
        with pytest.raises(StandaloneRouteError) as info:
            app.serve_in_background(port=0)
        assert "@get('/which') on two_apps.which" in str(info.value)
        assert "created 2 Spikard apps: which one is ambiguous" in str(info.value)
    assert not mod.admin.routes and not mod.public.routes


@pytest.mark.asyncio
async def test_standalone_error_at_testclient_start(module_from):
    from spikard import TestClient

    mod = module_from(
        "client_two_apps",
        """
        from spikard import Spikard, get

        a = Spikard()
        b = Spikard()

        @get("/x")
        def x():
            return 1
        """,
    )
    with pytest.raises(StandaloneRouteError, match=r"client_two_apps\.x"):
        async with TestClient(mod.a) as client:
            await client.get("/x")


def test_two_modules_each_with_its_own_app(serve, module_from):
    first = module_from(
        "users_service",
        """
        from spikard import Spikard, get

        app = Spikard()

        @get("/whoami")
        async def whoami():
            return {"service": "users"}
        """,
    )
    second = module_from(
        "orders_service",
        """
        from spikard import Spikard, get

        @get("/whoami")
        async def whoami():
            return {"service": "orders"}

        app = Spikard()
        """,
    )
    # Each app takes its own module's handler, whichever was created last.
    assert serve(second.app).get("/whoami").json() == {"service": "orders"}
    assert serve(first.app).get("/whoami").json() == {"service": "users"}
    assert [r.path for r in first.app.routes] == ["/whoami"]


def test_app_of_a_subclass_belongs_to_the_module_that_creates_it(serve, module_from):
    module_from(
        "app_base",
        """
        from spikard import Spikard

        class MyApp(Spikard):
            def __init__(self):
                super().__init__()
        """,
    )
    mod = module_from(
        "app_user",
        """
        from app_base import MyApp
        from spikard import get

        app = MyApp()

        @get("/sub")
        def sub():
            return {"ok": True}
        """,
    )
    assert serve(mod.app).get("/sub").json() == {"ok": True}


def test_unknown_route_is_404(serve):
    app = Spikard()

    @app.get("/known")
    async def known():
        return 1

    assert serve(app).get("/unknown").status == 404
