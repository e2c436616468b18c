"""JWT and API-key auth and rate limits (core/guard.go) through the Python
face: the brief's JwtConfig and RateLimitConfig samples as written, served
over real HTTP; construction-time validation naming the field; route
choices; claims reaching handlers."""

import base64
import hashlib
import hmac
import json
import time

import pytest

from spikard import ApiKeyConfig, Claims, JwtConfig, RateLimitConfig, Request, ServerConfig, Spikard

SECRET = "your-secret-key"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256(claims: dict, secret: str = SECRET) -> str:
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps(claims).encode())
    sig = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(sig)}"


def bearer(claims: dict, secret: str = SECRET) -> dict[str, str]:
    return {"authorization": "Bearer " + hs256(claims, secret)}


def test_brief_jwt_sample(serve):
    # The brief's sample, as written.
    jwt = JwtConfig(
        secret="your-secret-key",
        algorithm="HS256",  # HS256, HS384, HS512, RS256, etc.
        audience=["api.example.com"],
        issuer="auth.example.com",
        leeway=30,  # seconds
    )
    app = Spikard(config=ServerConfig(jwt_auth=jwt))

    @app.get("/me")
    async def me(claims: Claims) -> dict:
        return {"sub": claims["sub"]}

    @app.get("/raw")
    def raw(request: Request) -> dict:
        assert ":claims" not in request.headers
        return {"claims": request.claims, "has_auth": "authorization" in request.headers}

    @app.get("/health", jwt_auth=False)
    async def health(claims: Claims | None) -> dict:
        return {"ok": True, "claims": claims}

    client = serve(app)
    now = int(time.time())
    good = {"sub": "user123", "aud": "api.example.com", "iss": "auth.example.com", "exp": now + 600}

    r = client.get("/me")
    assert r.status == 401
    assert r.headers["www-authenticate"] == 'Bearer realm="api"'
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json() == {
        "type": "https://spikard.dev/errors/unauthorized",
        "title": "Missing or invalid Authorization header",
        "status": 401,
        "detail": "Expected 'Authorization: Bearer <token>'",
    }

    r = client.get("/me", headers=bearer(good))
    assert (r.status, r.json()) == (200, {"sub": "user123"})
    r = client.get("/raw", headers=bearer(good))
    assert r.status == 200
    assert r.json() == {"claims": good, "has_auth": True}

    r = client.get("/me", headers=bearer({**good, "aud": ["other.example.com"]}))
    assert r.status == 401
    assert r.json()["detail"] == "Token audience is invalid"
    assert r.headers["www-authenticate"] == (
        'Bearer realm="api", error="invalid_token", error_description="Token audience is invalid"'
    )
    # Expired 10 minutes ago: past the 30 s leeway. 10 s ago: inside it.
    r = client.get("/me", headers=bearer({**good, "exp": now - 600}))
    assert (r.status, r.json()["detail"]) == (401, "Token has expired")
    assert client.get("/me", headers=bearer({**good, "exp": now - 10})).status == 200
    r = client.get("/me", headers=bearer(good, secret="wrong"))
    assert (r.status, r.json()["detail"]) == (401, "Token signature is invalid")

    r = client.get("/health")
    assert (r.status, r.json()) == (200, {"ok": True, "claims": None})


def test_brief_rate_limit_sample(serve):
    rate_limit = RateLimitConfig(
        per_second=100,  # Max requests per second
        burst=200,  # Burst allowance
        ip_based=True,  # Per-IP rate limiting
    )
    # The sample's own numbers take 200+ requests to exhaust; a small burst
    # with a slow refill shows the 429 in a few.
    small = RateLimitConfig(per_second=0.5, burst=3)
    app = Spikard(config=ServerConfig(rate_limit=small))

    @app.get("/limited")
    async def limited() -> dict:
        return {"ok": True}

    @app.get("/own", rate_limit=rate_limit)
    async def own() -> dict:
        return {"ok": True}

    @app.get("/free", rate_limit=False)
    async def free() -> dict:
        return {"ok": True}

    client = serve(app)
    statuses = [client.get("/limited") for _ in range(4)]
    assert [r.status for r in statuses] == [200, 200, 200, 429]
    assert statuses[0].headers["ratelimit-limit"] == "3"
    assert statuses[0].headers["ratelimit-remaining"] == "2"
    last = statuses[-1]
    assert last.headers["retry-after"] in ("1", "2")
    assert last.json()["type"] == "https://spikard.dev/errors/too-many-requests"
    assert last.json()["title"] == "Too Many Requests"
    r = client.get("/own")
    assert r.status == 200 and r.headers["ratelimit-limit"] == "200"
    r = client.get("/free")
    assert r.status == 200 and "ratelimit-limit" not in r.headers


def test_api_keys(serve):
    keys = ApiKeyConfig(keys=["sk_new"], deprecated_keys=["sk_old"], header_name="X-API-Token")
    app = Spikard(config=ServerConfig(api_key_auth=keys))

    @app.get("/data")
    async def data(claims: Claims | None) -> dict:
        return {"data": "sensitive", "claims": claims}

    client = serve(app)
    assert client.get("/data", headers={"X-API-Token": "sk_new"}).json() == {
        "data": "sensitive",
        "claims": None,
    }
    r = client.get("/data", headers={"X-API-Token": "sk_old"})
    assert r.status == 200 and r.headers["x-api-key-deprecated"] == "true"
    assert client.get("/data?api_key=sk_new").status == 200
    r = client.get("/data", headers={"X-API-Token": "nope"})
    assert r.status == 401
    assert r.json()["title"] == "Invalid API key"
    assert r.json()["detail"] == "The provided API key is not valid"
    r = client.get("/data")
    assert r.json()["detail"] == (
        "Expected an API key in the 'X-API-Token' header or the 'api_key' query parameter"
    )


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: JwtConfig(), "JwtConfig.secret=None: is required for HS256"),
        (
            lambda: JwtConfig(secret="s", algorithm="none"),
            "JwtConfig.algorithm='none': \"none\" is never accepted",
        ),
        (lambda: JwtConfig(secret="s", leeway=-1), "JwtConfig.leeway=-1: must be >= 0, got -1"),
        (
            lambda: JwtConfig(secret="s", audience=[1]),
            "JwtConfig.audience=[1]: must be a list of strings",
        ),
        (
            lambda: JwtConfig(algorithm="RS256", public_key="x"),
            "JwtConfig.public_key='x': no PEM block found",
        ),
        (lambda: ApiKeyConfig(keys=[]), "ApiKeyConfig.keys=[]: must hold at least one key"),
        (lambda: ApiKeyConfig(keys=["a"], header_name="X Key"), "ApiKeyConfig.header_name='X Key'"),
        (
            lambda: RateLimitConfig(per_second=0, burst=1),
            "RateLimitConfig.per_second=0: must be a positive number, got 0",
        ),
        (
            lambda: RateLimitConfig(per_second=1, burst=0),
            "RateLimitConfig.burst=0: must be at least 1, got 0",
        ),
        (
            lambda: RateLimitConfig(per_second=1, burst=1, key_by="user"),
            "RateLimitConfig.key_by='user'",
        ),
        (
            lambda: RateLimitConfig(per_second=1, burst=1, trusted_proxies=["x"]),
            "RateLimitConfig.trusted_proxies=['x']",
        ),
        (
            lambda: ServerConfig(rate_limit={"per_second": 1}),
            "ServerConfig.rate_limit={'per_second': 1}: must be a RateLimitConfig",
        ),
    ],
)
def test_validated_at_construction(make, message):
    with pytest.raises(ValueError) as info:
        make()
    assert message in str(info.value)


def test_route_guard_type_refused():
    app = Spikard()
    with pytest.raises(TypeError, match="rate_limit=True: must be a RateLimitConfig or False"):
        app.get("/x", rate_limit=True)
