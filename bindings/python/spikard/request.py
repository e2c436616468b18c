"""Request: the raw HTTP request, for handlers that declare a ``Request`` parameter.

A route whose handler has a parameter annotated ``Request`` asks the core for
the facts of :data:`REQUEST_FACTS`: the method, path, raw query and headers,
and the cookies and query pairs already parsed, by the core's rules, so
every binding reads them the same way. The mappings here are built lazily,
on first access, so a handler pays only for what it reads.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import msgspec

__all__ = ["CLAIMS_HEADER", "REQUEST_FACTS", "Headers", "Request", "claims_of"]

CLAIMS_HEADER = ":claims"
"""The header pair the core carries fact "claims" in (spikard.h): the last
pair, under a name no HTTP/1.1 field can have."""


def split_claims(headers: list[tuple[str, str]]) -> tuple[list[tuple[str, str]], str | None]:
    """The request's own headers, and the verified claims' JSON text if the
    core appended them."""
    if headers and headers[-1][0] == CLAIMS_HEADER:
        return headers[:-1], headers[-1][1]
    return headers, None


def decode_claims(text: str | None) -> dict[str, Any] | None:
    """The claims' JSON text (UTF-8 bytes the event decoded as Latin-1) as a
    dict subclass :class:`spikard.Claims`."""
    if text is None:
        return None
    from .auth import Claims

    return Claims(msgspec.json.decode(text.encode("latin-1")))


def claims_of(meta: Any) -> dict[str, Any] | None:
    """The claims of an event's meta tuple, or None."""
    if meta is None:
        return None
    return decode_claims(split_claims(meta[3])[1])


REQUEST_FACTS = ("meta", "cookies", "query", "claims")
"""The route facts a ``Request`` parameter needs (spikard.h, route "facts")."""


class Headers(Mapping[str, str]):
    """Request headers: a read-only, case-insensitive mapping.

    ``headers["X-Token"]`` and ``headers.get("x-token")`` name the same
    header. A repeated header maps to its first value; :meth:`getlist` gives
    them all in arrival order.
    """

    __slots__ = ("_first", "_raw")

    def __init__(self, raw: list[tuple[str, str]]) -> None:
        # The core sends lower-case names; lower() again for hand-made lists.
        self._raw = [(k.lower(), v) for k, v in raw]
        first: dict[str, str] = {}
        for k, v in self._raw:
            first.setdefault(k, v)
        self._first = first

    def __getitem__(self, key: str) -> str:
        return self._first[key.lower()]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._first

    def __iter__(self) -> Iterator[str]:
        return iter(self._first)

    def __len__(self) -> int:
        return len(self._first)

    def getlist(self, key: str) -> list[str]:
        """Every value of a header, in the order received."""
        key = key.lower()
        return [v for k, v in self._raw if k == key]

    def raw(self) -> list[tuple[str, str]]:
        """The headers as (lower-case name, value) pairs, repeats included."""
        return list(self._raw)

    def __repr__(self) -> str:
        return f"Headers({self._raw!r})"


class Request:
    """The request as received: method, path, query, headers, cookies and body.

    ``query`` maps each query key to the list of its values (in order);
    ``cookies`` maps cookie names to values; ``body`` is the raw body bytes
    (``b""`` when there is none) and :meth:`json` decodes it.
    """

    __slots__ = (
        "_claims",
        "_claims_text",
        "_cookie_pairs",
        "_cookies",
        "_headers",
        "_query",
        "_query_pairs",
        "_raw_headers",
        "body",
        "method",
        "path",
        "path_params",
        "query_string",
    )

    def __init__(
        self,
        method: str,
        path: str,
        query_string: str,
        headers: list[tuple[str, str]],
        body: bytes | None,
        path_params: Mapping[str, Any] | None = None,
        cookie_pairs: list[tuple[str, str]] | None = None,
        query_pairs: list[tuple[str, str]] | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.query_string = query_string
        """The raw query string, without ``?``."""
        self.body: bytes = body if body is not None else b""
        self.path_params: Mapping[str, Any] = path_params or {}
        self._raw_headers, self._claims_text = split_claims(headers)
        self._claims: dict[str, Any] | None = None
        self._headers: Headers | None = None
        self._query: dict[str, list[str]] | None = None
        self._cookies: dict[str, str] | None = None
        self._cookie_pairs = cookie_pairs or []
        self._query_pairs = query_pairs or []

    @classmethod
    def from_event(cls, meta: Any, facts: Any, body: bytes | None) -> Request:
        """Build from the event's ``(method, path, query, headers)`` tuple and
        its ``(cookies, query_pairs, uploads)`` facts."""
        cookies, query = (facts[0], facts[1]) if facts is not None else (None, None)
        if meta is None:
            return cls("", "", "", [], body, None, cookies, query)
        method, path, query_string, headers = meta
        return cls(method, path, query_string, headers, body, None, cookies, query)

    @property
    def headers(self) -> Headers:
        if self._headers is None:
            self._headers = Headers(self._raw_headers)
        return self._headers

    @property
    def query(self) -> dict[str, list[str]]:
        if self._query is None:
            query: dict[str, list[str]] = {}
            for name, value in self._query_pairs:
                query.setdefault(name, []).append(value)
            self._query = query
        return self._query

    @property
    def query_params(self) -> dict[str, list[str]]:
        """Alias of :attr:`query`."""
        return self.query

    @property
    def cookies(self) -> dict[str, str]:
        """Cookie names to values; the first of a repeated name wins, as
        browsers send the most specific cookie first."""
        if self._cookies is None:
            cookies: dict[str, str] = {}
            for name, value in self._cookie_pairs:
                cookies.setdefault(name, value)
            self._cookies = cookies
        return self._cookies

    @property
    def claims(self) -> dict[str, Any] | None:
        """The verified claims of the request's JWT (a :class:`spikard.Claims`),
        or None when the route's guard verified none."""
        if self._claims is None and self._claims_text is not None:
            self._claims = decode_claims(self._claims_text)
        return self._claims

    @property
    def request_id(self) -> str | None:
        """The request's id, as its answer's ``X-Request-ID`` carries it (the
        core gives every request one unless ``ServerConfig.enable_request_id``
        is False; then the client's header, if any)."""
        return self.headers.get("x-request-id")

    def json(self) -> Any:
        """The body decoded as JSON (``None`` for an empty body)."""
        return msgspec.json.decode(self.body) if self.body else None

    def __repr__(self) -> str:
        return f"Request({self.method} {self.path})"
