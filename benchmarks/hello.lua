-- wrk script for the baseline: plain GET, with the same RESULT line as checkin.lua.
local threads = {}
local thread_id = 0

function setup(thread)
   thread_id = thread_id + 1
   local addrs = os.getenv("ADDRS")
   if addrs then
      local list = {}
      for host, port in addrs:gmatch("([^,:]+):(%d+)") do
         table.insert(list, wrk.lookup(host, port)[1])
      end
      thread.addr = list[((thread_id - 1) % #list) + 1]
   end
   table.insert(threads, thread)
end

function done(summary, latency, requests)
   local seconds = summary.duration / 1e6
   io.write(string.format(
      'RESULT {"seconds": %.3f, "requests": %d, "requests_per_s": %.1f, "checkins": 0,' ..
      ' "checkins_per_s": 0, "forms": 0, "receipts": 0, "failures": %d,' ..
      ' "non_2xx_3xx": %d, "socket_errors": %d,' ..
      ' "p50_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f}\n',
      seconds, summary.requests, summary.requests / seconds, summary.errors.status,
      summary.errors.status,
      summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
      latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
      latency.max / 1000))
end
