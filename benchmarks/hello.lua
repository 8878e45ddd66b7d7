-- wrk script for plain GETs (the baseline, and the project's emptiest request), with the same
-- RESULT line as checkin.lua.
local common = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrk_common.lua")
local thread_id = 0

function setup(thread)
   thread_id = thread_id + 1
   common.spread(thread, thread_id)
end

function done(summary, latency, requests)
   common.write_result(summary, latency, {checkins = 0, forms = 0, receipts = 0,
                                          failures = summary.errors.status})
end
