"""TestClient: the brief's Testing section, and what a test of an app needs."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap

import pytest
from msgspec import Struct

from spikard import Response, ServerConfig, Spikard, SseEvent, TestClient, UploadFile


class User(Struct):
    name: str
    email: str


def make_app() -> Spikard:
    app = Spikard(config=ServerConfig(quiet=True))

    @app.get("/users/{user_id}")
    async def get_user(user_id: int) -> dict[str, object]:
        return {"id": user_id, "name": "Alice"}

    @app.post("/users")
    async def create_user(user: User) -> Response:
        return Response(content={"id": 1, "name": user.name}, status_code=201)

    @app.get("/echo")
    async def echo(q: str, page: int = 1) -> dict[str, object]:
        return {"q": q, "page": page}

    @app.sse("/events")
    async def events():
        for i in range(5):
            yield {"n": i}
        yield SseEvent("bye", event="end", id="5")

    return app


@pytest.fixture
def client():
    return TestClient(make_app())


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
    assert response.json() == {"id": 1, "name": "Alice"}


@pytest.mark.asyncio
async def test_validation_errors_are_the_cores_problem_documents(client):
    response = await client.post("/users", json={"name": "Alice"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["loc"] == ["body", "email"]
    response = await client.get("/users/abc")
    assert response.status_code == 422
    assert response.json()["errors"][0]["type"] == "int_parsing"


@pytest.mark.asyncio
async def test_params_headers_cookies_forms_and_files():
    app = Spikard(config=ServerConfig(quiet=True))

    @app.get("/meta")
    async def meta(request_id: str | None = None) -> dict[str, object]:
        return {"request_id": request_id}

    @app.post("/upload")
    async def upload(file: UploadFile) -> dict[str, object]:
        return {"name": file.filename, "size": file.size, "type": file.content_type}

    from spikard import Cookie, Header

    @app.get("/who")
    async def who(agent: str = Header(alias="x-agent"), session: str = Cookie()) -> dict[str, str]:
        return {"agent": agent, "session": session}

    async with TestClient(app) as client:
        assert (await client.get("/meta", params={"request_id": "r1"})).json() == {
            "request_id": "r1"
        }
        got = await client.get("/who", headers={"x-agent": "probe"}, cookies={"session": "s1"})
        assert got.json() == {"agent": "probe", "session": "s1"}
        up = await client.post("/upload", files={"file": ("a.txt", b"hello", "text/plain")})
        assert up.status_code == 200, up.text
        assert up.json() == {"name": "a.txt", "size": 5, "type": "text/plain"}
        head = await client.head("/meta")
        assert head.status_code == 200 and head.content == b""


@pytest.mark.asyncio
async def test_sse(client):
    async with client.sse("/events") as sse:
        events = []
        async for event in sse:
            events.append(event.data)
            if len(events) >= 3:
                break
    assert len(events) == 3
    assert events == ['{"n":0}', '{"n":1}', '{"n":2}']


@pytest.mark.asyncio
async def test_sse_fields_and_the_end_of_the_stream(client):
    async with client.sse("/events") as sse:
        assert sse.headers["content-type"] == "text/event-stream"
        got = [event async for event in sse]
    assert [e.json() for e in got[:5]] == [{"n": i} for i in range(5)]
    assert (got[5].event, got[5].id, got[5].data) == ("end", "5", "bye")


def test_the_client_starts_the_app_when_entered_and_stops_it_on_exit():
    app = make_app()
    with TestClient(app) as client:
        url = client.base_url
        assert url.startswith("http://127.0.0.1:")
        assert asyncio.run(client.get("/users/1")).status_code == 200
    with pytest.raises(RuntimeError, match="closed"):
        asyncio.run(client.get("/users/1"))


def test_one_client_across_event_loops():
    client = TestClient(make_app())
    try:
        for i in range(3):  # each asyncio.run is a new loop, as pytest-asyncio gives each test
            assert asyncio.run(client.get(f"/users/{i}")).json()["id"] == i
    finally:
        client.close()


def test_bad_arguments_say_what_is_wrong():
    with pytest.raises(TypeError, match="app must be a Spikard app"):
        TestClient(object())  # type: ignore[arg-type]
    client = TestClient(make_app())
    try:
        with pytest.raises(ValueError, match="path must start with '/'"):
            asyncio.run(client.get("users/1"))
        with pytest.raises(ValueError, match="cannot carry"):
            asyncio.run(client.get("/users/1", cookies={"session": "a b"}))
    finally:
        client.close()


def test_an_unclosed_client_stops_at_interpreter_exit_without_warnings(tmp_path):
    script = tmp_path / "leave_open.py"
    script.write_text(
        textwrap.dedent(
            """
            import asyncio, warnings
            warnings.simplefilter("error")
            from spikard import ServerConfig, Spikard, TestClient
            app = Spikard(config=ServerConfig(quiet=True))
            @app.get("/")
            async def root() -> str:
                return "ok"
            client = TestClient(app)
            print(asyncio.run(client.get("/")).text)
            """
        )
    )
    done = subprocess.run(
        [sys.executable, "-X", "dev", str(script)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
    assert "Warning" not in done.stderr, done.stderr
