"""Router(prefix, tags) and app.include_router over real HTTP."""

from __future__ import annotations

import pytest

from spikard import Router, Spikard


def test_routers_prefix_nest_and_tag(serve):
    app = Spikard()
    users = Router(prefix="/users", tags=["users"])
    admin = Router(prefix="/admin", tags=["admin"])

    @users.get("/{user_id}")
    async def get_user(user_id: int) -> dict[str, int]:
        return {"id": user_id}

    @users.post("/")
    def create(body: dict[str, str]) -> dict[str, str]:
        return body

    @admin.delete("/{user_id}")
    async def remove(user_id: int) -> dict[str, bool]:
        return {"deleted": True}

    users.include_router(admin)
    app.include_router(users, prefix="/v1", tags=["v1"])

    client = serve(app)
    r = client.get("/v1/users/7")
    assert (r.status, r.json()) == (200, {"id": 7})
    assert client.get("/v1/users/x").status == 422
    r = client.post("/v1/users/", json_body={"a": "b"})
    assert (r.status, r.json()) == (200, {"a": "b"})
    r = client.request("DELETE", "/v1/users/admin/3")
    assert (r.status, r.json()) == (200, {"deleted": True})
    assert client.get("/users/7").status == 404
    assert app.route_tags[("GET", "/v1/users/{user_id}")] == ["v1", "users"]
    assert app.route_tags[("DELETE", "/v1/users/admin/{user_id}")] == ["v1", "users", "admin"]


def test_router_prefixes_are_checked():
    with pytest.raises(ValueError, match="prefix"):
        Router(prefix="users")
    with pytest.raises(ValueError, match="prefix"):
        Router(prefix="/users/")
    with pytest.raises(ValueError, match="must start with"):
        Router().get("x")
