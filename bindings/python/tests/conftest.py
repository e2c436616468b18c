"""Fixtures: serve an app on an ephemeral loopback port and talk real HTTP to it."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest

from spikard import BackgroundServer, Spikard


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Client:
    """A tiny HTTP/1.1 client for one served app (a new connection per call)."""

    def __init__(self, server: BackgroundServer) -> None:
        self.server = server
        parts = urlsplit(server.url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = server.port

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 10,
    ) -> Reply:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            hdrs = dict(headers or {})
            if json_body is not None:
                body = json.dumps(json_body).encode()
                hdrs.setdefault("content-type", "application/json")
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            data = resp.read()
            return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
        finally:
            conn.close()

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Reply:
        return self.request("POST", path, **kwargs)

    @contextlib.contextmanager
    def connection(self, timeout: float = 10) -> Iterator[KeepAlive]:
        """One keep-alive connection for several requests."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            yield KeepAlive(conn)
        finally:
            conn.close()


class KeepAlive:
    """Requests over one persistent connection (see Client.connection)."""

    def __init__(self, conn: http.client.HTTPConnection) -> None:
        self.conn = conn

    def get(self, path: str) -> Reply:
        self.conn.request("GET", path)
        resp = self.conn.getresponse()
        data = resp.read()
        return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)


@pytest.fixture
def serve() -> Iterator[Callable[[Spikard], Client]]:
    """Factory: ``client = serve(app)`` serves app on 127.0.0.1:0 until the test ends."""
    servers: list[BackgroundServer] = []

    def factory(app: Spikard) -> Client:
        server = app.serve_in_background(host="127.0.0.1", port=0)
        servers.append(server)
        return Client(server)

    yield factory
    for server in servers:
        server.stop()


def run_script(path, source: str, listening: str, **env: str) -> tuple[subprocess.Popen, int]:
    """Run source as a program (written to path), wait for the line on its
    stderr that says it listens (listening: a regex whose group 1 is the
    port) and return the process, its stdout and stderr piped, and the port."""
    path.write_text(source)
    proc = subprocess.Popen(
        [sys.executable, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    )
    line = proc.stderr.readline()
    match = re.search(listening, line)
    if not match:
        proc.kill()
        _out, err = proc.communicate()
        pytest.fail(f"no listening line: {line!r} {err!r}")
    return proc, int(match.group(1))


@pytest.fixture
def module_from() -> Iterator[Callable[[str, str], Any]]:
    """Run source text as a module of its own (the way a program's file runs
    on import): standalone decorators belong to the app of their module, so
    a sample that uses them needs a module to itself. Its modules, waiting
    handlers and apps are forgotten afterwards."""
    import textwrap
    import types

    from spikard.routing import forget_standalone

    made: list[str] = []

    def factory(name: str, source: str) -> types.ModuleType:
        module = types.ModuleType(name)
        sys.modules[name] = module
        made.append(name)
        exec(compile(textwrap.dedent(source), f"<{name}>", "exec"), module.__dict__)
        return module

    yield factory
    for name in made:
        forget_standalone(name)
        sys.modules.pop(name, None)
