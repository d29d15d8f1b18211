-- wrk script: every request is a payment from a random funded user to a random merchant, with its
-- own Idempotency-Key. Settings from the environment: BURSAR_BENCH_TOKEN (admin token),
-- BURSAR_BENCH_USERS, BURSAR_BENCH_MERCHANTS, BURSAR_BENCH_RUN (keeps keys unique across runs).
--
-- The request is concatenated from a head prepared once per thread, instead of wrk.format()
-- building a header table per request: wrk shares the two cores with the server, and this takes
-- it from about 65 000 to 84 000 requests/s against bench/null_server.cc (docs/benchmarks.md).
local users = tonumber(os.getenv("BURSAR_BENCH_USERS") or "10000")
local merchants = tonumber(os.getenv("BURSAR_BENCH_MERCHANTS") or "100")
local token = os.getenv("BURSAR_BENCH_TOKEN")
local run = os.getenv("BURSAR_BENCH_RUN") or "0"
local random = math.random
local next_thread = 0
local counter = 0
local head

function setup(thread)
  thread:set("thread_id", next_thread)
  next_thread = next_thread + 1
end

function init(args)
  math.randomseed(42 + thread_id)
  head = "POST /v1/payments HTTP/1.1\r\nHost: " .. wrk.host .. ":" .. wrk.port ..
    "\r\nAuthorization: Bearer " .. token ..
    "\r\nContent-Type: application/json\r\nIdempotency-Key: bench-" .. run .. "-" .. thread_id .. "-"
end

function request()
  counter = counter + 1
  local body = '{"user_id":"usr_' .. random(users) .. '","merchant_id":"mch_' .. random(merchants) ..
    '","amount_minor":' .. random(1, 1000) .. '}'
  return head .. counter .. "\r\nContent-Length: " .. #body .. "\r\n\r\n" .. body
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  io.write(string.format("requests: %d in %.1f s = %.0f requests/s\n", summary.requests, seconds,
    summary.requests / seconds))
  io.write(string.format("errors: connect %d, read %d, write %d, timeout %d, non-2xx %d\n",
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout,
    summary.errors.status))
  io.write(string.format("latency: p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000,
    latency.max / 1000))
end
