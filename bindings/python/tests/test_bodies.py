"""Body types to JSON Schema and back to instances, over HTTP."""

import dataclasses
import enum
import json
from typing import Annotated, Literal, NamedTuple, Optional, TypedDict

import attrs
import msgspec
import pydantic
from pydantic import BaseModel, Field

from spikard import Body, Spikard
from spikard._schema import type_schema


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Point(NamedTuple):
    x: int
    y: int = 0


class Movie(TypedDict):
    title: str
    year: int


@attrs.define
class Pet:
    name: str
    legs: int = 4


class Address(BaseModel):
    city: str
    zip: str = Field(pattern=r"^\d{5}$")


class Person(BaseModel):
    name: str = Field(min_length=2)
    age: int = Field(ge=0, le=130)
    address: Address
    color: Optional[Color] = None


class Line(msgspec.Struct):
    start: Point
    end: Point
    kind: Literal["solid", "dashed"] = "solid"
    width: Annotated[int, msgspec.Meta(ge=1, le=10)] = 1


@dataclasses.dataclass
class Box:
    label: str
    items: list[Movie] = dataclasses.field(default_factory=list)


def test_schemas_are_inlined_and_carry_constraints():
    person = type_schema(Person)
    assert "$defs" not in person and "$ref" not in json.dumps(person)
    assert person["properties"]["address"]["properties"]["zip"]["pattern"] == r"^\d{5}$"
    assert person["properties"]["age"]["minimum"] == 0
    assert person["properties"]["color"]["anyOf"][0]["enum"] == ["red", "blue"]
    line = type_schema(Line)
    assert line["properties"]["width"]["maximum"] == 10
    assert sorted(line["properties"]["kind"]["enum"]) == ["dashed", "solid"]
    assert line["properties"]["start"]["type"] == "array"  # NamedTuple: a JSON array
    assert type_schema(Pet)["required"] == ["name"]
    box = type_schema(Box)
    assert box["properties"]["items"]["items"]["required"] == ["title", "year"]


def test_each_library_decodes_into_its_own_type(serve):
    app = Spikard()
    seen: dict[str, object] = {}

    @app.post("/person")
    async def person(p: Person) -> Person:
        seen["person"] = p
        return p

    @app.post("/line")
    def line(line: Line):
        seen["line"] = line
        return {"length": abs(line.end.x - line.start.x), "kind": line.kind, "w": line.width}

    @app.post("/pet")
    async def pet(pet: Pet):
        seen["pet"] = pet
        return {"name": pet.name, "legs": pet.legs}

    @app.post("/movie")
    async def movie(m: Movie):
        seen["movie"] = m
        return m

    @app.post("/box")
    async def box(b: Box) -> Box:
        seen["box"] = b
        return b

    @app.post("/point")
    async def point(p: Point):
        seen["point"] = p
        return {"sum": p.x + p.y}

    client = serve(app)
    body = {"name": "Ann", "age": 30, "address": {"city": "Oslo", "zip": "01234"}}
    r = client.post("/person", json_body=body)
    assert r.status == 200, r.body
    assert r.json() == {**body, "color": None}
    assert isinstance(seen["person"], Person) and isinstance(seen["person"].address, Address)
    r = client.post("/person", json_body={**body, "color": "blue"})
    assert r.json()["color"] == "blue" and seen["person"].color is Color.BLUE
    for bad in (
        {**body, "age": -1},
        {**body, "name": "A"},
        {**body, "address": {"city": "Oslo", "zip": "12"}},
        {**body, "color": "green"},
        {"name": "Ann", "age": 3},
    ):
        r = client.post("/person", json_body=bad)
        assert r.status == 422, (bad, r.body)

    r = client.post("/line", json_body={"start": [0, 0], "end": [3, 4], "width": 2})
    assert r.json() == {"length": 3, "kind": "solid", "w": 2}
    assert isinstance(seen["line"], Line) and seen["line"].end == Point(3, 4)
    assert client.post("/line", json_body={"start": [0], "end": [1], "width": 11}).status == 422
    assert client.post("/line", json_body={"start": [0], "end": [1], "kind": "x"}).status == 422

    assert client.post("/pet", json_body={"name": "Rex"}).json() == {"name": "Rex", "legs": 4}
    assert isinstance(seen["pet"], Pet)
    assert client.post("/pet", json_body={"legs": 3}).status == 422

    film = {"title": "Heat", "year": 1995}
    assert client.post("/movie", json_body=film).json() == film
    assert seen["movie"] == film
    assert client.post("/movie", json_body={"title": "Heat"}).status == 422

    r = client.post("/box", json_body={"label": "b", "items": [film]})
    assert r.json() == {"label": "b", "items": [film]}
    assert isinstance(seen["box"], Box)

    assert client.post("/point", json_body=[2, 5]).json() == {"sum": 7}
    assert seen["point"] == Point(2, 5)


def test_optional_and_defaulted_bodies(serve):
    app = Spikard()

    class Note(msgspec.Struct):
        text: str

    @app.post("/opt")
    async def opt(note: Optional[Note] = None):
        return {"text": note.text if note else None}

    @app.post("/dflt")
    async def dflt(data: dict = Body(default={"x": 1})):
        return data

    client = serve(app)
    json_null = {"body": b"null", "headers": {"content-type": "application/json"}}
    assert client.post("/opt", **json_null).json() == {"text": None}
    assert client.post("/opt", json_body={"text": "hi"}).json() == {"text": "hi"}
    assert client.post("/opt", json_body={"text": 1}).status == 422
    assert client.post("/dflt", json_body={"y": 2}).json() == {"y": 2}


def test_return_annotation_converts_dicts(serve):
    app = Spikard()

    @app.get("/p")
    async def p() -> Person:
        return {"name": "Bo", "age": "4", "address": {"city": "X", "zip": "12345"}}

    @app.get("/d")
    def d() -> Box:
        return Box(label="l")

    @app.get("/m")
    def m():
        return pydantic.TypeAdapter(Address).validate_python({"city": "c", "zip": "00000"})

    client = serve(app)
    assert client.get("/p").json() == {
        "name": "Bo",
        "age": 4,
        "address": {"city": "X", "zip": "12345"},
        "color": None,
    }
    assert client.get("/d").json() == {"label": "l", "items": []}
    assert client.get("/m").json() == {"city": "c", "zip": "00000"}
