"""The brief's code samples, as written, served over real HTTP.

Each test pastes one sample of /work/shared/spec/BRIEF.md into a fresh app
(only indentation added) and checks what a client sees.
"""

import json

from spikard import ServerConfig, Spikard


def test_quick_start_and_custom_response(serve):
    from msgspec import Struct

    from spikard import Response

    class User(Struct):
        id: int
        name: str
        email: str

    app = Spikard()

    @app.get("/users/{user_id}")
    async def get_user(user_id: int) -> User:
        return User(id=user_id, name="Alice", email="alice@example.com")

    @app.post("/users")
    async def create_user(user: User) -> Response:
        return Response(content=user, status_code=201, headers={"X-Custom": "value"})

    client = serve(app)
    r = client.get("/users/7")
    assert r.status == 200
    assert r.json() == {"id": 7, "name": "Alice", "email": "alice@example.com"}
    r = client.post("/users", json_body={"id": 1, "name": "Bo", "email": "bo@example.com"})
    assert r.status == 201
    assert r.headers["x-custom"] == "value"
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"id": 1, "name": "Bo", "email": "bo@example.com"}
    r = client.post("/users", json_body={"id": "x", "name": "Bo", "email": "bo@example.com"})
    assert r.status == 422


def test_litestar_style_decorators(serve, module_from):
    # Standalone decorators belong to the app of their module: the sample
    # is a module of its own, as in a program.
    mod = module_from(
        "brief_litestar",
        """
        from msgspec import Struct

        class User(Struct):
            id: int
            name: str
            email: str

        from spikard import Spikard, get, post, put, patch, delete
        app = Spikard()
        @get("/users")
        async def list_users():
            return {"users": []}
        @post("/users")
        async def create_user(user: User):
            return user
        @put("/users/{user_id}")
        async def update_user(user_id: int, user: User):
            return user
        @patch("/users/{user_id}")
        async def patch_user(user_id: int, updates: dict):
            return updates
        @delete("/users/{user_id}")
        async def delete_user(user_id: int):
            return {"deleted": True}
        """,
    )
    app = mod.app
    client = serve(app)
    alice = {"id": 1, "name": "Alice", "email": "a@example.com"}
    assert client.get("/users").json() == {"users": []}
    assert client.post("/users", json_body=alice).json() == alice
    assert client.request("PUT", "/users/1", json_body=alice).json() == alice
    r = client.request("PATCH", "/users/1", json_body={"name": "Al"})
    assert r.status == 200 and r.json() == {"name": "Al"}
    assert client.request("DELETE", "/users/1").json() == {"deleted": True}
    assert client.request("DELETE", "/users/abc").status == 422


def test_path_and_query_parameters(serve):
    from spikard import Query

    app = Spikard()

    @app.get("/posts/{post_id}/comments/{comment_id}")
    async def get_comment(post_id: int, comment_id: int):
        return {"post_id": post_id, "comment_id": comment_id}

    @app.get("/search")
    async def search(q: str, limit: int = Query(default=10), offset: int = Query(default=0)):
        return {"query": q, "limit": limit, "offset": offset}

    client = serve(app)
    assert client.get("/posts/3/comments/9").json() == {"post_id": 3, "comment_id": 9}
    assert client.get("/search?q=go").json() == {"query": "go", "limit": 10, "offset": 0}
    assert client.get("/search?q=go&limit=5&offset=20").json() == {
        "query": "go",
        "limit": 5,
        "offset": 20,
    }
    r = client.get("/search?limit=5")
    assert r.status == 422
    assert r.json()["errors"][0]["loc"] == ["query", "q"]
    assert client.get("/search?q=go&limit=many").status == 422


def test_msgspec_struct_body(serve):
    from msgspec import Struct

    app = Spikard()

    class CreatePost(Struct):
        title: str
        content: str
        tags: list[str] = []

    @app.post("/posts")
    async def create_post(post: CreatePost):
        return {"title": post.title, "tag_count": len(post.tags)}

    client = serve(app)
    r = client.post("/posts", json_body={"title": "T", "content": "C", "tags": ["a", "b"]})
    assert r.json() == {"title": "T", "tag_count": 2}
    assert client.post("/posts", json_body={"title": "T", "content": "C"}).json() == {
        "title": "T",
        "tag_count": 0,
    }
    r = client.post("/posts", json_body={"title": "T"})
    assert r.status == 422
    assert r.headers["content-type"] == "application/problem+json"


def test_pydantic_body_with_email(serve):
    from pydantic import BaseModel, EmailStr

    app = Spikard()

    class User(BaseModel):
        name: str
        email: EmailStr

    @app.post("/users")
    async def create_user(user: User):
        return user.model_dump()

    client = serve(app)
    r = client.post("/users", json_body={"name": "Alice", "email": "alice@example.com"})
    assert r.status == 200
    assert r.json() == {"name": "Alice", "email": "alice@example.com"}
    r = client.post("/users", json_body={"name": "Alice", "email": "not-an-email"})
    assert r.status == 422
    assert client.post("/users", json_body={"name": "Alice"}).status == 422


def test_dataclass_body_returned_as_is(serve):
    from dataclasses import dataclass

    app = Spikard()

    @dataclass
    class Product:
        name: str
        price: float

    @app.post("/products")
    async def create_product(product: Product):
        return product

    client = serve(app)
    r = client.post("/products", json_body={"name": "Pen", "price": 1.5})
    assert r.status == 200 and r.json() == {"name": "Pen", "price": 1.5}
    assert client.post("/products", json_body={"name": "Pen", "price": "x"}).status == 422


def test_plain_json_schema_dict(serve):
    app = Spikard()

    user_schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "email": {"type": "string", "format": "email"}},
        "required": ["name", "email"],
    }

    @app.post("/users", request_schema=user_schema)
    async def create_user(user: dict):
        # user is validated against schema
        return user

    client = serve(app)
    body = {"name": "Alice", "email": "alice@example.com"}
    r = client.post("/users", json_body=body)
    assert r.status == 200 and r.json() == body
    assert client.post("/users", json_body={"name": "Alice"}).status == 422


def test_plain_json_schema_dict_checks_email_format(serve):
    app = Spikard()
    schema = {
        "type": "object",
        "properties": {"email": {"type": "string", "format": "email"}},
        "required": ["email"],
    }

    @app.post("/users", request_schema=schema)
    async def create_user(user: dict):
        return user

    r = serve(app).post("/users", json_body={"email": "nope"})
    assert r.status == 422, r.body


def test_file_upload_sample_registers_a_binary_field():
    from spikard import UploadFile

    app = Spikard()

    @app.post("/upload")
    async def upload_file(file: UploadFile):
        # Use aread() for async file reading
        content = await file.aread()
        return {
            "filename": file.filename,
            "size": file.size,
            "content_type": file.content_type,
            "content_length": len(content),
        }

    doc = json.loads(app.routes[0].route_json())
    assert doc["body_schema"] == {
        "type": "object",
        "properties": {"file": {"type": "string", "format": "binary"}},
        "required": ["file"],
    }
    assert "parameter_schema" not in doc


def test_streaming_responses_sample(serve):
    from spikard import StreamingResponse

    app = Spikard()

    async def generate_data():
        for i in range(10):
            yield f"data: {i}\n".encode()

    @app.get("/stream")
    async def stream():
        return StreamingResponse(generate_data())

    r = serve(app).get("/stream")
    assert r.status == 200
    assert r.headers["transfer-encoding"] == "chunked"
    assert r.body == b"".join(f"data: {i}\n".encode() for i in range(10))


# The Server-Sent Events sample as the brief writes it, and its "SSE Testing"
# and "Testing" samples run unchanged against it: the test samples show no
# app, so the one below adds the two user routes they call.


def _sample_module(name: str, source: str):
    """source run as a module of its own (standalone decorators belong to the
    app of their module)."""
    import sys
    import textwrap
    import types

    from spikard.routing import forget_standalone

    forget_standalone(name)  # a module made again replaces the one before
    module = types.ModuleType(name)
    sys.modules[name] = module
    exec(compile(textwrap.dedent(source), f"<{name}>", "exec"), module.__dict__)
    return module


_SSE_SAMPLE = _sample_module(
    "brief_sse_sample",
    """
    from spikard import Spikard, sse
    import asyncio
    app = Spikard()
    @sse("/events")
    async def event_stream():
        \"\"\"Stream events to connected clients.\"\"\"
        for i in range(10):
            await asyncio.sleep(1)
            yield {
                "count": i,
                "message": f"Event {i}",
                "timestamp": i
            }

    # The WebSocket sample, on the same app: the WebSocket Testing sample
    # below calls /ws through the same client. (Its own `from spikard import
    # Spikard, websocket` and `app = Spikard()` lines are the SSE sample's;
    # test_websocket_sample_as_written runs it whole, on an app of its own.)
    from spikard import websocket
    @websocket("/ws")
    async def chat_handler(message: dict) -> dict | None:
        \"\"\"Handle incoming WebSocket messages.\"\"\"
        print(f"Received: {message}")
        # Echo back the message
        return {"echo": message}

    from spikard import Response

    @app.get("/users/{user_id}")
    async def get_user(user_id: int):
        return {"id": user_id, "name": "Alice"}

    @app.post("/users")
    async def create_user(user: dict):
        return Response(content=user, status_code=201)
    """,
)


app = _SSE_SAMPLE.app

import pytest  # noqa: E402

from spikard import TestClient  # noqa: E402


@pytest.fixture
def client():
    return TestClient(app)


@pytest.mark.asyncio
async def test_get_user(client):
    response = await client.get("/users/123")
    assert response.status_code == 200
    data = response.json()
    assert data["id"] == 123


@pytest.mark.asyncio
async def test_create_user(client):
    response = await client.post("/users", json={"name": "Alice", "email": "alice@example.com"})
    assert response.status_code == 201


@pytest.mark.asyncio
async def test_sse(client):
    async with client.sse("/events") as sse:
        events = []
        async for event in sse:
            events.append(event.data)
            if len(events) >= 3:
                break
    assert len(events) == 3


def test_background_tasks_sample(serve):
    import threading

    from spikard import background

    app = Spikard()
    ran = threading.Event()
    seen: list[dict] = []

    async def heavy_processing(data: dict):
        """Async function that runs after response is sent."""
        seen.append(data)
        ran.set()

    @app.post("/process")
    async def process_data(data: dict):
        # Schedule async function to run in background
        background.run(heavy_processing(data))
        return {"status": "processing"}

    r = serve(app).post("/process", json_body={"job": 7})
    assert r.status == 200
    assert r.json() == {"status": "processing"}
    assert ran.wait(10)
    assert seen == [{"job": 7}]


# The WebSocket Testing sample, unchanged, against the app above.

import json  # noqa: E402, F811 (the sample's own import line)


@pytest.mark.asyncio
async def test_websocket(client):
    async with client.websocket("/ws") as ws:
        await ws.send(json.dumps({"message": "hello"}))
        response_text = await ws.recv()
        response = json.loads(response_text)
        assert response["echo"]["message"] == "hello"


from websockets.exceptions import ConnectionClosed  # noqa: E402


def _websocket_sample_app():
    return _sample_module(
        "brief_websocket_sample",
        """
        from spikard import Spikard, websocket
        app = Spikard()
        @websocket("/ws")
        async def chat_handler(message: dict) -> dict | None:
            \"\"\"Handle incoming WebSocket messages.\"\"\"
            print(f"Received: {message}")
            # Echo back the message
            return {"echo": message}
        """,
    ).app


@pytest.mark.asyncio
async def test_websocket_sample_as_written(capsys):
    async with TestClient(_websocket_sample_app()) as client, client.websocket("/ws") as ws:
        await ws.send(json.dumps({"message": "hello"}))
        assert json.loads(await ws.recv()) == {"echo": {"message": "hello"}}
        await ws.send(json.dumps([1, 2]))  # a list for `message: dict`: closed with 1007
        with pytest.raises(ConnectionClosed) as info:
            await ws.recv()
        assert info.value.rcvd is not None and info.value.rcvd.code == 1007
    assert "Received: {'message': 'hello'}" in capsys.readouterr().out


def test_compression_sample_attached(serve) -> None:
    import gzip

    from spikard import CompressionConfig

    compression = CompressionConfig(
        gzip=True,  # Enable gzip
        brotli=True,  # Enable brotli
        min_size=1024,  # Min bytes to compress
        quality=6,  # 0-11 for brotli, 0-9 for gzip
    )

    app = Spikard(config=ServerConfig(compression=compression))

    @app.get("/report")
    async def report() -> dict:
        return {"rows": [{"id": i, "name": "row"} for i in range(200)]}

    @app.get("/tiny")
    async def tiny() -> dict:
        return {"ok": True}

    client = serve(app)
    plain = client.get("/report")
    r = client.get("/report", headers={"Accept-Encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip" and r.headers["vary"] == "Accept-Encoding"
    assert gzip.decompress(r.body) == plain.body
    r = client.get("/report", headers={"Accept-Encoding": "br, gzip"})
    assert r.headers["content-encoding"] == "br" and len(r.body) < len(plain.body)
    r = client.get("/tiny", headers={"Accept-Encoding": "gzip"})  # under min_size
    assert "content-encoding" not in r.headers and r.json() == {"ok": True}


def test_static_files_sample_attached(serve, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "public").mkdir()
    (tmp_path / "public" / "index.html").write_text("<h1>home</h1>")
    (tmp_path / "public" / "logo.svg").write_text("<svg/>")
    from spikard import StaticFilesConfig

    static = StaticFilesConfig(
        directory="./public",
        route_prefix="/static",
        index_file=True,
        cache_control="public, max-age=3600",
    )
    config = ServerConfig(static_files=[static])

    client = serve(Spikard(config=config))
    r = client.get("/static/logo.svg")
    assert (r.status, r.body) == (200, b"<svg/>")
    assert r.headers["cache-control"] == "public, max-age=3600"
    assert r.headers["content-type"] == "image/svg+xml"
    assert (
        client.get("/static/logo.svg", headers={"If-None-Match": r.headers["etag"]}).status == 304
    )
    r = client.get("/static/")
    assert (r.status, r.body) == (200, b"<h1>home</h1>")  # index_file


def test_openapi_documentation_sample(serve):
    from spikard import ServerConfig
    from spikard.config import OpenApiConfig

    openapi = OpenApiConfig(
        enabled=True,
        title="My API",
        version="1.0.0",
        description="API documentation",
        swagger_ui_path="/docs",
        redoc_path="/redoc",
    )
    config = ServerConfig(openapi=openapi)

    app = Spikard(config=config)

    @app.get("/users/{user_id}")
    async def get_user(user_id: int):
        return {"id": user_id}

    client = serve(app)
    doc = client.get("/openapi.json").json()
    assert doc["info"] == {
        "title": "My API",
        "version": "1.0.0",
        "description": "API documentation",
    }
    assert "get" in doc["paths"]["/users/{user_id}"]
    for page in ("/docs", "/redoc"):
        r = client.get(page)
        assert r.status == 200 and r.headers["content-type"] == "text/html; charset=utf-8"


def test_lifecycle_hooks_sample(serve, capsys):
    from spikard import Response

    app = Spikard()

    @app.on_request
    async def log_request(request):
        print(f"{request.method} {request.path}")
        return request  # Must return request to continue

    @app.pre_validation
    async def check_auth(request):
        token = request.headers.get("Authorization")
        if not token:
            return Response({"error": "Unauthorized"}, status_code=401)
        return request

    @app.pre_handler
    async def rate_check(request):
        # Additional checks before handler
        return request

    @app.on_response
    async def add_headers(response):
        response.headers["X-Frame-Options"] = "DENY"
        return response

    @app.on_error
    async def log_error(response):
        print(f"Error: {response.status_code}")
        return response

    @app.get("/users/{user_id}")
    async def get_user(user_id: int):
        return {"id": user_id}

    client = serve(app)
    r = client.get("/users/1")
    assert (r.status, r.json()) == (401, {"error": "Unauthorized"})
    assert r.headers["x-frame-options"] == "DENY"
    r = client.get("/users/1", headers={"Authorization": "Bearer t"})
    assert (r.status, r.json()) == (200, {"id": 1})
    assert r.headers["x-frame-options"] == "DENY"
    r = client.get("/users/x", headers={"Authorization": "Bearer t"})
    assert r.status == 422
    assert r.headers["x-frame-options"] == "DENY"
    out = capsys.readouterr().out.splitlines()
    assert out == ["GET /users/1", "GET /users/1", "GET /users/x", "Error: 422"]


def test_dependency_injection_sample(serve):
    from spikard import Spikard
    from spikard.di import Provide

    app = Spikard()
    app.provide("config", {"db_url": "postgresql://localhost/app"})
    app.provide(
        "db",
        Provide(lambda config: f"pool({config['db_url']})", depends_on=["config"], singleton=True),
    )

    @app.get("/stats")
    async def stats(config: dict[str, str], db: str):
        return {"db": db, "env": config["db_url"]}

    client = serve(app)
    r = client.get("/stats")
    assert r.status == 200
    assert r.json() == {
        "db": "pool(postgresql://localhost/app)",
        "env": "postgresql://localhost/app",
    }
