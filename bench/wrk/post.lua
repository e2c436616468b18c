-- POST workloads: wrk sends the payload file named by WRK_BODY with the
-- content type in WRK_CONTENT_TYPE (default application/json). The file is
-- read once here, so every request carries the same bytes and none are
-- built per request inside the load generator.
local path = os.getenv("WRK_BODY")
assert(path, "set WRK_BODY to the payload file")
local f = assert(io.open(path, "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = os.getenv("WRK_CONTENT_TYPE") or "application/json"
