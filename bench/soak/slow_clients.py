#!/usr/bin/env python3
"""Slow clients held open against a server, for the soak (bench/soak/soak.py).

    python3 bench/soak/slow_clients.py --port PORT [--host 127.0.0.1]
                                       [--count 1000] [--ramp 5] [--trickle-every 3]

Half the clients trickle a request head: the request line at once, then one
byte of a header field every --trickle-every seconds, never the blank line
that ends the head. The server's header_timeout (10 s by default) answers
each such head 408 and closes. The other half send one whole request, read
its answer and hold the connection as an idle keep-alive; the server's
read_timeout (30 s by default) closes it. Every client reconnects as soon as
its connection is closed, so about --count connections stay open for as long
as this runs, whatever the server's timeouts; the clients start evenly over
--ramp seconds, which also spreads their reconnections.

Standard library only (asyncio). Every second one JSON line goes to stdout:
open connections now, connections made, answers by status, connections the
server closed, connect failures and resets. SIGTERM or SIGINT closes every
connection, prints a last line and exits 0.
"""

import argparse
import asyncio
import json
import resource
import signal
import sys
import time


class Stats:
    def __init__(self) -> None:
        self.open = 0  # connected, not yet closed
        self.connects = 0
        self.closed_by_server = 0
        self.answers: dict[str, int] = {}
        self.connect_errors = 0
        self.resets = 0

    def answered(self, head: bytes) -> None:
        parts = head.split(b" ", 2)
        status = parts[1].decode(errors="replace") if len(parts) > 1 else "?"
        self.answers[status] = self.answers.get(status, 0) + 1

    def line(self, final: bool = False) -> str:
        return json.dumps(
            {
                "t": time.monotonic(),
                "open": self.open,
                "connects": self.connects,
                "closed_by_server": self.closed_by_server,
                "answers": self.answers,
                "connect_errors": self.connect_errors,
                "resets": self.resets,
                "final": final,
            }
        )


async def read_answer(reader: asyncio.StreamReader) -> bytes:
    """One whole answer (head and Content-Length body); its status line."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for field in head.split(b"\r\n")[1:]:
        name, _, value = field.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length:
        await reader.readexactly(length)
    return head.split(b"\r\n", 1)[0]


async def trickle_once(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    stats: Stats,
    every: float,
) -> None:
    """A head that never ends: a byte every `every` seconds until the server
    answers (408) or closes."""
    writer.write(b"GET /users/1 HTTP/1.1\r\nHost: soak\r\nX-Slow: ")
    await writer.drain()
    while True:
        try:
            first = await asyncio.wait_for(reader.read(1), timeout=every)
        except TimeoutError:
            writer.write(b"a")
            await writer.drain()
            continue
        if not first:
            return  # closed without an answer
        try:
            rest = await reader.readuntil(b"\r\n\r\n")
            stats.answered((first + rest).split(b"\r\n", 1)[0])
        except asyncio.IncompleteReadError:
            stats.answered(b"? incomplete")
        return  # the server closes after its 408; reconnect


async def idle_once(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, stats: Stats, i: int
) -> None:
    """One whole request, then an idle keep-alive connection until the
    server closes it."""
    writer.write(f"GET /users/{i} HTTP/1.1\r\nHost: soak\r\n\r\n".encode())
    await writer.drain()
    stats.answered(await read_answer(reader))
    while await reader.read(4096):
        pass  # nothing more is expected; wait for the close


async def client(
    i: int, args: argparse.Namespace, stats: Stats, stop: asyncio.Event
) -> None:
    await asyncio.sleep(args.ramp * i / args.count)
    trickle = i % 2 == 0
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection(args.host, args.port)
        except OSError:
            stats.connect_errors += 1
            await asyncio.sleep(1.0)
            continue
        stats.connects += 1
        stats.open += 1
        try:
            if trickle:
                await trickle_once(reader, writer, stats, args.trickle_every)
            else:
                await idle_once(reader, writer, stats, i)
            stats.closed_by_server += 1
        except (ConnectionError, asyncio.IncompleteReadError):
            stats.resets += 1
        finally:
            stats.open -= 1
            writer.close()


async def main_async(args: argparse.Namespace) -> None:
    stats = Stats()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    tasks = [
        asyncio.create_task(client(i, args, stats, stop)) for i in range(args.count)
    ]
    while not stop.is_set():
        print(stats.line(), flush=True)
        try:
            await asyncio.wait_for(stop.wait(), timeout=1.0)
        except TimeoutError:
            pass
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    print(stats.line(final=True), flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--ramp", type=float, default=5.0, help="seconds to start all")
    ap.add_argument("--trickle-every", type=float, default=3.0)
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.count + 64
    if soft < want:
        if hard != resource.RLIM_INFINITY and hard < want:
            sys.exit(f"slow_clients: RLIMIT_NOFILE hard limit {hard} < {want}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    asyncio.run(main_async(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
