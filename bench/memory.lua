-- bench/memory.lua -- wrk script of bench/run --memory: bench/tokens.lua's
-- rotation of bearer tokens (loaded from beside this file), plus a request
-- budget, so a run ends at a given request count instead of only at -d.
--
--   wrk -tN ... -s bench/memory.lua URL -- TOKEN_FILE N LIMIT MARKER
--
-- TOKEN_FILE and N are tokens.lua's arguments. LIMIT: responses the whole
-- run should count, shared among the N threads (thread i takes
-- floor(LIMIT / N), one more when i < LIMIT mod N). A thread that has
-- counted its share stops its own event loop (wrk.thread:stop()) and
-- creates the file MARKER.<i>; wrk itself still sleeps out -d, so bench/run
-- waits for all N markers and then sends wrk SIGINT, which ends the run
-- with the usual summary ("requests in" then counts the thread's share,
-- give or take the responses that arrived in the same event-loop turn).
-- A request already sent when its thread stopped is served but not
-- counted: at most -c of them per run.

local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "tokens.lua")

local tokens_init = init
local share = 0
local seen = 0
local marker = nil
local stopped = false

function init(args)
   tokens_init(args)
   local nthreads = tonumber(args[2] or "") or 1
   local limit = tonumber(args[3] or "")
   marker = args[4]
   if limit == nil or marker == nil then
      error("usage: wrk ... -s memory.lua URL -- TOKEN_FILE THREADS LIMIT MARKER")
   end
   local me = id or 0
   share = math.floor(limit / nthreads)
   if me < limit % nthreads then
      share = share + 1
   end
end

local function stop()
   stopped = true
   local f = io.open(marker .. "." .. (id or 0), "w")
   if f ~= nil then
      f:close()
   end
   wrk.thread:stop()
end

function response(status, headers, body)
   if stopped then
      return
   end
   seen = seen + 1
   if seen >= share then
      stop()
   end
end
