"""The wheel smoke test (ci/wheel.sh): run by a fresh virtualenv's Python
with a PATH that holds no go and no compiler. Imports spikard from the
installed wheel, loads the brief's Quick Start (examples/python/quickstart.py,
the file `make run` serves) without running its main block, serves it on an
ephemeral port and checks both of its routes."""

from __future__ import annotations

import json
import runpy
import shutil
import sys
import urllib.request
from pathlib import Path

import spikard

for tool in ("go", "gcc", "cc"):
    assert shutil.which(tool) is None, (
        f"{tool} is on PATH: the smoke test must run without it"
    )
installed = Path(spikard.__file__).resolve()
assert "site-packages" in installed.parts, (
    f"spikard imported from {installed}, not the wheel"
)

quickstart = (
    Path(__file__).resolve().parents[1] / "examples" / "python" / "quickstart.py"
)
app = runpy.run_path(str(quickstart), run_name="wheel_smoke")["app"]
server = app.serve_in_background(host="127.0.0.1", port=0)
base = f"http://127.0.0.1:{server.port}"
try:
    with urllib.request.urlopen(f"{base}/users/7", timeout=10) as resp:
        assert resp.status == 200, resp.status
        body = json.loads(resp.read())
    assert body == {"id": 7, "name": "Alice", "email": "alice@example.com"}, body
    user = {"id": 1, "name": "A", "email": "a@x.io"}
    req = urllib.request.Request(
        f"{base}/users",
        data=json.dumps(user).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert json.loads(resp.read()) == user
finally:
    server.stop()
print(f"wheel smoke: {Path(sys.argv[1]).name} on Python {sys.version.split()[0]}: ok")
