"""Logging: the ``spikard`` logger's listening and stopped records, and
``spikard.access``: one record per request, its message the core's line."""

from __future__ import annotations

import logging
import re
import textwrap

import pytest

from spikard import ServerConfig, Spikard

# The core's format (include/spikard.h, SPIKARD_EVENT_LOG).
LINE = re.compile(
    r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z 127\.0\.0\.1:\d+ "(\S+) (\S+) HTTP/1\.1" (\d{3}) '
    r"(\d+\.\d{3})ms (\S+)$"
)


class Records(logging.Handler):
    """Collects the records of one logger."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self) -> list[str]:
        return [r.getMessage() for r in self.records]


@pytest.fixture
def records():
    """Handlers on ``spikard`` and ``spikard.access`` at INFO, removed afterwards."""
    made = {}
    for name in ("spikard", "spikard.access"):
        log = logging.getLogger(name)
        handler = Records()
        log.addHandler(handler)
        made[name] = (log, handler, log.level)
        log.setLevel(logging.INFO)
    yield {name: handler for name, (_, handler, _) in made.items()}
    for log, handler, level in made.values():
        log.removeHandler(handler)
        log.setLevel(level)


def make_app(**config: object) -> Spikard:
    app = Spikard(config=ServerConfig(**config))  # type: ignore[arg-type]

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict:
        return {"id": item_id}

    @app.get("/sync")
    def sync() -> str:
        return "s"

    @app.post("/teapot")
    async def teapot() -> None:
        return None

    return app


def test_access_lines_reach_spikard_access(serve, records) -> None:
    client = serve(make_app(access_log=True))
    replies = [
        client.get("/items/7?x=1", headers={"X-Request-ID": "req-7"}),
        client.get("/sync"),
        client.get("/items/nope"),  # refused by the core: logged too
        client.get("/missing"),
    ]
    assert [r.status for r in replies] == [200, 200, 422, 404]
    client.server.stop()  # the last batch comes before the stop completes
    access = records["spikard.access"].records
    got = [LINE.match(r.getMessage()) for r in access]
    assert all(got), [r.getMessage() for r in access]
    shapes = [(m[1], m[2], m[3], m[5]) for m in got if m]
    # Each line names the request's id: the client's own, or the one the
    # core made and sent back.
    ids = [r.headers["x-request-id"] for r in replies]
    assert ids[0] == "req-7"
    assert shapes == [
        ("GET", "/items/7?x=1", "200", "req-7"),
        ("GET", "/sync", "200", ids[1]),
        ("GET", "/items/nope", "422", ids[2]),
        ("GET", "/missing", "404", ids[3]),
    ]
    assert all(
        re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", i)
        for i in ids[1:]
    )
    assert all(r.levelno == logging.INFO and r.name == "spikard.access" for r in access)
    # The access records propagate to "spikard" like any child logger's.
    assert records["spikard"].messages().count(access[0].getMessage()) == 1


def test_the_access_log_is_off_by_default(serve, records) -> None:
    client = serve(make_app())
    assert client.get("/items/1").status == 200
    client.server.stop()
    assert records["spikard.access"].records == []


def test_a_disabled_access_logger_gets_nothing(serve, records) -> None:
    logging.getLogger("spikard.access").setLevel(logging.WARNING)
    client = serve(make_app(access_log=True))
    assert client.get("/items/1").status == 200
    client.server.stop()
    assert records["spikard.access"].records == []


def test_many_requests_lose_no_line(serve, records) -> None:
    client = serve(make_app(access_log=True))
    for i in range(300):
        assert client.get(f"/items/{i}").status == 200
    client.server.stop()
    paths = [LINE.match(m)[2] for m in records["spikard.access"].messages()]  # type: ignore[index]
    assert paths == [f"/items/{i}" for i in range(300)]


def test_listening_and_stopped_records(serve, records) -> None:
    client = serve(make_app())
    client.server.stop()
    own = [m for m in records["spikard"].messages() if m.startswith("Spikard")]
    assert own == [
        f"Spikard listening on http://127.0.0.1:{client.port}",
        f"Spikard stopped (http://127.0.0.1:{client.port})",
    ]


def test_quiet_has_no_listening_record(serve, records) -> None:
    client = serve(make_app(quiet=True))
    client.server.stop()
    assert [m for m in records["spikard"].messages() if m.startswith("Spikard")] == []


WORKERS_APP = textwrap.dedent(
    """
    import logging, os
    from spikard import ServerConfig, Spikard

    logging.basicConfig(level=logging.INFO, format="%(process)d %(name)s %(message)s")
    app = Spikard(config=ServerConfig(host="127.0.0.1", port=0, workers=2, access_log=True))

    @app.get("/pid")
    async def pid() -> dict:
        return {"pid": os.getpid()}

    app.run()
    """
)


def test_each_worker_logs_its_own_lines(tmp_path) -> None:
    import http.client
    import json
    import os
    import signal
    import subprocess
    import sys

    path = tmp_path / "app.py"
    path.write_text(WORKERS_APP)
    proc = subprocess.Popen(
        [sys.executable, str(path)], stderr=subprocess.PIPE, text=True, env=dict(os.environ)
    )
    early: list[str] = []
    try:
        assert proc.stderr is not None
        while "(2 workers)" not in (early[-1] if early else ""):  # the supervisor's line
            early.append(proc.stderr.readline())
            assert early[-1], early
        found = re.search(r":(\d+) \(2 workers\)", early[-1])
        assert found
        port = int(found[1])
        pids = set()
        for _ in range(8):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/pid")
            pids.add(json.loads(conn.getresponse().read())["pid"])
            conn.close()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    lines = "".join(early).splitlines() + err.splitlines()
    for worker in (0, 1):
        assert any(
            f"spikard Spikard listening on http://127.0.0.1:{port} (worker {worker}, pid" in line
            for line in lines
        ), err
    access = [line.split(" ", 2) for line in lines if " spikard.access " in line]
    assert len(access) == 8, err
    # Each line comes from the process that served it.
    assert {int(pid) for pid, _, _ in access} == pids
    assert all(LINE.match(rest) for _, _, rest in access), err
    assert sum("Spikard stopped (http://127.0.0.1" in line for line in lines) == 2, err
