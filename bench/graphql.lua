-- wrk script: POSTs GraphQL operations. BENCH_BODIES names a file with one request per
-- line: a JSON body, optionally preceded by an access token and a tab. Each request takes
-- the next line, so a run mixes many slugs, search terms or users.
local requests_ = {}
for line in io.lines(os.getenv("BENCH_BODIES")) do
  if #line > 0 then
    local token, body = line:match("^([^\t]+)\t(.+)$")
    local headers = { ["Content-Type"] = "application/json" }
    if token then
      headers["Authorization"] = "Bearer " .. token
    else
      body = line
    end
    requests_[#requests_ + 1] = wrk.format("POST", "/graphql", headers, body)
  end
end
-- Each thread walks its own stride of the lines (thread k takes k, k+T, k+2T, ...), so two
-- threads never send a line (a buyer) at the same moment.
local thread_count, thread_index = 1, 0
local i = 0

init = function(args)
  thread_count = tonumber(wrk.thread:get("thread_count")) or 1
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
  for _, t in ipairs(threads) do
    t:set("thread_count", #threads)
  end
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
