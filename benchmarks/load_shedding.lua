-- wrk script for benchmarks/load_shedding.py: POSTs one tool call and keeps the latency of each
-- answer by status class (200 vs 503 vs other), so successes and refusals get their own p99.
-- Run with as many threads as connections (-t N -c N): one connection per thread pairs each
-- response with the request before it.
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } timespec_t;
  int clock_gettime(int clk_id, timespec_t *tp);
]]
local ts = ffi.new("timespec_t")
local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

wrk.method = "POST"
wrk.body = '{"arguments": {"text": "The quick brown fox jumps over the lazy dog."}}'
wrk.headers["Content-Type"] = "application/json"
local token = os.getenv("TF_TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

local started = 0
local wait_ms = 0
-- Polite clients (the default) wait as long as a 503's Retry-After says; TF_IGNORE_RETRY_AFTER=1
-- retries at once, the worst case for a shedder.
local polite = os.getenv("TF_IGNORE_RETRY_AFTER") ~= "1"
ok, shed, other, shed_retry_after = {}, {}, {}, 0
local req = nil
function init(args)
  req = wrk.format()
end
function delay()
  local ms = wait_ms
  wait_ms = 0
  return ms
end
function request()
  started = now_ms()
  return req
end
function response(status, headers, body)
  local elapsed = now_ms() - started
  if status == 200 then
    ok[#ok + 1] = elapsed
  elseif status == 503 then
    shed[#shed + 1] = elapsed
    local retry_after = headers["Retry-After"] or headers["retry-after"]
    if retry_after then
      shed_retry_after = shed_retry_after + 1
      if polite then wait_ms = tonumber(retry_after) * 1000 end
    end
  else
    other[#other + 1] = elapsed
  end
end

local function json_list(samples)
  local parts = {}
  for i = 1, #samples do parts[i] = string.format("%.3f", samples[i]) end
  return "[" .. table.concat(parts, ",") .. "]"
end

function done(summary, latency, requests)
  local all_ok, all_shed, all_other, with_retry = {}, {}, {}, 0
  for _, thread in ipairs(threads) do
    for _, v in ipairs(thread:get("ok")) do all_ok[#all_ok + 1] = v end
    for _, v in ipairs(thread:get("shed")) do all_shed[#all_shed + 1] = v end
    for _, v in ipairs(thread:get("other")) do all_other[#all_other + 1] = v end
    with_retry = with_retry + thread:get("shed_retry_after")
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"duration_us": %d, "ok_ms": %s, "shed_ms": %s, "other_ms": %s, ' ..
    '"shed_with_retry_after": %d, "socket_errors": %d}\n',
    summary.duration, json_list(all_ok), json_list(all_shed), json_list(all_other), with_retry,
    e.connect + e.read + e.write + e.timeout))
end
