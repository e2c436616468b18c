"""UploadFile: built from the core's multipart descriptors without copying."""

import asyncio
import io
import json
from typing import Optional

import msgspec
import pytest

from spikard import Spikard, UploadFile
from spikard._call import RequestValidationError
from spikard.routing import raw_route
from spikard.uploads import upload_from_descriptor


def _form(*files):
    """A synthetic (body, attachments) pair like the core produces for multipart."""
    raw = bytearray(b"--preamble--")
    descs = []
    for filename, content_type, data in files:
        raw += b"\r\n--b\r\n"
        descs.append(
            {
                "filename": filename,
                "content_type": content_type,
                "size": len(data),
                "headers": {"content-type": content_type},
                "offset": len(raw),
                "length": len(data),
            }
        )
        raw += data
    return descs, bytes(raw)


def test_upload_file_reads_seeks_and_closes():
    (desc,), attachments = _form(("a.txt", "text/plain", b"hello world"))
    f = upload_from_descriptor(desc, memoryview(attachments))
    assert (f.filename, f.size, f.content_type) == ("a.txt", 11, "text/plain")
    assert f.headers == {"content-type": "text/plain"}
    assert f.getbuffer().obj is attachments  # a view of the request buffer, no copy
    assert f.read(5) == b"hello" and f.tell() == 5
    assert f.read() == b" world" and f.read() == b""
    assert f.seek(-5, io.SEEK_END) == 6 and f.read(100) == b"world"
    assert f.seek(2) == 2 and f.seek(1, io.SEEK_CUR) == 3 and f.read(2) == b"lo"
    assert asyncio.run(_aread_all(f)) == b"hello world"
    with pytest.raises(ValueError):
        f.seek(-1)
    f.close()
    f.close()
    assert f.closed
    with pytest.raises(ValueError):
        f.read()


async def _aread_all(f: UploadFile) -> bytes:
    await f.aseek(0)
    return await f.aread()


def test_descriptor_outside_buffer_is_rejected():
    with pytest.raises(ValueError):
        upload_from_descriptor({"offset": 4, "length": 10}, memoryview(b"short"))
    f = upload_from_descriptor({"offset": 0, "length": 0, "filename": None}, memoryview(b""))
    assert f.filename is None and f.content_type == "application/octet-stream" and f.size == 0


def _event(route, body_obj, attachments, params=b"{}"):
    """The event the core sends for such a body: the "uploads" fact names the
    fields holding descriptors (test_facts over HTTP shows the core's side)."""

    def is_upload(v):
        return isinstance(v, dict) and "offset" in v

    uploads = [
        "/" + k
        for k, v in body_obj.items()
        if is_upload(v) or (isinstance(v, list) and v and all(is_upload(x) for x in v))
    ]
    facts = ([], [], uploads) if uploads else None
    return (1, 0, params, json.dumps(body_obj).encode(), None, attachments, facts)


def test_file_parameters_are_declared_and_bound():
    app = Spikard()

    class Meta(msgspec.Struct):
        title: str
        count: int = 0

    @app.post("/upload")
    def upload(
        file: UploadFile,
        extras: list[UploadFile],
        maybe: Optional[UploadFile] = None,
        meta: Optional[Meta] = None,
    ):
        return {
            "file": [file.filename, file.read().decode()],
            "extras": [(e.filename, e.read().decode()) for e in extras],
            "maybe": maybe,
            "meta": meta,
        }

    route = app.routes[0]
    schema = route.declaration["body_schema"]
    binary = {"type": "string", "format": "binary"}
    assert schema["properties"]["file"] == binary
    assert schema["properties"]["extras"] == {"type": "array", "items": binary}
    assert schema["properties"]["maybe"] == binary
    assert schema["properties"]["title"] == {"type": "string"}
    assert sorted(schema["required"]) == ["extras", "file"]  # meta is Optional

    (f1, e1, e2), attachments = _form(
        ("one.txt", "text/plain", b"first"),
        ("e1.bin", "application/octet-stream", b"\x00\x01"),
        ("e2.txt", "text/plain", b"two"),
    )
    body = {"file": f1, "extras": [e1, e2], "title": "t", "count": 2}
    out = route.call(_event(route, body, attachments))
    assert out == {
        "file": ["one.txt", "first"],
        "extras": [("e1.bin", "\x00\x01"), ("e2.txt", "two")],
        "maybe": None,
        "meta": Meta(title="t", count=2),
    }
    # One file in a list field, and a missing required file.
    out = route.call(_event(route, {"file": f1, "extras": e2, "title": "t"}, attachments))
    assert out["extras"] == [("e2.txt", "two")]
    with pytest.raises(RequestValidationError):
        route.call(_event(route, {"extras": [e1], "title": "t"}, attachments))
    # Without the attachment bytes a descriptor points into, a file cannot be bound.
    with pytest.raises(RequestValidationError):
        route.call((1, 0, b"{}", json.dumps(body).encode(), None, None, None))


def test_upload_sample_handler_with_synthetic_event():
    app = Spikard()

    @app.post("/upload")
    async def upload_file(file: UploadFile):
        content = await file.aread()
        return {
            "filename": file.filename,
            "size": file.size,
            "content_type": file.content_type,
            "content_length": len(content),
        }

    (desc,), attachments = _form(("pic.png", "image/png", b"\x89PNG" * 100))
    route = app.routes[0]
    coro = route.call(_event(route, {"file": desc}, attachments))
    assert asyncio.run(coro) == {
        "filename": "pic.png",
        "size": 400,
        "content_type": "image/png",
        "content_length": 400,
    }


def test_register_route_turns_binary_fields_into_uploads():
    seen = {}

    def handler(body):
        seen.update(body)
        return None

    route = raw_route(
        "POST",
        "/",
        handler,
        body_schema={
            "type": "object",
            "properties": {
                "test": {"type": "string", "format": "binary"},
                "many": {"type": "array", "items": {"type": "string", "format": "binary"}},
                "note": {"type": "string"},
            },
        },
    )
    (d1, d2), attachments = _form(("t.txt", "text/plain", b"abc"), ("m.txt", "text/plain", b"x"))
    route.call(_event(route, {"test": d1, "many": [d2], "note": "n"}, attachments))
    assert isinstance(seen["test"], UploadFile) and seen["test"].read() == b"abc"
    assert [m.read() for m in seen["many"]] == [b"x"] and seen["note"] == "n"


def _multipart(fields, files):
    """(body, content-type) of a multipart/form-data request."""
    boundary = "spikard-test-boundary"
    out = bytearray()
    for name, value in fields:
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += value.encode() + b"\r\n"
    for name, filename, content_type, data in files:
        out += (
            f"--{boundary}\r\nContent-Disposition: form-data; "
            f'name="{name}"; filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'
        ).encode()
        out += data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def test_uploads_over_http(serve):
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

    class Form(msgspec.Struct):
        title: str
        count: int = 0

    @app.post("/many")
    def many(docs: list[UploadFile], form: Form, note: Optional[UploadFile] = None):
        return {
            "docs": [[d.filename, d.read().decode()] for d in docs],
            "title": form.title,
            "count": form.count,
            "note": note.read().decode() if note else None,
        }

    client = serve(app)
    payload = bytes(range(256)) * 40
    body, ctype = _multipart([], [("file", "blob.bin", "application/x-thing", payload)])
    r = client.post("/upload", body=body, headers={"content-type": ctype})
    assert r.status == 200, r.body
    assert r.json() == {
        "filename": "blob.bin",
        "size": len(payload),
        "content_type": "application/x-thing",
        "content_length": len(payload),
    }
    body, ctype = _multipart([], [])
    assert client.post("/upload", body=body, headers={"content-type": ctype}).status == 422

    body, ctype = _multipart(
        [("title", "t"), ("count", "3")],
        [
            ("docs", "a.txt", "text/plain", b"alpha"),
            ("docs", "b.txt", "text/plain", b"beta"),
            ("note", "n.txt", "text/plain", b"nb"),
        ],
    )
    r = client.post("/many", body=body, headers={"content-type": ctype})
    assert r.status == 200, r.body
    assert r.json() == {
        "docs": [["a.txt", "alpha"], ["b.txt", "beta"]],
        "title": "t",
        "count": 3,
        "note": "nb",
    }
    body, ctype = _multipart([("title", "t")], [("docs", "only.txt", "text/plain", b"1")])
    r = client.post("/many", body=body, headers={"content-type": ctype})
    assert r.json() == {"docs": [["only.txt", "1"]], "title": "t", "count": 0, "note": None}
    body, ctype = _multipart([("count", "x")], [("docs", "d", "text/plain", b"")])
    assert client.post("/many", body=body, headers={"content-type": ctype}).status == 422


def test_register_route_binds_the_uploads_the_core_names(serve):
    """Over HTTP: the core's "uploads" fact says which body fields hold
    descriptors, so a text field shaped like one stays text."""
    app = Spikard()
    seen = {}

    @app.register_route(
        "POST",
        "/raw",
        body_schema={
            "type": "object",
            "properties": {
                "test": {"type": "string", "format": "binary"},
                "many": {"type": "array", "items": {"type": "string", "format": "binary"}},
                "note": {"type": "string"},
            },
        },
    )
    def raw(body):
        seen.update(body)
        return {"ok": True}

    client = serve(app)
    body, ctype = _multipart(
        [("note", '{"offset": 0}')],
        [("test", "t.txt", "text/plain", b"abc"), ("many", "m.txt", "text/plain", b"x")],
    )
    r = client.post("/raw", body=body, headers={"content-type": ctype})
    assert r.status == 200, r.body
    assert isinstance(seen["test"], UploadFile) and seen["test"].read() == b"abc"
    assert [m.read() for m in seen["many"]] == [b"x"]
    assert seen["note"] == '{"offset": 0}'
