-- wrk script for the serving benchmark: POSTs the body in BODY_FILE with the headers in HEADERS
-- ("Name: value" lines separated by "\n"), and prints one JSON line when done: requests, errors,
-- seconds and 1000 latency quantiles in microseconds (so that interleaved runs can be pooled).
wrk.method = "POST"
local file = assert(io.open(os.getenv("BODY_FILE"), "rb"))
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"
for line in string.gmatch(os.getenv("HEADERS") or "", "[^\n]+") do
  local name, value = string.match(line, "^([^:]+):%s*(.*)$")
  if name then wrk.headers[name] = value end
end

function done(summary, latency, requests)
  local quantiles = {}
  for i = 1, 1000 do
    quantiles[i] = latency:percentile((i - 0.5) / 10)
  end
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status
                 + summary.errors.timeout
  io.write(string.format('{"requests": %d, "errors": %d, "seconds": %f, "quantiles_us": [%s]}\n',
    summary.requests, errors, summary.duration / 1e6, table.concat(quantiles, ",")))
end
