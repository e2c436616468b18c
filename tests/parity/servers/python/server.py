"""The Python fixture server of the conformance/parity runner.

It speaks ``tests/parity/servers/PROTOCOL.md`` on stdin/stdout: it reads one
app plan per case, builds the app through spikard's public API only
(``Spikard(config=ServerConfig(...))``, ``app.register_route(...)``), serves it
on an ephemeral loopback port with ``serve_in_background`` and replies
``listening <port>``; ``stop`` stops it. Every route's handler returns its
plan's answer as a ``Response`` of bytes, unchanged; a ``raise`` route's
handler raises, which the framework turns into its standard 500. A
``stream`` route returns a ``StreamingResponse`` of its chunks, an ``sse``
route is an ``app.sse`` generator of its events, a ``websocket`` route an
``app.websocket`` handler that sends its messages and echoes; ``background``
hands ``background.run`` the recording of a body field, which a ``record``
route answers. A ``file`` route returns a ``FileResponse`` of its path; the
config's ``compression`` and ``static_files`` become ``CompressionConfig``
and ``StaticFilesConfig`` objects.

A config key ``ServerConfig`` has no field for, or a route key
``register_route`` has no argument for, is ``unsupported``; a plan the
framework refuses (a bad value, a schema it cannot compile) is
``error <the framework's message>``. stdout carries the protocol only:
anything else printed goes to stderr, with the framework's logs.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import json
import os
import re
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, BinaryIO

from spikard import (
    ApiKeyConfig,
    CompressionConfig,
    CorsConfig,
    FileResponse,
    JwtConfig,
    OpenApiConfig,
    RateLimitConfig,
    Request,
    Response,
    ServerConfig,
    Spikard,
    SseEvent,
    StaticFilesConfig,
    StreamingResponse,
    WebSocket,
    background,
)
from spikard.di import Provide

LANGUAGE = "python"
PROTOCOL_VERSION = 2

# What register_route takes besides method and path.
ROUTE_ARGUMENTS = (
    "parameter_schema",
    "body_schema",
    "response_schema",
    "file_params",
    "summary",
    "description",
    "tags",
    "operation_id",
    "status_code",
)
# ServerConfig fields given as config objects: the plan's JSON object is
# their keyword arguments.
CONFIG_OBJECTS: dict[str, Callable[..., Any]] = {
    "openapi": OpenApiConfig,
    "jwt_auth": JwtConfig,
    "api_key_auth": ApiKeyConfig,
    "rate_limit": RateLimitConfig,
    "compression": CompressionConfig,
}
# Plan keys spelled differently by ServerConfig, and the route keys passed
# as a decorator's cors= (a CorsConfig).
CONFIG_FIELDS = {"request_id": "enable_request_id"}
CORS_KEY = "cors"
# ServerConfig fields the server sets itself (PROTOCOL.md: port 0 and quiet).
SERVER_OWNED = ("host", "port", "quiet")


class ProtocolError(Exception):
    """The runner's lines do not follow the protocol: the framing is lost."""


@dataclasses.dataclass
class PlanRoute:
    doc: dict[str, Any]
    # "answer", "raise", "stream", "sse", "websocket", "record"; None until
    # the line after the route says.
    kind: str | None = None
    status: int | None = None
    headers: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    body: bytes | None = None
    background: str | None = None  # the body field a background task records
    delay_ms: int | None = None  # how long the handler takes before it answers
    items: list[bytes] = dataclasses.field(
        default_factory=list
    )  # chunks, events, sends
    fields: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # per event
    ended: bool = False  # a stream, sse or websocket block's "end"
    key: str | None = None  # a record route's key
    path: bytes | None = None  # a file route's path
    filename: str | None = None  # a file route's download name
    inject: list[str] | None = None  # the dependencies its handler asks for
    schema: Any = None  # a websocket route's message schema

    @property
    def raises(self) -> bool:
        return self.kind == "raise"


@dataclasses.dataclass
class Plan:
    name: str = ""
    config: Any = None
    routes: list[PlanRoute] = dataclasses.field(default_factory=list)
    mistake: str | None = None
    # What the plan's background tasks recorded, for its record routes.
    recorded: list[Any] = dataclasses.field(default_factory=list)
    # The app's lifecycle hooks ("hook" lines), in order.
    hooks: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    # The app's dependencies ("dependency" lines), and how many instances
    # its generic factories have made.
    dependencies: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    made: int = 0

    def wrong(self, why: str) -> None:
        """Keep the plan's first mistake; it is the reply to ``serve``."""
        if self.mistake is None:
            self.mistake = why


def handler_for(route: PlanRoute, plan: Plan) -> Callable[..., Response]:
    """The route's handler: its plan's answer, whatever the request."""
    if route.raises:

        def fail(**_: Any) -> Response:
            raise RuntimeError("fixture: the plan says this handler fails")

        return fail
    if route.kind == "record":
        key = route.key

        def answer_record(**_: Any) -> Response:
            body = json.dumps({key: plan.recorded}, separators=(",", ":")).encode()
            return Response(content=body, headers={"content-type": "application/json"})

        return answer_record
    status, headers, body = route.status, dict(route.headers), route.body
    if route.kind == "file":
        path, filename = os.fsdecode(route.path or b""), route.filename

        def answer_file(**_: Any) -> Response:
            return FileResponse(
                path, status_code=status or 200, headers=headers, filename=filename
            )

        return answer_file
    if route.kind == "stream":
        chunks = list(route.items)

        async def produce() -> AsyncIterator[bytes]:
            for chunk in chunks:
                yield chunk

        def answer_stream(**_: Any) -> Response:
            return StreamingResponse(
                produce(), status_code=status or 200, headers=headers
            )

        return answer_stream
    field = route.background
    if route.delay_ms is not None:
        seconds = route.delay_ms / 1000

        async def answer_later(**_: Any) -> Response:
            await asyncio.sleep(seconds)  # a slow handler; cancelled at request_timeout
            return Response(content=body, status_code=status, headers=headers)

        return answer_later

    def answer(**kwargs: Any) -> Response:
        if field is not None:
            sent = kwargs.get("body")
            background.run(
                plan.recorded.append,
                sent.get(field) if isinstance(sent, dict) else None,
            )
        return Response(content=body, status_code=status, headers=headers)

    return answer


class Instance:
    """What a generic factory makes: a new instance with its own id."""

    def __init__(self, plan: Plan) -> None:
        plan.made += 1  # ids count the app's instances: the same in every language
        self.id = f"00000000-0000-4000-8000-{plan.made:012d}"


def factory_for(spec: dict[str, Any], plan: Plan) -> Callable[..., Any]:
    """A "dependency" line's generic factory (PROTOCOL.md): makes an Instance;
    async for "async"; with "cleanup" a generator recording "<key> opened"
    as it makes one and "<key> closed" in its cleanup."""
    key = spec["key"]
    if spec.get("cleanup") and spec.get("async"):

        async def opened_async(**_: Any) -> AsyncIterator[Instance]:
            made = Instance(plan)
            plan.recorded.append(f"{key} opened")
            yield made
            plan.recorded.append(f"{key} closed")

        return opened_async
    if spec.get("cleanup"):

        def opened(**_: Any) -> Iterator[Instance]:
            made = Instance(plan)
            plan.recorded.append(f"{key} opened")
            yield made
            plan.recorded.append(f"{key} closed")

        return opened
    if spec.get("async"):

        async def make_async(**_: Any) -> Instance:
            return Instance(plan)

        return make_async

    def make(**_: Any) -> Instance:
        return Instance(plan)

    return make


def provide(app: Spikard, plan: Plan) -> None:
    """Give the app the plan's dependencies, by name."""
    for spec in plan.dependencies:
        if spec.get("kind") == "value":
            app.provide(spec["key"], spec.get("value"))
        else:
            app.provide(
                spec["key"],
                Provide(
                    factory_for(spec, plan),
                    depends_on=list(spec.get("depends_on") or []),
                    singleton=bool(spec.get("singleton")),
                ),
            )


def filled(body: bytes, values: list[Any]) -> bytes:
    """body (JSON) with its placeholder strings, in document order, replaced
    by the ids of the Instances among values, in order."""
    ids = iter([v.id for v in values if isinstance(v, Instance)])

    def fill(value: Any) -> Any:
        if isinstance(value, str) and value.startswith("<<") and value.endswith(">>"):
            return next(ids, value)
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fill(v) for v in value]
        return value

    return json.dumps(
        fill(json.loads(body)), separators=(",", ":"), ensure_ascii=False
    ).encode()


def injecting_handler(route: PlanRoute, app: Spikard) -> Callable[..., Any]:
    """An "inject" route's handler: one parameter per dependency it asks for,
    each annotated with a type the app provides as that name's dependency
    (by type, so a name asked for twice is two parameters, and a name never
    provided is the framework's missing dependency); it answers the plan's
    answer with its placeholders filled."""
    keys = route.inject or []
    tokens: dict[str, type] = {}
    for key in dict.fromkeys(keys):
        tokens[key] = type(f"Dependency[{key}]", (), {})

        def alias(_key: str = key, **deps: Any) -> Any:
            return deps[_key]

        app.provide(tokens[key], Provide(alias, depends_on=[key]))
    names = [f"dep{i}" for i in range(len(keys))]
    status, headers, body = route.status or 200, dict(route.headers), route.body
    holes = body is not None and b"<<" in body

    async def answer(**kwargs: Any) -> Response:
        values = [kwargs[n] for n in names]
        content = filled(body, values) if holes and body is not None else body
        return Response(content=content, status_code=status, headers=headers)

    params = [
        inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, annotation=tokens[k])
        for n, k in zip(names, keys)
    ]
    answer.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    answer.__annotations__ = {p.name: p.annotation for p in params}
    return answer


def events_for(route: PlanRoute) -> Callable[[], AsyncIterator[Any]]:
    """An sse route's producer: each event's data decoded from JSON, so the
    framework encodes it, with the event's other fields."""
    events = [(json.loads(data), meta) for data, meta in zip(route.items, route.fields)]

    async def produce() -> AsyncIterator[Any]:
        for data, meta in events:
            yield SseEvent(data, **meta) if meta else data

    return produce


def socket_for(route: PlanRoute) -> Callable[[WebSocket], Any]:
    """A websocket route's handler: send the plan's messages, then echo."""
    sends = [m.decode("utf-8") for m in route.items]

    async def converse(ws: WebSocket) -> None:
        await ws.accept()
        for message in sends:
            await ws.send_text(message)
        async for message in ws:
            await ws.send(message)

    return converse


def unsupported(plan: Plan) -> str | None:
    """Why this language cannot express the plan, or None."""
    fields = {f.name for f in dataclasses.fields(ServerConfig)} - set(SERVER_OWNED)
    for key in plan.config:
        if CONFIG_FIELDS.get(key, key) not in fields:
            return f"config key {key!r}: ServerConfig has no such field"
    for route in plan.routes:
        for key in route.doc:
            if key not in ("method", "path", CORS_KEY, *ROUTE_ARGUMENTS):
                return f"route key {key!r}: register_route takes no such argument"
            if route.kind in ("sse", "websocket") and key not in (
                "method",
                "path",
                CORS_KEY,
            ):
                return f"route key {key!r}: app.{route.kind} takes no raw schemas"
        if route.inject is not None and set(route.doc) - {"method", "path"}:
            return "an inject route with schemas: register_route does not inject"
        if route.kind in ("sse", "websocket") and route.doc.get("method") != "GET":
            return f"app.{route.kind} serves GET only"
        names = [k for k, _ in route.headers]
        if len(set(names)) != len(names):
            return "a header named twice: Response takes a dict of headers"
    return None


def check(plan: Plan) -> str | None:
    """The plan's mistakes only visible once it is complete, or None."""
    if plan.mistake:
        return plan.mistake
    if not isinstance(plan.config, dict):
        return "fixture: the plan has no config object"
    if not plan.routes:
        return "fixture: the plan has no route"
    for i, route in enumerate(plan.routes, 1):
        if not isinstance(route.doc, dict) or not {"method", "path"} <= set(route.doc):
            return f"fixture: route {i} is not an object with method and path"
        complete = {
            "answer": route.body is not None,
            "raise": True,
            "record": True,
            "stream": route.ended,
            "sse": route.ended,
            "websocket": route.ended,
            "file": route.ended and route.path is not None,
        }
        if not complete.get(route.kind or "", False):
            return f"fixture: route {i} has no complete answer or raise"
    return None


REQUEST_PHASES = ("on_request", "pre_validation", "pre_handler")


def hook_for(spec: dict[str, Any]) -> Callable[[Any], Any]:
    """One generic hook of a plan's "hook" line (PROTOCOL.md): what a user
    writes, parameterised by the plan, never by what the runner checks."""
    kind, phase = spec["kind"], spec["phase"]
    if kind == "set_header" and phase in REQUEST_PHASES:

        def set_request_header(request: Request) -> Request:
            request.headers[spec["name"]] = spec["value"]
            return request

        return set_request_header
    if kind == "set_header":

        def set_response_header(response: Response) -> Response:
            response.headers[spec["name"]] = spec["value"]
            return response

        return set_response_header
    if kind == "require_header":

        async def require_header(request: Request) -> Request | Response:
            if spec["name"] in request.headers:
                return request
            return Response(spec["body"], status_code=spec["status"])

        return require_header

    if kind == "echo_request":

        def echo_request(request: Request) -> Response:
            seen = {
                "params": dict(request.path_params),
                "header": request.headers.get(spec["header"]),
            }
            return Response(seen, status_code=spec["status"])

        return echo_request

    def replace(_: Response) -> Response:
        return Response(spec["body"], status_code=spec["status"])

    return replace


def cors_config(doc: Any) -> CorsConfig | bool:
    """A plan's CORS policy (the core's words) as a CorsConfig: {"regex": p}
    origins are compiled patterns, max_age -1 is None; False stays False."""
    if doc is False:
        return False
    if not isinstance(doc, dict):
        raise TypeError(f"cors: expected an object, got {doc!r}")
    kwargs = dict(doc)
    if isinstance(kwargs.get("allow_origins"), list):
        kwargs["allow_origins"] = [
            re.compile(o["regex"]) if isinstance(o, dict) and "regex" in o else o
            for o in kwargs["allow_origins"]
        ]
    if kwargs.get("max_age") == -1:
        kwargs["max_age"] = None
    return CorsConfig(**kwargs)


def server_config(config: dict[str, Any]) -> ServerConfig:
    """The plan's config as ServerConfig fields."""
    fields = {CONFIG_FIELDS.get(k, k): v for k, v in config.items()}
    if "cors" in fields:
        fields["cors"] = cors_config(fields["cors"])
    return ServerConfig(**{**fields, "quiet": True})


def build(plan: Plan) -> Any:
    """The app of the plan, serving; raises what the framework raises."""
    config = dict(plan.config)
    for key, make in CONFIG_OBJECTS.items():
        if isinstance(config.get(key), dict):
            config[key] = make(**config[key])
    if "static_files" in config:
        config["static_files"] = [
            StaticFilesConfig(**m) for m in config["static_files"]
        ]
    app = Spikard(config=server_config(config))
    for spec in plan.hooks:
        getattr(app, spec["phase"])(hook_for(spec))
    provide(app, plan)
    for route in plan.routes:
        doc = route.doc
        if route.inject is not None:
            app.route(doc["method"], doc["path"])(injecting_handler(route, app))
            continue
        cors = {"cors": cors_config(doc[CORS_KEY])} if CORS_KEY in doc else {}
        if route.kind == "sse":
            app.sse(doc["path"], **cors)(events_for(route))
        elif route.kind == "websocket":
            schema = (
                {"message_schema": route.schema} if route.schema is not None else {}
            )
            app.websocket(doc["path"], **cors, **schema)(socket_for(route))
        else:
            app.register_route(
                doc["method"],
                doc["path"],
                **{k: doc[k] for k in ROUTE_ARGUMENTS if k in doc},
                **cors,
            )(handler_for(route, plan))
    return app.serve_in_background(host="127.0.0.1", port=0)


def message(exc: Exception) -> str:
    """The framework's words in an exception: SpikardError carries (code,
    message)."""
    last = exc.args[-1] if exc.args else None
    return last if isinstance(last, str) else str(exc)


def one_line(text: str) -> str:
    return " ".join(text.splitlines()) or "(no message)"


def parse_json(text: str, plan: Plan, what: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        plan.wrong(f"fixture: {what} is not JSON: {exc}")
        return None


def read_bytes(stdin: BinaryIO, arg: str, what: str) -> bytes:
    """The n raw bytes after a ``<what> <n>`` line, and its newline; read
    whatever the plan's state, to keep the framing."""
    count = arg.split(" ", 1)[0]
    if not count.isdigit():
        raise ProtocolError(f"{what} {count} is not a byte count")
    n = int(count)
    data = stdin.read(n)
    if len(data) != n or stdin.read(1) != b"\n":
        raise ProtocolError(f"{what} of {n} bytes not followed by a newline")
    return data


# The line that opens each kind of block after a route line.
OPENERS = {"answer", "raise", "stream", "sse", "websocket", "record", "file"}
# The lines inside a block, by the kind of block they belong to.
ITEM_KINDS = {"chunk": "stream", "event": "sse", "send": "websocket"}


def read_plan_line(line: str, stdin: BinaryIO, plan: Plan) -> None:
    """Add one plan line (not ``serve``/``stop``) to the plan."""
    word, _, arg = line.partition(" ")
    last = plan.routes[-1] if plan.routes else None
    if word == "config":
        if plan.config is not None:
            plan.wrong("fixture: a second config line")
        plan.config = parse_json(arg, plan, "config")
    elif word == "route":
        plan.routes.append(PlanRoute(parse_json(arg, plan, "route")))
    elif word == "hook":
        spec = parse_json(arg, plan, "hook")
        if not isinstance(spec, dict) or spec.get("phase") not in (
            *REQUEST_PHASES,
            "on_response",
            "on_error",
        ):
            plan.wrong("fixture: a hook line without a phase")
        elif spec.get("kind") not in (
            "set_header",
            "require_header",
            "replace",
            "echo_request",
        ):
            plan.wrong(f"fixture: hook kind {spec.get('kind')!r} is not known")
        else:
            plan.hooks.append(spec)
    elif word == "dependency":
        spec = parse_json(arg, plan, "dependency")
        if (
            not isinstance(spec, dict)
            or not isinstance(spec.get("key"), str)
            or spec.get("kind") not in ("value", "factory")
        ):
            plan.wrong("fixture: a dependency line without a key and a kind")
        else:
            plan.dependencies.append(spec)
    elif word == "inject":
        keys = parse_json(arg, plan, "inject")
        if last is None or last.kind != "answer" or last.body is None:
            plan.wrong("fixture: an inject line not right after an answer's body")
        elif not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            plan.wrong("fixture: inject wants a list of keys")
        elif last.delay_ms is not None or last.background is not None:
            plan.wrong("fixture: inject with delay or background")
        else:
            last.inject = keys
    elif word in OPENERS:
        if last is None or last.kind is not None:
            plan.wrong(f"fixture: a {word} line not right after a route line")
            return
        last.kind = word
        if word in ("answer", "stream", "file"):
            if not arg.isdigit():
                plan.wrong(f"fixture: {word} {arg} is not a status")
            else:
                last.status = int(arg)
        elif word == "record":
            last.key = arg
    elif word == "header":
        name, colon, value = arg.partition(":")
        if (
            last is None
            or last.kind not in ("answer", "stream", "file")
            or last.body
            or last.items
            or last.path is not None
        ):
            plan.wrong("fixture: a header line outside an answer or stream block")
        elif not colon or not name:
            plan.wrong(f'fixture: header {arg} is not "<name>: <value>"')
        else:
            last.headers.append((name, value.removeprefix(" ")))
    elif word == "body":
        data = read_bytes(stdin, arg, "body")
        if last is None or last.kind != "answer" or last.body is not None:
            plan.wrong("fixture: a body line outside an answer block")
        else:
            last.body = data
    elif word == "background":
        if last is None or last.kind != "answer" or last.body is None or not arg:
            plan.wrong("fixture: a background line not right after an answer's body")
        else:
            last.background = arg
    elif word == "delay":
        if (
            last is None
            or last.kind != "answer"
            or last.body is None
            or not arg.isdigit()
        ):
            plan.wrong("fixture: a delay line not right after an answer's body")
        else:
            last.delay_ms = int(arg)
    elif word in ITEM_KINDS:
        data = read_bytes(stdin, arg, word)
        _, _, meta = arg.partition(" ")
        if last is None or last.kind != ITEM_KINDS[word] or last.ended:
            plan.wrong(f"fixture: a {word} line outside a {ITEM_KINDS[word]} block")
            return
        last.items.append(data)
        last.fields.append(parse_json(meta, plan, "event fields") if meta else {})
    elif word == "schema":
        data = read_bytes(stdin, arg, word)
        if (
            last is None
            or last.kind != "websocket"
            or last.ended
            or last.schema is not None
        ):
            plan.wrong("fixture: a schema line outside a websocket block")
        else:
            last.schema = parse_json(data.decode("utf-8"), plan, "message schema")
    elif word in ("path", "filename"):
        data = read_bytes(stdin, arg, word)
        if last is None or last.kind != "file" or last.ended:
            plan.wrong(f"fixture: a {word} line outside a file block")
        elif word == "path":
            last.path = data
        else:
            last.filename = data.decode("utf-8")
    elif line == "end":
        if (
            last is None
            or last.kind not in ("stream", "sse", "websocket", "file")
            or last.ended
        ):
            plan.wrong("fixture: an end line outside a stream, sse or websocket block")
        else:
            last.ended = True
    else:
        plan.wrong(f"fixture: unknown line {line[:60]}")


def serve(stdin: BinaryIO, reply: Callable[[str], None]) -> None:
    """The protocol loop, until end of stdin."""
    plan = Plan()
    running: Any = None
    while True:
        raw = stdin.readline()
        if not raw:
            break
        line = raw.decode("utf-8").removesuffix("\n")
        if line.startswith("case ") or line == "case":
            plan = Plan(name=line[5:])
        elif line == "serve":
            if running is not None:
                running.stop()
                running = None
            why = check(plan)
            if why is not None:
                reply(f"error {one_line(why)}")
            elif (reason := unsupported(plan)) is not None:
                reply(f"unsupported {one_line(reason)}")
            else:
                try:
                    running = build(plan)
                except Exception as exc:  # noqa: BLE001 - the framework's refusal is the reply
                    print(f"server.py: {plan.name}: {exc!r}", file=sys.stderr)
                    reply(f"error {one_line(f'{type(exc).__name__}: {message(exc)}')}")
                else:
                    reply(f"listening {running.port}")
            plan = Plan()
        elif line == "stop":
            if running is not None:
                running.stop()
                running = None
            reply("stopped")
        else:
            read_plan_line(line, stdin, plan)
    if running is not None:
        running.stop()


def main() -> int:
    # The protocol gets its own copy of stdout; fd 1 then points at stderr,
    # so that nothing else printed (by Python or the core) can break it.
    channel = os.fdopen(os.dup(1), "w", encoding="utf-8", newline="\n")
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def reply(text: str) -> None:
        channel.write(text + "\n")
        channel.flush()

    reply(f"spikard-fixture {PROTOCOL_VERSION} {LANGUAGE}")
    try:
        serve(sys.stdin.buffer, reply)
    except ProtocolError as exc:
        print(f"server.py: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
