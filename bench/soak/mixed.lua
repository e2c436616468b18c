-- The soak's mixed load on the Quick Start app (bench/soak/soak.py): four
-- requests in rotation on every connection, built once in init so none is
-- formatted per request inside the load generator:
--   GET /users/{id}             200, the handler's User ("Alice")
--   POST /users, a valid User   200, the same User back ("Soak")
--   GET /nope/{id}              404, the core's problem document
--   POST /users, id "x"         422, the core's validation problem
-- Each answer is classified by status and body and counted; done() prints
-- one line the harness parses:
--   soak-answers get=N post=N missing=N invalid=N unavailable=N other=N last_other=S
-- "unavailable" is 503 (expected only while the server drains), "other" any
-- answer that is none of the above (last_other is the last such status).

local requests = {}
local nreq = 0
local sent = 0

get, post, missing, invalid, unavailable, other, last_other = 0, 0, 0, 0, 0, 0, 0

function init(args)
   local json = { ["Content-Type"] = "application/json" }
   for i = 0, 63 do
      local id = 1000 + i
      requests[#requests + 1] = wrk.format("GET", "/users/" .. id)
      requests[#requests + 1] = wrk.format("POST", "/users", json,
         '{"id":' .. id .. ',"name":"Soak","email":"soak@example.com"}')
      requests[#requests + 1] = wrk.format("GET", "/nope/" .. id)
      requests[#requests + 1] = wrk.format("POST", "/users", json,
         '{"id":"x","name":"Soak","email":"soak@example.com"}')
   end
   nreq = #requests
end

function request()
   sent = sent % nreq + 1
   return requests[sent]
end

function response(status, headers, body)
   if status == 200 then
      if body:find('"Alice"', 1, true) then
         get = get + 1
      elseif body:find('"Soak"', 1, true) then
         post = post + 1
      else
         other, last_other = other + 1, status
      end
   elseif status == 404 then
      missing = missing + 1
   elseif status == 422 then
      invalid = invalid + 1
   elseif status == 503 then
      unavailable = unavailable + 1
   else
      other, last_other = other + 1, status
   end
end

local threads = {}

function setup(thread)
   threads[#threads + 1] = thread
end

function done(summary, latency, reqs)
   local names = { "get", "post", "missing", "invalid", "unavailable", "other" }
   local totals, last = {}, 0
   for _, name in ipairs(names) do
      totals[name] = 0
   end
   for _, t in ipairs(threads) do
      for _, name in ipairs(names) do
         totals[name] = totals[name] + t:get(name)
      end
      if t:get("last_other") ~= 0 then
         last = t:get("last_other")
      end
   end
   local parts = {}
   for _, name in ipairs(names) do
      parts[#parts + 1] = name .. "=" .. totals[name]
   end
   io.write("soak-answers " .. table.concat(parts, " ") .. " last_other=" .. last .. "\n")
end
