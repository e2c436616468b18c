"""The OpenAPI document of a Python app: what the decorators and types say,
valid OpenAPI 3.1, and fuzzed by schemathesis against the app it describes."""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import pytest
from openapi_spec_validator import validate
from pydantic import BaseModel

from spikard import ServerConfig, Spikard
from spikard.config import OpenApiConfig

REPO = Path(__file__).resolve().parents[3]
SAMPLE = REPO / "examples" / "python" / "openapi_app.py"


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as res:
            return res.status, {k.lower(): v for k, v in res.getheaders()}, res.read()
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()


def document(app: Spikard, path: str = "/openapi.json") -> dict[str, Any]:
    with app.serve_in_background() as server:
        status, headers, body = fetch(server.url + path)
    assert status == 200 and headers["content-type"] == "application/json"
    doc: dict[str, Any] = json.loads(body)
    validate(doc)  # openapi-spec-validator: OpenAPI 3.1, schemas included
    return doc


class Pet(msgspec.Struct):
    name: str
    age: int = 0


@dataclass
class Toy:
    label: str


class Owner(BaseModel):
    name: str
    pets: list[str] = []


def test_docstring_keywords_and_models() -> None:
    app = Spikard(config=ServerConfig(openapi=OpenApiConfig(title="Pets", version="3.0.0")))

    @app.get("/pets/{pet_id:int}", tags=["pets"])
    async def read_pet(pet_id: int) -> Pet:
        """Read a pet.

        The pet's name and age,
        by id."""
        return Pet(name="Rex")

    @app.post("/pets", status_code=201, summary="Add a pet", operation_id="add_pet")
    async def add_pet(pet: Pet) -> Pet:
        """Ignored summary line.

        Kept as the description."""
        return pet

    @app.post("/toys")
    def add_toy(toy: Toy) -> Toy:
        return toy

    @app.post("/owners")
    def add_owner(owner: Owner) -> Owner:
        return owner

    doc = document(app)
    assert doc["info"] == {"title": "Pets", "version": "3.0.0"}
    read = doc["paths"]["/pets/{pet_id}"]["get"]
    assert read["summary"] == "Read a pet."
    assert read["description"] == "The pet's name and age,\nby id."
    assert read["tags"] == ["pets"]
    assert read["operationId"] == "get_pets_pet_id"
    assert read["parameters"] == [
        {"in": "path", "name": "pet_id", "required": True, "schema": {"type": "integer"}}
    ]
    ref = {"$ref": "#/components/schemas/Pet"}
    assert read["responses"]["200"]["content"]["application/json"]["schema"] == ref
    add = doc["paths"]["/pets"]["post"]
    assert (add["summary"], add["description"], add["operationId"]) == (
        "Add a pet",
        "Kept as the description.",
        "add_pet",
    )
    assert add["requestBody"]["content"]["application/json"]["schema"] == ref
    assert add["responses"]["201"]["content"]["application/json"]["schema"] == ref
    assert "description" not in doc["paths"]["/toys"]["post"]  # no docstring
    schemas = doc["components"]["schemas"]
    assert {"Pet", "Toy", "Owner", "ValidationProblem"} <= set(schemas)
    assert schemas["Pet"]["properties"]["age"] == {"type": "integer", "default": 0}
    owner = doc["paths"]["/owners"]["post"]["requestBody"]["content"]["application/json"]
    assert owner["schema"] == {"$ref": "#/components/schemas/Owner"}


def test_pages_and_assets_are_the_apps() -> None:
    app = Spikard(config=ServerConfig(openapi=OpenApiConfig(redoc_path=None)))

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    with app.serve_in_background() as server:
        status, headers, page = fetch(server.url + "/docs")
        assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
        assert "script-src 'self'" in headers["content-security-policy"]
        for asset in (
            "/docs/swagger-ui-bundle.js",
            "/docs/swagger-init.js",
            "/docs/swagger-ui.css",
        ):
            assert asset.encode() in page
            status, headers, body = fetch(server.url + asset)
            assert status == 200 and len(body) > 0, asset
        assert b"http" not in page  # no CDN: every URL is the app's own
        assert fetch(server.url + "/redoc")[0] == 404


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "", ": must be a non-empty string"),
        ("swagger_ui_path", "docs", ": must be a path"),
        ("enabled", "yes", ": must be true or false"),
        ("redoc_path", "/docs", ': "swagger_ui_path" and "redoc_path" are both "/docs"'),
    ],
)
def test_config_refused_naming_the_field(field: str, value: object, message: str) -> None:
    with pytest.raises(ValueError) as info:
        OpenApiConfig(**{field: value})  # type: ignore[arg-type]
    assert str(info.value).startswith(f"OpenApiConfig.{field}={value!r}{message}"), info.value


def test_server_config_takes_only_openapi_config() -> None:
    with pytest.raises(ValueError, match=r"ServerConfig.openapi=.*must be an OpenApiConfig"):
        ServerConfig(openapi={"title": "x"})  # type: ignore[arg-type]


def test_duplicate_operation_id_fails_at_start() -> None:
    app = Spikard(config=ServerConfig(openapi=OpenApiConfig()))

    @app.get("/a", operation_id="same")
    def a() -> None: ...

    @app.get("/b", operation_id="same")
    def b() -> None: ...

    with pytest.raises(Exception, match='operation_id "same" is declared by GET /a and by GET /b'):
        app.serve_in_background()


def test_schemathesis_finds_nothing(tmp_path: Path) -> None:
    """schemathesis (PyPI) fuzzes every operation of the sample app: no 5xx,
    no undocumented status, no answer outside its documented schema or
    media type. Bounded: 60 s of fuzzing, 90 s in all."""
    app = runpy.run_path(str(SAMPLE), run_name="sample")["app"]
    with app.serve_in_background() as server:
        cli = Path(sys.executable).with_name("schemathesis")
        started = time.monotonic()
        result = subprocess.run(
            [
                str(cli),
                "run",
                server.url + "/openapi.json",
                "--checks",
                "not_a_server_error,status_code_conformance,"
                "response_schema_conformance,content_type_conformance",
                "--phases",
                "examples,coverage,fuzzing",
                "--max-examples",
                "25",
                "--max-time",
                "60",
                "--seed",
                "1",
            ],
            capture_output=True,
            text=True,
            timeout=90,
            cwd=tmp_path,  # its .schemathesis cache stays out of the tree
            env={**os.environ, "NO_COLOR": "1"},
        )
        took = time.monotonic() - started
    tail = result.stdout[-4000:] + result.stderr[-2000:]
    assert result.returncode == 0, tail
    assert "Tested: 12" in result.stdout, tail  # every operation of the sample app
    assert took < 90
