-- wrk script: each check-in is what a phone does on a QR scan.
--   1. GET /v/<slug>: a new guest, no cookie (the guest pages set none); keep the idempotency_key
--   2. POST /v/<slug> with the form's fresh idempotency key (no Origin header: allowed, and the
--      origin check it skips is a few header look-ups)
--   3. follow the 303 to the receipt /r/<token>
-- wrk calls request() and response() per connection but all connections of a thread share this
-- Lua state, so the steps travel through per-thread queues: a connection that is free picks the
-- oldest pending step (receipt first, then a ready form), else starts a new guest with a GET.
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
   return "idempotency_key=" .. form.key ..
      "&name=Benk+Testesen&phone=" .. phone .. "&party_size=2&area=&visited_at=&consent=y"
end

function request()
   if #receipts > 0 then
      return wrk.format("GET", table.remove(receipts, 1))
   end
   if #forms > 0 then
      local form = table.remove(forms, 1)
      return wrk.format("POST", path, {
         ["Content-Type"] = "application/x-www-form-urlencoded",
      }, form_body(form))
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
      if key then
         forms_got = forms_got + 1
         table.insert(forms, {key = key})
      else
         failures = failures + 1
      end
   elseif status == 200 then
      receipts_got = receipts_got + 1
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
