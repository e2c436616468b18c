"""BlackSheep's side of the benchmark: WORKLOADS.md with BlackSheep's binders:
FromJSON and FromForm into pydantic models, typed route and query
parameters from the signature, FromFiles for multipart. Served by uvicorn
(uvloop + httptools):

    uvicorn app:app --app-dir bench/peers/blacksheep --loop uvloop --http httptools
"""

import datetime
import sys
import uuid
from pathlib import Path

from blacksheep import (
    Application,
    Content,
    FromFiles,
    FromForm,
    FromJSON,
    FromQuery,
    Response,
)
from pydantic import BaseModel

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "models"))
from pydantic_models import (
    ComplexForm,
    Order,
    SimpleForm,
    Small,
)

app = Application(show_error_details=True)
get, post = app.router.get, app.router.post


def _model(model: BaseModel) -> Response:
    return Response(
        200, None, Content(b"application/json", model.model_dump_json().encode())
    )


@post("/json/small")
async def json_small(body: FromJSON[Small]):
    return _model(body.value)


@post("/json/medium")
async def json_medium(body: FromJSON[Order]):
    return _model(body.value)


@post("/json/large")
async def json_large(body: FromJSON[Order]):
    return _model(body.value)


@post("/json/very-large")
async def json_very_large(body: FromJSON[Order]):
    return _model(body.value)


@get("/path/simple/{id}")
async def path_simple(id: str):
    return {"id": id}


@get("/path/multiple/{user_id}/{post_id}")
async def path_multiple(user_id: str, post_id: str):
    return {"user_id": user_id, "post_id": post_id}


@get("/path/deep/{org}/{team}/{project}/{resource}/{id}")
async def path_deep(org: str, team: str, project: str, resource: str, id: str):
    return {
        "org": org,
        "team": team,
        "project": project,
        "resource": resource,
        "id": id,
    }


@get("/path/int/{value}")
async def path_int(value: int):
    return {"value": value}


@get("/path/uuid/{id}")
async def path_uuid(id: uuid.UUID):
    return {"id": str(id)}


@get("/path/date/{date}")
async def path_date(date: datetime.date):
    return {"date": date.isoformat()}


@get("/query/few")
async def query_few(page: int, limit: int, sort: str):
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
):
    return {
        "page": page, "limit": limit, "sort": sort, "order": order, "q": q,
        "active": active, "min_price": min_price, "category": category,
    }  # fmt: skip


@get("/query/many")
async def query_many(
    page: int, limit: int, sort: str, order: str, q: str, active: bool, min_price: float, category: str,
    max_price: float, brand: str, color: str, size: str, tag: FromQuery[list[str]], in_stock: bool, rating: int,
):  # fmt: skip
    return {
        "page": page, "limit": limit, "sort": sort, "order": order, "q": q,
        "active": active, "min_price": min_price, "category": category,
        "max_price": max_price, "brand": brand, "color": color, "size": size,
        "tag": tag.value, "in_stock": in_stock, "rating": rating,
    }  # fmt: skip


@post("/urlencoded/simple")
async def form_simple(form: FromForm[SimpleForm]):
    return _model(form.value)


@post("/urlencoded/complex")
async def form_complex(form: FromForm[ComplexForm]):
    return _model(form.value)


async def _upload(files: FromFiles):
    if len(files.value) != 1:
        return Response(422)
    part = files.value[0]
    return {"filename": part.file_name.decode(), "size": len(part.data)}


for _path in ("/multipart/small", "/multipart/medium", "/multipart/large"):
    post(_path)(_upload)
