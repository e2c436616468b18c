"""Exceptions a Spikard user may catch."""

from __future__ import annotations

__all__ = ["ListenError", "listen_error"]


class ListenError(OSError):
    """The server could not listen on ``host``:``port`` (the port is in use,
    the address is not this machine's, or binding it needs privileges);
    ``reason`` is the system's words."""

    def __init__(self, host: str, port: int, reason: str) -> None:
        super().__init__(f"cannot listen on {host}:{port}: {reason}")
        self.host = host
        self.port = port
        self.reason = reason


def listen_error(host: str, port: int, message: str) -> ListenError:
    """A ListenError from the core's message for a listener it could not
    open; the reason is what follows the address in it, when it names it."""
    _, found, rest = message.rpartition(f"{host}:{port}: ")
    return ListenError(host, port, rest if found else message)
