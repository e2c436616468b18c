"""Conformance and parity runner: every case, every language, over real HTTP.

Each case (``<dir>/<category>/<name>.json``, the format described in the
fixtures' README and ``00-FIXTURE-SCHEMA.json``) becomes an app plan: the
route documents, the config and what the handler answers on success. A
fixture server per language (``tests/parity/servers/servers.json``) builds
the app from the plan through that language's public API and serves it on
an ephemeral loopback port; the protocol between them is
``tests/parity/servers/PROTOCOL.md``. The runner sends each case's request
with ``http.client`` and compares status, body and the listed headers. The
handler never produces what is checked: every error, and every header a
framework feature owns, must come from the framework.

Streams, events and sockets: a case with ``streaming`` has its handler
produce the chunks (the runner checks the bytes and the chunked framing); a
case with ``background`` has its handler hand the recording of a body field
to the framework's background tasks, and the runner reads the record after
the answer. An AsyncAPI message fixture (``protocol`` "sse" or "websocket",
a ``channel``, ``examples`` and a ``schema``) becomes a producer of its
examples: for SSE the runner subscribes and checks the framing, the order,
each event's data (and, with the parity corpus's ``sse_fields``, its event,
id and retry) and the schema; for WebSockets the endpoint sends the
examples when an operation of the fixture sends, then echoes, and the
runner checks the handshake, what it receives, the echo of every example,
a fragmented message with a ping between its fragments, and the close
handshake.

This file is the client side only, standard library only: it never imports
spikard.

Usage: python tests/conformance/run.py [--fixtures DIR] [-k SUBSTRING] [-v]
           [--languages python,c] [--servers-file PATH] [--divergences PATH]
           [--summary PATH]
The last line printed is ``N passed, M failed (F failing the run, R reported
only), D divergent`` (case x language); the exit status is non-zero when a
case of an owned category fails in any language, when the languages answer a
case differently, or when the divergence list is out of date (a listed case
passes, or an entry names no counterpart).
"""

from __future__ import annotations

import argparse
import base64
import collections
import http.client
import json
import queue
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import files  # the sibling module: compression, static files, file answers
import realtime  # the sibling module, found through the line above

REPO = Path(__file__).resolve().parents[2]
DEFAULT_FIXTURES = REPO.parent / "shared" / "conformance" / "fixtures"
DEFAULT_SERVERS = REPO / "tests" / "parity" / "servers" / "servers.json"
DEFAULT_DIVERGENCES = REPO / "tests" / "conformance" / "divergences.json"
PROTOCOL_VERSION = "2"

# Categories whose failures fail the run; the others are reported only.
OWNED = frozenset(
    {
        "path_params",
        "query_params",
        "headers",
        "cookies",
        "json_bodies",
        "validation_errors",
        "url_encoded",
        "multipart",
        "content_types",
        "edge_cases",
        "status_codes",
        "http_methods",
        "body_limits",
        "streaming",
        "sse",
        "websockets",
        "background",
        "openapi",
        "auth",
        "rate_limit",
        "compression",
        "static_files",
        "file_responses",
        "cors",
        "request_id",
        "request_timeout",
        "lifecycle_hooks",
        "di",
    }
)

# Fixture parameter groups and the "source" each maps to.
SOURCES = {
    "path": "path",
    "query": "query",
    "headers": "header",
    "header": "header",
    "cookies": "cookie",
    "cookie": "cookie",
}

# Hints that describe a parameter to a code generator, not JSON Schema.
HINTS = ("required", "optional", "annotation")

# Handler keys that configure no framework feature beyond routing,
# extraction and validation.
PLAIN_HANDLER_KEYS = frozenset(
    {"route", "method", "parameters", "body_schema", "content_type", "response_schema"}
)

# Handler-level settings a case may carry, by the config key of the
# framework each one is (spikard_app_new's document, ServerConfig's field):
# the plan passes them as real configuration, so a limit a case sets is the
# limit the framework enforces. middleware.body_limit.max_bytes is
# max_body_size too (see handler_config).
CONFIG_SETTINGS = {
    "max_body_size": "max_body_size",
    "max_body_bytes": "max_body_size",
    "max_uri_length": "max_uri_length",
    "max_header_count": "max_header_count",
    "max_headers": "max_header_count",
    "max_header_size": "max_header_size",
    "max_header_bytes": "max_header_size",
    "header_timeout": "header_timeout",
    "max_json_depth": "max_json_depth",
    "max_depth": "max_json_depth",
    "max_nesting_depth": "max_json_depth",
}

# Top-level case keys that would configure a framework feature for the
# whole app. ("streaming" and "background" describe what the handler itself
# does, not the framework.)
APP_FEATURE_KEYS = frozenset(
    {
        "middleware",
        "cors",
        "auth",
        "security",
        "dependencies",
        "lifecycle_hooks",
        "hooks",
    }
)

# Response headers that only a framework feature produces (CORS, request
# ids, compression, auth challenges, rate limits). A handler of ours never
# answers them, whatever the case configures: a test app setting them
# itself would fake the feature.
FEATURE_HEADERS = {
    "access-control-": "cors",
    "x-request-id": "request_id",
    "content-encoding": "compression",
    "www-authenticate": "auth",
    "x-ratelimit-": "rate_limit",
    "ratelimit-": "rate_limit",
}

# Features on in every app unless turned off: a case may rely on their
# headers without configuring them.
DEFAULT_FEATURES = frozenset({"request_id"})

INTERNAL_ERROR = "https://spikard.dev/errors/internal-server-error"
JSON_TYPE = "application/json"
TEXT_TYPE = "text/plain; charset=utf-8"

# Seconds to wait for a fixture server's greeting and for each reply.
REPLY_TIMEOUT = 30.0
REQUEST_TIMEOUT = 5.0


class Case:
    """One fixture file: an HTTP case (request, expected_response), or an
    AsyncAPI message fixture (protocol "sse" or "websocket", a channel, its
    example messages and their schema)."""

    def __init__(self, path: Path, category: str, doc: dict[str, Any]) -> None:
        self.path = path
        self.category = category
        self.doc = doc
        self.name = f"{category}/{path.stem}"
        self.kind = "http" if "request" in doc else str(doc.get("protocol"))


def is_message_fixture(doc: Any) -> bool:
    """Whether doc is an AsyncAPI message fixture the runner can play."""
    return (
        isinstance(doc, dict)
        and doc.get("protocol") in ("sse", "websocket")
        and isinstance(doc.get("channel"), str)
        and doc["channel"].startswith("/")
        and isinstance(doc.get("examples"), list)
    )


def load_cases(root: Path) -> list[Case]:
    cases = []
    for path in sorted(root.rglob("*.json")):
        if path.name == "schema.json" or path.name.startswith("00-"):
            continue
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            print(f"skip {path}: {exc}", file=sys.stderr)
            continue
        if not is_message_fixture(doc) and (
            not isinstance(doc, dict)
            or "request" not in doc
            or "expected_response" not in doc
        ):
            continue
        try:
            doc = expand_templates(doc)
        except ValueError as exc:
            print(f"skip {path}: {exc}", file=sys.stderr)
            continue
        rel = path.relative_to(root)
        category = (
            rel.parts[0] if len(rel.parts) > 1 else doc.get("category", "uncategorised")
        )
        cases.append(Case(path, category, doc))
    return cases


# A templated value in a case: {{ repeat 'x' N times }} stands for the text
# between the quotes N times (a long value the case does not spell out).
TEMPLATE = re.compile(r"\{\{\s*repeat\s+'([^']*)'\s+(\d+)\s+times\s*\}\}")
# The most bytes one template may expand to: a case is a test, not a load.
MAX_EXPANSION = 16 << 20


def expand_templates(value: Any) -> Any:
    """value with every template in its strings expanded (keys too)."""
    if isinstance(value, str):
        return TEMPLATE.sub(expand_one, value) if "{{" in value else value
    if isinstance(value, list):
        return [expand_templates(v) for v in value]
    if isinstance(value, dict):
        return {expand_templates(k): expand_templates(v) for k, v in value.items()}
    return value


def expand_one(m: re.Match[str]) -> str:
    text, times = m.group(1), int(m.group(2))
    if len(text.encode()) * times > MAX_EXPANSION:
        raise ValueError(f"template {m.group(0)!r} expands past {MAX_EXPANSION} bytes")
    return text * times


# -- the app plan ---------------------------------------------------------------


@dataclass
class Answer:
    """What a route's handler returns on success: the bytes it sends, and,
    with ``background``, the body field whose value a background task then
    records (see Record)."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    background: str | None = None
    # Milliseconds the handler waits before it answers (a case's
    # middleware.request_timeout.sleep_ms): a slow handler, for the
    # framework's request_timeout to overtake.
    delay_ms: int | None = None
    # The dependencies the handler asks the framework for, in order (a
    # case's handler_dependencies); see dependency_plan.
    inject: list[str] | None = None


@dataclass
class Stream:
    """A streamed answer: status, headers, then the body piece by piece."""

    status: int
    headers: list[tuple[str, str]]
    chunks: list[bytes]


@dataclass
class Events:
    """A server-sent event producer: each event's data as JSON text (the
    producer yields it decoded, so the framework encodes and frames it) and
    its other fields (event, id, retry)."""

    events: list[tuple[bytes, dict[str, Any]]]


@dataclass
class Socket:
    """A WebSocket endpoint: accept, send ``sends`` as text messages, then
    echo every message until the client closes; ``schema``, when not None,
    is the JSON Schema the endpoint declares for its messages (the
    framework closes with 1007 at the first that fails it)."""

    sends: list[bytes]
    schema: Any = None


@dataclass
class FileAnswer:
    """A handler answering with a file the framework sends (FileResponse):
    its status and headers, the file's path and the download name offered."""

    status: int
    headers: list[tuple[str, str]]
    path: str
    filename: str | None = None


@dataclass
class Record:
    """A handler answering 200 {key: [the values background tasks recorded,
    in order]}."""

    key: str


@dataclass
class PlanRoute:
    """One route: its registration document and what its handler does
    (None: the handler fails)."""

    doc: dict[str, Any]
    answer: Answer | Stream | Events | Socket | Record | FileAnswer | None


@dataclass
class Plan:
    """What a fixture server builds for one case (PROTOCOL.md)."""

    config: dict[str, Any]
    routes: list[PlanRoute]
    # The framework features the case configures; when there are any, the
    # case's expected headers are the framework's to produce, never the
    # handler's, and ``withheld`` names those left out of the answer.
    features: list[str] = field(default_factory=list)
    withheld: list[str] = field(default_factory=list)
    # Lifecycle hooks of the app (a parity case's "hooks", see hook_specs):
    # generic user code of a kind, parameterised by the case.
    hooks: list[dict[str, Any]] = field(default_factory=list)
    # The app's dependencies (a case's handler.dependencies, see
    # dependency_plan), each generic user code of a kind.
    dependencies: list[dict[str, Any]] = field(default_factory=list)
    # What the record route must hold once the answer is written, when it is
    # not the case's background.expected_state as written (the events of
    # the dependencies' cleanups, in the generic factories' words).
    expected_state: list[Any] | None = None
    # Why no language can play the case as written (it expects a feature's
    # effect but gives the feature no configuration): every language
    # reports it n/a, never passed or failed.
    unplayable: str | None = None


def parameter_schema(params: dict[str, Any]) -> dict[str, Any] | None:
    """The route's parameter_schema from a fixture's ``handler.parameters``."""
    props: dict[str, Any] = {}
    required: list[str] = []
    for group, entries in params.items():
        source = SOURCES.get(group)
        if source is None:
            continue
        for name, spec in (entries or {}).items():
            schema = {k: v for k, v in spec.items() if k not in HINTS}
            if isinstance(spec.get("required"), bool):
                # A boolean "required" inside the property is the raw
                # (draft-3 style) JSON Schema spelling: pass it through, the
                # core chooses the validator error vocabulary from it.
                schema["required"] = spec["required"]
            schema["source"] = source
            props[name] = schema
            if is_required(source, spec):
                required.append(name)
    if not props:
        return None
    out: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        out["required"] = required
    return out


def is_required(source: str, spec: dict[str, Any]) -> bool:
    """A parameter is required unless it is optional or has a default, as in
    a Python signature; path parameters always are."""
    if source == "path":
        return True
    if "required" in spec:
        return bool(spec["required"])
    return not spec.get("optional", False) and "default" not in spec


def features(case: Case) -> list[str]:
    """The framework features a case configures (handler keys beyond routing,
    validation and the settings that are config, app-level feature keys),
    sorted; empty for a plain case."""
    handler = case.doc.get("handler") or {}
    keys = (set(handler) - PLAIN_HANDLER_KEYS - set(CONFIG_SETTINGS)) | (
        set(case.doc) & APP_FEATURE_KEYS
    )
    middleware = handler.get("middleware")
    if isinstance(middleware, dict):
        # Guards, compression and static files are features of the
        # framework's config: named by their own keys, so that what they
        # produce and refuse is never the handler's. Limits, request ids and
        # timeouts are plain config.
        named = {*GUARD_KEYS, "compression", "static_files"}
        keys |= set(middleware) & named
        if set(middleware) <= CONFIG_MIDDLEWARE | named:
            keys.discard("middleware")
    if "file" in case.doc:
        keys.add("file")
    return sorted(keys)


# Middleware the framework configures by its own keys of the same name
# (spikard.h: "jwt_auth", "api_key_auth", "rate_limit"): the plan passes a
# case's settings on as config, so the guard that answers is the one the
# case describes. {"enabled": false} is no guard.
GUARD_KEYS = ("jwt_auth", "api_key_auth", "rate_limit")


def guard_config(handler: dict[str, Any]) -> dict[str, Any]:
    """The config of a case's middleware guards (GUARD_KEYS)."""
    config: dict[str, Any] = {}
    middleware = handler.get("middleware")
    if not isinstance(middleware, dict):
        return config
    for key in GUARD_KEYS:
        value = middleware.get(key)
        if isinstance(value, dict) and value.get("enabled", True) is not False:
            config[key] = {k: v for k, v in value.items() if k != "enabled"}
    return config


# Middleware settings of a case's handler that are plain configuration
# (handler_config): a body limit, request ids on or off, a request timeout.
CONFIG_MIDDLEWARE = frozenset({"body_limit", "request_id", "request_timeout"})

# A fixture CORS policy's keys, as the core spells them (the corpus writes
# allowed_*; the core's document, like Starlette's and ServerConfig's
# CorsConfig, allow_*). Other keys pass as they are, for the core to judge.
CORS_KEYS = {
    "allowed_origins": "allow_origins",
    "allowed_methods": "allow_methods",
    "allowed_headers": "allow_headers",
    "exposed_headers": "expose_headers",
}


def cors_policy(policy: Any) -> Any:
    """A case's CORS policy in the core's words."""
    if not isinstance(policy, dict):
        return policy
    return {CORS_KEYS.get(k, k): v for k, v in policy.items()}


def handler_delay(handler: dict[str, Any]) -> int | None:
    """How long the case's handler takes (middleware.request_timeout.sleep_ms)."""
    timeout = (handler.get("middleware") or {}).get("request_timeout")
    if isinstance(timeout, dict) and "sleep_ms" in timeout:
        ms = timeout["sleep_ms"]
        if not isinstance(ms, int) or isinstance(ms, bool) or ms < 0:
            raise ValueError(f"request_timeout.sleep_ms: want milliseconds, got {ms!r}")
        return ms
    return None


def handler_config(handler: dict[str, Any]) -> dict[str, Any]:
    """The config a case's handler-level settings make (CONFIG_SETTINGS)."""
    config: dict[str, Any] = {}
    body_limit = (handler.get("middleware") or {}).get("body_limit")
    if isinstance(body_limit, dict) and "max_bytes" in body_limit:
        # "0 or null disables the limit", max_body_size's 0.
        config["max_body_size"] = body_limit["max_bytes"] or 0
    for key, value in handler.items():
        if key in CONFIG_SETTINGS:
            config[CONFIG_SETTINGS[key]] = value
    middleware = handler.get("middleware") or {}
    request_id = middleware.get("request_id")
    if request_id is not None:
        # {"enabled": bool}: the id on every answer, or none.
        if not isinstance(request_id, dict) or not isinstance(
            request_id.get("enabled"), bool
        ):
            raise ValueError(
                f'request_id: want {{"enabled": bool}}, got {request_id!r}'
            )
        config["request_id"] = request_id["enabled"]
    timeout = middleware.get("request_timeout")
    if isinstance(timeout, dict) and "seconds" in timeout:
        config["request_timeout"] = timeout["seconds"]
    return config


def feature_of(header: str) -> str | None:
    """The framework feature that alone produces a response header, or None."""
    name = header.lower()
    for prefix, feature in FEATURE_HEADERS.items():
        if name.startswith(prefix):
            return feature
    return None


def encode_json(value: Any) -> bytes:
    """Compact UTF-8 JSON, as every binding writes it (docs/bindings.md)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


# The generic hook kinds a fixture server implements (PROTOCOL.md, "hook"),
# with the keys each takes besides "phase".
HOOK_KINDS = {
    "set_header": {"name", "value"},
    "require_header": {"name", "status", "body"},
    "replace": {"status", "body"},
    "echo_request": {"status", "header"},
}
HOOK_PHASES = ("on_request", "pre_validation", "pre_handler", "on_response", "on_error")


def hook_specs(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """A parity case's "hooks": a list of {"phase", "kind", ...} objects,
    each one generic hook of HOOK_KINDS, checked here."""
    hooks = doc.get("hooks") or []
    if not isinstance(hooks, list):
        hooks = [hooks]  # refused below, as hooks[0]
    for i, hook in enumerate(hooks):
        kind = hook.get("kind") if isinstance(hook, dict) else None
        if kind not in HOOK_KINDS or hook.get("phase") not in HOOK_PHASES:
            raise ValueError(
                f"hooks[{i}]: want a phase of {HOOK_PHASES} and a kind of {sorted(HOOK_KINDS)}"
            )
        if set(hook) != {"phase", "kind"} | HOOK_KINDS[kind]:
            raise ValueError(
                f"hooks[{i}]: a {kind} hook takes {sorted(HOOK_KINDS[kind])}"
            )
    return hooks


# -- dependency injection (the di category) --------------------------------
#
# A case's handler.dependencies become generic dependencies of the app, one
# per key ("dependency" lines, PROTOCOL.md): a "value" is provided as it is;
# a "factory" or "async_factory" is one generic factory (async for the
# latter), whatever the case names it: it makes a new instance {"id": ...}
# (ids count the app's instances, so every language makes the same ones),
# gets its depends_on through the framework, is made once for the app when
# singleton, and with "cleanup" is a generator that records "<key> opened"
# as it makes the instance and "<key> closed" in its cleanup. The handler
# asks the framework for handler_dependencies in order ("inject") and fills
# the placeholders of its success body, in document order, with the ids of
# what it received: what is checked (the same id twice within a request,
# the problem document of a missing dependency, the cleanup order) is then
# the framework's per-request caching, its error and its cleanups.

DEPENDENCY_TYPES = ("value", "factory", "async_factory")


def prose_hooks(handler: dict[str, Any]) -> list[str]:
    """The hook functions a case's middleware.lifecycle_hooks names
    ("phase:function"): the corpus gives their behaviour in prose only."""
    hooks = (handler.get("middleware") or {}).get("lifecycle_hooks")
    if not isinstance(hooks, dict):
        return []
    return [
        f"{phase}:{h.get('handler') or h.get('name')}" if isinstance(h, dict) else phase
        for phase, entries in hooks.items()
        for h in (entries if isinstance(entries, list) else [entries])
    ]


def dependency_specs(handler: dict[str, Any]) -> list[dict[str, Any]]:
    """A case's handler.dependencies as the protocol's dependency objects."""
    deps = handler.get("dependencies") or {}
    if not isinstance(deps, dict):
        raise TypeError("dependencies: want an object of key -> dependency")
    out = []
    for key, dep in deps.items():
        kind = dep.get("type") if isinstance(dep, dict) else None
        if kind not in DEPENDENCY_TYPES:
            raise ValueError(f"dependencies.{key}: want a type of {DEPENDENCY_TYPES}")
        if kind == "value":
            out.append({"key": key, "kind": "value", "value": dep.get("value")})
            continue
        depends_on = dep.get("depends_on") or []
        if not isinstance(depends_on, list) or not all(
            isinstance(d, str) for d in depends_on
        ):
            raise ValueError(f"dependencies.{key}.depends_on: want a list of keys")
        out.append(
            {
                "key": key,
                "kind": "factory",
                "async": kind == "async_factory",
                "depends_on": depends_on,
                "singleton": bool(dep.get("singleton")),
                "cleanup": bool(dep.get("cleanup")),
            }
        )
    return out


def placeholders(value: Any) -> int:
    """How many placeholder strings ("<<...>>") a JSON value holds."""
    if isinstance(value, str):
        return int(is_placeholder(value))
    if isinstance(value, dict):
        return sum(placeholders(v) for v in value.values())
    if isinstance(value, list):
        return sum(placeholders(v) for v in value)
    return 0


def dependency_plan(handler: dict[str, Any], plan: Plan) -> list[str]:
    """Add a case's dependencies and its handler's injections to the plan;
    the keys of the factories with a cleanup, in the case's order."""
    specs = dependency_specs(handler)
    inject = handler.get("handler_dependencies")
    if not specs and not inject:
        return []
    if not isinstance(inject, list) or not all(isinstance(k, str) for k in inject):
        raise ValueError("handler_dependencies: want a list of keys")
    plan.dependencies = specs
    served = plan.routes[0].answer
    if isinstance(served, Answer):
        served.inject = list(inject)
        by_key = {d["key"]: d for d in specs}
        holes = placeholders(json.loads(served.body)) if served.body else 0
        makers = [k for k in inject if by_key.get(k, {}).get("kind") == "factory"]
        if holes and (holes > len(inject) or len(makers) < holes):
            plan.unplayable = (
                f"the success body has {holes} placeholders and the handler"
                f" receives {len(makers)} factory-made dependencies to fill them"
            )
    uses = collections.Counter(inject)
    for d in specs:
        uses.update(d.get("depends_on") or [])
    for key, dep in (handler.get("dependencies") or {}).items():
        if dep.get("cacheable") is False and not dep.get("singleton") and uses[key] > 1:
            plan.unplayable = (
                f"dependency {key!r} is not cacheable and used {uses[key]} times in a"
                " request: the framework makes each dependency once per request"
            )
    return [d["key"] for d in specs if d.get("cleanup")]


def cleanup_events(expected: Any, keys: list[str]) -> list[str]:
    """A case's expected cleanup events ("<name>_opened", "<name>_closed") in
    the generic factories' words ("<key> opened"): a name is the key it
    equals, else the one key that has it as a _-separated word. A name no
    key (or several) has is a ValueError: the case is not playable."""
    if not isinstance(expected, list):
        raise TypeError("background.expected_state: want a list of events")
    out = []
    for event in expected:
        m = (
            re.fullmatch(r"(.+)_(opened|closed)", event)
            if isinstance(event, str)
            else None
        )
        if m is None:
            raise ValueError(
                f"cleanup event {event!r}: not <name>_opened or <name>_closed"
            )
        name, what = m.groups()
        found = [name] if name in keys else [k for k in keys if name in k.split("_")]
        if len(found) != 1:
            raise ValueError(
                f"cleanup event {event!r}: {name!r} names {len(found)} of the"
                f" dependencies with a cleanup ({', '.join(keys)})"
            )
        out.append(f"{found[0]} {what}")
    return out


def build_plan(case: Case) -> Plan:
    if case.kind != "http":
        return message_plan(case)
    plan = http_plan(case)
    plan.hooks = hook_specs(case.doc)
    doc = case.doc
    handler = doc.get("handler") or {}
    named = prose_hooks(handler)
    if named:
        raise ValueError(
            f"middleware.lifecycle_hooks names hook functions ({', '.join(named)}) whose"
            " behaviour the case gives only in prose: nothing generic can play them;"
            ' list the case under "inexpressible" in the divergence list'
        )
    served = plan.routes[0].answer
    cleanups = dependency_plan(handler, plan)
    streaming = doc.get("streaming")
    if isinstance(streaming, dict) and isinstance(served, Answer):
        plan.routes[0].answer = stream_answer(served, streaming)
    background = doc.get("background")
    if isinstance(background, dict):
        field_name = background.get("value_field")
        state_path = background.get("state_path")
        key = background.get("state_key")
        if not all(isinstance(v, str) for v in (field_name, state_path, key)):
            raise ValueError("background: want value_field, state_path and state_key")
        if cleanups:
            # The record holds the dependencies' cleanup events, not a body
            # field: the expected events in the generic factories' words.
            try:
                plan.expected_state = cleanup_events(
                    background.get("expected_state"), cleanups
                )
            except (TypeError, ValueError) as exc:
                plan.unplayable = str(exc)
        elif isinstance(served, Answer):
            served.background = field_name
        plan.routes.append(
            PlanRoute({"method": "GET", "path": state_path}, Record(str(key)))
        )
    middleware_plan(case, plan)
    return plan


# The one route of a static-files case: requests go to the mount, and a
# route at the case's own path would come first (routes win over mounts).
UNUSED_ROUTE = {"method": "GET", "path": "/__conformance__/unused"}


def middleware_plan(case: Case, plan: Plan) -> None:
    """What compression, static files and file answers add to a plan: the
    config the case's middleware makes (files.py) and, for a ``file``
    block, the handler's FileResponse."""
    handler = case.doc.get("handler") or {}
    middleware = handler.get("middleware") or {}
    if "compression" in middleware:
        compression = files.compression_config(middleware["compression"])
        if compression is not None:
            plan.config["compression"] = compression
    if "static_files" in middleware:
        plan.config["static_files"] = files.static_config(
            case.path.stem, middleware["static_files"]
        )
        plan.routes = [PlanRoute(dict(UNUSED_ROUTE), Answer(204, [], b""))]
    spec = case.doc.get("file")
    if spec is not None:
        path, filename = files.answer_file(case.path.stem, spec)
        headers = [(str(k), str(v)) for k, v in (spec.get("headers") or {}).items()]
        status = spec.get("status", 200)
        plan.routes[0].answer = FileAnswer(status, headers, str(path), filename)


def stream_answer(answer: Answer, streaming: dict[str, Any]) -> Stream:
    """The streamed form of a success answer: the case's chunks, with the
    streaming content type unless the answer names one."""
    chunks = []
    for i, chunk in enumerate(streaming.get("chunks") or []):
        kind = chunk.get("type")
        if kind == "text" and isinstance(chunk.get("value"), str):
            chunks.append(chunk["value"].encode("utf-8"))
        elif kind == "bytes" and isinstance(chunk.get("base64"), str):
            chunks.append(base64.b64decode(chunk["base64"]))
        else:
            raise ValueError(f"streaming.chunks[{i}]: want text+value or bytes+base64")
    headers = [(k, v) for k, v in answer.headers if k.lower() != "content-type"]
    ctype = next((v for k, v in answer.headers if k.lower() == "content-type"), None)
    ctype = streaming.get("content_type") or ctype
    if ctype:
        headers.insert(0, ("content-type", ctype))
    return Stream(answer.status, headers, chunks)


def channel_target(channel: str) -> str:
    """The request path for a channel: each {parameter} becomes "probe"."""
    return re.sub(r"\{[^}/]*\}", "probe", channel)


def message_plan(case: Case) -> Plan:
    """The plan of an AsyncAPI message fixture: an SSE producer of its
    examples, or a WebSocket endpoint that sends them (when an operation of
    the fixture sends) and echoes what it receives."""
    doc = case.doc
    route = {"method": "GET", "path": doc["channel"]}
    examples = [encode_json(e) for e in doc["examples"]]
    if case.kind == "sse":
        fields = doc.get("sse_fields") or [{} for _ in examples]
        if len(fields) != len(examples) or not all(isinstance(f, dict) for f in fields):
            raise ValueError("sse_fields: want one object per example")
        return Plan({}, [PlanRoute(route, Events(list(zip(examples, fields))))])
    sends = any(op.get("action") == "send" for op in doc.get("operations") or [])
    return Plan(
        {},
        [
            PlanRoute(
                route, Socket(examples if sends else [], doc.get("message_schema"))
            )
        ],
    )


def app_plan(app: dict[str, Any]) -> Plan:
    """The plan of a case that declares a whole app (the parity corpus's
    ``app``: ``config`` and ``routes``, each a route document): every route
    answers 200 ``{}``; what the case requests is the framework's own (the
    OpenAPI document and pages), never a handler's."""
    config, routes = app.get("config") or {}, app.get("routes")
    if not isinstance(config, dict) or not isinstance(routes, list) or not routes:
        raise ValueError("app: want a config object and a non-empty routes list")
    answer = Answer(200, [("content-type", JSON_TYPE)], b"{}")
    return Plan(config, [PlanRoute(dict(r), answer) for r in routes])


def http_plan(case: Case) -> Plan:
    doc = case.doc
    if isinstance(doc.get("app"), dict):
        return app_plan(doc["app"])
    req = doc["request"]
    exp = doc["expected_response"]
    handler = doc.get("handler")
    config: dict[str, Any] = {}
    route: dict[str, Any]
    if handler:
        config.update(handler_config(handler))
        config.update(guard_config(handler))
        route = {"method": handler["method"], "path": handler["route"]}
        params = handler.get("parameters") or {}
        extra = {
            "parameter_schema": parameter_schema(params),
            "body_schema": handler.get("body_schema"),
            "file_params": params.get("files"),
        }
        route.update({k: v for k, v in extra.items() if v is not None})
        if "cors" in handler:
            route["cors"] = cors_policy(handler["cors"])
    else:
        # App-level cases declare no handler: serve the request's own path.
        route = {
            "method": req["method"],
            "path": urllib.parse.urlsplit(req["path"]).path,
        }

    if "cors" in doc:
        config["cors"] = cors_policy(doc["cors"])
    configured = features(case)
    status = exp["status_code"]
    body = exp.get("body")
    # The case's expected headers reach the answer only when the case
    # configures no framework feature: otherwise they are that feature's to
    # produce. Placeholders ("<<uuid>>", "<<absent>>") are checks, never set.
    headers: list[tuple[str, str]] = []
    withheld: list[str] = []
    relied: dict[str, str] = {}  # feature -> a header of it, configured by no one
    for name, value in (exp.get("headers") or {}).items():
        if isinstance(value, str) and not is_placeholder(value):
            feature = feature_of(name)
            if feature and not configured:
                # A header only a feature produces: the case relies on that
                # feature even though it configures none.
                configured = [feature]
                if feature not in DEFAULT_FEATURES:
                    relied[feature] = name
            if configured:
                withheld.append(name)
            else:
                headers.append((name, value))
    for name, value in headers:
        if "\n" in name + value or "\r" in name + value or ":" in name:
            raise ValueError(f"header {name!r}: {value!r} cannot be a header line")
    unplayable = None
    if (case.category == "cors" or "cors" in configured) and not (
        "cors" in route or "cors" in config
    ):
        # The case expects what a CORS policy does but states none (the
        # policy lives in its notes or in the original's test code): there
        # is nothing to configure, and a policy made up from the expected
        # headers would only echo them back.
        unplayable = "the case expects CORS behaviour but configures no CORS policy"
    elif relied and not config:
        # Its header would have to come from the handler, the runner's
        # answer, or from a feature configured by guesswork.
        feature, header = next(iter(relied.items()))
        unplayable = (
            f"the case expects {header}, which only the {feature} feature produces,"
            f" but configures no {feature}"
        )
    delay = handler_delay(handler) if handler else None
    # The handler answers only what a handler would: success paths, and the
    # errors of app-level cases. A framework error the core fails to produce
    # reaches this answer instead and so fails the comparison.
    # An error body that is exactly {"detail": "..."} is the shape an
    # application raises (HTTPException), never a framework error (those
    # are problem documents), so the handler answers it too; only a plain
    # handler, though: when the case configures a framework feature (cors,
    # middleware, auth, ...) that feature owns the error, and when it sets a
    # limit (config), an error is the limit's.
    handler_answers = (
        status < 400
        or not handler
        or (is_app_error(body) and not configured and not config)
    )
    if isinstance(body, dict) and body.get("type") == INTERNAL_ERROR:
        return Plan(
            config,
            [PlanRoute(route, None)],
            configured,
            withheld,
            unplayable=unplayable,
        )
    if not handler_answers:
        reached = Answer(
            200,
            [("content-type", JSON_TYPE)],
            encode_json({"conformance": "handler reached"}),
            delay_ms=delay,
        )
        return Plan(
            config,
            [PlanRoute(route, reached)],
            configured,
            withheld,
            unplayable=unplayable,
        )

    sized = placeholder_size(body)
    default_type: str | None
    if sized is not None:
        raw, default_type = b"\0" * sized, None
    elif body is None:
        raw, default_type = b"", None
    elif isinstance(body, str):
        raw, default_type = body.encode("utf-8"), TEXT_TYPE
    else:
        raw, default_type = encode_json(body), JSON_TYPE
    if default_type and not any(k.lower() == "content-type" for k, _ in headers):
        headers.append(("content-type", default_type))
    answer = Answer(status, headers, raw, delay_ms=delay)
    return Plan(
        config, [PlanRoute(route, answer)], configured, withheld, unplayable=unplayable
    )


def plan_message(name: str, plan: Plan) -> bytes:
    """The plan in the protocol's words, up to and including ``serve``."""
    out = bytearray()
    out += f"case {name}\n".encode()
    out += b"config " + encode_json(plan.config) + b"\n"
    for hook in plan.hooks:
        out += b"hook " + encode_json(hook) + b"\n"
    for dependency in plan.dependencies:
        out += b"dependency " + encode_json(dependency) + b"\n"
    for route in plan.routes:
        out += b"route " + encode_json(route.doc) + b"\n"
        answer = route.answer
        if answer is None:
            out += b"raise\n"
        elif isinstance(answer, Answer):
            out += f"answer {answer.status}\n".encode()
            out += header_lines(answer.headers)
            out += f"body {len(answer.body)}\n".encode() + answer.body + b"\n"
            if answer.background is not None:
                out += f"background {answer.background}\n".encode()
            if answer.delay_ms is not None:
                out += f"delay {answer.delay_ms}\n".encode()
            if answer.inject is not None:
                out += b"inject " + encode_json(answer.inject) + b"\n"
        elif isinstance(answer, Stream):
            out += f"stream {answer.status}\n".encode()
            out += header_lines(answer.headers)
            for chunk in answer.chunks:
                out += f"chunk {len(chunk)}\n".encode() + chunk + b"\n"
            out += b"end\n"
        elif isinstance(answer, Events):
            out += b"sse\n"
            for data, fields in answer.events:
                meta = b" " + encode_json(fields) if fields else b""
                out += f"event {len(data)}".encode() + meta + b"\n" + data + b"\n"
            out += b"end\n"
        elif isinstance(answer, FileAnswer):
            out += f"file {answer.status}\n".encode()
            out += header_lines(answer.headers)
            path = answer.path.encode("utf-8")
            out += f"path {len(path)}\n".encode() + path + b"\n"
            if answer.filename is not None:
                name = answer.filename.encode("utf-8")
                out += f"filename {len(name)}\n".encode() + name + b"\n"
            out += b"end\n"
        elif isinstance(answer, Socket):
            out += b"websocket\n"
            for message in answer.sends:
                out += f"send {len(message)}\n".encode() + message + b"\n"
            if answer.schema is not None:
                schema = encode_json(answer.schema)
                out += f"schema {len(schema)}\n".encode() + schema + b"\n"
            out += b"end\n"
        else:
            out += f"record {answer.key}\n".encode()
    out += b"serve\n"
    return bytes(out)


def header_lines(headers: list[tuple[str, str]]) -> bytes:
    return b"".join(f"header {k}: {v}\n".encode() for k, v in headers)


# -- fixture servers ----------------------------------------------------------


class ServerGone(Exception):
    """The fixture server exited, broke the protocol or stopped answering."""


class FixtureServer:
    """One language's fixture server: a child process spoken to over its
    stdin and stdout. Its stderr is kept (the last lines) to show when it
    fails."""

    def __init__(self, language: str, argv: list[str]) -> None:
        self.language = language
        self.argv = argv
        self.proc: subprocess.Popen[bytes] | None = None
        self.lines: queue.Queue[bytes | None] = queue.Queue()
        self.stderr: collections.deque[str] = collections.deque(maxlen=30)

    def start(self) -> None:
        self.lines = queue.Queue()
        self.stderr = collections.deque(maxlen=30)
        try:
            self.proc = subprocess.Popen(
                self.argv,
                cwd=REPO,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        except OSError as exc:
            raise ServerGone(f"cannot start {' '.join(self.argv)}: {exc}") from None
        proc = self.proc
        threading.Thread(target=self._pump_stdout, args=(proc,), daemon=True).start()
        threading.Thread(target=self._pump_stderr, args=(proc,), daemon=True).start()
        greeting = self.read()
        words = greeting.split(" ")
        if len(words) != 3 or words[0] != "spikard-fixture":
            raise self.gone(
                f"greeting {greeting!r} is not 'spikard-fixture 1 <language>'"
            )
        if words[1] != PROTOCOL_VERSION:
            raise self.gone(
                f"speaks protocol {words[1]}, the runner {PROTOCOL_VERSION}"
            )
        if words[2] != self.language:
            raise self.gone(
                f"says it is {words[2]!r}, servers.json names it {self.language!r}"
            )

    def _pump_stdout(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def _pump_stderr(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            self.stderr.append(line.decode("utf-8", "replace").rstrip("\n"))

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def gone(self, why: str) -> ServerGone:
        """The server is no use any more: stop it and say why, with its
        stderr's last lines."""
        self.close()
        assert self.proc is not None
        why += f" (exit status {self.proc.returncode})"
        if self.stderr:
            why += "\n      stderr: " + "\n      stderr: ".join(self.stderr)
        return ServerGone(why)

    def read(self) -> str:
        try:
            line = self.lines.get(timeout=REPLY_TIMEOUT)
        except queue.Empty:
            raise self.gone(f"no reply in {REPLY_TIMEOUT:.0f}s") from None
        if line is None:
            time.sleep(0.05)  # let the stderr pump catch the last words
            raise self.gone("exited")
        return line.decode("utf-8", "replace").rstrip("\n")

    def send(self, data: bytes) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except OSError:
            time.sleep(0.05)
            raise self.gone("stopped reading its stdin") from None

    def serve(self, name: str, plan: Plan) -> tuple[str, str]:
        """Hand the plan over; the reply's keyword and the rest of its line."""
        self.send(plan_message(name, plan))
        reply = self.read()
        kind, _, rest = reply.partition(" ")
        if kind not in ("listening", "unsupported", "error"):
            raise self.gone(f"replied {reply!r} to serve")
        return kind, rest

    def stop_app(self) -> None:
        self.send(b"stop\n")
        reply = self.read()
        if reply != "stopped":
            raise self.gone(f"replied {reply!r} to stop")

    def close(self) -> None:
        """End the server: end of stdin, then a kill if it lingers."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        try:
            assert proc.stdin is not None
            proc.stdin.close()
        except OSError:
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def load_servers(path: Path) -> dict[str, list[str]]:
    """servers.json: language -> argv, paths relative to the repo root."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(doc, dict) or not all(
        isinstance(v, list) and v and all(isinstance(a, str) for a in v)
        for v in doc.values()
    ):
        raise ValueError(f"{path}: want an object of language -> [argv...]")
    return {lang: resolve_argv(argv) for lang, argv in doc.items()}


def resolve_argv(argv: list[str]) -> list[str]:
    """argv with each relative path (an argument with a '/') made absolute
    against the repo root."""
    out = []
    for arg in argv:
        if "/" in arg and not arg.startswith("-") and not Path(arg).is_absolute():
            arg = str(REPO / arg)
        out.append(arg)
    return out


def missing_part(argv: list[str]) -> str | None:
    """The first path of argv that does not exist (the program, or a script
    it is given), or None."""
    program = argv[0]
    if "/" not in program:
        return None if shutil.which(program) else program
    for arg in argv:
        if "/" in arg and not arg.startswith("-") and not Path(arg).exists():
            return arg
    return None


# -- sending the request ------------------------------------------------------


def encode_query(params: dict[str, Any]) -> str:
    pairs = []
    for key, value in params.items():
        values = value if isinstance(value, list) else [value]
        for v in values:
            pairs.append((key, scalar_text(v)))
    return urllib.parse.urlencode(pairs)


def scalar_text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return ""
    return str(v)


def file_bytes(part: dict[str, Any]) -> bytes:
    if "magic_bytes" in part:
        return bytes.fromhex(part["magic_bytes"] or "")
    content = part.get("content", "")
    if part.get("content_encoding") == "base64":
        return base64.b64decode(content)
    return content.encode("utf-8")


def multipart(
    fields: list[tuple[str, str]], files: list[dict[str, Any]]
) -> tuple[bytes, str]:
    boundary = "conformance" + uuid.uuid4().hex
    out = bytearray()
    for name, value in fields:
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += value.encode("utf-8") + b"\r\n"
    for part in files:
        disp = f'form-data; name="{part["field_name"]}"'
        if part.get("filename") is not None:
            disp += f'; filename="{part["filename"]}"'
        out += f"--{boundary}\r\nContent-Disposition: {disp}\r\n".encode()
        if part.get("content_type"):
            out += f"Content-Type: {part['content_type']}\r\n".encode()
        out += b"\r\n" + file_bytes(part) + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def form_pairs(data: dict[str, Any]) -> list[tuple[str, str]]:
    pairs = []
    for key, value in data.items():
        for v in value if isinstance(value, list) else [value]:
            pairs.append((key, scalar_text(v)))
    return pairs


Request = tuple[str, str, dict[str, str], bytes | None]


def build_request(case: Case) -> Request:
    if case.kind != "http":
        return "GET", channel_target(case.doc["channel"]), {}, None
    req = case.doc["request"]
    handler = case.doc.get("handler") or {}
    method = req["method"]
    target = req["path"]
    query = req.get("query_string")
    if query is None and req.get("query_params"):
        query = encode_query(req["query_params"])
    if query:
        target += ("&" if "?" in target else "?") + query
    headers: dict[str, str] = {}
    for k, v in (req.get("headers") or {}).items():
        headers[k] = v
    if req.get("cookies"):
        cookie = "; ".join(f"{k}={v}" for k, v in req["cookies"].items())
        headers["Cookie"] = cookie
    lower = {k.lower() for k in headers}
    body: bytes | None = None
    ctype: str | None = None
    declared = req.get("content_type") or handler.get("content_type")
    form = req.get("form_data") if req.get("form_data") is not None else req.get("data")
    if req.get("files") is not None or (declared or "").startswith("multipart/"):
        body, ctype = multipart(form_pairs(form or {}), req.get("files") or [])
    elif form is not None:
        body = urllib.parse.urlencode(form_pairs(form)).encode()
        ctype = "application/x-www-form-urlencoded"
    elif "body" in req:
        raw = req["body"]
        if (
            isinstance(raw, str)
            and declared != "application/json"
            and "content-type" in lower
        ):
            body = raw.encode("utf-8")
        elif isinstance(raw, str) and (declared or "").startswith(
            "application/x-www-form-urlencoded"
        ):
            body = raw.encode("utf-8")
            ctype = declared
        else:
            body = json.dumps(raw, ensure_ascii=False).encode("utf-8")
            ctype = "application/json"
    if ctype and "content-type" not in lower:
        headers["Content-Type"] = ctype
    return method, target, headers, body


def send_request(port: int, request: Request) -> tuple[int, dict[str, str], bytes]:
    """Send the request to 127.0.0.1:port; status, headers (lower-case names)
    and body bytes of the response."""
    method, target, headers, body = request
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        conn.putrequest(method, target, skip_accept_encoding=True)
        for k, v in headers.items():
            conn.putheader(k, v)
        declared = next(
            (v for k, v in headers.items() if k.lower() == "content-length"), None
        )
        if body is not None and declared is None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        if declared is not None and body is not None and declared != str(len(body)):
            # A body shorter than declared: end it so the server sees EOF.
            assert conn.sock is not None
            conn.sock.shutdown(socket.SHUT_WR)
        resp = conn.getresponse()
        raw = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, raw
    finally:
        conn.close()


# -- comparing ----------------------------------------------------------------


def decoded(headers: dict[str, str], raw: bytes) -> tuple[bytes, str | None]:
    """The body under its Content-Encoding, and why it does not decode (a
    compressed answer counts only when it decodes: files.decode)."""
    coding = headers.get("content-encoding")
    if not coding or not raw:
        return raw, None
    plain, why = files.decode(coding, raw)
    if plain is None:
        return raw, f"body: content-encoding {coding} does not decode: {why}"
    return plain, None


def compare(case: Case, status: int, headers: dict[str, str], raw: bytes) -> list[str]:
    exp = case.doc["expected_response"]
    diffs = []
    raw, undecodable = decoded(headers, raw)
    if undecodable:
        return [undecodable] + [
            d for d in compare_head(case, status, headers) if not d.startswith("body")
        ]
    if status != exp["status_code"]:
        diffs.append(f"status: want {exp['status_code']}, got {status}")
    if (
        "body" in exp
        and exp["body"] is not None
        and case.doc["request"]["method"] != "HEAD"
    ):
        want = exp["body"]
        text = raw.decode("utf-8", "replace")
        try:
            got: Any = json.loads(text)
        except ValueError:
            got = text
        want = met_placeholders(want, got)
        size = placeholder_size(want)
        if size is not None:
            if len(raw) != size:
                diffs.append(f"body: want {size} bytes, got {len(raw)}")
        elif not (
            json_equal(want, got)
            or (isinstance(want, str) and want == text)
            or same_detail(want, got)
            or same_limit(want, got)
        ):
            if is_limit_error(want) and isinstance(got, dict):
                diffs.append(
                    f"body: want a problem titled {want['error']!r} with detail"
                    f" {want['message']!r}, got title {got.get('title')!r}, detail"
                    f" {got.get('detail')!r}"
                )
            else:
                diffs.append("body: " + body_diff(want, got))
    for name, value in (exp.get("headers") or {}).items():
        have = headers.get(name.lower())
        if not isinstance(value, str):
            continue
        if is_placeholder(value):
            if not header_check(value, have):
                diffs.append(f"header {name}: want {value}, got {have!r}")
            continue
        if have != value:
            diffs.append(f"header {name}: want {value!r}, got {have!r}")
    return diffs


def compare_head(case: Case, status: int, headers: dict[str, str]) -> list[str]:
    """compare's status and header differences alone."""
    doc = dict(case.doc)
    doc["expected_response"] = {
        k: v for k, v in case.doc["expected_response"].items() if k != "body"
    }
    return compare(Case(case.path, case.category, doc), status, headers, b"")


def header_check(placeholder: str, have: str | None) -> bool:
    """Whether a header value meets a placeholder check."""
    if placeholder == "<<absent>>":
        return have is None
    if placeholder == "<<uuid>>":
        return is_uuid(have)
    return have is not None


def is_app_error(body: Any) -> bool:
    """Whether body is the bare {"detail": "..."} shape of an application's
    own error."""
    return (
        isinstance(body, dict)
        and list(body) == ["detail"]
        and isinstance(body["detail"], str)
    )


def same_detail(want: Any, got: Any) -> bool:
    """A bare {"detail": X} is also met by a problem document with detail X:
    the framework may refuse the request first, in its RFC 9457 shape, which
    carries the same detail (and the status is compared separately)."""
    return (
        is_app_error(want)
        and isinstance(got, dict)
        and isinstance(got.get("type"), str)
        and got.get("detail") == want["detail"]
    )


def is_limit_error(body: Any) -> bool:
    """Whether body is the {"error": T, "message": M} shape some cases give
    for a limit (a 413, 414, 431, ...)."""
    return (
        isinstance(body, dict)
        and sorted(body) == ["error", "message"]
        and all(isinstance(v, str) for v in body.values())
    )


def same_limit(want: Any, got: Any) -> bool:
    """An {"error": T, "message": M} expectation is met by a problem document
    with title T and detail M: the framework answers limits as problems whose
    title is the reason phrase and whose detail names the limit."""
    return (
        is_limit_error(want)
        and isinstance(got, dict)
        and isinstance(got.get("type"), str)
        and got.get("title") == want["error"]
        and got.get("detail") == want["message"]
    )


def placeholder_size(body: Any) -> int | None:
    """N for a body written as the placeholder "binary_data_N_bytes": the
    response is N bytes whose content the case does not give."""
    if isinstance(body, str):
        m = re.fullmatch(r"binary_data_(\d+)_bytes", body)
        if m:
            return int(m.group(1))
    return None


_ABSENT = object()


def met_placeholders(want: Any, got: Any, siblings: Any = None) -> Any:
    """want with each placeholder of its body ("<<uuid>>", "<<present>>",
    "<<same_as:FIELD>>", FIELD a sibling of the same object, and
    "<<instance:N>>", the id of a generic factory's N-th instance) that got meets
    replaced by got's value, so that comparing the two checks the rest."""
    if isinstance(want, str) and is_placeholder(want):
        if want == "<<present>>":
            met = got is not _ABSENT
        elif want == "<<uuid>>":
            met = isinstance(got, str) and is_uuid(got)
        elif want.startswith("<<instance:") and want[len("<<instance:") : -2].isdigit():
            # The parity corpus's: the n-th instance the app's generic
            # factories made (PROTOCOL.md, "dependency").
            n = int(want[len("<<instance:") : -2])
            met = got == f"00000000-0000-4000-8000-{n:012d}"
        elif want.startswith("<<same_as:"):
            other = want[len("<<same_as:") : -2]
            met = (
                isinstance(siblings, dict)
                and other in siblings
                and got is not _ABSENT
                and json_equal(siblings[other], got)
            )
        else:
            met = False
        return got if met else want
    if isinstance(want, dict) and isinstance(got, dict):
        return {
            k: met_placeholders(v, got.get(k, _ABSENT), got) for k, v in want.items()
        }
    if isinstance(want, list) and isinstance(got, list) and len(want) == len(got):
        return [met_placeholders(w, g, got) for w, g in zip(want, got)]
    return want


def is_uuid(value: str | None) -> bool:
    try:
        uuid.UUID(value or "")
    except ValueError:
        return False
    return True


def is_placeholder(value: str) -> bool:
    return value.startswith("<<") and value.endswith(">>")


def json_equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def body_diff(want: Any, got: Any, path: str = "$") -> str:
    """The first difference between two JSON values, briefly."""
    if isinstance(want, dict) and isinstance(got, dict):
        for k in want:
            if k not in got:
                return f"{path}.{k} missing (want {short(want[k])})"
            if not json_equal(want[k], got[k]):
                return body_diff(want[k], got[k], f"{path}.{k}")
        for k in got:
            if k not in want:
                return f"{path}.{k} unexpected ({short(got[k])})"
    if isinstance(want, list) and isinstance(got, list):
        if len(want) != len(got):
            return f"{path}: want {len(want)} items, got {len(got)}: {short(got)}"
        for i, (x, y) in enumerate(zip(want, got)):
            if not json_equal(x, y):
                return body_diff(x, y, f"{path}[{i}]")
    return f"{path}: want {short(want)}, got {short(got)}"


def short(v: Any, n: int = 300) -> str:
    s = json.dumps(v, ensure_ascii=False)
    return s if len(s) <= n else s[:n] + "…"


# -- observations: what each language answered ----------------------------------


@dataclass
class Outcome:
    """One case in one language."""

    state: str  # "pass", "fail" or "n/a"
    diffs: list[str]
    # What was seen, for the cross-language comparison: (status, the listed
    # headers, body bytes), or a one-line failure (a refused app, a failed
    # request), or None (n/a, or the server failed).
    seen: tuple[int, tuple[tuple[str, str | None], ...], bytes] | str | None = None


def listed_headers(
    case: Case, headers: dict[str, str]
) -> tuple[tuple[str, str | None], ...]:
    """The headers the case lists, as compared across languages: the value,
    or for a placeholder check whether it holds (two generated request ids
    differ and are both right)."""
    out = []
    for name, value in (case.doc["expected_response"].get("headers") or {}).items():
        if not isinstance(value, str):
            continue
        have = headers.get(name.lower())
        if is_placeholder(value):
            have = f"{value} {'met' if header_check(value, have) else 'not met'}"
        elif feature_of(name) == "request_id" and is_uuid(have):
            # A generated id differs on every answer: compared by its shape.
            have = "a generated UUID"
        out.append((name.lower(), have))
    return tuple(out)


def run_on(server: FixtureServer, case: Case, plan: Plan, request: Request) -> Outcome:
    """Serve the plan on one language's server and check its answer. A
    ServerGone escapes: the server is of no more use."""
    kind, rest = server.serve(case.name, plan)
    if kind == "unsupported":
        return Outcome("n/a", [f"unsupported: {rest}"])
    if kind == "error":
        return Outcome("fail", [f"app: {rest}"], f"app: {rest}")
    try:
        port = int(rest)
    except ValueError:
        raise server.gone(f"replied 'listening {rest}'") from None
    try:
        try:
            if case.kind == "sse":
                diffs, seen = play_events(port, case, plan)
            elif case.kind == "websocket":
                diffs, seen = play_socket(port, case, plan)
            else:
                diffs, seen = play_http(port, case, plan, request)
        except Exception as exc:  # noqa: BLE001 - any failure is the case's result
            why = f"request: {type(exc).__name__}: {exc}"
            return Outcome("fail", [why], why)
        return Outcome("fail" if diffs else "pass", diffs, seen)
    finally:
        server.stop_app()


Seen = tuple[int, tuple[tuple[str, str | None], ...], bytes]

# How long a background task may take to record its value once the answer
# has arrived.
BACKGROUND_DEADLINE = 5.0


def play_http(
    port: int, case: Case, plan: Plan, request: Request
) -> tuple[list[str], Seen]:
    """Send an HTTP case's request; then, for a streamed answer, check its
    framing, and for a case with background work, wait for what it records.
    A case's ``prior_requests`` (a parity case's key) sends the same request
    that many times first, unchecked: a rate limit's bucket is spent so."""
    for _ in range(int(case.doc.get("prior_requests") or 0)):
        send_request(port, request)
    status, headers, raw = send_request(port, request)
    diffs = compare(case, status, headers, raw)
    served = plan.routes[0].answer
    if (
        isinstance(served, Stream)
        and status == served.status
        and not any(k.lower() == "content-length" for k, _ in served.headers)
        and headers.get("transfer-encoding") != "chunked"
    ):
        diffs.append(
            "header transfer-encoding: a stream without a content-length is"
            f" chunked, got {headers.get('transfer-encoding')!r}"
            f" (content-length {headers.get('content-length')!r})"
        )
    plain, _ = decoded(headers, raw)
    if (
        isinstance(served, Stream)
        and status == served.status
        and request[0] != "HEAD"
        and plain != b"".join(served.chunks)
    ):
        # The pieces the handler produced, unchanged and in order (a case
        # may give the body as a size only).
        whole = b"".join(served.chunks)
        at = next((i for i, (p, q) in enumerate(zip(plain, whole)) if p != q), None)
        at = min(len(plain), len(whole)) if at is None else at
        diffs.append(
            f"body: {len(plain)} bytes, the chunks produced {len(whole)};"
            f" first difference at byte {at}"
        )
    seen = (status, listed_headers(case, headers), raw)
    background = case.doc.get("background")
    if isinstance(background, dict):
        want = (
            plan.expected_state
            if plan.expected_state is not None
            else background.get("expected_state")
        )
        got, why = recorded(port, background, want)
        if why:
            diffs.append(why)
        seen = (status, seen[1], raw + b"\nrecorded " + encode_json(got))
    return diffs, seen


def recorded(
    port: int, background: dict[str, Any], want: Any
) -> tuple[Any, str | None]:
    """What the app's background tasks recorded (GET state_path, its
    state_key), once it is the expected state or the deadline has passed;
    and a difference, or None. A state that is expected to stay empty is
    read once, right after the answer."""
    request: Request = ("GET", background["state_path"], {}, None)
    key = background["state_key"]
    deadline = time.monotonic() + BACKGROUND_DEADLINE
    got: Any = None
    while True:
        status, _, raw = send_request(port, request)
        if status != 200:
            return None, f"background: GET {background['state_path']} answered {status}"
        try:
            got = json.loads(raw).get(key)
        except (ValueError, AttributeError):
            return None, f"background: the record is not a JSON object: {raw[:80]!r}"
        if json_equal(want, got) or not want or time.monotonic() > deadline:
            break
        time.sleep(0.01)  # a poll with a deadline: the task runs after the answer
    if json_equal(want, got):
        return got, None
    return got, (
        f"background: want {short(want)} recorded, got {short(got)}"
        f" {BACKGROUND_DEADLINE:.0f}s after the answer"
    )


def play_events(port: int, case: Case, plan: Plan) -> tuple[list[str], Seen]:
    """Subscribe to an SSE fixture's channel; check the framing, that every
    example arrives in order as one event's JSON data (with its fields), and
    each against the fixture's schema."""
    served = plan.routes[0].answer
    assert isinstance(served, Events)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        conn.request(
            "GET",
            channel_target(case.doc["channel"]),
            headers={"Accept": "text/event-stream"},
        )
        resp = conn.getresponse()
        raw = resp.read()
        ctype = resp.getheader("content-type")
        status = resp.status
    finally:
        conn.close()
    seen: Seen = (status, (("content-type", ctype),), raw)
    if status != 200:
        return [f"status: want 200, got {status}: {raw[:200]!r}"], seen
    diffs = []
    if not (ctype or "").startswith("text/event-stream"):
        diffs.append(f"header content-type: want text/event-stream, got {ctype!r}")
    events, kept, mistakes = realtime.parse_sse(raw)
    seen = (status, seen[1], kept)
    diffs += [f"framing: {m}" for m in mistakes]
    if len(events) != len(served.events):
        diffs.append(
            f"events: want {len(served.events)}, got {len(events)}: {short(raw.decode('utf-8', 'replace'))}"
        )
    schema = case.doc.get("schema")
    for i, (event, (data, fields)) in enumerate(zip(events, served.events)):
        want = json.loads(data)
        if isinstance(want, str):
            # A string is an event's data as is (its lines data: lines).
            got: Any = event.data
        else:
            try:
                got = json.loads(event.data)
            except ValueError:
                diffs.append(f"event {i}: data is not JSON: {event.data[:80]!r}")
                continue
        if not json_equal(want, got):
            diffs.append(f"event {i}: " + body_diff(want, got))
        diffs += [
            f"event {i}: schema: {e}" for e in realtime.schema_errors(schema, got)
        ]
        for name in ("event", "id", "retry"):
            if getattr(event, name) != fields.get(name):
                diffs.append(
                    f"event {i}: {name}: want {fields.get(name)!r}, got {getattr(event, name)!r}"
                )
    return diffs, seen


def play_socket(port: int, case: Case, plan: Plan) -> tuple[list[str], Seen]:
    """Open a WebSocket on the fixture's channel: receive the messages the
    endpoint sends (each checked against the example and the schema), send
    every example and expect its echo, send one fragmented with a ping
    between the fragments (a pong, then the whole message back), then close
    with 1000 and expect 1000 back. A fixture with ``expected_close``
    ({"message", "code", "reason"}) sends that message last instead and
    expects the server's close with that code and reason (which it answers)."""
    served = plan.routes[0].answer
    assert isinstance(served, Socket)
    target = channel_target(case.doc["channel"])
    client, hand = realtime.WsClient.connect(port, target, REQUEST_TIMEOUT)
    if hand.status != 101:
        return [f"handshake: want 101, got {hand.status}: {hand.body[:200]!r}"], (
            hand.status,
            (),
            hand.body,
        )
    transcript: list[bytes] = []
    diffs: list[str] = []
    schema = case.doc.get("schema")

    def receive(what: str) -> bytes | None:
        op, payload = client.read_message()
        transcript.append(b"%d %s" % (op, payload))
        if op != realtime.OP_TEXT:
            diffs.append(
                f"{what}: want a text message, got opcode {op} {payload[:80]!r}"
            )
            return None
        return payload

    try:
        for i, want in enumerate(served.sends):
            got = receive(f"sent message {i}")
            if got is None:
                break
            if got != want:
                diffs.append(
                    f"sent message {i}: want {want[:120]!r}, got {got[:120]!r}"
                )
            try:
                value = json.loads(got)
            except ValueError:
                continue
            diffs += [
                f"sent message {i}: schema: {e}"
                for e in realtime.schema_errors(schema, value)
            ]
        examples = [encode_json(e) for e in case.doc["examples"]]
        for i, message in enumerate(examples if not diffs else []):
            client.send_frame(realtime.OP_TEXT, message)
            got = receive(f"echo of example {i}")
            if got is not None and got != message:
                diffs.append(
                    f"echo of example {i}: want {message[:120]!r}, got {got[:120]!r}"
                )
        if not diffs:
            probe = examples[0] if examples else b'{"probe":true}'
            a, b = len(probe) // 3, 2 * len(probe) // 3
            client.send_frame(realtime.OP_TEXT, probe[:a], fin=False)
            client.send_frame(realtime.OP_PING, b"runner")
            client.send_frame(realtime.OP_CONT, probe[a:b], fin=False)
            client.send_frame(realtime.OP_CONT, probe[b:], fin=True)
            got = receive("echo of a fragmented message")
            if got is not None and got != probe:
                diffs.append(
                    f"echo of a fragmented message: want {probe[:120]!r}, got {got[:120]!r}"
                )
            if client.pongs != [b"runner"]:
                diffs.append(
                    f"ping between fragments: want one pong 'runner', got {client.pongs!r}"
                )
        expected = case.doc.get("expected_close")
        if isinstance(expected, dict):
            diffs += expect_close(client, expected, transcript)
        else:
            client.send_close(1000, "done")
            while True:
                op, payload = client.read_message()
                if op == realtime.OP_CLOSE:
                    break
                transcript.append(b"%d %s" % (op, payload))
                diffs.append(f"after the client's close: a message {payload[:80]!r}")
            transcript.append(b"close %d" % (client.close_code or 0))
            if client.close_code != 1000:
                diffs.append(
                    f"close: want 1000 back, got {client.close_code} {client.close_reason!r}"
                )
        if client.sock.recv(1) != b"":
            diffs.append("close: the server sent bytes after its close frame")
    except (realtime.WsError, OSError) as exc:
        diffs.append(f"websocket: {type(exc).__name__}: {exc}")
    finally:
        client.close()
    return diffs, (101, (), b"\n".join(transcript))


def expect_close(
    client: realtime.WsClient, expected: dict[str, Any], transcript: list[bytes]
) -> list[str]:
    """Send ``expected["message"]`` and expect the server's close with
    ``expected["code"]`` and ``expected["reason"]`` and no message before it;
    answer that close. The differences."""
    diffs: list[str] = []
    client.send_frame(realtime.OP_TEXT, encode_json(expected.get("message")))
    while True:
        op, payload = client.read_message()
        if op == realtime.OP_CLOSE:
            break
        transcript.append(b"%d %s" % (op, payload))
        diffs.append(f"before the expected close: a message {payload[:80]!r}")
    transcript.append(
        b"close %d %s" % (client.close_code or 0, client.close_reason.encode())
    )
    want = (expected.get("code"), expected.get("reason", ""))
    if (client.close_code, client.close_reason) != want:
        diffs.append(
            f"close: want {want[0]} {want[1]!r}, got {client.close_code} {client.close_reason!r}"
        )
    client.send_close(client.close_code or 1000)
    return diffs


def seen_diff(a: Any, b: Any) -> str:
    """The first difference between two languages' observations, briefly."""
    if isinstance(a, str) or isinstance(b, str):
        return f"{short_seen(a)} != {short_seen(b)}"
    if a[0] != b[0]:
        return f"status {a[0]} != {b[0]}"
    for (name, x), (_, y) in zip(a[1], b[1]):
        if x != y:
            return f"header {name}: {x!r} != {y!r}"
    x, y = a[2], b[2]
    at = next((i for i, (p, q) in enumerate(zip(x, y)) if p != q), min(len(x), len(y)))
    lo = max(0, at - 20)
    return (
        f"body differs at byte {at} ({len(x)} vs {len(y)} bytes): "
        f"{x[lo : at + 40]!r} != {y[lo : at + 40]!r}"
    )


def short_seen(seen: Any) -> str:
    if isinstance(seen, str):
        return seen
    return f"a {seen[0]} answer"


# -- the divergence list --------------------------------------------------------


@dataclass
class Divergence:
    """A case the corpus contradicts: the case, the one it contradicts, and
    the rule the framework follows instead (divergences.json)."""

    case: str
    contradicts: str
    rule: str


def load_divergences(path: Path) -> list[Divergence]:
    """The committed divergence list; a malformed one is an error."""
    if not path.exists():
        return []
    doc = json.loads(path.read_text(encoding="utf-8"))
    entries = doc.get("divergences") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise TypeError(f'{path}: want an object with a "divergences" list')
    out = []
    for i, e in enumerate(entries):
        if not isinstance(e, dict) or set(e) - {"case", "contradicts", "rule"}:
            raise TypeError(f"{path}: entry {i}: want case, contradicts and rule")
        out.append(
            Divergence(
                str(e.get("case") or ""),
                str(e.get("contradicts") or ""),
                str(e.get("rule") or ""),
            )
        )
    return out


def load_inexpressible(path: Path) -> dict[str, str]:
    """The list's "inexpressible" entries, case -> reason: cases that cannot
    be played honestly as written (they name behaviour the corpus gives in
    prose only); n/a in every language, printed with their reason."""
    if not path.exists():
        return {}
    doc = json.loads(path.read_text(encoding="utf-8"))
    entries = doc.get("inexpressible", []) if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise TypeError(f'{path}: "inexpressible" must be a list')
    out: dict[str, str] = {}
    for i, e in enumerate(entries):
        if (
            not isinstance(e, dict)
            or set(e) != {"case", "reason"}
            or not all(isinstance(v, str) and v for v in e.values())
        ):
            raise TypeError(f"{path}: inexpressible entry {i}: want case and reason")
        if e["case"] in out:
            raise TypeError(
                f"{path}: inexpressible entry {i}: {e['case']} listed twice"
            )
        out[e["case"]] = e["reason"]
    return out


def check_inexpressible(entries: dict[str, str], cases: list[Case]) -> list[str]:
    """The list's mistakes about inexpressible cases: a listed case of this
    corpus that names no prose-only behaviour (it can be played: play it)."""
    return [
        f"{c.name} is listed as inexpressible but names no prose-only hook: play it"
        for c in cases
        if c.name in entries and not prose_hooks(c.doc.get("handler") or {})
    ]


def check_divergences(
    entries: list[Divergence], names: set[str]
) -> tuple[dict[str, Divergence], list[str]]:
    """The entries that apply to this corpus (their case is in it), by case,
    and the list's mistakes: an entry that names no counterpart (none, or
    one the corpus lacks), gives no rule, or repeats a case."""
    applies: dict[str, Divergence] = {}
    mistakes = []
    for e in entries:
        if e.case not in names:
            continue  # another corpus's case
        if not e.contradicts or e.contradicts not in names or e.contradicts == e.case:
            mistakes.append(
                f"{e.case}: names no counterpart in this corpus"
                f" (contradicts {e.contradicts!r})"
            )
        elif not e.rule:
            mistakes.append(f"{e.case}: names no rule")
        elif e.case in applies:
            mistakes.append(f"{e.case}: listed twice")
        else:
            applies[e.case] = e
    return applies, mistakes


def mark_divergent(run: Run) -> list[str]:
    """Turn the failures of listed cases into "divergent"; the listed cases
    that pass in some language (the list is out of date), as lines."""
    passing = []
    for name in run.divergent:
        for lang, outcome in (run.outcomes.get(name) or {}).items():
            if outcome.state == "fail":
                outcome.state = "divergent"
            elif outcome.state == "pass":
                passing.append(f"{name} ({lang})")
    return passing


# -- running ------------------------------------------------------------------


def known_limit(request: Request) -> str | None:
    """Why a case cannot pass on this transport, or None.

    A body shorter than its declared Content-Length is only detectable when
    the client half-closes, and the netpoll transport drops a connection
    whose peer half-closes before any answer can be written. Such cases are
    reported, and do not fail the run.
    """
    _, _, headers, body = request
    declared = next(
        (v for k, v in headers.items() if k.lower() == "content-length"), None
    )
    if declared is not None and body is not None and declared != str(len(body)):
        return (
            "body shorter than Content-Length: netpoll drops a half-closed connection"
        )
    return None


def withheld_diffs(plan: Plan | None, diffs: list[str]) -> bool:
    """Whether a failure includes a header the handler did not answer because
    the case configures a framework feature (which does not produce it)."""
    if plan is None:
        return False
    return any(d.startswith(f"header {name}:") for name in plan.withheld for d in diffs)


def pick_languages(
    servers: dict[str, list[str]], asked: str | None
) -> tuple[list[str], list[str], str | None]:
    """The languages to run, the ones left out with why, and an error."""
    if asked:
        names = [n.strip() for n in asked.split(",") if n.strip()]
        unknown = [n for n in names if n not in servers]
        if unknown:
            return [], [], f"no server for {', '.join(unknown)} in the servers file"
        for name in names:
            gone = missing_part(servers[name])
            if gone:
                return [], [], f"{name}: {gone} not found"
        return names, [], None
    run, left = [], []
    for name, argv in servers.items():
        gone = missing_part(argv)
        if gone:
            left.append(f"{name}: not run, {gone} not found")
        else:
            run.append(name)
    if not run:
        return [], left, "no fixture server found"
    return run, left, None


@dataclass
class Run:
    """Every case's outcome in every language."""

    languages: list[str]
    cases: list[Case]
    outcomes: dict[str, dict[str, Outcome]] = field(default_factory=dict)
    plans: dict[str, Plan] = field(default_factory=dict)
    limits: dict[str, str | None] = field(default_factory=dict)
    divergent: dict[str, Divergence] = field(default_factory=dict)
    divergences_file: str = ""
    inexpressible: dict[str, str] = field(default_factory=dict)


def run_all(run: Run, servers: dict[str, list[str]], verbose: bool) -> None:
    """Run every case on every language's server, started once (and again
    after it dies)."""
    fixture = {lang: FixtureServer(lang, servers[lang]) for lang in run.languages}
    dead: dict[str, str] = {}  # language -> why its server cannot start
    try:
        for case in run.cases:
            outcomes = run.outcomes[case.name] = {}
            request = build_request(case)  # one request, the same bytes for all
            run.limits[case.name] = known_limit(request)
            if case.name in run.inexpressible:
                for lang in run.languages:
                    outcomes[lang] = Outcome(
                        "n/a", [f"inexpressible: {run.inexpressible[case.name]}"]
                    )
                continue
            try:
                plan = run.plans[case.name] = build_plan(case)
            except (KeyError, TypeError, ValueError) as exc:
                for lang in run.languages:
                    outcomes[lang] = Outcome("fail", [f"plan: {exc}"])
                continue
            if plan.unplayable:
                for lang in run.languages:
                    outcomes[lang] = Outcome("n/a", [f"unplayable: {plan.unplayable}"])
                    if verbose:
                        print(f"n/a  {lang:<8} {case.name}", flush=True)
                continue
            for lang in run.languages:
                server = fixture[lang]
                if lang not in dead and not server.running:
                    try:
                        server.start()
                    except ServerGone as exc:
                        dead[lang] = str(exc)
                if lang in dead:
                    outcome = Outcome("fail", [f"server: {dead[lang]}"])
                else:
                    try:
                        outcome = run_on(server, case, plan, request)
                    except ServerGone as exc:
                        # This case failed; the next one starts it again.
                        outcome = Outcome("fail", [f"server: {exc}"])
                outcomes[lang] = outcome
                if verbose:
                    mark = {"pass": "ok  ", "fail": "FAIL", "n/a": "n/a "}[
                        outcome.state
                    ]
                    if outcome.state == "fail" and case.name in run.divergent:
                        mark = "DIV "
                    print(f"{mark} {lang:<8} {case.name}", flush=True)
    finally:
        for server in fixture.values():
            server.close()


def print_table(run: Run) -> None:
    """Pass counts per category and language; n/a for cases a language
    cannot express."""
    by_cat: dict[str, list[Case]] = collections.defaultdict(list)
    for case in run.cases:
        by_cat[case.category].append(case)
    width = max([20, *(len(c) + 1 for c in by_cat)])
    rows = []
    for cat in sorted(by_cat):
        cells = []
        for lang in run.languages:
            outs = [run.outcomes[c.name][lang].state for c in by_cat[cat]]
            n_na, n_ok = outs.count("n/a"), outs.count("pass")
            n_div = outs.count("divergent")
            total = len(outs) - n_na
            cell = "n/a" if not total else f"{n_ok}/{total}"
            if total and n_div:
                cell += f" ({n_div} div)"
            if total and n_na:
                cell += f" +{n_na} n/a"
            cells.append(cell)
        rows.append((cat, cells))
    col = max([14, *(len(cell) + 2 for _, cells in rows for cell in cells)])
    print(
        f"{'category':<{width}}" + "".join(f"{lang:>{col}}" for lang in run.languages)
    )
    for cat, cells in rows:
        mark = "" if cat in OWNED else "  (reported only)"
        print(f"{cat:<{width}}" + "".join(f"{cell:>{col}}" for cell in cells) + mark)


def print_divergent(run: Run, passing: list[str], mistakes: list[str]) -> None:
    """The listed divergent cases, one line each with what they contradict and
    the rule followed, then what is wrong with the list."""
    if run.divergent:
        names = [c.name for c in run.cases if c.name in run.divergent]
        print(
            f"\ndivergent ({len(names)} cases the corpus contradicts, listed in"
            f" {run.divergences_file}; they fail by the rule chosen and do not"
            " fail the run):"
        )
        for name in names:
            e = run.divergent[name]
            print(f"- {name} (contradicts {e.contradicts}): {e.rule}")
    for line in passing:
        print(f"divergence list: {line} passes: take it off the list")
    for line in mistakes:
        print(f"divergence list: {line}")


def print_failures(run: Run) -> int:
    """Each failure with its differences; the number that fail the run."""
    owned_failed = 0
    lines: list[str] = []
    left_to_framework: dict[str, list[str]] = {}
    for case in run.cases:
        plan = run.plans.get(case.name)
        limit = run.limits[case.name]
        for lang in run.languages:
            outcome = run.outcomes[case.name][lang]
            if outcome.state != "fail":
                continue
            tags = []
            pending = withheld_diffs(plan, outcome.diffs)
            if case.category not in OWNED:
                tags.append("reported only")
            elif limit:
                tags.append(f"known limitation, reported only: {limit}")
            else:
                owned_failed += 1
            if pending:
                assert plan is not None
                tags.append(
                    f"headers left to the framework: {', '.join(plan.features)}"
                )
                left_to_framework.setdefault(case.name, []).append(lang)
            tag = f" ({'; '.join(tags)})" if tags else ""
            lines.append(f"- {lang} {case.name}{tag}: {case.doc.get('name', '')}")
            lines.extend(f"    {d}" for d in outcome.diffs)
    if lines:
        print("\nfailures:")
        print("\n".join(lines))
    if left_to_framework:
        print(
            "\nheaders left to the framework (the case configures a feature, so its"
            " handler does not answer them):"
        )
        for name, langs in left_to_framework.items():
            plan = run.plans[name]
            print(f"- {name} ({', '.join(langs)}): {', '.join(plan.withheld)}")
    return owned_failed


def print_inexpressible(run: Run) -> None:
    """The listed cases that cannot be played honestly, with the reason."""
    names = [c.name for c in run.cases if c.name in run.inexpressible]
    if names:
        print(
            f"\nnot expressible honestly (listed in {run.divergences_file}, n/a in"
            " every language):"
        )
        for name in names:
            print(f"- {name}: {run.inexpressible[name]}")


def print_unplayable(run: Run) -> None:
    """The cases no language can play as written, with why (n/a for all)."""
    names = [c.name for c in run.cases if (p := run.plans.get(c.name)) and p.unplayable]
    if names:
        print("\nnot playable as written (n/a in every language):")
        for name in names:
            print(f"- {name}: {run.plans[name].unplayable}")


def print_differences(run: Run) -> int:
    """Each case the languages answer differently (status, listed headers,
    body bytes), with its first difference; their number."""
    lines = []
    for case in run.cases:
        seen = [
            (lang, o.seen)
            for lang, o in run.outcomes[case.name].items()
            if o.seen is not None
        ]
        for lang, other in seen[1:]:
            if other != seen[0][1]:
                first = seen_diff(seen[0][1], other)
                lines.append(f"- {case.name}: {seen[0][0]} vs {lang}: {first}")
    print("\ncross-language differences:" + ("" if lines else " none"))
    for line in lines:
        print(line)
    return len(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fixtures", type=Path, default=DEFAULT_FIXTURES)
    ap.add_argument(
        "-k",
        dest="filter",
        default="",
        help="only cases whose category/name contains this",
    )
    ap.add_argument("-v", "--verbose", action="store_true", help="print every case")
    ap.add_argument(
        "--languages",
        help="comma-separated (default: every language of the servers file whose "
        "server exists)",
    )
    ap.add_argument("--servers-file", type=Path, default=DEFAULT_SERVERS)
    ap.add_argument(
        "--divergences",
        type=Path,
        default=DEFAULT_DIVERGENCES,
        help="the list of cases the corpus contradicts (entries whose case is not"
        " in the fixtures apply to another corpus)",
    )
    ap.add_argument(
        "--summary",
        type=Path,
        help="also write the last line (the counts) to this file",
    )
    args = ap.parse_args(argv)
    root = args.fixtures.resolve()
    if not root.is_dir():
        print(f"fixtures directory not found: {root}", file=sys.stderr)
        return 2
    try:
        servers = load_servers(args.servers_file)
    except (OSError, ValueError) as exc:
        print(f"servers file: {exc}", file=sys.stderr)
        return 2
    languages, left_out, error = pick_languages(servers, args.languages)
    for line in left_out:
        print(line)
    if error:
        print(f"languages: {error}", file=sys.stderr)
        return 2

    try:
        entries = load_divergences(args.divergences)
        inexpressible = load_inexpressible(args.divergences)
    except (OSError, ValueError, TypeError) as exc:
        print(f"divergence list: {exc}", file=sys.stderr)
        return 2

    start = time.monotonic()
    every = load_cases(root)
    run = Run(languages, [c for c in every if args.filter in c.name])
    applies, mistakes = check_divergences(entries, {c.name for c in every})
    run.divergent = {n: e for n, e in applies.items() if args.filter in n}
    run.divergences_file = display_path(args.divergences)
    run.inexpressible = inexpressible
    mistakes += check_inexpressible(inexpressible, every)
    run_all(run, servers, args.verbose)
    passing = mark_divergent(run)
    print_table(run)
    owned_failed = print_failures(run)
    print_divergent(run, passing, mistakes)
    print_inexpressible(run)
    print_unplayable(run)
    differ = print_differences(run)
    states = [o.state for per in run.outcomes.values() for o in per.values()]
    passed, failed, n_div, n_na = (
        states.count("pass"),
        states.count("fail"),
        states.count("divergent"),
        states.count("n/a"),
    )
    list_ok = not passing and not mistakes
    print(
        f"\nowned categories: {owned_failed} failed; languages differ on {differ};"
        f" divergence list {'holds' if list_ok else 'is out of date'};"
        f" elapsed {time.monotonic() - start:.1f}s"
    )
    last = f"{passed} passed, {failed} failed"
    if failed:
        last += (
            f" ({owned_failed} failing the run, {failed - owned_failed} reported only)"
        )
    if n_div:
        last += f", {n_div} divergent"
    if n_na:
        last += f", {n_na} n/a"
    print(last)
    if args.summary:
        args.summary.parent.mkdir(parents=True, exist_ok=True)
        args.summary.write_text(last + "\n", encoding="utf-8")
    return 1 if owned_failed or differ or not list_ok else 0


def display_path(path: Path) -> str:
    """path relative to the repo when it is inside it."""
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
