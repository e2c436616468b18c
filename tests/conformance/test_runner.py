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
    # The CORS headers still make CORS the feature the case relies on, but a
    # body limit alone is config, not a feature.
    assert plan.features == ["cors"]
    plain = run.build_plan(
        case(
            {**cors_doc(middleware={"body_limit": {"max_bytes": None}})},
            "body_limits/x",
        )
    )
    assert plain.config == {"max_body_size": 0}  # null disables the limit


def test_handler_settings_become_config() -> None:
    handler = {
        "route": "/d",
        "method": "POST",
        "max_uri_length": 2048,
        "max_headers": 10,
        "max_header_size": 512,
        "max_depth": 8,
        "max_body_size": 64,
        "middleware": {"body_limit": {"max_bytes": 32}},
    }
    doc = {
        "name": "limits",
        "handler": handler,
        "request": {"method": "POST", "path": "/d", "body": {}},
        "expected_response": {"status_code": 200, "headers": {"X-Seen": "1"}},
    }
    plan = run.build_plan(case(doc, "edge_cases/limits"))
    assert plan.config == {
        "max_body_size": 64,
        "max_uri_length": 2048,
        "max_header_count": 10,
        "max_header_size": 512,
        "max_json_depth": 8,
    }
    # Settings are config, not features: the handler still answers the
    # case's headers, and no setting reaches the route document.
    assert plan.features == [] and plan.withheld == []
    (route,) = plan.routes
    assert route.doc == {"method": "POST", "path": "/d"}
    assert ("X-Seen", "1") in route.answer.headers


def test_a_limits_error_is_never_the_handlers() -> None:
    # {"detail": ...} is what an application raises, but a case that sets a
    # limit expects the limit's error: the framework must produce it.
    doc = {
        "name": "too long",
        "handler": {"route": "/d", "method": "GET", "max_uri_length": 16},
        "request": {"method": "GET", "path": "/d?q={{ repeat 'x' 40 times }}"},
        "expected_response": {"status_code": 414, "body": {"detail": "URI too long"}},
    }
    (route,) = run.build_plan(case(doc, "status_codes/uri")).routes
    assert route.answer.body == b'{"conformance":"handler reached"}'


def test_templates_expand_in_every_string() -> None:
    doc = {
        "request": {
            "path": "/data?{{ repeat 'p=v&' 3 times }}",
            "headers": {"X-Long": "{{ repeat 'x' 5 times }}"},
            "body": {"data": "a{{repeat 'ab' 2 times}}b", "n": 3},
        },
        "expected_response": {"body": ["{{ repeat 'é' 2 times }}"]},
        "skip": "{{ not a template }}",
    }
    assert run.expand_templates(doc) == {
        "request": {
            "path": "/data?p=v&p=v&p=v&",
            "headers": {"X-Long": "xxxxx"},
            "body": {"data": "aababb", "n": 3},
        },
        "expected_response": {"body": ["éé"]},
        "skip": "{{ not a template }}",
    }
    with pytest.raises(ValueError, match="expands past"):
        run.expand_templates("{{ repeat 'x' 99999999999 times }}")


def test_templates_expand_when_cases_load(tmp_path: Path) -> None:
    write_case(
        tmp_path,
        "edge_cases/long",
        {
            "name": "long",
            "handler": {"route": "/l", "method": "GET"},
            "request": {"method": "GET", "path": "/l?q={{ repeat 'x' 3 times }}"},
            "expected_response": {"status_code": 200},
        },
    )
    (loaded,) = run.load_cases(tmp_path)
    assert loaded.doc["request"]["path"] == "/l?q=xxx"


def problem(title: str, detail: str, status: int = 413) -> dict[str, Any]:
    return {
        "type": "https://spikard.dev/errors/x",
        "title": title,
        "status": status,
        "detail": detail,
    }


def test_error_message_is_met_by_title_and_detail() -> None:
    want = {
        "error": "Payload Too Large",
        "message": "Request body exceeds max_body_size (8 bytes)",
    }
    doc = {
        "name": "limit",
        "handler": {"route": "/u", "method": "POST", "max_body_size": 8},
        "request": {"method": "POST", "path": "/u", "body": {}},
        "expected_response": {"status_code": 413, "body": want},
    }
    c = case(doc, "body_limits/limit")
    good = json.dumps(problem(want["error"], want["message"])).encode()
    assert run.compare(c, 413, {}, good) == []
    bad = json.dumps(problem(want["error"], "another limit")).encode()
    (diff,) = run.compare(c, 413, {}, bad)
    assert "detail 'another limit'" in diff
    # The shape itself, unwrapped, is never the framework's: a bare
    # {"error", "message"} answer does not meet it through this rule.
    assert not run.same_limit(want, want)
    # The handler never answers it: the framework must.
    (route,) = run.build_plan(c).routes
    assert route.answer.body == b'{"conformance":"handler reached"}'


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
    assert out.rstrip().endswith(
        "1 passed, 1 failed (1 failing the run, 0 reported only)"
    )


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
print("spikard-fixture 2 nolang", flush=True)
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


# -- (d) the divergence list -----------------------------------------------------


def not_found_case(detail: str) -> dict[str, Any]:
    """A case whose 404 the framework answers: it passes when detail is the
    framework's ("Not found") and fails otherwise."""
    return {
        "name": "unknown path",
        "description": "the framework's 404",
        "handler": {"route": "/known", "method": "GET"},
        "request": {"method": "GET", "path": "/unknown"},
        "expected_response": {
            "status_code": 404,
            "body": {
                "type": "https://spikard.dev/errors/not-found",
                "title": "Not Found",
                "status": 404,
                "detail": detail,
            },
        },
    }


def divergence_run(
    tmp_path: Path, entries: list[dict[str, str]], *extra: str
) -> subprocess.CompletedProcess[str]:
    fixtures = tmp_path / "fixtures"
    write_case(fixtures, "status_codes/a_contradicted", not_found_case("Nothing here"))
    write_case(fixtures, "status_codes/b_rule", not_found_case("Not found"))
    listing = tmp_path / "divergences.json"
    listing.write_text(json.dumps({"divergences": entries}))
    return run_runner(
        "--fixtures",
        str(fixtures),
        "--languages",
        "python",
        "--divergences",
        str(listing),
        *extra,
    )


def test_listed_divergent_case_is_counted_apart(tmp_path: Path) -> None:
    entry = {
        "case": "status_codes/a_contradicted",
        "contradicts": "status_codes/b_rule",
        "rule": "the 404's detail is 'Not found'",
    }
    summary = tmp_path / "summary.txt"
    result = divergence_run(tmp_path, [entry], "--summary", str(summary))
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert (
        "- status_codes/a_contradicted (contradicts status_codes/b_rule):"
        " the 404's detail is 'Not found'\n" in out
    )
    assert "- python status_codes/a_contradicted" not in out  # not a failure
    row = next(line for line in out.splitlines() if line.startswith("status_codes"))
    assert row.split()[1:] == ["1/2", "(1", "div)"], row
    assert out.rstrip().endswith("1 passed, 0 failed, 1 divergent")
    assert summary.read_text() == "1 passed, 0 failed, 1 divergent\n"


def test_listed_case_that_passes_fails_the_run(tmp_path: Path) -> None:
    entry = {
        "case": "status_codes/b_rule",
        "contradicts": "status_codes/a_contradicted",
        "rule": "stale",
    }
    result = divergence_run(tmp_path, [entry])
    assert result.returncode == 1, result.stdout + result.stderr
    assert (
        "divergence list: status_codes/b_rule (python) passes: take it off the list"
        in result.stdout
    )
    assert "divergence list is out of date" in result.stdout


@pytest.mark.parametrize("counterpart", ["", "status_codes/no_such_case"])
def test_entry_without_counterpart_fails_the_run(
    tmp_path: Path, counterpart: str
) -> None:
    entry = {
        "case": "status_codes/a_contradicted",
        "contradicts": counterpart,
        "rule": "the 404's detail is 'Not found'",
    }
    result = divergence_run(tmp_path, [entry])
    assert result.returncode == 1, result.stdout + result.stderr
    assert (
        "divergence list: status_codes/a_contradicted: names no counterpart"
        in result.stdout
    )


def test_divergence_entries_of_another_corpus_are_ignored() -> None:
    entries = [
        run.Divergence("x/here", "x/there", "rule"),
        run.Divergence("y/elsewhere", "", ""),
    ]
    applies, mistakes = run.check_divergences(entries, {"x/here", "x/there"})
    assert list(applies) == ["x/here"] and mistakes == []
    _, mistakes = run.check_divergences(
        [run.Divergence("x/here", "x/there", "")], {"x/here", "x/there"}
    )
    assert mistakes == ["x/here: names no rule"]


def test_committed_divergence_list_is_well_formed() -> None:
    entries = run.load_divergences(run.DEFAULT_DIVERGENCES)
    assert entries, "tests/conformance/divergences.json lists no case"
    for e in entries:
        assert e.case and e.contradicts and e.rule, e
        assert e.case != e.contradicts
    assert len({e.case for e in entries}) == len(entries)


def guard_doc(status: int, middleware: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "guarded",
        "handler": {"route": "/p", "method": "GET", "middleware": middleware},
        "request": {"method": "GET", "path": "/p"},
        "expected_response": {
            "status_code": status,
            "body": {
                "type": "https://spikard.dev/errors/unauthorized",
                "status": status,
            },
            "headers": {"WWW-Authenticate": 'Bearer realm="api"'},
        },
    }


def test_guards_become_config_and_own_their_errors() -> None:
    jwt = {"enabled": True, "algorithm": "HS256", "secret": "s"}
    plan = run.build_plan(
        case(
            guard_doc(401, {"jwt_auth": jwt, "api_key_auth": {"enabled": False}}),
            "auth/x",
        )
    )
    # "enabled" is the corpus's switch, not a key of the framework's.
    assert plan.config == {"jwt_auth": {"algorithm": "HS256", "secret": "s"}}
    assert plan.features == ["api_key_auth", "jwt_auth"]
    # The 401 and its challenge are the framework's: the handler answers
    # that it was reached, and sets no WWW-Authenticate.
    (route,) = plan.routes
    assert json.loads(route.answer.body) == {"conformance": "handler reached"}
    assert plan.withheld == ["WWW-Authenticate"]


def test_a_built_features_header_diff_fails_the_run(
    capsys: pytest.CaptureFixture[str],
) -> None:
    c = case(guard_doc(401, {"jwt_auth": {"secret": "s"}}), "auth/x")
    plan = run.build_plan(c)
    r = run.Run(cases=[c], languages=["python"])
    r.plans[c.name] = plan
    r.limits[c.name] = None
    r.outcomes[c.name] = {
        "python": run.Outcome("fail", ["header WWW-Authenticate: want 'x', got None"])
    }
    assert run.print_failures(r) == 1
    assert "reported only" not in capsys.readouterr().out


GZIP_CASE = {
    "name": "gzip",
    "handler": {
        "route": "/g",
        "method": "GET",
        "middleware": {"compression": {"gzip": True, "brotli": False, "min_size": 0}},
    },
    "request": {"method": "GET", "path": "/g", "headers": {"Accept-Encoding": "gzip"}},
    "expected_response": {
        "status_code": 200,
        "body": {"a": "b"},
        "headers": {"content-encoding": "gzip", "vary": "Accept-Encoding"},
    },
}


def test_compression_is_the_frameworks_and_must_decode() -> None:
    import gzip

    c = case(GZIP_CASE, "compression/gzip")
    plan = run.build_plan(c)
    # The config carries the case's compression; the handler answers the
    # plain body and none of the headers compression owns.
    assert plan.config["compression"] == {"gzip": True, "brotli": False, "min_size": 0}
    (route,) = plan.routes
    assert route.answer.body == b'{"a":"b"}'
    assert [k for k, _ in route.answer.headers] == ["content-type"]
    assert set(plan.withheld) == {"content-encoding", "vary"}
    good = {"content-encoding": "gzip", "vary": "Accept-Encoding"}
    assert run.compare(c, 200, good, gzip.compress(b'{"a":"b"}')) == []
    # Plain bytes labelled gzip do not decode: a failure, not a pass.
    (diff,) = run.compare(c, 200, good, b'{"a":"b"}')
    assert diff.startswith("body: content-encoding gzip does not decode")
    # A server that did not compress fails on the header.
    assert run.compare(c, 200, {}, b'{"a":"b"}') == [
        "header content-encoding: want 'gzip', got None",
        "header vary: want 'Accept-Encoding', got None",
    ]
    # A gzip body that decodes to something else fails on the body.
    (diff,) = run.compare(c, 200, good, gzip.compress(b'{"a":"c"}'))
    assert diff.startswith("body:")


def test_static_files_are_written_and_never_a_route() -> None:
    doc = {
        "name": "static",
        "handler": {
            "route": "/public/a.txt",
            "method": "GET",
            "middleware": {
                "static_files": [
                    {
                        "route_prefix": "/public",
                        "cache_control": "max-age=1",
                        "files": [{"path": "d/a.txt", "content": "hi"}],
                    }
                ]
            },
        },
        "request": {"method": "GET", "path": "/public/d/a.txt"},
        "expected_response": {
            "status_code": 200,
            "body": "hi",
            "headers": {"cache-control": "max-age=1"},
        },
    }
    plan = run.build_plan(case(doc, "static_files/static"))
    (mount,) = plan.config["static_files"]
    assert (Path(mount["directory"]) / "d" / "a.txt").read_text() == "hi"
    assert mount["cache_control"] == "max-age=1" and mount["route_prefix"] == "/public"
    # No route at the case's path: a route would answer before the mount.
    assert [r.doc["path"] for r in plan.routes] == [run.UNUSED_ROUTE["path"]]
    assert "cache-control" in plan.withheld


# -- cors, request_id and request_timeout cases become configuration ----------


def test_cors_policy_goes_to_the_route_in_the_cores_words() -> None:
    doc = cors_doc(cors={"allowed_origins": ["https://example.com"], "max_age": 10})
    plan = run.build_plan(case(doc))
    (route,) = plan.routes
    assert route.doc["cors"] == {
        "allow_origins": ["https://example.com"],
        "max_age": 10,
    }
    assert plan.unplayable is None
    assert "cors" in run.plan_message("cors/probe", plan).decode()


def test_cors_case_without_a_policy_is_not_playable() -> None:
    # Only the expected headers say what the policy is: n/a, never a policy
    # made up from them.
    plan = run.build_plan(case(cors_doc()))
    assert (
        plan.unplayable
        == "the case expects CORS behaviour but configures no CORS policy"
    )
    assert "cors" not in plan.routes[0].doc


def test_feature_header_without_its_feature_is_not_playable() -> None:
    # A challenge only an auth guard sends, expected from a case that
    # configures no guard: the handler would have to send it itself.
    doc = {
        "request": {"method": "GET", "path": "/users/me"},
        "expected_response": {
            "status_code": 401,
            "body": {"detail": "Not authenticated"},
            "headers": {"www-authenticate": "Bearer"},
        },
    }
    plan = run.build_plan(case(doc, "status_codes/probe"))
    assert plan.unplayable == (
        "the case expects www-authenticate, which only the auth feature"
        " produces, but configures no auth"
    )
    assert "www-authenticate" in plan.withheld
    # Request ids are on by default: relying on one configures nothing and
    # plays.
    doc["expected_response"] = {"status_code": 200, "headers": {"x-request-id": "r1"}}
    plan = run.build_plan(case(doc, "status_codes/probe"))
    assert plan.unplayable is None and "x-request-id" in plan.withheld


def test_request_id_and_timeout_middleware_are_config() -> None:
    doc = cors_doc(middleware={"request_id": {"enabled": False}})
    doc["expected_response"]["headers"] = {"x-request-id": "<<absent>>"}
    plan = run.build_plan(case(doc, "request_id/probe"))
    assert plan.config == {"request_id": False} and plan.features == []
    doc = cors_doc(middleware={"request_timeout": {"seconds": 1, "sleep_ms": 1500}})
    doc["expected_response"] = {"status_code": 408}
    plan = run.build_plan(case(doc, "request_timeout/probe"))
    (route,) = plan.routes
    assert plan.config == {"request_timeout": 1}
    # The framework must produce the 408: the handler only answers late.
    assert route.answer.status == 200 and route.answer.delay_ms == 1500
    assert b"delay 1500\n" in run.plan_message("request_timeout/probe", plan)


def test_generated_request_ids_are_compared_by_shape_across_languages() -> None:
    doc = cors_doc()
    doc["expected_response"]["headers"] = {"X-Request-ID": ".*"}
    c = case(doc, "lifecycle_hooks/probe")
    a = run.listed_headers(c, {"x-request-id": "56e0208d-c657-4489-85d6-4d2d492c7962"})
    b = run.listed_headers(c, {"x-request-id": "fa8fea81-b231-4715-aaa1-0f78b583dba1"})
    assert a == b == (("x-request-id", "a generated UUID"),)
    assert run.listed_headers(c, {"x-request-id": "mine"}) == (
        ("x-request-id", "mine"),
    )


def test_an_app_case_serves_every_route_and_answers_nothing_itself() -> None:
    """An ``app`` case (tests/parity/openapi): its config and every route
    reach the plan; each route answers {} so that what the case requests
    (the document, a page) can only be the framework's."""
    doc = {
        "app": {
            "config": {"openapi": {"title": "T"}},
            "routes": [
                {"method": "GET", "path": "/a", "tags": ["x"]},
                {"method": "POST", "path": "/b"},
            ],
        },
        "request": {"method": "GET", "path": "/openapi.json"},
        "expected_response": {"status_code": 200, "body": {"openapi": "3.1.0"}},
    }
    plan = run.build_plan(case(doc, "openapi/doc"))
    assert plan.config == {"openapi": {"title": "T"}}
    assert [r.doc for r in plan.routes] == doc["app"]["routes"]  # type: ignore[index]
    for route in plan.routes:
        assert isinstance(route.answer, run.Answer) and route.answer.body == b"{}"
    with pytest.raises(ValueError, match="app: want a config object"):
        run.build_plan(
            case({**doc, "app": {"config": {}, "routes": []}}, "openapi/empty")
        )


# -- dependency injection and lifecycle hooks (the di and lifecycle_hooks
# categories) -------------------------------------------------------------


def di_doc(
    dependencies: dict[str, Any], uses: list[str], body: Any, status: int = 200
) -> dict[str, Any]:
    return {
        "name": "DI probe",
        "handler": {
            "route": "/probe",
            "method": "GET",
            "dependencies": dependencies,
            "handler_dependencies": uses,
        },
        "request": {"method": "GET", "path": "/probe"},
        "expected_response": {"status_code": status, "body": body},
    }


FACTORY = {
    "type": "factory",
    "factory": "make_it",
    "depends_on": [],
    "singleton": False,
}


def test_di_plan_provides_generic_dependencies_and_injects() -> None:
    doc = di_doc(
        {
            "conf": {"type": "value", "value": {"a": 1}},
            "made": {**FACTORY, "cacheable": True},
        },
        ["made", "made"],
        {"first": "<<uuid>>", "second": "<<same_as:first>>"},
    )
    plan = run.build_plan(case(doc, "di/probe"))
    assert plan.unplayable is None
    assert plan.dependencies == [
        {"key": "conf", "kind": "value", "value": {"a": 1}},
        {
            "key": "made",
            "kind": "factory",
            "async": False,
            "depends_on": [],
            "singleton": False,
            "cleanup": False,
        },
    ]
    answer = plan.routes[0].answer
    assert answer.inject == ["made", "made"]
    msg = run.plan_message("di/probe", plan)
    assert b'\ndependency {"key":"made","kind":"factory"' in msg
    assert b'\ninject ["made","made"]\nserve\n' in msg


def test_body_placeholders_are_checks_the_answer_must_meet() -> None:
    want = {"first": "<<uuid>>", "second": "<<same_as:first>>", "t": "<<present>>"}
    one = "00000000-0000-4000-8000-000000000001"
    two = "00000000-0000-4000-8000-000000000002"
    doc = di_doc({"made": FACTORY}, ["made"], want)
    c = case(doc, "di/probe")
    headers = {"content-type": "application/json"}

    def body(v: Any) -> bytes:
        return json.dumps(v).encode()

    assert (
        run.compare(c, 200, headers, body({"first": one, "second": one, "t": 0})) == []
    )
    diffs = run.compare(c, 200, headers, body({"first": one, "second": two, "t": 0}))
    assert diffs == [f'body: $.second: want "<<same_as:first>>", got "{two}"']
    diffs = run.compare(c, 200, headers, body({"first": "x", "second": "x", "t": 0}))
    assert diffs and diffs[0].startswith("body: $.first: want")
    assert run.compare(c, 200, headers, body({"first": one, "second": one}))
    assert run.met_placeholders({"i": "<<instance:2>>"}, {"i": two}) == {"i": two}
    assert run.met_placeholders({"i": "<<instance:1>>"}, {"i": two}) == {
        "i": "<<instance:1>>"
    }


def test_cleanup_events_are_named_by_the_dependency_they_name() -> None:
    keys = ["db_connection", "cache_connection", "session"]
    assert run.cleanup_events(
        ["db_opened", "session_opened", "session_closed"], keys
    ) == [
        "db_connection opened",
        "session opened",
        "session closed",
    ]
    with pytest.raises(ValueError, match="names 2 of the dependencies"):
        run.cleanup_events(["connection_opened"], keys)
    with pytest.raises(ValueError, match="not <name>_opened"):
        run.cleanup_events(["db_started"], keys)


def test_an_uncached_dependency_used_twice_is_not_playable() -> None:
    doc = di_doc({"made": {**FACTORY, "cacheable": False}}, ["made", "made"], {})
    plan = run.build_plan(case(doc, "di/probe"))
    assert plan.unplayable is not None and "not cacheable" in plan.unplayable


def test_hooks_named_in_prose_are_refused_unless_listed() -> None:
    doc = di_doc({}, [], {"ok": True})
    doc["handler"]["middleware"] = {
        "lifecycle_hooks": {"pre_handler": [{"name": "auth", "handler": "check_token"}]}
    }
    with pytest.raises(ValueError, match=r"pre_handler:check_token"):
        run.build_plan(case(doc, "lifecycle_hooks/probe"))


def di_run(
    tmp_path: Path, docs: dict[str, dict[str, Any]], listing: dict[str, Any]
) -> subprocess.CompletedProcess[str]:
    fixtures = tmp_path / "fixtures"
    for name, doc in docs.items():
        write_case(fixtures, name, doc)
    path = tmp_path / "divergences.json"
    path.write_text(json.dumps({"divergences": [], **listing}))
    return run_runner(
        "--fixtures", str(fixtures), "--languages", "python", "--divergences", str(path)
    )


def test_per_request_caching_is_the_frameworks(tmp_path: Path) -> None:
    same = {"first": "<<uuid>>", "second": "<<same_as:first>>"}
    cached = di_doc({"made": {**FACTORY, "cacheable": True}}, ["made", "made"], same)
    # Two dependencies are two instances: the same check must fail.
    two = di_doc({"a": FACTORY, "b": FACTORY}, ["a", "b"], same)
    result = di_run(tmp_path, {"di/cached": cached, "di/two": two}, {})
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    assert "- python di/two: DI probe\n" in out
    assert '$.second: want "<<same_as:first>>"' in out
    assert "- python di/cached" not in out
    assert out.rstrip().endswith(
        "1 passed, 1 failed (1 failing the run, 0 reported only)"
    )


def test_listed_inexpressible_case_is_na_with_its_reason(tmp_path: Path) -> None:
    doc = di_doc({}, [], {"ok": True})
    doc["handler"]["middleware"] = {
        "lifecycle_hooks": {"on_request": [{"name": "log", "handler": "log_it"}]}
    }
    plain = di_doc({}, [], {"ok": True})
    entry = {"case": "lifecycle_hooks/prose", "reason": "log_it is prose"}
    result = di_run(
        tmp_path, {"lifecycle_hooks/prose": doc}, {"inexpressible": [entry]}
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "- lifecycle_hooks/prose: log_it is prose\n" in result.stdout
    assert result.stdout.rstrip().endswith("0 passed, 0 failed, 1 n/a")
    # Unlisted: the plan is refused, and the category is owned.
    result = di_run(tmp_path / "b", {"lifecycle_hooks/prose": doc}, {})
    assert result.returncode == 1
    assert "names hook functions (on_request:log_it)" in result.stdout
    # Listed but playable: the list is out of date.
    entry = {"case": "lifecycle_hooks/plain", "reason": "stale"}
    result = di_run(
        tmp_path / "c", {"lifecycle_hooks/plain": plain}, {"inexpressible": [entry]}
    )
    assert result.returncode == 1
    assert "lifecycle_hooks/plain is listed as inexpressible" in result.stdout
