"""Compression, static files and FileResponse: the core's, reached through
ServerConfig and handler results, checked over real HTTP."""

from __future__ import annotations

import gzip
import http.client
import os
import zlib

import pytest

from spikard import (
    CompressionConfig,
    FileResponse,
    ServerConfig,
    Spikard,
    StaticFilesConfig,
    StreamingResponse,
)

BIG = {"items": [{"name": "widget", "price": 12.5, "tags": ["a", "b"]}] * 100}


def _compressing_app(**compression: object) -> Spikard:
    app = Spikard(config=ServerConfig(compression=CompressionConfig(**compression)))  # type: ignore[arg-type]

    @app.get("/big")
    async def big() -> dict:
        return BIG

    @app.get("/small")
    async def small() -> dict:
        return {"ok": True}

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def rows():
            for i in range(50):
                yield f"row {i}," * 20 + "\n"

        return StreamingResponse(rows(), media_type="text/csv")

    return app


def test_gzip_and_brotli_are_negotiated(serve) -> None:
    client = serve(_compressing_app())
    plain = client.get("/big")
    assert "content-encoding" not in plain.headers
    assert plain.headers["vary"] == "Accept-Encoding"
    r = client.get("/big", headers={"Accept-Encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip"
    assert r.headers["vary"] == "Accept-Encoding"
    assert gzip.decompress(r.body) == plain.body
    assert len(r.body) < len(plain.body) / 4
    r = client.get("/big", headers={"Accept-Encoding": "gzip, br"})
    assert r.headers["content-encoding"] == "br"
    assert r.body != plain.body and len(r.body) < len(plain.body) / 4
    r = client.get("/big", headers={"Accept-Encoding": "br;q=0, gzip;q=0.5"})
    assert r.headers["content-encoding"] == "gzip"
    r = client.get("/small", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in r.headers  # under min_size
    assert r.json() == {"ok": True}


def test_brotli_off_and_zstd_on(serve) -> None:
    client = serve(_compressing_app(brotli=False, zstd=True, min_size=0))
    r = client.get("/big", headers={"Accept-Encoding": "br, gzip;q=0.5"})
    assert r.headers["content-encoding"] == "gzip"
    r = client.get("/big", headers={"Accept-Encoding": "zstd, gzip;q=0.5"})
    assert r.headers["content-encoding"] == "zstd"
    assert r.body[:4] == b"\x28\xb5\x2f\xfd"  # a zstd frame


def test_a_stream_compresses_as_it_goes(serve) -> None:
    client = serve(_compressing_app())
    conn = http.client.HTTPConnection(client.host, client.port, timeout=10)
    try:
        conn.request("GET", "/stream", headers={"Accept-Encoding": "gzip"})
        resp = conn.getresponse()
        assert resp.getheader("content-encoding") == "gzip"
        assert resp.getheader("transfer-encoding") == "chunked"
        body = resp.read()
    finally:
        conn.close()
    want = "".join(f"row {i}," * 20 + "\n" for i in range(50)).encode()
    assert zlib.decompress(body, 16 + zlib.MAX_WBITS) == want


def test_compression_is_off_by_default(serve) -> None:
    app = Spikard()

    @app.get("/big")
    async def big() -> dict:
        return BIG

    r = serve(app).get("/big", headers={"Accept-Encoding": "gzip, br"})
    assert "content-encoding" not in r.headers and "vary" not in r.headers


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"quality": 12}, "CompressionConfig.quality=12: must be an integer in 0..11"),
        ({"min_size": -1}, "CompressionConfig.min_size=-1: must be an integer in 0..2147483647"),
        ({"gzip": "yes"}, "CompressionConfig.gzip='yes': must be true or false"),
    ],
)
def test_compression_config_names_the_field(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError) as err:
        CompressionConfig(**kwargs)
    assert str(err.value) == message


def test_server_config_checks_its_middleware_objects() -> None:
    with pytest.raises(
        ValueError, match=r"ServerConfig.compression=\{'gzip': True\}: must be a CompressionConfig"
    ):
        ServerConfig(compression={"gzip": True})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"ServerConfig\.static_files="):
        ServerConfig(static_files=["./public"])  # type: ignore[list-item]


@pytest.fixture
def public(tmp_path):
    root = tmp_path / "public"
    (root / "docs").mkdir(parents=True)
    (root / "hello.txt").write_text("hello, static world\n")
    (root / "docs" / "index.html").write_text("<h1>docs</h1>")
    (root / "app.js").write_text("console.log(1);\n" * 10)
    (root / "app.js.gz").write_bytes(gzip.compress(b"console.log(1);\n" * 10))
    (tmp_path / "secret.txt").write_text("TOP SECRET")
    os.symlink(tmp_path / "secret.txt", root / "leak.txt")
    return root


def test_static_files(serve, public) -> None:
    cfg = ServerConfig(
        static_files=[
            StaticFilesConfig(
                directory=public, route_prefix="/static", cache_control="public, max-age=60"
            )
        ]
    )
    app = Spikard(config=cfg)

    @app.get("/static/api")
    async def api() -> dict:
        return {"route": True}

    client = serve(app)
    r = client.get("/static/hello.txt")
    assert r.status == 200 and r.body == b"hello, static world\n"
    assert r.headers["content-type"] == "text/plain"
    assert r.headers["cache-control"] == "public, max-age=60"
    etag = r.headers["etag"]
    assert client.get("/static/hello.txt", headers={"If-None-Match": etag}).status == 304
    last = r.headers["last-modified"]
    assert client.get("/static/hello.txt", headers={"If-Modified-Since": last}).status == 304
    r = client.get("/static/hello.txt", headers={"Range": "bytes=0-4"})
    assert (r.status, r.body, r.headers["content-range"]) == (206, b"hello", "bytes 0-4/20")
    r = client.get("/static/hello.txt", headers={"Range": "bytes=99-"})
    assert (r.status, r.headers["content-range"]) == (416, "bytes */20")
    assert client.get("/static/docs/").body == b"<h1>docs</h1>"
    r = client.get("/static/app.js", headers={"Accept-Encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip" and r.headers["vary"] == "Accept-Encoding"
    assert gzip.decompress(r.body) == b"console.log(1);\n" * 10
    assert client.get("/static/api").json() == {"route": True}  # routes come first
    for path in (
        "/static/../secret.txt",
        "/static/%2e%2e/secret.txt",
        "/static/leak.txt",
        "/static/nope",
    ):
        r = client.get(path)
        assert r.status == 404 and b"SECRET" not in r.body, path
        assert r.json()["status"] == 404
    r = client.post("/static/hello.txt")
    assert r.status == 405 and r.headers["allow"] == "GET, HEAD"


def test_file_response(serve, tmp_path) -> None:
    report = tmp_path / "report.csv"
    report.write_text("a,b\n1,2\n")
    app = Spikard()

    @app.get("/report")
    async def get_report() -> FileResponse:
        return FileResponse(report)

    @app.get("/download")
    def download() -> FileResponse:
        return FileResponse(str(report), filename="Résumé 2024.csv", headers={"X-A": "b"})

    @app.get("/typed")
    async def typed() -> FileResponse:
        return FileResponse(report, status_code=201, media_type="text/plain")

    @app.get("/missing")
    async def missing() -> FileResponse:
        return FileResponse(tmp_path / "nope.csv")

    client = serve(app)
    r = client.get("/report")
    assert (r.status, r.body) == (200, b"a,b\n1,2\n")
    assert r.headers["content-type"] == "text/csv"
    assert client.get("/report", headers={"If-None-Match": r.headers["etag"]}).status == 304
    assert client.get("/report", headers={"Range": "bytes=4-"}).body == b"1,2\n"
    r = client.get("/download")
    assert r.headers["content-disposition"] == (
        "attachment; filename=\"R_sum_ 2024.csv\"; filename*=UTF-8''R%C3%A9sum%C3%A9%202024.csv"
    )
    assert r.headers["x-a"] == "b"
    r = client.get("/typed")
    assert (r.status, r.headers["content-type"]) == (201, "text/plain")
    r = client.get("/missing")
    assert r.status == 500 and r.json()["status"] == 500


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((3,), {}, "FileResponse.path must be a str or path"),
        (("",), {}, "FileResponse.path='': must be a non-empty path without NUL"),
        (("a\0b",), {}, "FileResponse.path="),
        (
            ("a",),
            {"status_code": 204},
            "FileResponse.status_code=204: must be 200..599 but 204 and 304",
        ),
        (("a",), {"filename": ""}, "FileResponse.filename='': must be a non-empty str without NUL"),
    ],
)
def test_file_response_refuses_bad_arguments(args: tuple, kwargs: dict, message: str) -> None:
    with pytest.raises((TypeError, ValueError)) as err:
        FileResponse(*args, **kwargs)
    assert str(err.value).startswith(message)
