"""WebSockets: message handlers, the connection API, broadcast, over real TCP."""

from __future__ import annotations

import asyncio
import contextvars
import json
import queue
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import msgspec
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from spikard import ServerConfig, Spikard, TestClient, WebSocket, WebSocketDisconnect


class Note(msgspec.Struct):
    text: str
    stars: int = 0


def _close_code(exc: ConnectionClosed) -> int | None:
    return exc.rcvd.code if exc.rcvd is not None else None


@pytest.mark.asyncio
async def test_message_handlers_decode_by_annotation():
    app = Spikard()

    @app.websocket("/struct/{room}")
    async def struct_handler(note: Note, room: str, loud: bool = False) -> Note:
        text = note.text.upper() if loud else note.text
        return Note(text=f"{room}: {text}", stars=note.stars + 1)

    @app.websocket("/bytes")
    async def bytes_handler(data: bytes) -> bytes:
        return data[::-1]

    @app.websocket("/text")
    async def text_handler(text: str) -> str | None:
        return None if text == "quiet" else text + "!"

    async with TestClient(app) as client:
        async with client.websocket("/struct/lobby?loud=true") as ws:
            await ws.send(json.dumps({"text": "hi", "stars": 2}))
            assert json.loads(await ws.recv()) == {"text": "lobby: HI", "stars": 3}
            await ws.send(b'{"text": "bin"}')  # JSON in a binary message is JSON too
            assert json.loads(await ws.recv()) == {"text": "lobby: BIN", "stars": 1}
            await ws.send(json.dumps({"stars": 1}))  # no text: not a Note
            with pytest.raises(ConnectionClosed) as info:
                await ws.recv()
            # The core's check of the Note schema, at the error's location.
            assert _close_code(info.value) == 1007
            assert info.value.rcvd is not None
            assert info.value.rcvd.reason == "message.text: Field required"
        async with client.websocket("/struct/lobby") as ws:
            await ws.send(json.dumps({"text": "hi", "stars": "many"}))
            with pytest.raises(ConnectionClosed) as info:
                await ws.recv()
            assert info.value.rcvd is not None
            assert info.value.rcvd.code == 1007
            assert info.value.rcvd.reason.startswith(
                "message.stars: Input should be a valid integer"
            )
        async with client.websocket("/bytes") as ws:
            await ws.send(b"\x00\x01\x02")
            assert await ws.recv() == b"\x02\x01\x00"
        async with client.websocket("/text") as ws:
            await ws.send("quiet")
            await ws.send("loud")
            assert await ws.recv() == "loud!"  # None sent nothing
        # Parameters are validated before the handshake is answered.
        with pytest.raises(InvalidStatus) as refused:
            async with client.websocket("/struct/lobby?loud=maybe"):
                pass
        assert refused.value.response.status_code == 422


@pytest.mark.asyncio
async def test_connection_api():
    app = Spikard()
    seen: list[object] = []
    closed: queue.Queue[int] = queue.Queue()  # the handler runs on the server's own thread

    @app.websocket("/chat", subprotocols=["chat.v2", "chat.v1"])
    async def chat(ws: WebSocket) -> None:
        await ws.accept(subprotocol=ws.subprotocols[-1], headers={"x-room": "1"})
        await ws.send_text("welcome")
        seen.append(await ws.receive_text())
        seen.append(await ws.receive_bytes())
        seen.append(await ws.receive_json())
        await ws.send_json({"n": 1})
        await ws.send_bytes(b"\xff")
        try:
            while True:
                seen.append(await ws.receive())
        except WebSocketDisconnect as exc:
            closed.put_nowait(exc.code)

    async with TestClient(app) as client:
        async with client.websocket("/chat", subprotocols=["chat.v2", "chat.v1"]) as ws:
            assert ws.subprotocol == "chat.v1"
            assert ws.response.headers["x-room"] == "1"
            assert await ws.recv() == "welcome"
            await ws.send("text")
            await ws.send(b"bytes")
            await ws.send('{"a": [1]}')
            assert json.loads(await ws.recv()) == {"n": 1}
            assert await ws.recv() == b"\xff"
            await ws.send("last")
            await ws.close(4001, "done")
        code = await asyncio.get_running_loop().run_in_executor(None, closed.get, True, 10)
        assert code == 4001
    assert seen == ["text", b"bytes", {"a": [1]}, "last"]


@pytest.mark.asyncio
async def test_handler_endings_and_refusals():
    app = Spikard()

    @app.websocket("/refuse")
    async def refuse(ws: WebSocket) -> None:
        await ws.close()  # before accept: the handshake is refused

    @app.websocket("/crash")
    async def crash(ws: WebSocket) -> None:
        await ws.accept()
        raise RuntimeError("boom")

    @app.websocket("/crash-early")
    async def crash_early(ws: WebSocket) -> None:
        raise RuntimeError("before accept")

    @app.websocket("/done")
    async def done(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("bye")

    @app.websocket("/iterate")
    async def iterate(ws: WebSocket) -> None:
        await ws.accept()
        count = 0
        async for _ in ws:
            count += 1
            await ws.send_text(str(count))

    async with TestClient(app) as client:
        for path, status in (("/refuse", 403), ("/crash-early", 500)):
            with pytest.raises(InvalidStatus) as refused:
                async with client.websocket(path):
                    pass
            assert refused.value.response.status_code == status
            assert refused.value.response.headers["content-type"] == "application/problem+json"
        async with client.websocket("/crash") as ws:
            with pytest.raises(ConnectionClosed) as info:
                await ws.recv()
            assert _close_code(info.value) == 1011
        async with client.websocket("/done") as ws:
            assert await ws.recv() == "bye"
            with pytest.raises(ConnectionClosed) as info:
                await ws.recv()
            assert _close_code(info.value) == 1000
        async with client.websocket("/iterate") as ws:
            await ws.send("a")
            await ws.send("b")
            assert [await ws.recv(), await ws.recv()] == ["1", "2"]


@pytest.mark.asyncio
async def test_core_limits_and_plain_requests():
    app = Spikard(ServerConfig(ws_max_message_size=1024))

    @app.websocket("/echo")
    async def echo(message: str) -> str:
        return message

    async with TestClient(app) as client:
        async with client.websocket("/echo") as ws:
            await ws.send("x" * 2048)
            with pytest.raises(ConnectionClosed) as info:
                await ws.recv()
            assert _close_code(info.value) == 1009
        # A plain GET of a WebSocket route is the core's 426.
        response = await client.get("/echo")
        assert response.status_code == 426
        assert response.headers["upgrade"] == "websocket"
        assert response.headers["content-type"] == "application/problem+json"
        # A browser page of another site may not connect.
        with pytest.raises(InvalidStatus) as refused:
            async with client.websocket("/echo", headers={"origin": "https://evil.example"}):
                pass
        assert refused.value.response.status_code == 403


@pytest.mark.asyncio
async def test_message_handlers_that_suspend_keep_the_order():
    # A message handler runs inline until it suspends; the messages that
    # arrive while it is suspended wait for it, and the replies keep the
    # order of the messages. A ContextVar it sets lives as long as its
    # connection, inline or not.
    app = Spikard()
    seen: contextvars.ContextVar[int] = contextvars.ContextVar("seen", default=0)

    @app.websocket("/maybe-wait")
    async def maybe_wait(text: str) -> str:
        seen.set(seen.get() + 1)
        if text.startswith("wait"):
            await asyncio.sleep(0.02)
        if text == "fail":
            raise RuntimeError("boom")
        return f"{text}:{seen.get()}"

    async with TestClient(app) as client:
        async with client.websocket("/maybe-wait") as ws:
            sent = ["a", "wait-1", "b", "c", "wait-2", "wait-3", "d"]
            for text in sent:
                await ws.send(text)
            got = [await ws.recv() for _ in sent]
            assert got == [f"{text}:{i}" for i, text in enumerate(sent, 1)]
            await ws.send("fail")  # a handler that raises inline: 1011
            with pytest.raises(ConnectionClosed) as info:
                await ws.recv()
            assert _close_code(info.value) == 1011
        async with client.websocket("/maybe-wait") as ws:
            await ws.send("wait")
            await ws.send("fail")  # raised in the Task that took over: 1011 too
            assert await ws.recv() == "wait:1"
            with pytest.raises(ConnectionClosed) as info:
                await ws.recv()
            assert _close_code(info.value) == 1011


@pytest.mark.asyncio
async def test_message_replies_wait_for_credit_in_order():
    # Replies past the outbound queue's bound wait for the core's credit
    # (in a Task), and the messages behind them wait too: a client that
    # reads only after sending everything gets every reply, in order.
    app = Spikard(ServerConfig(stream_queue_bytes=64 * 1024))
    big = "x" * (48 * 1024)

    @app.websocket("/big")
    async def reply_big(text: str) -> str:
        return text + big

    async with TestClient(app) as client, client.websocket("/big") as ws:
        count = 300  # about 14 MiB of replies: more than the sockets buffer
        for i in range(count):
            await ws.send(str(i))
        for i in range(count):
            reply = await ws.recv()
            assert isinstance(reply, str)
            assert reply[: -len(big)] == str(i)


@pytest.mark.asyncio
async def test_connection_handler_with_a_message_schema():
    # The core checks each message against message_schema; the handler gets
    # the messages as they were sent.
    app = Spikard()
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}

    @app.websocket("/checked", message_schema=schema)
    async def checked(ws: WebSocket) -> None:
        await ws.accept()
        async for message in ws:
            await ws.send(message)

    with pytest.raises(TypeError, match="message_schema is a JSON Schema dict"):
        app.websocket("/typed", message_schema=schema)(_echo_text)
    async with TestClient(app) as client, client.websocket("/checked") as ws:
        await ws.send('{"n": 1}')
        assert await ws.recv() == '{"n": 1}'
        await ws.send('{"n": "one"}')
        with pytest.raises(ConnectionClosed) as info:
            await ws.recv()
        assert info.value.rcvd is not None
        assert info.value.rcvd.code == 1007
        assert info.value.rcvd.reason == (
            "message.n: Input should be a valid integer, unable to parse string as an integer"
        )


async def _echo_text(text: str) -> str:
    return text


@pytest.mark.asyncio
async def test_broadcast_in_process():
    app = Spikard()

    @app.websocket("/room/{name}")
    async def room(ws: WebSocket, name: str) -> None:
        await ws.accept()
        ws.subscribe(name)
        await ws.send_text("joined")
        async for message in ws:
            await ws.publish(name, {"said": message})

    async with (
        TestClient(app) as client,
        client.websocket("/room/a") as one,
        client.websocket("/room/a") as two,
        client.websocket("/room/b") as other,
    ):
        for ws in (one, two, other):
            assert await ws.recv() == "joined"
        await one.send("hello")
        for ws in (one, two):
            assert json.loads(await ws.recv()) == {"said": "hello"}
        app.broadcast("b", b"\x01")
        assert await other.recv() == b"\x01"
        app.broadcast("a", "from the app")
        assert await two.recv() == "from the app"
    with pytest.raises(RuntimeError):
        app.broadcast("a", "nobody runs the app")


@pytest.mark.asyncio
async def test_stop_closes_websockets_with_1001():
    app = Spikard()
    ended: list[int] = []

    @app.websocket("/wait")
    async def wait(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("ready")
        try:
            await ws.receive()
        except WebSocketDisconnect as exc:
            ended.append(exc.code)

    client = TestClient(app)
    async with client.websocket("/wait") as ws:
        assert await ws.recv() == "ready"
        await asyncio.get_running_loop().run_in_executor(None, client.close)
        with pytest.raises(ConnectionClosed) as info:
            await ws.recv()
        assert _close_code(info.value) == 1001
    assert ended == [1001]


# -- broadcast across servers through a real Redis -------------------------------


@pytest.fixture
def redis_url() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed: run make setup (apt-get install redis-server)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as c:
                    c.sendall(b"PING\r\n")
                    if c.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("redis-server did not start")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.asyncio
async def test_broadcast_through_redis_reaches_every_server(redis_url):
    def make() -> Spikard:
        app = Spikard(ServerConfig(broadcast={"redis": redis_url, "prefix": "pytest:"}))

        @app.websocket("/feed")
        async def feed(ws: WebSocket) -> None:
            await ws.accept()
            ws.subscribe("news")
            await ws.send_text("subscribed")
            async for message in ws:
                await ws.publish("news", message)

        return app

    # Two servers of the same app, as two workers are: what one publishes,
    # the other's subscribers get too.
    first, second = make(), make()
    async with (
        TestClient(first) as c1,
        TestClient(second) as c2,
        c1.websocket("/feed") as a,
        c2.websocket("/feed") as b,
    ):
        assert await a.recv() == "subscribed"
        assert await b.recv() == "subscribed"
        await asyncio.sleep(0.2)  # the second server's SUBSCRIBE is its own connection's
        await a.send("from the first")
        assert await a.recv() == "from the first"
        assert await b.recv() == "from the first"
        second.broadcast("news", {"from": "second"})
        assert json.loads(await a.recv()) == {"from": "second"}
        assert json.loads(await b.recv()) == {"from": "second"}


def test_websocket_handlers_must_be_async():
    app = Spikard()
    with pytest.raises(TypeError, match="async def"):

        @app.websocket("/sync")
        def sync_handler(message: dict) -> None:
            return None

    with pytest.raises(TypeError, match="neither"):

        @app.websocket("/none/{x}")
        async def no_message(x: int) -> None:
            return None


def test_websocket_route_document():
    app = Spikard()

    @app.websocket("/ws/{room}", subprotocols=["v1"])
    async def handler(message: dict, room: str) -> None:
        return None

    doc = json.loads(app.routes[0].route_json())
    assert doc["method"] == "GET"
    # The message's schema goes to the core, which checks every message.
    assert doc["websocket"] == {"subprotocols": ["v1"], "message_schema": {"type": "object"}}
    assert doc["facts"] == ["meta"]
    assert "body_schema" not in doc
    assert doc["parameter_schema"]["properties"]["room"]["source"] == "path"


def test_websocket_config_is_the_cores_to_judge():
    config = ServerConfig(ws_origins=["https://app.example"], ws_ping_interval=20)
    doc = json.loads(config.to_json())
    assert doc["ws_origins"] == ["https://app.example"]
    assert doc["ws_ping_interval"] == 20
    assert "broadcast" not in doc
    with pytest.raises(ValueError, match=r"ServerConfig.ws_origins=\['app.example'\]: .*origin"):
        ServerConfig(ws_origins=["app.example"])
    with pytest.raises(ValueError, match=r"ServerConfig\.broadcast=.*Redis URL"):
        ServerConfig(broadcast={"redis": "http://nope"})
    with pytest.raises(ValueError, match=r"ServerConfig\.ws_inbound_bytes=0"):
        ServerConfig(ws_inbound_bytes=0)
