"""Spikard's side of the benchmark: the WORKLOADS.md handlers as a user writes them.

Handlers take typed values (str/int/UUID/date path parameters, typed query
parameters, msgspec ``Struct`` bodies and form models, an ``UploadFile``),
because decoding and validation are part of the work users pay for. They are
``async def``; ``--sync`` registers the same handlers as plain ``def`` instead,
reported beside them. bench/run.py starts this file pinned to one core:

    python bench/apps/spikard_app.py --port 8000 [--sync]
"""

import argparse
import datetime
import sys
import uuid
from pathlib import Path

from spikard import CorsConfig, ServerConfig, Spikard

SYNC = "--sync" in sys.argv


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--sync", action="store_true", help="plain def handlers")
    parser.add_argument(
        "--workers", type=int, default=1, help="processes (the unpinned run)"
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
    cors = CorsConfig(allow_origins=[args.cors_origin]) if args.cors_origin else None
    app.run(
        config=ServerConfig(
            host=args.host,
            port=args.port,
            workers=args.workers,
            enable_request_id=not args.no_request_id,
            cors=cors,
        )
    )


if __name__ == "__main__":
    main()
