"""The access line is the core's: the Python and the Node binding hand the
same line for the same request, up to what differs by nature (the time,
the client's port, the duration). Each app runs as a user runs it, as a
program, and its lines are read from its stderr."""

from __future__ import annotations

import re
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PYTHON_APP = textwrap.dedent(
    """
    import logging
    from spikard import ServerConfig, Spikard

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    app = Spikard(config=ServerConfig(access_log=True, sched_batch=False))

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict:
        return {"id": item_id}

    app.run(host="127.0.0.1", port=0)
    """
)

NODE_APP = textwrap.dedent(
    """
    const { Spikard } = require(process.argv[2]);
    const app = new Spikard({ accessLog: true, schedBatch: false });
    app.get('/items/{id}', { params: { type: 'object', properties: { id: { type: 'integer' } } } },
      (req) => ({ id: req.params.id }));
    app.listen({ host: '127.0.0.1', port: 0, signals: true });
    """
)

# The same requests for both, raw, so that no client adds a header. Each
# but the last brings its own request id; the last gets one the core makes.
REQUESTS = [
    b"GET /items/7?q=a%20b HTTP/1.1\r\nHost: t\r\nX-Request-ID: r0\r\n\r\n",
    b"GET /items/x HTTP/1.1\r\nHost: t\r\nX-Request-ID: r1\r\n\r\n",
    b'GET /nowhere?"quoted" HTTP/1.1\r\nHost: t\r\nX-Request-ID: r2\r\n\r\n',
    b"POST /items/1 HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nX-Request-ID: r3\r\n\r\n",
    b"GET /items/2 HTTP/1.0\r\n\r\n",
]
UUID = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
)

LISTENING = re.compile(r"^Spikard listening on http://127\.0\.0\.1:(\d+)$")
# Time, client port and duration vary; the rest must be equal.
VARIES = re.compile(r"^\S+Z 127\.0\.0\.1:\d+ (\".*\" \d{3}) \d+\.\d{3}ms (\S+)$")


def _lines(argv: list[str], cwd: Path) -> list[str]:
    proc = subprocess.Popen(argv, cwd=cwd, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()
        match = LISTENING.match(first.rstrip("\n"))
        assert match, (first, proc.stderr.read() if proc.poll() is not None else "")
        port = int(match[1])
        for raw in REQUESTS:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall(
                    raw.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n", 1)
                )
                while sock.recv(65536):
                    pass
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    lines = [line for line in err.splitlines() if not line.startswith("Spikard ")]
    return [
        m[1] + " " + UUID.sub("<uuid>", m[2])
        if (m := VARIES.match(line))
        else "UNEXPECTED " + line
        for line in lines
    ]


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node")
def test_both_bindings_hand_the_same_access_line(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(PYTHON_APP)
    (tmp_path / "app.js").write_text(NODE_APP)
    python = _lines([sys.executable, "app.py"], tmp_path)
    node = _lines(["node", "app.js", str(ROOT / "bindings" / "node")], tmp_path)
    assert python == [
        '"GET /items/7?q=a%20b HTTP/1.1" 200 r0',
        '"GET /items/x HTTP/1.1" 422 r1',
        '"GET /nowhere?\\x22quoted\\x22 HTTP/1.1" 404 r2',
        '"POST /items/1 HTTP/1.1" 405 r3',
        '"GET /items/2 HTTP/1.0" 200 <uuid>',
    ]
    assert node == python
