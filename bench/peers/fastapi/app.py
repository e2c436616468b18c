"""FastAPI's side of the benchmark: WORKLOADS.md with FastAPI's native path,
pydantic models for bodies and forms, typed path/query parameters,
``UploadFile`` for multipart. Served by uvicorn (uvloop + httptools):

    uvicorn app:app --app-dir bench/peers/fastapi --loop uvloop --http httptools
"""

import datetime
import os
import sys
import uuid
from pathlib import Path
from typing import Annotated

from fastapi import FastAPI, File, Form, Query, UploadFile

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "models"))
from pydantic_models import (
    ComplexForm,
    Order,
    SimpleForm,
    Small,
)

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

if os.environ.get("BENCH_GZIP") == "1":
    # bench/run.py's fastapi-gzip: Starlette's GZipMiddleware at the level and
    # threshold spikard-compress uses (quality 6, min_size 1024).
    from fastapi.middleware.gzip import GZipMiddleware

    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=6)


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
async def path_simple(id: str):
    return {"id": id}


@app.get("/path/multiple/{user_id}/{post_id}")
async def path_multiple(user_id: str, post_id: str):
    return {"user_id": user_id, "post_id": post_id}


@app.get("/path/deep/{org}/{team}/{project}/{resource}/{id}")
async def path_deep(org: str, team: str, project: str, resource: str, id: str):
    return {
        "org": org,
        "team": team,
        "project": project,
        "resource": resource,
        "id": id,
    }


@app.get("/path/int/{value}")
async def path_int(value: int):
    return {"value": value}


@app.get("/path/uuid/{id}")
async def path_uuid(id: uuid.UUID):
    return {"id": str(id)}


@app.get("/path/date/{date}")
async def path_date(date: datetime.date):
    return {"date": date.isoformat()}


@app.get("/query/few")
async def query_few(page: int, limit: int, sort: str):
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
):
    return {
        "page": page, "limit": limit, "sort": sort, "order": order, "q": q,
        "active": active, "min_price": min_price, "category": category,
    }  # fmt: skip


@app.get("/query/many")
async def query_many(
    page: int, limit: int, sort: str, order: str, q: str, active: bool, min_price: float, category: str,
    max_price: float, brand: str, color: str, size: str, tag: Annotated[list[str], Query()],
    in_stock: bool, rating: int,
):  # fmt: skip
    return {
        "page": page, "limit": limit, "sort": sort, "order": order, "q": q,
        "active": active, "min_price": min_price, "category": category,
        "max_price": max_price, "brand": brand, "color": color, "size": size,
        "tag": tag, "in_stock": in_stock, "rating": rating,
    }  # fmt: skip


@app.post("/urlencoded/simple")
async def form_simple(form: Annotated[SimpleForm, Form()]) -> SimpleForm:
    return form


@app.post("/urlencoded/complex")
async def form_complex(form: Annotated[ComplexForm, Form()]) -> ComplexForm:
    return form


async def _upload(file: Annotated[UploadFile, File()]):
    return {"filename": file.filename, "size": len(await file.read())}


for _path in ("/multipart/small", "/multipart/medium", "/multipart/large"):
    app.post(_path)(_upload)
