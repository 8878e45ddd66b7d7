-- wrk script: the check-in POST alone, each with a fresh idempotency key, so every answer is a new stored
-- row (a 303); the receipt is not fetched. Drives both the project (FORM_PATH set: each thread first
-- GETs one form for its session cookie and CSRF token, then reuses them, as a guest's phone could for
-- the token's hour) and the bare durable POST of benchmarks/durable_app.py (FORM_PATH unset).
-- Environment: POST_PATH (where to POST), FORM_PATH (optional). Output: the RESULT line of wrk_common.lua.

local common = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrk_common.lua")
local post_path = os.getenv("POST_PATH") or "/"
local form_path = os.getenv("FORM_PATH")
local threads = {}
local thread_id = 0

function setup(thread)
   thread_id = thread_id + 1
   thread:set("id", thread_id)
   common.spread(thread, thread_id)
   table.insert(threads, thread)
end

function init(args)
   checkins, forms_got, failures, counter = 0, 0, 0, 0
   have_form, cookie, csrf = false, nil, nil
   math.randomseed(os.time() * 1000 + id * 7919 + math.floor(os.clock() * 1e6))
   -- A prefix of this thread in this run: keys never repeat across threads, warm-ups and runs.
   prefix = string.format("p%02d%08x%06x", id, os.time() % 0xffffffff, math.random(0, 0xffffff))
end

function request()
   if form_path and not have_form then
      return wrk.format("GET", form_path)
   end
   counter = counter + 1
   local phone = string.format("9%07d", (id * 1000000 + counter) % 10000000)
   local body = "idempotency_key=" .. prefix .. string.format("%010d", counter) ..
      "&name=Benk+Testesen&phone=" .. phone .. "&party_size=2&area=&visited_at=&consent=y"
   local headers = {["Content-Type"] = "application/x-www-form-urlencoded"}
   if csrf then
      body = "csrf_token=" .. csrf .. "&" .. body
      headers["Cookie"] = cookie
   end
   return wrk.format("POST", post_path, headers, body)
end

function response(status, headers, body)
   if status == 303 then
      checkins = checkins + 1
   elseif status == 200 and form_path and not have_form then
      local set_cookie = headers["Set-Cookie"] or headers["set-cookie"]
      local token = body:match('name="csrf_token" type="hidden" value="([^"]+)"')
      if set_cookie and token then
         cookie, csrf, have_form = set_cookie:match("^([^;]+)"), token, true
         forms_got = forms_got + 1
      elseif body:find('name="idempotency_key"', 1, true) then
         -- A form without a session token (the cookie-free form): POST without one.
         have_form = true
         forms_got = forms_got + 1
      else
         failures = failures + 1
      end
   elseif status ~= 200 then
      failures = failures + 1
   end
end

function done(summary, latency, requests)
   local totals = {checkins = 0, forms = 0, receipts = 0, failures = 0}
   for _, thread in ipairs(threads) do
      totals.checkins = totals.checkins + thread:get("checkins")
      totals.forms = totals.forms + thread:get("forms_got")
      totals.failures = totals.failures + thread:get("failures")
   end
   common.write_result(summary, latency, totals)
end
