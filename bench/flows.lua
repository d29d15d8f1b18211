-- wrk script for the two-step flows of issue 9: BURSAR_BENCH_FLOW=preauth authorizes a random
-- funded user's amount for a random merchant, then captures it; BURSAR_BENCH_FLOW=refund pays,
-- then refunds the payment. Every request has its own Idempotency-Key and is the admin's (the
-- admin may act for any user and merchant). A thread sends the second step of a flow as soon as
-- the first one's answer gives its id (a queue per thread: wrk calls request() per thread, not per
-- connection), otherwise a new first step. Settings as payment.lua's, and BURSAR_BENCH_FLOW.
local users = tonumber(os.getenv("BURSAR_BENCH_USERS") or "10000")
local merchants = tonumber(os.getenv("BURSAR_BENCH_MERCHANTS") or "100")
local token = os.getenv("BURSAR_BENCH_TOKEN")
local run = os.getenv("BURSAR_BENCH_RUN") or "0"
local flow = os.getenv("BURSAR_BENCH_FLOW") or "preauth"
local random = math.random
local next_thread = 0
local counter = 0
local prefix
local pending = {}  -- ids whose second step is due, oldest first
local first, last = 1, 0
local seconds_sent, firsts_sent, failures = 0, 0, 0

function setup(thread)
  thread:set("thread_id", next_thread)
  next_thread = next_thread + 1
end

function init(args)
  math.randomseed(42 + thread_id)
  prefix = "\r\nHost: " .. wrk.host .. ":" .. wrk.port .. "\r\nAuthorization: Bearer " .. token ..
    "\r\nContent-Type: application/json\r\nIdempotency-Key: flow-" .. flow .. "-" .. run .. "-" ..
    thread_id .. "-"
end

local function post(path, body)
  counter = counter + 1
  return "POST " .. path .. " HTTP/1.1" .. prefix .. counter .. "\r\nContent-Length: " .. #body ..
    "\r\n\r\n" .. body
end

function request()
  if first <= last then
    local id = pending[first]
    pending[first] = nil
    first = first + 1
    seconds_sent = seconds_sent + 1
    if flow == "preauth" then return post("/v1/preauths/" .. id .. "/capture", "{}") end
    return post("/v1/payments/" .. id .. "/refunds", "{}")
  end
  firsts_sent = firsts_sent + 1
  local body = '{"user_id":"usr_' .. random(users) .. '","merchant_id":"mch_' .. random(merchants) ..
    '","amount_minor":' .. random(1, 1000) .. '}'
  if flow == "preauth" then return post("/v1/preauths", body) end
  return post("/v1/payments", body)
end

function response(status, headers, body)
  if status >= 300 then
    failures = failures + 1
    return
  end
  local id = body:match('^{"preauth_id":"(pa_%d+)"') or body:match('^{"txn_id":"(txn_%d+)"')
  if id then
    last = last + 1
    pending[last] = id
  end
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  io.write(string.format("requests: %d in %.1f s = %.0f requests/s (about %.0f flows/s)\n",
    summary.requests, seconds, summary.requests / seconds, summary.requests / seconds / 2))
  io.write(string.format("errors: connect %d, read %d, write %d, timeout %d, non-2xx %d\n",
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout,
    summary.errors.status))
  io.write(string.format("latency: p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000,
    latency.max / 1000))
end
