"""Error documents are the core's: the binding describes, the core renders."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, field_validator

from spikard import Spikard

PACKAGE = Path(__file__).resolve().parent.parent


class Order(BaseModel):
    qty: int

    @field_validator("qty")
    @classmethod
    def positive(cls, value: int) -> int:
        if value <= 0:
            raise ValueError("qty must be positive")
        return value


def test_a_rejection_by_the_handlers_type_is_the_cores_problem_document(serve):
    app = Spikard()

    @app.post("/orders")
    async def create(order: Order) -> dict:
        return {"qty": order.qty}

    client = serve(app)
    assert client.post("/orders", json_body={"qty": 2}).json() == {"qty": 2}
    reply = client.post("/orders", json_body={"qty": 0})
    assert reply.status == 422
    assert reply.headers["content-type"] == "application/problem+json"
    assert list(reply.json()) == ["type", "title", "status", "detail"]
    assert reply.json()["type"] == "https://spikard.dev/errors/validation-error"
    assert reply.json()["title"] == "Request Validation Failed"
    assert "qty must be positive" in reply.json()["detail"]


def test_the_binding_writes_no_error_document_itself():
    sources = [*PACKAGE.glob("spikard/*.py"), *PACKAGE.glob("src/*.c")]
    assert sources
    for source in sources:
        text = source.read_text()
        for marker in ("problem+json", "spikard.dev/errors"):
            assert marker not in text, f"{source.name} builds error JSON itself ({marker})"
