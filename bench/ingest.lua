-- ingest.lua: wrk script for case (i): POST /api/v1/usage/events with 100-event batches.
-- Every request carries fresh idempotency keys (thread id, request counter,
-- event index), so each event is counted: this measures ingestion, not the
-- duplicate path. The meter is api_calls (a daily counter) of an enterprise
-- tenant, so no limit refuses the load.
local threads = {}

function setup(thread)
	thread:set("tid", #threads + 1)
	table.insert(threads, thread)
end

wrk.headers["Content-Type"] = "application/json"

function init(args)
	run = tostring(os.time()) .. "-" .. tostring(math.random(1, 1e9))
	n = 0
end

function request()
	n = n + 1
	local ev = {}
	for i = 1, 100 do
		ev[i] = string.format('{"meter":"api_calls","quantity":1,"idempotency_key":"b%s-%d-%d-%d"}',
			run, tid, n, i)
	end
	-- nil headers: wrk.headers, which hold the -H Authorization of bench/run
	return wrk.format("POST", nil, nil, '{"events":[' .. table.concat(ev, ",") .. ']}')
end
