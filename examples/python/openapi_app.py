"""A sample app with every kind of route, documented at /openapi.json.

Run it (``python examples/python/openapi_app.py``) and open
http://127.0.0.1:8000/docs or /redoc. The Python suite serves it to
schemathesis (test_openapi_fuzz.py) and to headless Chromium
(test_docs_browser.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from msgspec import Meta, Struct
from pydantic import BaseModel, Field

from spikard import Cookie, Header, Path, Query, Response, ServerConfig, Spikard, UploadFile
from spikard.config import OpenApiConfig


class User(Struct):
    id: int
    name: str
    email: str


class NewUser(Struct):
    name: Annotated[str, Meta(min_length=1, max_length=40)]
    email: str
    tags: list[str] = []


@dataclass
class Product:
    name: str
    price: float


class Address(BaseModel):
    street: str = Field(min_length=1)
    city: str


class Login(Struct):
    username: str
    password: str
    remember: bool = False


app = Spikard(
    config=ServerConfig(
        openapi=OpenApiConfig(
            title="Sample Shop",
            version="1.0.0",
            description="Every kind of route Spikard documents.",
        )
    )
)


@app.get("/users/{user_id:int}", tags=["users"])
async def get_user(user_id: Annotated[int, Path(ge=1)]) -> User:
    """Read a user.

    Looks the user up by its id (a positive integer)."""
    return User(id=user_id, name="Alice", email="alice@example.com")


@app.post("/users", tags=["users"], status_code=201, operation_id="create_user")
async def create_user(user: NewUser) -> User:
    """Create a user."""
    return User(id=1, name=user.name, email=user.email)


@app.get("/items/{item_id:uuid}", tags=["items"])
def get_item(item_id: uuid.UUID) -> dict[str, str]:
    """Read an item by its UUID."""
    return {"id": str(item_id)}


@app.get("/search", tags=["items"])
async def search(
    q: Annotated[str, Query(min_length=1, max_length=50)],
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    offset: Annotated[int, Query(ge=0)] = 0,
    tags: list[str] | None = None,
) -> dict[str, object]:
    """Search the items."""
    return {"query": q, "limit": limit, "offset": offset, "tags": tags or []}


@app.get("/me", tags=["users"])
def me(
    x_api_key: Annotated[str, Header(min_length=4)],
    session: Annotated[str | None, Cookie()] = None,
) -> dict[str, object]:
    """Who the caller is, from a header and a cookie."""
    return {"key_length": len(x_api_key), "session": session is not None}


@app.post("/products", tags=["products"])
def create_product(product: Product) -> Product:
    """Create a product (a dataclass)."""
    return product


@app.put("/addresses/{address_id:int}", tags=["products"])
def put_address(address_id: int, address: Address) -> Address:
    """Replace an address (a pydantic model)."""
    return address


@app.post("/login", tags=["users"])
async def login(form: Login) -> dict[str, str]:
    """Log in, with JSON or a form."""
    return {"user": form.username}


@app.post("/upload", tags=["files"])
async def upload(file: UploadFile, note: str | None = None) -> dict[str, object]:
    """Upload one file as multipart/form-data."""
    return {"filename": file.filename, "size": file.size}


@app.delete("/users/{user_id:int}", tags=["users"], status_code=204)
async def delete_user(user_id: int) -> Response:
    """Delete a user."""
    return Response(status_code=204)


@app.get("/health")
def health() -> dict[str, str]:
    """Whether the app is up."""
    return {"status": "ok"}


@app.sse("/events")
async def events():  # type: ignore[no-untyped-def]
    """A short stream of server-sent events."""
    for i in range(3):
        yield {"n": i}


if __name__ == "__main__":
    app.run()
