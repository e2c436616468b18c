"""Swagger UI and ReDoc in headless Chromium with the network cut off.

Chromium (Debian's ``chromium``; ``make setup`` installs it) loads the sample
app's /docs through a proxy that does not exist (127.0.0.1:1), with only the
app's own address bypassing it, so anything the page fetched from elsewhere
would fail. Over the DevTools protocol (``--remote-debugging-pipe``: JSON
messages on fds 3 and 4, standard library only) the test records the URL of
every request the page makes, waits until Swagger UI has rendered, checks
from the DOM that every operation of the document is listed, that every
request went to the app, that nothing failed or was blocked, and writes a
screenshot to build/docs-swagger-ui.png. ReDoc's bundle links its footer
logo from a CDN: the page's Content-Security-Policy blocks it in the browser,
before any request is sent, which the ReDoc test checks too.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import runpy
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
SAMPLE = REPO / "examples" / "python" / "openapi_app.py"
SHOT = REPO / "build" / "docs-swagger-ui.png"
REDOC_SHOT = REPO / "build" / "docs-redoc.png"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class DevTools:
    """A DevTools-protocol client over Chromium's debugging pipe."""

    def __init__(self, proc: subprocess.Popen[bytes], send_fd: int, recv_fd: int) -> None:
        self.proc = proc
        self.send_fd, self.recv_fd = send_fd, recv_fd
        self.next_id = 0
        self.buf = b""
        self.events: list[dict[str, Any]] = []
        self.session: str | None = None

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self.buf:
            if time.monotonic() > deadline:
                raise TimeoutError("chromium: no answer")
            chunk = os.read(self.recv_fd, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed its debugging pipe")
            self.buf += chunk
        raw, _, self.buf = self.buf.partition(b"\0")
        message: dict[str, Any] = json.loads(raw)
        return message

    def call(self, method: str, timeout: float = 30, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params}
        if self.session is not None and not method.startswith("Target."):
            message["sessionId"] = self.session
        os.write(self.send_fd, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            if "method" in reply:
                self.events.append(reply)

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")


@pytest.fixture
def chromium() -> Iterator[DevTools]:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    assert exe, "chromium not found: make setup installs it (apt-get install chromium)"
    to_browser_r, to_browser_w = os.pipe()
    from_browser_r, from_browser_w = os.pipe()
    profile = tempfile.mkdtemp(prefix="spikard-chromium-")

    def child_fds() -> None:
        # Chromium reads commands on fd 3 and writes answers on fd 4; the
        # pipe ends go above 10 first, so that neither overwrites the other.
        r = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)
        w = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
        os.dup2(r, 3)
        os.dup2(w, 4)

    proc = subprocess.Popen(
        [
            exe,
            "--headless=new",
            "--remote-debugging-pipe",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            f"--user-data-dir={profile}",
            # The network is cut off: every request goes to a proxy that is
            # not there, but the app's own (the bypass list).
            "--proxy-server=127.0.0.1:1",
            "--proxy-bypass-list=127.0.0.1",
            "--window-size=1280,2200",
            "about:blank",
        ],
        pass_fds=(3, 4, to_browser_r, from_browser_w),
        preexec_fn=child_fds,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for fd in (to_browser_r, from_browser_w):
        os.close(fd)
    tools = DevTools(proc, to_browser_w, from_browser_r)
    try:
        yield tools
    finally:
        proc.kill()
        proc.wait()
        os.close(to_browser_w)
        os.close(from_browser_r)
        shutil.rmtree(profile, ignore_errors=True)


def test_swagger_ui_offline(chromium: DevTools) -> None:
    app = runpy.run_path(str(SAMPLE), run_name="sample")["app"]
    with app.serve_in_background() as server:
        origin = f"http://127.0.0.1:{server.port}"
        with urllib.request.urlopen(origin + "/openapi.json", timeout=10) as res:
            doc = json.loads(res.read())
        expected = sorted(
            (method.upper(), path)
            for path, item in doc["paths"].items()
            for method in item
            if method in METHODS
        )
        target = chromium.call("Target.createTarget", url="about:blank")["targetId"]
        chromium.session = chromium.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        chromium.call("Network.enable")
        chromium.call("Page.enable")
        chromium.call(
            "Emulation.setDeviceMetricsOverride",
            width=1280,
            height=2200,
            deviceScaleFactor=1,
            mobile=False,
        )
        chromium.call("Page.navigate", url=origin + "/docs")
        listed: list[tuple[str, str]] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            rows = chromium.evaluate(
                "Array.from(document.querySelectorAll('.opblock')).map(b => ["
                "b.querySelector('.opblock-summary-method').textContent.trim(),"
                "b.querySelector('.opblock-summary-path').getAttribute('data-path')])"
            )
            listed = sorted({(m, p) for m, p in rows or []})
            if len(listed) >= len(expected):
                break
            time.sleep(0.2)  # polling the page's DOM, not synchronising with the app
        title = chromium.evaluate("document.querySelector('.info .title')?.textContent || ''")
        shot = chromium.call("Page.captureScreenshot", format="png")
    assert listed == expected, f"operations listed {listed}, document has {expected}"
    assert "Sample Shop" in title
    requests = [
        e["params"]["request"]["url"]
        for e in chromium.events
        if e.get("method") == "Network.requestWillBeSent"
    ]
    assert origin + "/docs" in requests and origin + "/openapi.json" in requests
    outside = [u for u in requests if not (u.startswith(origin + "/") or u.startswith("data:"))]
    assert not outside, f"requests that left the app: {outside}"
    failed = [e["params"] for e in chromium.events if e.get("method") == "Network.loadingFailed"]
    assert not failed, f"failed loads: {failed}"
    SHOT.parent.mkdir(exist_ok=True)
    SHOT.write_bytes(base64.b64decode(shot["data"]))


def test_redoc_offline(chromium: DevTools) -> None:
    app = runpy.run_path(str(SAMPLE), run_name="sample")["app"]
    with app.serve_in_background() as server:
        origin = f"http://127.0.0.1:{server.port}"
        with urllib.request.urlopen(origin + "/openapi.json", timeout=10) as res:
            doc = json.loads(res.read())
        operations = sum(1 for item in doc["paths"].values() for m in item if m in METHODS)
        target = chromium.call("Target.createTarget", url="about:blank")["targetId"]
        chromium.session = chromium.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        chromium.call("Network.enable")
        chromium.call("Page.enable")
        chromium.call("Page.navigate", url=origin + "/redoc")
        listed: list[str] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            listed = (
                chromium.evaluate(
                    "Array.from(document.querySelectorAll('[data-section-id^=\"operation/\"]'))"
                    ".map(e => e.getAttribute('data-section-id'))"
                )
                or []
            )
            if len(set(listed)) >= operations:
                break
            time.sleep(0.2)  # polling the page's DOM
        shot = chromium.call("Page.captureScreenshot", format="png")
    ids = sorted(
        item[m]["operationId"] for item in doc["paths"].values() for m in item if m in METHODS
    )
    assert sorted({x.removeprefix("operation/") for x in listed}) == ids
    sent = {
        e["params"]["requestId"]: e["params"]["request"]["url"]
        for e in chromium.events
        if e.get("method") == "Network.requestWillBeSent"
    }
    blocked = {
        e["params"]["requestId"]
        for e in chromium.events
        if e.get("method") == "Network.loadingFailed" and e["params"].get("blockedReason") == "csp"
    }
    outside = [
        u
        for rid, u in sent.items()
        if not u.startswith((origin + "/", "data:", "blob:" + origin + "/")) and rid not in blocked
    ]
    assert not outside, f"requests that left the app: {outside}"
    failed = [
        e["params"]
        for e in chromium.events
        if e.get("method") == "Network.loadingFailed" and e["params"]["requestId"] not in blocked
    ]
    assert not failed, f"failed loads: {failed}"
    REDOC_SHOT.parent.mkdir(exist_ok=True)
    REDOC_SHOT.write_bytes(base64.b64decode(shot["data"]))
