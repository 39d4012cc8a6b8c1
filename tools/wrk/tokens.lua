-- wrk script: each request uses the next bearer token of its thread's share of TOKENS_FILE
-- (args: tokens file, method, path, body file or "-"); counts responses by status class.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  tokens = {}
  local n = 0
  for line in io.lines(args[1]) do
    if n % counter_total() == id then table.insert(tokens, line) end
    n = n + 1
  end
  method, path = args[2], args[3]
  body = nil
  if args[4] ~= "-" then
    local f = io.open(args[4], "r"); body = f:read("*a"); f:close()
  end
  next_token, ok, other, created = 1, 0, 0, 0
end

function counter_total() return tonumber(os.getenv("WRK_THREADS") or "2") end

function request()
  local t = tokens[next_token]
  next_token = next_token % #tokens + 1
  local headers = { ["Authorization"] = "Bearer " .. t }
  if body then headers["Content-Type"] = "application/json" end
  return wrk.format(method, path, headers, body)
end

function response(status, headers, body)
  if status >= 200 and status < 300 then ok = ok + 1 else
    other = other + 1
    failure = status .. " " .. string.sub(body or "", 1, 200)
  end
  if status == 201 then created = created + 1 end
end

function done(summary, latency, requests)
  local total_ok, total_other, total_created = 0, 0, 0
  for _, t in ipairs(threads) do
    total_ok = total_ok + t:get("ok")
    total_other = total_other + t:get("other")
    total_created = total_created + t:get("created")
  end
  for _, t in ipairs(threads) do
    local f = t:get("failure")
    if f then io.write("FAILURE " .. f .. "\n") end
  end
  io.write(string.format("RESULT ok=%d other=%d created=%d p50_ms=%.3f p99_ms=%.3f duration_s=%.3f\n",
    total_ok, total_other, total_created, latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.duration / 1e6))
end
