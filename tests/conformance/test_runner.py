"""Tests of the conformance/parity runner (run.py) itself.

The runner must fail, with a readable diff, when a fixture server answers
wrongly, and must never let the handler answer what a framework feature
owns. Run by ``make test-runner`` (part of ``make test``).
"""

from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
RUNNER = HERE / "run.py"
BROKEN_C = REPO / "build" / "parity" / "server-c-broken"
PYTHON_SERVER = REPO / "tests" / "parity" / "servers" / "python" / "server.py"


def load_runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("conformance_run", RUNNER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


run = load_runner()


def case(doc: dict[str, Any], name: str = "cors/probe") -> Any:
    category, _, stem = name.partition("/")
    return run.Case(Path(f"{stem}.json"), category, doc)


def cors_doc(**handler_extra: Any) -> dict[str, Any]:
    return {
        "name": "CORS answer",
        "description": "a simple CORS request",
        "handler": {"route": "/items", "method": "GET", **handler_extra},
        "request": {
            "method": "GET",
            "path": "/items",
            "headers": {"Origin": "https://example.com"},
        },
        "expected_response": {
            "status_code": 200,
            "headers": {
                "Access-Control-Allow-Origin": "https://example.com",
                "Vary": "Origin",
                "x-request-id": "<<uuid>>",
            },
            "body": {"items": ["é"]},
        },
    }


def write_case(root: Path, name: str, doc: dict[str, Any]) -> None:
    path = root / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc), encoding="utf-8")


def run_runner(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(RUNNER), *args],
        cwd=REPO,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )


# -- (b) the handler never answers what a feature owns -------------------------


def test_cors_plan_answers_no_cors_header() -> None:
    doc = cors_doc(cors={"allowed_origins": ["https://example.com"]})
    plan = run.build_plan(case(doc))
    (route,) = plan.routes
    names = [k.lower() for k, _ in route.answer.headers]
    assert not [n for n in names if n.startswith("access-control-") or n == "vary"]
    assert names == ["content-type"]
    assert plan.features == ["cors"]
    assert plan.withheld == ["Access-Control-Allow-Origin", "Vary"]


def test_cors_headers_are_never_the_handlers_even_unconfigured() -> None:
    # The case configures nothing, but only CORS produces its headers.
    plan = run.build_plan(case(cors_doc()))
    (route,) = plan.routes
    assert route.answer.headers == [("content-type", "application/json")]
    assert plan.features == ["cors"]
    assert plan.withheld == ["Access-Control-Allow-Origin", "Vary"]


def test_plain_plan_answers_listed_headers_but_never_placeholders() -> None:
    doc = cors_doc()
    doc["expected_response"]["headers"] = {
        "X-Custom": "yes",
        "x-request-id": "<<uuid>>",
    }
    plan = run.build_plan(case(doc))
    (route,) = plan.routes
    assert route.answer.headers == [
        ("X-Custom", "yes"),
        ("content-type", "application/json"),
    ]
    assert plan.features == [] and plan.withheld == []


def test_answer_bytes_are_compact_utf8_json() -> None:
    (route,) = run.build_plan(case(cors_doc())).routes
    assert route.answer.status == 200
    assert route.answer.body == '{"items":["é"]}'.encode()


def test_body_limit_becomes_config() -> None:
    doc = cors_doc(middleware={"body_limit": {"max_bytes": 16}})
    plan = run.build_plan(case(doc))
    assert plan.config == {"max_body_size": 16}
    assert plan.features == ["middleware"]


def test_plan_message_frames_the_body() -> None:
    message = run.plan_message("cors/probe", run.build_plan(case(cors_doc())))
    assert message == (
        b"case cors/probe\n"
        b"config {}\n"
        b'route {"method":"GET","path":"/items"}\n'
        b"answer 200\n"
        b"header content-type: application/json\n"
        b"body 16\n" + '{"items":["é"]}'.encode() + b"\nserve\n"
    )


def test_runner_never_imports_spikard() -> None:
    tree = ast.parse(RUNNER.read_text(encoding="utf-8"))
    imported = [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    ] + [
        node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
    ]
    assert not [m for m in imported if m.split(".")[0] == "spikard"]


# -- (a) a wrong server fails the run -------------------------------------------


@pytest.fixture(scope="module")
def broken_c() -> Path:
    """build/parity/server-c-broken: every answer's status one too high."""
    build = subprocess.run(
        ["bash", "tests/parity/servers/c/build.sh", "broken"],
        cwd=REPO,
        check=False,
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    assert BROKEN_C.exists()
    return BROKEN_C


def test_broken_c_server_fails_with_readable_diff(
    broken_c: Path, tmp_path: Path
) -> None:
    fixtures = tmp_path / "fixtures"
    write_case(
        fixtures,
        "status_codes/plain_ok",
        {
            "name": "A plain 200",
            "description": "the handler's 200 passes through",
            "handler": {"route": "/ok", "method": "GET"},
            "request": {"method": "GET", "path": "/ok"},
            "expected_response": {"status_code": 200, "body": {"ok": True}},
        },
    )
    servers = tmp_path / "servers.json"
    servers.write_text(
        json.dumps(
            {"python": [sys.executable, str(PYTHON_SERVER)], "c": [str(broken_c)]}
        )
    )
    result = run_runner("--fixtures", str(fixtures), "--servers-file", str(servers))
    out = result.stdout
    assert result.returncode != 0, out + result.stderr
    assert (
        "- c status_codes/plain_ok: A plain 200\n    status: want 200, got 201\n" in out
    )
    assert "- python status_codes/plain_ok" not in out
    assert "- status_codes/plain_ok: python vs c: status 200 != 201" in out
    assert out.rstrip().endswith("1 passed, 1 failed")


def test_missing_server_is_reported(tmp_path: Path) -> None:
    fixtures = tmp_path / "fixtures"
    write_case(
        fixtures,
        "status_codes/plain_ok",
        {
            "name": "A plain 200",
            "description": "the handler's 200 passes through",
            "handler": {"route": "/ok", "method": "GET"},
            "request": {"method": "GET", "path": "/ok"},
            "expected_response": {"status_code": 200},
        },
    )
    servers = tmp_path / "servers.json"
    missing = tmp_path / "no-such-server"
    servers.write_text(
        json.dumps(
            {"python": [sys.executable, str(PYTHON_SERVER)], "c": [str(missing)]}
        )
    )
    result = run_runner("--fixtures", str(fixtures), "--servers-file", str(servers))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"c: not run, {missing} not found" in result.stdout
    asked = run_runner(
        "--fixtures", str(fixtures), "--servers-file", str(servers), "--languages", "c"
    )
    assert asked.returncode == 2
    assert f"c: {missing} not found" in asked.stderr


# -- (c) a case a language cannot express is n/a, never a pass -----------------

UNSUPPORTING_SERVER = """\
import sys
print("spikard-fixture 1 nolang", flush=True)
for line in sys.stdin.buffer:
    if line.startswith(b"body "):
        sys.stdin.buffer.read(int(line.split()[1]) + 1)
    elif line.strip() == b"serve":
        print("unsupported this language has no way to say it", flush=True)
"""


def test_unsupported_case_is_na_not_passed(tmp_path: Path) -> None:
    fixtures = tmp_path / "fixtures"
    write_case(
        fixtures,
        "status_codes/plain_ok",
        {
            "name": "A plain 200",
            "description": "the handler's 200 passes through",
            "handler": {"route": "/ok", "method": "GET"},
            "request": {"method": "GET", "path": "/ok"},
            "expected_response": {"status_code": 200, "body": {"ok": True}},
        },
    )
    server = tmp_path / "nolang.py"
    server.write_text(UNSUPPORTING_SERVER)
    servers = tmp_path / "servers.json"
    servers.write_text(
        json.dumps(
            {
                "python": [sys.executable, str(PYTHON_SERVER)],
                "nolang": [sys.executable, str(server)],
            }
        )
    )
    result = run_runner("--fixtures", str(fixtures), "--servers-file", str(servers))
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    row = next(line for line in out.splitlines() if line.startswith("status_codes"))
    assert row.split()[1:] == ["1/1", "n/a"], row

    assert out.rstrip().endswith("1 passed, 0 failed, 1 n/a")
