-- bench/tokens.lua -- wrk script: every request carries the next bearer
-- token of a file of "tenant_id token" lines (the format of
-- `tenantryctl seed-demo --tokens FILE` and of the tokens bench/run --fast
-- mints), so the load is spread over many tenants instead of one.
--
--   wrk -tN ... -s bench/tokens.lua URL -- TOKEN_FILE [N]
--
-- Each wrk thread has its own Lua state: init() reads the file and formats
-- one request per token once (wrk.format: the command line's method, path
-- and -H headers, plus Authorization), and request() returns them in turn
-- from a thread-local index.  Thread i starts at an offset of i/N of the
-- list (N: the thread count, default 1), so the threads do not walk the
-- tenants in step.  Formatting up front sends the very bytes a per-request
-- wrk.format would, without spending wrk's CPU -- on the same cores as the
-- server -- on it.

local counter = 0

function setup(thread)
   thread:set("id", counter)
   counter = counter + 1
end

local requests = {}
local n = 0
local i = 0

function init(args)
   local file = args[1]
   if file == nil then
      error("usage: wrk ... -s tokens.lua URL -- TOKEN_FILE [THREADS]")
   end
   local f = assert(io.open(file, "r"))
   for line in f:lines() do
      local tok = line:match("^%S+%s+(%S+)%s*$")
      if tok ~= nil then
         n = n + 1
         local h = {}
         for k, v in pairs(wrk.headers) do
            h[k] = v
         end
         h["Authorization"] = "Bearer " .. tok
         requests[n] = wrk.format(nil, nil, h)
      end
   end
   f:close()
   if n == 0 then
      error("no tokens in " .. file)
   end
   local nthreads = tonumber(args[2] or "") or 1
   i = math.floor(n * (id or 0) / nthreads) % n
end

function request()
   i = i + 1
   if i > n then
      i = 1
   end
   return requests[i]
end
