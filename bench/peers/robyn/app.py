"""Robyn's side of the benchmark: WORKLOADS.md with Robyn's typed handler
parameters (path and query values coerced from the signature), pydantic
models for JSON bodies (Robyn validates them itself) and for forms, and the
request's files for multipart. One process, one worker:

    ROBYN_PORT=8000 python bench/peers/robyn/app.py --processes 1 --workers 1
"""

import datetime
import sys
import urllib.parse
import uuid
from pathlib import Path

from pydantic import BaseModel, ValidationError
from robyn import Request, Response, Robyn

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "models"))
from pydantic_models import (
    ComplexForm,
    Order,
    SimpleForm,
    Small,
)

app = Robyn(__file__)
JSON = {"Content-Type": "application/json"}


def _problem(detail: str) -> Response:
    return Response(422, {"Content-Type": "application/problem+json"}, detail)


def _model(model: BaseModel) -> Response:
    return Response(200, JSON, model.model_dump_json())


@app.post("/json/small")
async def json_small(body: Small):
    return _model(body)


@app.post("/json/medium")
async def json_medium(body: Order):
    return _model(body)


@app.post("/json/large")
async def json_large(body: Order):
    return _model(body)


@app.post("/json/very-large")
async def json_very_large(body: Order):
    return _model(body)


@app.get("/path/simple/:id")
async def path_simple(id: str):
    return {"id": id}


@app.get("/path/multiple/:user_id/:post_id")
async def path_multiple(user_id: str, post_id: str):
    return {"user_id": user_id, "post_id": post_id}


@app.get("/path/deep/:org/:team/:project/:resource/:id")
async def path_deep(org: str, team: str, project: str, resource: str, id: str):
    return {
        "org": org,
        "team": team,
        "project": project,
        "resource": resource,
        "id": id,
    }


@app.get("/path/int/:value")
async def path_int(value: int):
    return {"value": value}


@app.get("/path/uuid/:id")
async def path_uuid(id: uuid.UUID):
    return {"id": str(id)}


@app.get("/path/date/:date")
async def path_date(date: str):
    # Robyn coerces by calling the annotated type, which date() cannot do
    # from a string: the ISO date is parsed (and so validated) here.
    try:
        value = datetime.date.fromisoformat(date)
    except ValueError as e:
        return _problem(str(e))
    return {"date": value.isoformat()}


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
    max_price: float, brand: str, color: str, size: str, tag: list[str], in_stock: bool, rating: int,
):  # fmt: skip
    return {
        "page": page, "limit": limit, "sort": sort, "order": order, "q": q,
        "active": active, "min_price": min_price, "category": category,
        "max_price": max_price, "brand": brand, "color": color, "size": size,
        "tag": tag, "in_stock": in_stock, "rating": rating,
    }  # fmt: skip


def _form(model: type[BaseModel], request: Request) -> Response:
    # Robyn fills form_data from multipart bodies only; a url-encoded body
    # is parsed here, then validated into the model.
    body = request.body if isinstance(request.body, str) else request.body.decode()
    try:
        return _model(
            model.model_validate(
                dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
            )
        )
    except ValidationError as e:
        return _problem(str(e))


@app.post("/urlencoded/simple")
async def form_simple(request: Request):
    return _form(SimpleForm, request)


@app.post("/urlencoded/complex")
async def form_complex(request: Request):
    return _form(ComplexForm, request)


async def _upload(request: Request):
    # Robyn hands over the uploaded files as {filename: bytes}.
    if len(request.files) != 1:
        return _problem("expected exactly one file")
    ((filename, content),) = request.files.items()
    return {"filename": filename, "size": len(content)}


for _path in ("/multipart/small", "/multipart/medium", "/multipart/large"):
    app.post(_path)(_upload)


if __name__ == "__main__":
    app.start(host="127.0.0.1", port=8080)
