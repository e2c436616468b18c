"""HTMLResponse, PlainTextResponse, RedirectResponse and cookies over real HTTP."""

from __future__ import annotations

import datetime

import pytest

from spikard import HTMLResponse, PlainTextResponse, RedirectResponse, Response, Spikard


def test_html_text_and_redirect(serve):
    app = Spikard()

    @app.get("/html")
    async def html() -> HTMLResponse:
        return HTMLResponse("<h1>hi</h1>")

    @app.get("/text")
    def text() -> PlainTextResponse:
        return PlainTextResponse("plain", status_code=202, headers={"X-A": "1"})

    @app.get("/go")
    async def go() -> RedirectResponse:
        return RedirectResponse("/html")

    @app.get("/moved")
    async def moved() -> RedirectResponse:
        return RedirectResponse("https://example.com/", status_code=301)

    client = serve(app)
    r = client.get("/html")
    assert (r.status, r.body, r.headers["content-type"]) == (
        200,
        b"<h1>hi</h1>",
        "text/html; charset=utf-8",
    )
    r = client.get("/text")
    assert (r.status, r.body, r.headers["x-a"]) == (202, b"plain", "1")
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    r = client.get("/go")
    assert (r.status, r.headers["location"], r.body) == (307, "/html", b"")
    assert client.get("/moved").status == 301
    with pytest.raises(ValueError, match="redirect"):
        RedirectResponse("/x", status_code=200)


def test_cookies_are_written_by_the_core(serve):
    import http.client

    app = Spikard()

    @app.get("/login")
    async def login() -> Response:
        resp = Response({"ok": True})
        resp.set_cookie(
            "sid",
            "abc",
            max_age=60,
            expires=datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
            domain="example.com",
            secure=True,
            httponly=True,
            samesite="strict",
        )
        resp.set_cookie("theme", "dark", path=None, samesite=None)
        resp.delete_cookie("old")
        return resp

    @app.get("/bad")
    async def bad() -> Response:
        resp = Response("x")
        resp.set_cookie("sid", "has space")
        return resp

    @app.on_response
    def keep(response: Response) -> Response:
        return response

    client = serve(app)
    conn = http.client.HTTPConnection(client.host, client.port, timeout=5)
    conn.request("GET", "/login")
    resp = conn.getresponse()
    resp.read()
    cookies = resp.headers.get_all("Set-Cookie")
    conn.close()
    assert cookies == [
        "sid=abc; Max-Age=60; Expires=Wed, 02 Jan 2030 03:04:05 GMT; Path=/; Domain=example.com; "
        "Secure; HttpOnly; SameSite=Strict",
        "theme=dark",
        "old=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; SameSite=Lax",
    ]
    assert client.get("/bad").status == 500
