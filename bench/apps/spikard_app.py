"""Spikard's side of the benchmark: the WORKLOADS.md handlers as a user writes them.

Handlers take typed values (str/int/UUID/date path parameters, typed query
parameters, msgspec ``Struct`` bodies and form models, an ``UploadFile``),
because decoding and validation are part of the work users pay for. They are
``async def``; ``--sync`` registers the same handlers as plain ``def`` instead,
reported beside them. bench/run.py starts this file pinned to one core:

    python bench/apps/spikard_app.py --port 8000 [--sync] [--access-log [--records]] [--compression]

``--access-log`` turns the core's access log on (``ServerConfig(access_log=True)``);
with ``--records`` every line also becomes a ``spikard.access`` record that a
logging handler formats and writes (to /dev/null): the cost a user who reads
the lines pays. Without it ``spikard.access`` is left at WARNING, so the
lines are formatted and shipped by the core and dropped by the binding.
"""

import argparse
import datetime
import logging
import os
import sys
import uuid
from pathlib import Path

from spikard import CompressionConfig, CorsConfig, ServerConfig, Spikard

SYNC = "--sync" in sys.argv
HOOKS = "--hooks" in sys.argv  # one no-op lifecycle hook in each phase
# --host-hooks: only the phases that run inside the request's own visit
# (pre_handler, on_response, on_error): the cost of hooks without a pre visit.
HOST_HOOKS = "--host-hooks" in sys.argv


sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "models"))
from msgspec_models import (
    ComplexForm,
    Order,
    SimpleForm,
    Small,
)

app = Spikard()

if not SYNC:

    @app.post("/json/small")
    async def json_small(body: Small) -> Small:
        return body

    @app.post("/json/medium")
    async def json_medium(body: Order) -> Order:
        return body

    @app.post("/json/large")
    async def json_large(body: Order) -> Order:
        return body

    @app.post("/json/very-large")
    async def json_very_large(body: Order) -> Order:
        return body

    @app.get("/path/simple/{id}")
    async def path_simple(id: str) -> dict:
        return {"id": id}

    @app.get("/path/multiple/{user_id}/{post_id}")
    async def path_multiple(user_id: str, post_id: str) -> dict:
        return {"user_id": user_id, "post_id": post_id}

    @app.get("/path/deep/{org}/{team}/{project}/{resource}/{id}")
    async def path_deep(
        org: str, team: str, project: str, resource: str, id: str
    ) -> dict:
        return {
            "org": org,
            "team": team,
            "project": project,
            "resource": resource,
            "id": id,
        }

    @app.get("/path/int/{value}")
    async def path_int(value: int) -> dict:
        return {"value": value}

    @app.get("/path/uuid/{id}")
    async def path_uuid(id: uuid.UUID) -> dict:
        return {"id": str(id)}

    @app.get("/path/date/{date}")
    async def path_date(date: datetime.date) -> dict:
        return {"date": date.isoformat()}

    @app.get("/query/few")
    async def query_few(page: int, limit: int, sort: str) -> dict:
        return {"page": page, "limit": limit, "sort": sort}

    @app.get("/query/medium")
    async def query_medium(
        page: int,
        limit: int,
        sort: str,
        order: str,
        q: str,
        active: bool,
        min_price: float,
        category: str,
    ) -> dict:
        return {
            "page": page, "limit": limit, "sort": sort, "order": order, "q": q,
            "active": active, "min_price": min_price, "category": category,
        }  # fmt: skip

    @app.get("/query/many")
    async def query_many(
        page: int, limit: int, sort: str, order: str, q: str, active: bool, min_price: float, category: str,
        max_price: float, brand: str, color: str, size: str, tag: list[str], in_stock: bool, rating: int,
    ) -> dict:  # fmt: skip
        return {
            "page": page, "limit": limit, "sort": sort, "order": order, "q": q,
            "active": active, "min_price": min_price, "category": category,
            "max_price": max_price, "brand": brand, "color": color, "size": size,
            "tag": tag, "in_stock": in_stock, "rating": rating,
        }  # fmt: skip

    @app.post("/urlencoded/simple")
    async def form_simple(body: SimpleForm) -> SimpleForm:
        return body

    @app.post("/urlencoded/complex")
    async def form_complex(body: ComplexForm) -> ComplexForm:
        return body

else:

    @app.post("/json/small")
    def json_small(body: Small) -> Small:
        return body

    @app.post("/json/medium")
    def json_medium(body: Order) -> Order:
        return body

    @app.post("/json/large")
    def json_large(body: Order) -> Order:
        return body

    @app.post("/json/very-large")
    def json_very_large(body: Order) -> Order:
        return body

    @app.get("/path/simple/{id}")
    def path_simple(id: str) -> dict:
        return {"id": id}

    @app.get("/path/multiple/{user_id}/{post_id}")
    def path_multiple(user_id: str, post_id: str) -> dict:
        return {"user_id": user_id, "post_id": post_id}

    @app.get("/path/deep/{org}/{team}/{project}/{resource}/{id}")
    def path_deep(org: str, team: str, project: str, resource: str, id: str) -> dict:
        return {
            "org": org,
            "team": team,
            "project": project,
            "resource": resource,
            "id": id,
        }

    @app.get("/path/int/{value}")
    def path_int(value: int) -> dict:
        return {"value": value}

    @app.get("/path/uuid/{id}")
    def path_uuid(id: uuid.UUID) -> dict:
        return {"id": str(id)}

    @app.get("/path/date/{date}")
    def path_date(date: datetime.date) -> dict:
        return {"date": date.isoformat()}

    @app.get("/query/few")
    def query_few(page: int, limit: int, sort: str) -> dict:
        return {"page": page, "limit": limit, "sort": sort}

    @app.get("/query/medium")
    def query_medium(
        page: int,
        limit: int,
        sort: str,
        order: str,
        q: str,
        active: bool,
        min_price: float,
        category: str,
    ) -> dict:
        return {
            "page": page, "limit": limit, "sort": sort, "order": order, "q": q,
            "active": active, "min_price": min_price, "category": category,
        }  # fmt: skip

    @app.get("/query/many")
    def query_many(
        page: int, limit: int, sort: str, order: str, q: str, active: bool, min_price: float, category: str,
        max_price: float, brand: str, color: str, size: str, tag: list[str], in_stock: bool, rating: int,
    ) -> dict:  # fmt: skip
        return {
            "page": page, "limit": limit, "sort": sort, "order": order, "q": q,
            "active": active, "min_price": min_price, "category": category,
            "max_price": max_price, "brand": brand, "color": color, "size": size,
            "tag": tag, "in_stock": in_stock, "rating": rating,
        }  # fmt: skip

    @app.post("/urlencoded/simple")
    def form_simple(body: SimpleForm) -> SimpleForm:
        return body

    @app.post("/urlencoded/complex")
    def form_complex(body: ComplexForm) -> ComplexForm:
        return body


def _register_uploads() -> None:
    """multipart-*: needs ``spikard.UploadFile`` (being added); without it the
    routes are absent and the harness reports a wrong answer, not a time."""
    try:
        from spikard import UploadFile  # type: ignore[attr-defined]
    except ImportError:
        return
    for path in ("/multipart/small", "/multipart/medium", "/multipart/large"):
        if SYNC:

            def upload(file: UploadFile) -> dict:
                return {"filename": file.filename, "size": file.size}
        else:

            async def upload(file: UploadFile) -> dict:
                return {"filename": file.filename, "size": file.size}

        app.post(path)(upload)


_register_uploads()


def _register_hooks() -> None:
    """One no-op hook in each of the five phases: what hooks cost."""

    async def pass_request(request):
        return request

    async def pass_response(response):
        return response

    if not HOST_HOOKS:
        app.on_request(pass_request)
        app.pre_validation(pass_request)
    app.pre_handler(pass_request)
    app.on_response(pass_response)
    app.on_error(pass_response)


if HOOKS or HOST_HOOKS:
    _register_hooks()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--sync", action="store_true", help="plain def handlers")
    parser.add_argument(
        "--hooks", action="store_true", help="a no-op hook in each phase"
    )
    parser.add_argument(
        "--host-hooks", action="store_true", help="no-op hooks in the host phases"
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="processes (the unpinned run)"
    )
    parser.add_argument(
        "--compression",
        action="store_true",
        help="CompressionConfig() (gzip and brotli, quality 6, min_size 1024)",
    )
    parser.add_argument("--access-log", action="store_true", help="the access log on")
    parser.add_argument(
        "--records", action="store_true", help="and its lines written by logging"
    )
    parser.add_argument(
        "--jwt", metavar="SECRET", help="every route requires an HS256 token of SECRET"
    )
    parser.add_argument(
        "--redis-limit",
        metavar="URL",
        help="every route takes a token of a Redis rate limit too high to refuse",
    )
    parser.add_argument(
        "--no-request-id", action="store_true", help="no X-Request-ID (on by default)"
    )
    parser.add_argument(
        "--cors-origin",
        default=None,
        help="an app-wide CORS policy allowing this origin",
    )
    args = parser.parse_args()
    compression = CompressionConfig() if args.compression else None
    if args.records:
        handler = logging.FileHandler(os.devnull)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
        access = logging.getLogger("spikard.access")
        access.addHandler(handler)
        access.setLevel(logging.INFO)
        access.propagate = False
    guards: dict = {}
    if args.jwt:
        from spikard import JwtConfig

        guards["jwt_auth"] = JwtConfig(secret=args.jwt, algorithm="HS256")
    if args.redis_limit:
        from spikard import RateLimitConfig

        guards["rate_limit"] = RateLimitConfig(
            per_second=1e9, burst=1_000_000_000, redis_url=args.redis_limit
        )
    cors = CorsConfig(allow_origins=[args.cors_origin]) if args.cors_origin else None
    app.run(
        config=ServerConfig(
            host=args.host,
            port=args.port,
            workers=args.workers,
            access_log=args.access_log,
            **guards,
            compression=compression,
            enable_request_id=not args.no_request_id,
            cors=cors,
        )
    )


if __name__ == "__main__":
    main()
