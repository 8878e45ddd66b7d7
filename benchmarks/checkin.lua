-- wrk script: each check-in is what a phone does on a QR scan.
--   1. GET /v/<slug>: a new guest, no cookie; keep the session cookie and csrf_token (if the form has
--      them) and the idempotency_key
--   2. POST /v/<slug> with that cookie, the form's CSRF token and its fresh idempotency key
--   3. follow the 303 to the receipt /r/<token>
-- wrk calls request() and response() per connection but all connections of a thread share this
-- Lua state, so the steps travel through per-thread queues: a connection that is free picks the
-- oldest pending step (receipt first, then a ready form), else starts a new guest with a GET.
-- A server that answers the POST with the receipt page itself (200) instead of a 303 is counted too: a
-- receipt that no receipt GET of this thread asked for is the answer to a POST, i.e. a check-in.
-- Environment: CHECKIN_PATH (default /v/demo-kafe).
-- Output: one line "RESULT {json}" from done(), read by benchmarks/load.py.

local common = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrk_common.lua")
local path = os.getenv("CHECKIN_PATH") or "/v/demo-kafe"
local threads = {}
local thread_id = 0

function setup(thread)
   thread_id = thread_id + 1
   thread:set("id", thread_id)
   common.spread(thread, thread_id)
   table.insert(threads, thread)
end

function init(args)
   forms, receipts = {}, {}
   checkins, forms_got, receipts_got, failures = 0, 0, 0, 0
   receipt_gets = 0  -- receipt GETs sent and not yet answered
   counter = 0
   math.randomseed(os.time() * 1000 + id)
end

local function header(headers, name)
   return headers[name] or headers[name:lower()]
end

local function form_body(form)
   counter = counter + 1
   -- Made-up guests: a name of letters only and a Norwegian mobile number (9xx xx xxx).
   local phone = string.format("9%07d", (id * 1000000 + counter) % 10000000)
   local body = "idempotency_key=" .. form.key ..
      "&name=Benk+Testesen&phone=" .. phone .. "&party_size=2&area=&visited_at=&consent=y"
   if form.csrf then
      body = "csrf_token=" .. form.csrf .. "&" .. body
   end
   return body
end

function request()
   if #receipts > 0 then
      receipt_gets = receipt_gets + 1
      return wrk.format("GET", table.remove(receipts, 1))
   end
   if #forms > 0 then
      local form = table.remove(forms, 1)
      local headers = {["Content-Type"] = "application/x-www-form-urlencoded"}
      if form.cookie then
         headers["Cookie"] = form.cookie
      end
      return wrk.format("POST", path, headers, form_body(form))
   end
   return wrk.format("GET", path)
end

function response(status, headers, body)
   if status == 303 then
      checkins = checkins + 1
      local location = header(headers, "Location")
      if location then
         table.insert(receipts, (location:gsub("^https?://[^/]+", "")))
      end
   elseif status == 200 and body:find('name="idempotency_key"', 1, true) then
      local key = body:match('name="idempotency_key" type="hidden" value="([^"]+)"')
      -- A form with a session CSRF token comes with its cookie; a cookie-free form has neither.
      if key and (csrf == nil) == (cookie == nil) then
         forms_got = forms_got + 1
         table.insert(forms, {cookie = cookie and cookie:match("^([^;]+)"), csrf = csrf, key = key})
      else
         failures = failures + 1
      end
   elseif status == 200 and body:find('class="receipt"', 1, true) then
      receipts_got = receipts_got + 1
      if receipt_gets > 0 then
         receipt_gets = receipt_gets - 1
      else
         checkins = checkins + 1
      end
   else
      failures = failures + 1
   end
end

function done(summary, latency, requests)
   local totals = {checkins = 0, forms = 0, receipts = 0, failures = 0}
   for _, thread in ipairs(threads) do
      totals.checkins = totals.checkins + thread:get("checkins")
      totals.forms = totals.forms + thread:get("forms_got")
      totals.receipts = totals.receipts + thread:get("receipts_got")
      totals.failures = totals.failures + thread:get("failures")
   end
   common.write_result(summary, latency, totals)
end
