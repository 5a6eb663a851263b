-- 003_api_keys_rate_limits.sql: per-shard allowances of the rate counters.
--
-- A window's limit is split over 16 shard rows (src/db/stmt.c, rate_init):
-- each row admits its share, a request takes from its own shard first and
-- moves on to the next when one is full, so a busy tenant's concurrent
-- requests spread over 16 rows instead of queueing on one, and the window
-- still admits exactly the limit. The table is UNLOGGED: counting costs no
-- WAL (and a crash forgets the current windows, which is harmless).
ALTER TABLE rate_counters ADD COLUMN allowance int NOT NULL DEFAULT 0 CHECK (allowance >= 0);
