"""The runner's clients for answers that are not one HTTP body: a server-sent
event reader, a WebSocket client, and the subset of JSON Schema the AsyncAPI
fixtures' message schemas use.

Standard library only, like run.py: the runner must never lean on the
framework (or a library it uses) to judge the framework.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import os
import re
import socket
import struct
import uuid
from dataclasses import dataclass, field
from typing import Any

# -- server-sent events ---------------------------------------------------------


@dataclass
class SseEvent:
    """One dispatched event: its data lines joined by "\\n" and its fields."""

    data: str
    event: str | None = None
    id: str | None = None
    retry: int | None = None


def parse_sse(raw: bytes) -> tuple[list[SseEvent], bytes, list[str]]:
    """The events of an event-stream body, the body without its comment lines
    (keep-alives come on a timer, so two runs differ only there), and the
    framing mistakes found (a field line without a value separator is legal;
    a body that does not end on an event boundary is not)."""
    text = raw.decode("utf-8", "replace")
    mistakes = []
    events: list[SseEvent] = []
    kept: list[str] = []
    data: list[str] = []
    fields: dict[str, str] = {}
    lines = re.split(r"\r\n|\r|\n", text)
    if lines and lines[-1] == "":
        lines.pop()  # the text ended with a line break
    elif lines:
        mistakes.append(f"the stream ends inside a line: {lines[-1][:60]!r}")
    for line in lines:
        if line.startswith(":"):
            continue
        kept.append(line)
        if line == "":
            if data or fields:
                retry = fields.get("retry")
                events.append(
                    SseEvent(
                        "\n".join(data),
                        fields.get("event"),
                        fields.get("id"),
                        int(retry) if retry and retry.isdigit() else None,
                    )
                )
            data, fields = [], {}
            continue
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            data.append(value)
        elif name in ("event", "id", "retry"):
            fields[name] = value
        else:
            mistakes.append(f"unknown field line {line[:60]!r}")
    if data or fields:
        mistakes.append("the last event is not ended by a blank line")
    return events, ("\n".join(kept) + "\n").encode() if kept else b"", mistakes


# -- WebSockets -------------------------------------------------------------------

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10


class WsError(Exception):
    """The server broke the protocol, or the connection ended too early."""


@dataclass
class Handshake:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class WsClient:
    """A minimal RFC 6455 client: masked frames out, unmasked frames in,
    fragments reassembled, pings answered, pongs recorded."""

    sock: socket.socket
    buf: bytearray = field(default_factory=bytearray)
    pongs: list[bytes] = field(default_factory=list)
    close_code: int | None = None
    close_reason: str = ""

    @classmethod
    def connect(
        cls, port: int, path: str, timeout: float, headers: dict[str, str] | None = None
    ) -> tuple[WsClient, Handshake]:
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: 127.0.0.1:{port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
            *(f"{k}: {v}" for k, v in (headers or {}).items()),
        ]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        client = cls(sock)
        head = client._read_head()
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[1].isdigit():
            raise WsError(f"handshake answered {status_line!r}")
        status = int(parts[1])
        got: dict[str, str] = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            got[name.strip().lower()] = value.strip()
        if status != 101:
            body = client._read_rest(got)
            sock.close()
            return client, Handshake(status, got, body)
        want = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest())
        if got.get("sec-websocket-accept", "").encode() != want:
            raise WsError(
                f"Sec-WebSocket-Accept {got.get('sec-websocket-accept')!r}, want {want!r}"
            )
        if got.get("upgrade", "").lower() != "websocket":
            raise WsError(f"Upgrade {got.get('upgrade')!r} in the 101")
        return client, Handshake(101, got, b"")

    def _fill(self, n: int) -> None:
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise WsError("the connection closed")
            self.buf += chunk

    def _take(self, n: int) -> bytes:
        self._fill(n)
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def _read_head(self) -> bytes:
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise WsError("the connection closed during the handshake")
            self.buf += chunk
            if len(self.buf) > 65536:
                raise WsError("a handshake answer head past 64 KiB")
        end = self.buf.index(b"\r\n\r\n")
        head = bytes(self.buf[:end])
        del self.buf[: end + 4]
        return head

    def _read_rest(self, headers: dict[str, str]) -> bytes:
        """The body of a refused handshake (content-length framed)."""
        length = headers.get("content-length", "")
        if not length.isdigit():
            return b""
        try:
            return self._take(int(length))
        except (WsError, OSError):
            return bytes(self.buf)

    def send_frame(self, opcode: int, payload: bytes, fin: bool = True) -> None:
        head = bytearray([(0x80 if fin else 0) | opcode])
        n = len(payload)
        if n < 126:
            head.append(0x80 | n)
        elif n < 1 << 16:
            head.append(0x80 | 126)
            head += struct.pack("!H", n)
        else:
            head.append(0x80 | 127)
            head += struct.pack("!Q", n)
        mask = os.urandom(4)
        head += mask
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(bytes(head) + masked)

    def send_close(self, code: int, reason: str = "") -> None:
        self.send_frame(OP_CLOSE, struct.pack("!H", code) + reason.encode())

    def read_frame(self) -> tuple[bool, int, bytes]:
        b0, b1 = self._take(2)
        if b0 & 0x70:
            raise WsError(f"reserved bits {b0 & 0x70:#x} set without an extension")
        if b1 & 0x80:
            raise WsError("a server frame is masked (RFC 6455 5.1)")
        n = b1 & 0x7F
        if n == 126:
            (n,) = struct.unpack("!H", self._take(2))
        elif n == 127:
            (n,) = struct.unpack("!Q", self._take(8))
        return bool(b0 & 0x80), b0 & 0x0F, self._take(n)

    def read_message(self) -> tuple[int, bytes]:
        """The next data message (OP_TEXT or OP_BINARY, reassembled), or
        (OP_CLOSE, payload). Pings are answered, pongs kept."""
        opcode: int | None = None
        parts: list[bytes] = []
        while True:
            fin, op, payload = self.read_frame()
            if op == OP_PING:
                self.send_frame(OP_PONG, payload)
                continue
            if op == OP_PONG:
                self.pongs.append(payload)
                continue
            if op == OP_CLOSE:
                if len(payload) >= 2:
                    (self.close_code,) = struct.unpack("!H", payload[:2])
                    self.close_reason = payload[2:].decode("utf-8", "replace")
                else:
                    self.close_code = 1005
                return OP_CLOSE, payload
            if op == OP_CONT:
                if opcode is None:
                    raise WsError("a continuation frame with no message to continue")
            elif op in (OP_TEXT, OP_BINARY):
                if opcode is not None:
                    raise WsError("a new message inside a fragmented one")
                opcode = op
            else:
                raise WsError(f"unknown opcode {op:#x}")
            parts.append(payload)
            if fin:
                assert opcode is not None
                return opcode, b"".join(parts)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


# -- a JSON Schema subset -----------------------------------------------------------


def schema_errors(
    schema: Any, value: Any, root: Any = None, at: str = "$"
) -> list[str]:
    """What in value breaks schema: the keywords the fixtures' message schemas
    use (type, enum, const, properties, required, additionalProperties, items,
    lengths, bounds, pattern, the formats date-time/date/uuid/email, allOf,
    anyOf, oneOf, local $ref). Other keywords are not checked."""
    root = schema if root is None else root
    if schema is True or schema is None:
        return []
    if schema is False:
        return [f"{at}: no value is allowed here"]
    if not isinstance(schema, dict):
        return []
    if "$ref" in schema:
        target = resolve_ref(root, schema["$ref"])
        if target is None:
            return [f"{at}: $ref {schema['$ref']!r} does not resolve"]
        return schema_errors(target, value, root, at)
    errors: list[str] = []
    kinds = schema.get("type")
    if kinds is not None:
        allowed = kinds if isinstance(kinds, list) else [kinds]
        if not any(is_type(value, k) for k in allowed):
            return [f"{at}: want {'/'.join(allowed)}, got {type_name(value)}"]
    if "const" in schema and not same_json(schema["const"], value):
        errors.append(f"{at}: want {schema['const']!r}, got {value!r}")
    if "enum" in schema and not any(same_json(e, value) for e in schema["enum"]):
        errors.append(f"{at}: {value!r} is not one of {schema['enum']!r}")
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            errors.append(f"{at}: shorter than {schema['minLength']}")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append(f"{at}: longer than {schema['maxLength']}")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append(f"{at}: does not match {schema['pattern']!r}")
        fmt = schema.get("format")
        if fmt and not format_holds(fmt, value):
            errors.append(f"{at}: {value!r} is not a {fmt}")
    if is_type(value, "number"):
        for key, bad in (
            ("minimum", lambda v, b: v < b),
            ("maximum", lambda v, b: v > b),
            ("exclusiveMinimum", lambda v, b: v <= b),
            ("exclusiveMaximum", lambda v, b: v >= b),
        ):
            if key in schema and bad(value, schema[key]):
                errors.append(f"{at}: {value} breaks {key} {schema[key]}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            errors.append(f"{at}: fewer than {schema['minItems']} items")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            errors.append(f"{at}: more than {schema['maxItems']} items")
        if isinstance(schema.get("items"), (dict, bool)):
            for i, item in enumerate(value):
                errors += schema_errors(schema["items"], item, root, f"{at}[{i}]")
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        for name in schema.get("required") or []:
            if name not in value:
                errors.append(f"{at}.{name}: missing")
        for name, item in value.items():
            if name in props:
                errors += schema_errors(props[name], item, root, f"{at}.{name}")
            elif "additionalProperties" in schema:
                errors += schema_errors(
                    schema["additionalProperties"], item, root, f"{at}.{name}"
                )
    for sub in schema.get("allOf") or []:
        errors += schema_errors(sub, value, root, at)
    if "anyOf" in schema and not any(
        not schema_errors(s, value, root, at) for s in schema["anyOf"]
    ):
        errors.append(f"{at}: matches none of anyOf")
    if "oneOf" in schema:
        n = sum(not schema_errors(s, value, root, at) for s in schema["oneOf"])
        if n != 1:
            errors.append(f"{at}: matches {n} of oneOf, want exactly 1")
    return errors


def resolve_ref(root: Any, ref: str) -> Any:
    if not ref.startswith("#"):
        return None
    node = root
    for part in filter(None, ref[1:].split("/")):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def is_type(value: Any, kind: str) -> bool:
    if kind == "null":
        return value is None
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "string":
        return isinstance(value, str)
    if kind == "array":
        return isinstance(value, list)
    if kind == "object":
        return isinstance(value, dict)
    return False


def type_name(value: Any) -> str:
    for kind in ("null", "boolean", "integer", "number", "string", "array", "object"):
        if is_type(value, kind):
            return kind
    return type(value).__name__


def same_json(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b))
    return bool(a == b)


def format_holds(fmt: str, value: str) -> bool:
    """Whether value is a fmt; formats this subset does not know hold."""
    try:
        if fmt == "date-time":
            if not re.fullmatch(
                r"\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)", value
            ):
                return False
            datetime.datetime.fromisoformat(
                value.replace("Z", "+00:00").replace("z", "+00:00")
            )
        elif fmt == "date":
            datetime.date.fromisoformat(value)
        elif fmt == "uuid":
            uuid.UUID(value)
        elif fmt == "email":
            return re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value) is not None
    except ValueError:
        return False
    return True
