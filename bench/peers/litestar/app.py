"""Litestar's side of the benchmark: WORKLOADS.md with msgspec Structs for
bodies and forms, typed path/query parameters, ``UploadFile`` for multipart.
Served by uvicorn (uvloop + httptools):

    uvicorn app:app --app-dir bench/peers/litestar --loop uvloop --http httptools
"""

import datetime
import sys
import uuid
from pathlib import Path
from typing import Annotated

import msgspec
from litestar import Litestar, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "models"))
from msgspec_models import (
    ComplexForm,
    Order,
    SimpleForm,
    Small,
)


class Upload(msgspec.Struct):
    file: UploadFile


@post("/json/small", status_code=200)
async def json_small(data: Small) -> Small:
    return data


@post("/json/medium", status_code=200)
async def json_medium(data: Order) -> Order:
    return data


@post("/json/large", status_code=200)
async def json_large(data: Order) -> Order:
    return data


@post("/json/very-large", status_code=200)
async def json_very_large(data: Order) -> Order:
    return data


@get("/path/simple/{id:str}")
async def path_simple(id: str) -> dict:
    return {"id": id}


@get("/path/multiple/{user_id:str}/{post_id:str}")
async def path_multiple(user_id: str, post_id: str) -> dict:
    return {"user_id": user_id, "post_id": post_id}


@get("/path/deep/{org:str}/{team:str}/{project:str}/{resource:str}/{id:str}")
async def path_deep(org: str, team: str, project: str, resource: str, id: str) -> dict:
    return {
        "org": org,
        "team": team,
        "project": project,
        "resource": resource,
        "id": id,
    }


@get("/path/int/{value:int}")
async def path_int(value: int) -> dict:
    return {"value": value}


@get("/path/uuid/{id:uuid}")
async def path_uuid(id: uuid.UUID) -> dict:
    return {"id": str(id)}


@get("/path/date/{date:date}")
async def path_date(date: datetime.date) -> dict:
    return {"date": date.isoformat()}


@get("/query/few")
async def query_few(page: int, limit: int, sort: str) -> dict:
    return {"page": page, "limit": limit, "sort": sort}


@get("/query/medium")
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


@get("/query/many")
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


@post("/urlencoded/simple", status_code=200)
async def form_simple(
    data: Annotated[SimpleForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> SimpleForm:
    return data


@post("/urlencoded/complex", status_code=200)
async def form_complex(
    data: Annotated[ComplexForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> ComplexForm:
    return data


async def _upload(
    data: Annotated[Upload, Body(media_type=RequestEncodingType.MULTI_PART)],
) -> dict:
    content = await data.file.read()
    return {"filename": data.file.filename, "size": len(content)}


uploads = [
    post(p, status_code=200, name=p)(_upload)
    for p in ("/multipart/small", "/multipart/medium", "/multipart/large")
]

app = Litestar(
    route_handlers=[
        json_small, json_medium, json_large, json_very_large,
        path_simple, path_multiple, path_deep, path_int, path_uuid, path_date,
        query_few, query_medium, query_many, form_simple, form_complex, *uploads,
    ],
    openapi_config=None,
)  # fmt: skip
