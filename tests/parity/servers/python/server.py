"""The Python fixture server of the conformance/parity runner.

It speaks ``tests/parity/servers/PROTOCOL.md`` on stdin/stdout: it reads one
app plan per case, builds the app through spikard's public API only
(``Spikard(config=ServerConfig(...))``, ``app.register_route(...)``), serves it
on an ephemeral loopback port with ``serve_in_background`` and replies
``listening <port>``; ``stop`` stops it. Every route's handler returns its
plan's answer as a ``Response`` of bytes, unchanged; a ``raise`` route's
handler raises, which the framework turns into its standard 500.

A config key ``ServerConfig`` has no field for, or a route key
``register_route`` has no argument for, is ``unsupported``; a plan the
framework refuses (a bad value, a schema it cannot compile) is
``error <the framework's message>``. stdout carries the protocol only:
anything else printed goes to stderr, with the framework's logs.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from collections.abc import Callable
from typing import Any, BinaryIO

from spikard import Response, ServerConfig, Spikard

LANGUAGE = "python"
PROTOCOL_VERSION = 1

# What register_route takes besides method and path.
ROUTE_ARGUMENTS = ("parameter_schema", "body_schema", "response_schema", "file_params")
# ServerConfig fields the server sets itself (PROTOCOL.md: port 0 and quiet).
SERVER_OWNED = ("host", "port", "quiet")


class ProtocolError(Exception):
    """The runner's lines do not follow the protocol: the framing is lost."""


@dataclasses.dataclass
class PlanRoute:
    doc: dict[str, Any]
    raises: bool = False
    status: int | None = None
    headers: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    body: bytes | None = None


@dataclasses.dataclass
class Plan:
    name: str = ""
    config: Any = None
    routes: list[PlanRoute] = dataclasses.field(default_factory=list)
    mistake: str | None = None

    def wrong(self, why: str) -> None:
        """Keep the plan's first mistake; it is the reply to ``serve``."""
        if self.mistake is None:
            self.mistake = why


def handler_for(route: PlanRoute) -> Callable[..., Response]:
    """The route's handler: its plan's answer, whatever the request."""
    if route.raises:

        def fail(**_: Any) -> Response:
            raise RuntimeError("fixture: the plan says this handler fails")

        return fail
    status, headers, body = route.status, dict(route.headers), route.body

    def answer(**_: Any) -> Response:
        return Response(content=body, status_code=status, headers=headers)

    return answer


def unsupported(plan: Plan) -> str | None:
    """Why this language cannot express the plan, or None."""
    fields = {f.name for f in dataclasses.fields(ServerConfig)} - set(SERVER_OWNED)
    for key in plan.config:
        if key not in fields:
            return f"config key {key!r}: ServerConfig has no such field"
    for route in plan.routes:
        for key in route.doc:
            if key not in ("method", "path", *ROUTE_ARGUMENTS):
                return f"route key {key!r}: register_route takes no such argument"
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
        if not route.raises and route.body is None:
            return f"fixture: route {i} has no complete answer or raise"
    return None


def build(plan: Plan) -> Any:
    """The app of the plan, serving; raises what the framework raises."""
    app = Spikard(config=ServerConfig(**{**plan.config, "quiet": True}))
    for route in plan.routes:
        doc = route.doc
        app.register_route(
            doc["method"],
            doc["path"],
            **{k: doc[k] for k in ROUTE_ARGUMENTS if k in doc},
        )(handler_for(route))
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
    elif word == "answer":
        if last is None or last.raises or last.status is not None:
            plan.wrong("fixture: an answer line not right after a route line")
        elif not arg.isdigit():
            plan.wrong(f"fixture: answer {arg} is not a status")
        else:
            last.status = int(arg)
    elif word == "header":
        name, colon, value = arg.partition(":")
        if last is None or last.status is None or last.body is not None:
            plan.wrong("fixture: a header line outside an answer block")
        elif not colon or not name:
            plan.wrong(f'fixture: header {arg} is not "<name>: <value>"')
        else:
            last.headers.append((name, value.removeprefix(" ")))
    elif word == "body":
        # The bytes are read whatever the plan's state, to keep the framing.
        if not arg.isdigit():
            raise ProtocolError(f"body {arg} is not a byte count")
        n = int(arg)
        data = stdin.read(n)
        if len(data) != n or stdin.read(1) != b"\n":
            raise ProtocolError(f"body of {n} bytes not followed by a newline")
        if last is None or last.status is None or last.body is not None:
            plan.wrong("fixture: a body line outside an answer block")
        else:
            last.body = data
    elif line == "raise":
        if last is None or last.raises or last.status is not None:
            plan.wrong("fixture: a raise line not right after a route line")
        else:
            last.raises = True
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
