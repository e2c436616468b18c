"""Spikard's side of the realtime benchmark, as a user writes it.

``/ws`` echoes each JSON message (the brief's message-handler style: the
message decoded into a dict, the reply encoded back); ``/sse`` streams
small JSON events to each subscriber as fast as it reads them.
bench/realtime/harness.py starts it pinned to CPU 0:

    python bench/realtime/apps/spikard_app.py --port 8000
"""

import argparse
from collections.abc import AsyncIterator

from spikard import ServerConfig, Spikard

app = Spikard()


@app.websocket("/ws")
async def echo(message: dict) -> dict:
    return message


@app.sse("/sse")
async def events() -> AsyncIterator[dict]:
    seq = 0
    while True:
        yield {"seq": seq, "text": "hello, realtime"}
        seq += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app.run(config=ServerConfig(host=args.host, port=args.port))


if __name__ == "__main__":
    main()
