-- Shared by checkin.lua and hello.lua: which server a wrk thread talks to, and the RESULT line
-- that benchmarks/load.py reads (one format for every series, so the report can compare them).
local common = {}

-- ADDRS="127.0.0.1:8080,127.0.0.1:8082": thread n talks to address n (two server processes).
function common.spread(thread, thread_id)
   local addrs = os.getenv("ADDRS")
   if addrs then
      local list = {}
      for host, port in addrs:gmatch("([^,:]+):(%d+)") do
         table.insert(list, wrk.lookup(host, port)[1])
      end
      thread.addr = list[((thread_id - 1) % #list) + 1]
   end
end

-- totals: checkins, forms, receipts, failures (zero for a plain GET series).
function common.write_result(summary, latency, totals)
   local seconds = summary.duration / 1e6
   io.write(string.format(
      'RESULT {"seconds": %.3f, "requests": %d, "requests_per_s": %.1f, "checkins": %d,' ..
      ' "checkins_per_s": %.1f, "forms": %d, "receipts": %d, "failures": %d,' ..
      ' "non_2xx_3xx": %d, "socket_errors": %d,' ..
      ' "p50_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f}\n',
      seconds, summary.requests, summary.requests / seconds, totals.checkins, totals.checkins / seconds,
      totals.forms, totals.receipts, totals.failures, summary.errors.status,
      summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
      latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
      latency.max / 1000))
end

return common
