-- wrk script: POSTs GraphQL operations. BENCH_QUERIES holds one JSON body per line; each
-- request takes the next one, so a run mixes e.g. many slugs or search terms.
local bodies = {}
local path = os.getenv("BENCH_BODIES")
for line in io.lines(path) do
  if #line > 0 then bodies[#bodies + 1] = line end
end
local i = 0

request = function()
  i = i % #bodies + 1
  return wrk.format("POST", "/graphql", { ["Content-Type"] = "application/json" }, bodies[i])
end

-- Count GraphQL errors, which arrive with status 200.
local errors = 0
response = function(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then
    errors = errors + 1
  end
end

done = function(summary, latency, requests)
  io.write(string.format("  requests/s %.0f  p50 %.2f ms  p99 %.2f ms  non-2xx-or-error %d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + errors))
end
