"""The Quick Start of the Spikard brief, verbatim: run it and curl it.

python examples/python/quickstart.py
curl -s localhost:8000/users/7
curl -s -X POST localhost:8000/users -d '{"id":1,"name":"A","email":"a@x.io"}'
"""

from msgspec import Struct

from spikard import Spikard


class User(Struct):
    id: int
    name: str
    email: str


app = Spikard()


@app.get("/users/{user_id}")
async def get_user(user_id: int) -> User:
    return User(id=user_id, name="Alice", email="alice@example.com")


@app.post("/users")
async def create_user(user: User) -> User:
    # Automatic validation via msgspec
    return user


if __name__ == "__main__":
    app.run(port=8000)
