"""The newest original Spikard that installs here (0.17.x, PyPI) on the benchmark:
WORKLOADS.md in its own documented API (``App``, ``Body[Struct]`` bodies and
forms, typed path placeholders and query parameters, ``UploadFile``):

    python bench/peers/spikard-0.17/app.py --port 8000 [--workers 2]
"""

import argparse
import datetime
import sys
import uuid
from pathlib import Path

from spikard import App, Body, ServerConfig, UploadFile

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "models"))
from msgspec_models import (
    ComplexForm,
    Order,
    SimpleForm,
    Small,
)

app = App()


@app.post("/json/small")
async def json_small(body: Body[Small]) -> Small:
    return body


@app.post("/json/medium")
async def json_medium(body: Body[Order]) -> Order:
    return body


@app.post("/json/large")
async def json_large(body: Body[Order]) -> Order:
    return body


@app.post("/json/very-large")
async def json_very_large(body: Body[Order]) -> Order:
    return body


@app.get("/path/simple/{id}")
async def path_simple(id: str) -> dict:
    return {"id": id}


@app.get("/path/multiple/{user_id}/{post_id}")
async def path_multiple(user_id: str, post_id: str) -> dict:
    return {"user_id": user_id, "post_id": post_id}


@app.get("/path/deep/{org}/{team}/{project}/{resource}/{id}")
async def path_deep(org: str, team: str, project: str, resource: str, id: str) -> dict:
    return {
        "org": org,
        "team": team,
        "project": project,
        "resource": resource,
        "id": id,
    }


@app.get("/path/int/{value:int}")
async def path_int(value: int) -> dict:
    return {"value": value}


@app.get("/path/uuid/{id:uuid}")
async def path_uuid(id: uuid.UUID) -> dict:
    return {"id": str(id)}


@app.get("/path/date/{date:date}")
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
async def form_simple(body: Body[SimpleForm]) -> SimpleForm:
    return body


@app.post("/urlencoded/complex")
async def form_complex(body: Body[ComplexForm]) -> ComplexForm:
    return body


async def _upload(file: UploadFile) -> dict:
    return {"filename": file.filename, "size": file.size}


for _path in ("/multipart/small", "/multipart/medium", "/multipart/large"):
    app.post(_path)(_upload)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    app.config(ServerConfig(host=args.host, port=args.port, workers=args.workers))
    app.run()


if __name__ == "__main__":
    main()
