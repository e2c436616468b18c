"""The wheel smoke test (ci/wheel.sh): run by a fresh virtualenv's Python
with a PATH that holds no go and no compiler. Imports spikard from the
installed wheel, serves the Quick Start's first route on an ephemeral port
and checks one answer."""

from __future__ import annotations

import json
import shutil
import sys
import urllib.request
from pathlib import Path

from msgspec import Struct

import spikard
from spikard import Spikard

for tool in ("go", "gcc", "cc"):
    assert shutil.which(tool) is None, f"{tool} is on PATH: the smoke test must run without it"
installed = Path(spikard.__file__).resolve()
assert "site-packages" in installed.parts, f"spikard imported from {installed}, not the wheel"


class User(Struct):
    id: int
    name: str
    email: str


app = Spikard()


@app.get("/users/{user_id}")
async def get_user(user_id: int) -> User:
    return User(id=user_id, name="Alice", email="alice@example.com")


server = app.serve_in_background(host="127.0.0.1", port=0)
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/users/7", timeout=10) as resp:
        body = json.loads(resp.read())
        assert resp.status == 200, resp.status
    assert body == {"id": 7, "name": "Alice", "email": "alice@example.com"}, body
finally:
    server.stop()
print(f"wheel smoke: {Path(sys.argv[1]).name} on Python {sys.version.split()[0]}: ok")
