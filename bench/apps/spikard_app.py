"""Spikard's side of the benchmark: the WORKLOADS.md handlers as a user writes them.

Handlers are ``async def`` and take typed values (a ``str`` path parameter, a
msgspec ``Struct`` body), because decoding and validation are part of the work
users pay for. bench/run.py starts this file pinned to one core:

    python bench/apps/spikard_app.py --port 8000
"""

import argparse

import msgspec
from spikard import Spikard


class Small(msgspec.Struct):
    """json-small: every field required; ``tax`` may be null."""

    name: str
    description: str
    price: float
    tax: float | None


app = Spikard()


@app.get("/path/simple/{id}")
async def path_simple(id: str) -> dict[str, str]:
    return {"id": id}


@app.post("/json/small")
async def json_small(body: Small) -> Small:
    return body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app.run(host=args.host, port=args.port)


if __name__ == "__main__":
    main()
