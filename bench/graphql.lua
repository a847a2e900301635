-- wrk script: POSTs GraphQL operations. BENCH_BODIES names a file with one request per
-- line: a JSON body, optionally preceded by tab-separated fields, each either an access
-- token or a header written `Name: value` (e.g. a client address in X-Forwarded-For).
-- Each request takes the next line, so a run mixes many slugs, search terms or users.
--
--   wrk -t THREADS ... -s bench/graphql.lua URL -- THREADS
local requests_ = {}
for line in io.lines(os.getenv("BENCH_BODIES")) do
  if #line > 0 then
    local headers = { ["Content-Type"] = "application/json" }
    local fields = {}
    for field in line:gmatch("[^\t]+") do
      fields[#fields + 1] = field
    end
    for k = 1, #fields - 1 do
      local name, value = fields[k]:match("^([%w-]+): (.+)$")
      if name then
        headers[name] = value
      else
        headers["Authorization"] = "Bearer " .. fields[k]
      end
    end
    requests_[#requests_ + 1] = wrk.format("POST", "/graphql", headers, fields[#fields])
  end
end
-- Each thread walks its own stride of the lines (thread k takes k, k+T, k+2T, ...), so two
-- threads never send a line (a buyer) at the same moment. wrk starts each thread before it
-- sets up the next, so the thread count comes as the script's argument, not from setup().
local thread_count, thread_index = 1, 0
local i = 0

init = function(args)
  thread_count = tonumber(args[1]) or 1
  thread_index = tonumber(wrk.thread:get("thread_index")) or 0
  i = thread_index
end

request = function()
  local line = requests_[i % #requests_ + 1]
  i = i + thread_count
  return line
end

-- GraphQL errors arrive with status 200: count them too. Each wrk thread has its own Lua
-- state, so the count is global per thread and summed over the threads in done().
errors = 0
local threads = {}
setup = function(thread)
  thread:set("thread_index", #threads)
  threads[#threads + 1] = thread
end

first_error = ""
response = function(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then
    errors = errors + 1
    if first_error == "" then
      first_error = status .. " " .. string.sub(body, 1, 300)
    end
  end
end

done = function(summary, latency, requests)
  local failed = summary.errors.status
  for _, thread in ipairs(threads) do
    failed = failed + thread:get("errors")
  end
  io.write(string.format("  requests/s %.0f  p50 %.2f ms  p99 %.2f ms  errors %d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, failed))
  for _, thread in ipairs(threads) do
    local sample = thread:get("first_error")
    if sample ~= "" then
      io.write("  first error: " .. sample .. "\n")
      break
    end
  end
end
