/* stmt.c: the catalog of every SQL statement the programs run (prepared per connection). */
#include "db/stmt.h"

/*
 * Every statement is prepared once per connection and bound with parameters;
 * nothing is ever pasted into SQL. Reads that answer an API call build their
 * JSON in PostgreSQL (json_build_object), which saves a parse and a
 * serialisation in the worker; timestamps go through app.ts() (RFC 3339 UTC).
 * Statements that run after the ctx_* statements rely on app.tenant() and
 * app.user_id(), which they set only for a caller allowed in that tenant.
 */

/*
 * Mutations write their audit row in the same statement or batch. The last
 * five parameters of an audited statement are always the actor and the
 * request, in this order (api_audit() fills them): actor type, actor id,
 * actor label, request id, client address.
 */
#define AUDIT_INTO \
	"INSERT INTO audit_log (tenant_id, actor_type, actor_id, actor_label, action," \
	" target_type, target_id, before, after, request_id, client_addr)"

#define TENANT_JSON(t) \
	"json_build_object('id', " t ".id, 'name', " t ".name, 'slug', " t ".slug, 'tier', " t ".tier," \
	" 'status', " t ".status, 'limits', app.limits(" t ".id, " t ".tier)," \
	" 'created_at', app.ts(" t ".created_at), 'updated_at', app.ts(" t ".updated_at)," \
	" 'version', " t ".version)"

/*
 * Keyset paging (issue 19): a list's opaque cursor is "<page>.<µs>.<id>",
 * the next page's number and the last row's sort key (its timestamp in
 * microseconds since the epoch, exact, and its id); api_cursor() parses it.
 * CURSOR_TS(n) turns parameter $n back into the timestamp; NEXT_CURSOR
 * writes the cursor after the last row of a page.
 */
#define CURSOR_TS(n) "('epoch'::timestamptz + $" n "::bigint * interval '1 microsecond')"
#define NEXT_CURSOR(page, ts, id) \
	"(" page " + 1) || '.' || (extract(epoch FROM " ts ") * 1000000)::bigint || '.' || " id
/*
 * A list's answer: the object of FIELDS, plus next_cursor (NEXT, a
 * subquery on the page p) when the CTE f found more rows than LIM; on the
 * last page there is no next_cursor member.
 */
#define LIST_JSON(lim, next, fields) \
	" SELECT CASE WHEN (SELECT count(*) FROM f) > " lim \
	" THEN json_build_object(" fields ", 'next_cursor', (" next "))" \
	" ELSE json_build_object(" fields ") END"
#define USER_JSON(u) \
	"json_build_object('id', " u ".id, 'email', " u ".email, 'name', " u ".name, " \
	"'is_superadmin', " u ".is_superadmin, 'created_at', app.ts(" u ".created_at))"

const struct stmt_def stmts[ST__COUNT] = {
	[ST_PING] = { "ping", "SELECT 1", 0 },

	/* ---- Authorisation ------------------------------------------------ */

	/*
	 * The authorisation context (see sql/001_schema.sql): ctx_user first,
	 * then ctx_tenant_id or ctx_tenant_slug, in the request's transaction.
	 * $1 user id. No user is in context yet, so RLS shows no users row:
	 * app.principal() (sql/009_users_rls.sql) returns that one user's
	 * authorisation facts, nothing else.
	 */
	[ST_CTX_USER] = { "ctx_user",
		"SELECT set_config('tenantry.user_id', u.id::text, true),"
		" set_config('tenantry.superadmin', CASE WHEN u.is_superadmin THEN 'on' ELSE '' END, true)"
		" FROM app.principal($1::uuid) u", 1 },
/*
 * The tenant's IP allow-list (settings security.ip_whitelist) as CIDRs
 * separated by spaces, "" when it has none: what the worker enforces
 * (auth_decide), also from a cached context.
 */
#define IP_ALLOW \
		" CASE WHEN jsonb_typeof(t.settings #> '{security,ip_whitelist}') = 'array' THEN" \
		"   array_to_string(ARRAY(SELECT jsonb_array_elements_text(t.settings #> '{security,ip_whitelist}')), ' ')" \
		"   ELSE '' END"
#define CTX_TENANT(join) \
		"SELECT u.id IS NOT NULL, u.email, u.name, coalesce(u.is_superadmin, false)," \
		" t.id IS NOT NULL, t.id, t.slug, t.name, t.tier, t.status, tu.role," \
		" set_config('tenantry.tenant_id', CASE WHEN t.id IS NOT NULL AND" \
		"   (tu.role IS NOT NULL OR u.is_superadmin) THEN t.id::text ELSE '' END, true)," \
		IP_ALLOW \
		" FROM (SELECT 1) one" \
		" LEFT JOIN users u ON u.id = app.user_id()" \
		" LEFT JOIN tenants t ON " join \
		" LEFT JOIN tenant_users tu ON tu.tenant_id = t.id AND tu.user_id = u.id"
	/* $1 tenant id (NULL: no tenant context). */
	[ST_CTX_TENANT_ID] = { "ctx_tenant_id", CTX_TENANT("t.id = $1::uuid"), 1 },
	/* $1 workspace slug. */
	[ST_CTX_TENANT_SLUG] = { "ctx_tenant_slug", CTX_TENANT("t.slug = $1"), 1 },

	/*
	 * API keys (the credential "Bearer tnt_..."): $1 is the SHA-256 (hex) of
	 * the key. CTX_KEY_HASH lets this transaction see that one key row (the
	 * api_keys policy), CTX_KEY reads it and sets tenantry.tenant_id to its
	 * tenant if it is neither revoked nor expired, CTX_KEY_TENANT reads that
	 * tenant. No user is set: a key is not a person.
	 */
	[ST_CTX_KEY_HASH] = { "ctx_key_hash",
		"SELECT set_config('tenantry.key_hash', $1, true)", 1 },
	/*
	 * Columns: id, name, scopes (space-separated), expired, revoked, tenant
	 * id, stored hash (hex), expires_at and revoked_at as epoch seconds
	 * (NULL: never; a cached key is checked against these at each use).
	 */
	[ST_CTX_KEY] = { "ctx_key",
		"SELECT k.id, k.name, array_to_string(k.scopes, ' '),"
		" k.expires_at IS NOT NULL AND k.expires_at <= now(), k.revoked_at IS NOT NULL AND k.revoked_at <= now(),"
		" k.tenant_id, encode(k.key_hash, 'hex'),"
		" extract(epoch FROM k.expires_at)::float8, extract(epoch FROM k.revoked_at)::float8,"
		" set_config('tenantry.tenant_id', CASE WHEN (k.expires_at IS NULL OR k.expires_at > now())"
		"   AND (k.revoked_at IS NULL OR k.revoked_at > now()) THEN k.tenant_id::text ELSE '' END, true)"
		" FROM api_keys k WHERE k.key_hash = decode($1, 'hex')", 1 },
	/* Columns: found, id, slug, name, tier, status, API access (tier feature and setting), IP allow-list. */
	[ST_CTX_KEY_TENANT] = { "ctx_key_tenant",
		"SELECT t.id IS NOT NULL, t.id, t.slug, t.name, t.tier, t.status,"
		" coalesce((ti.features && '{all,api_access}'::text[])"
		"   AND coalesce((t.settings #>> '{features,api_access_enabled}')::boolean, true), false),"
		IP_ALLOW
		" FROM (SELECT 1) one LEFT JOIN tenants t ON t.id = app.tenant()"
		" LEFT JOIN tiers ti ON ti.name = t.tier", 0 },
	/* last_used_at of the key $1 (hash, hex), at most once a minute: a hot key writes nothing per request. */
	[ST_KEY_TOUCH] = { "key_touch",
		"UPDATE api_keys SET last_used_at = now() WHERE key_hash = decode($1, 'hex')"
		" AND tenant_id = app.tenant() AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')", 1 },

	/* ---- Rate limits ---------------------------------------------------- */

	/*
	 * The tenant's limit of class $1 in the window holding $2 (epoch
	 * seconds): a CTE shared by RATE_INIT and RATE_TAKE. No row when the
	 * tier is exempt or has no limit (-1) for the class.
	 */
#define RATE_WINDOW \
		"WITH l AS (SELECT rl.max_requests AS lim, rl.window_seconds AS secs FROM tenants t" \
		"   JOIN tiers ti ON ti.name = t.tier AND NOT ti.rate_exempt" \
		"   JOIN tier_rate_limits rl ON rl.tier = t.tier AND rl.class = $1 AND rl.max_requests >= 0" \
		"   WHERE t.id = app.tenant())," \
		" w AS (SELECT lim, secs, to_timestamp($2::bigint - $2::bigint % secs) AS ws FROM l)"
	/*
	 * The first request of a window makes its 16 shard rows, each allowed
	 * its share of the limit, and drops the tenant's windows of the class
	 * before the previous one (a request that read the clock just before
	 * the boundary still finds its window's rows).
	 */
	[ST_RATE_INIT] = { "rate_init",
		RATE_WINDOW ","
		" fresh AS (SELECT w.* FROM w WHERE NOT EXISTS (SELECT 1 FROM rate_counters c"
		"   WHERE c.tenant_id = app.tenant() AND c.class = $1 AND c.window_start = w.ws AND c.shard = 0)),"
		" old AS (DELETE FROM rate_counters c USING fresh WHERE c.tenant_id = app.tenant()"
		"   AND c.class = $1 AND c.window_start < fresh.ws - make_interval(secs => fresh.secs) RETURNING 1)"
		" INSERT INTO rate_counters (tenant_id, class, window_start, shard, hits, allowance)"
		" SELECT app.tenant(), $1, fresh.ws, s, 0, fresh.lim / 16 + CASE WHEN s < fresh.lim % 16 THEN 1 ELSE 0 END"
		" FROM fresh, generate_series(0, 15) s ON CONFLICT DO NOTHING", 2 },
	/*
	 * Take one request of the allowance: the caller's shard $3 first, then
	 * the next ones in turn; a shard found full after waiting for its lock
	 * is skipped (READ COMMITTED rechecks hits < allowance), so the window
	 * admits exactly the limit and refuses only when every shard is full.
	 * Columns: taken, limit, window seconds, window start (epoch), hits in
	 * the window (others' uncommitted ones not counted), whether the
	 * window's rows exist (if not, RATE_INIT and this again: once per
	 * window, so a request normally costs this one statement).
	 */
	[ST_RATE_TAKE] = { "rate_take",
		RATE_WINDOW ","
		" cur AS (SELECT c.hits FROM rate_counters c, w WHERE c.tenant_id = app.tenant() AND c.class = $1"
		"   AND c.window_start = w.ws),"
		" pick AS (SELECT c.shard FROM rate_counters c, w WHERE c.tenant_id = app.tenant() AND c.class = $1"
		"   AND c.window_start = w.ws AND c.hits < c.allowance"
		"   ORDER BY (c.shard - $3::int + 16) % 16 LIMIT 1 FOR UPDATE OF c),"
		" hit AS (UPDATE rate_counters c SET hits = c.hits + 1 FROM w, pick WHERE c.tenant_id = app.tenant()"
		"   AND c.class = $1 AND c.window_start = w.ws AND c.shard = pick.shard RETURNING 1)"
		" SELECT (SELECT count(*) FROM hit) = 1, w.lim, w.secs, extract(epoch FROM w.ws)::bigint,"
		"   (SELECT coalesce(sum(hits), 0) FROM cur) + (SELECT count(*) FROM hit), EXISTS (SELECT 1 FROM cur)"
		" FROM w", 3 },
	/*
	 * Every tier's limits, for the worker's own counting of the read
	 * classes (src/auth/rate.c): tier, exempt, class, max (-1 none), window.
	 */
	[ST_RATE_CATALOG] = { "rate_catalog",
		"SELECT t.name, t.rate_exempt, rl.class, rl.max_requests, rl.window_seconds"
		" FROM tiers t JOIN tier_rate_limits rl ON rl.tier = t.name", 0 },
	/*
	 * The rule of the tenant in context for class $1 and, for the window
	 * holding $2 (epoch seconds), the count over every worker so far: no
	 * row when the tier is exempt or does not limit the class. Columns:
	 * limit, window seconds, window start (epoch), count.
	 */
	[ST_RATE_RULE] = { "rate_rule",
		"SELECT rl.max_requests, rl.window_seconds, w.ws, (SELECT coalesce(sum(c.hits), 0) FROM rate_counters c"
		"   WHERE c.tenant_id = t.id AND c.class = $1 AND c.window_start = to_timestamp(w.ws))"
		" FROM tenants t JOIN tiers ti ON ti.name = t.tier AND NOT ti.rate_exempt"
		" JOIN tier_rate_limits rl ON rl.tier = t.tier AND rl.class = $1 AND rl.max_requests >= 0"
		" CROSS JOIN LATERAL (SELECT $2::bigint - $2::bigint % rl.window_seconds AS ws) w"
		" WHERE t.id = app.tenant()", 2 },
	/*
	 * The flush writes counters of many tenants: its own scope (policy in
	 * sql/005_cache.sql). Its commit does not wait for the WAL to reach the
	 * disk: a worker waited ~10 ms per flush for an fsync, ten times a
	 * second, with nothing to serve in between; what a database crash can
	 * lose of it is a fraction of a second of read counts (README, rate
	 * limits), never tenant data.
	 */
	[ST_RATE_FLUSH_SCOPE] = { "rate_flush_scope",
		"SELECT set_config('tenantry.rate_flush', 'on', true), set_config('synchronous_commit', 'off', true)", 0 },
	/*
	 * A worker's unflushed hits, in one statement: parallel arrays $1
	 * tenants, $2 classes, $3 window starts (epoch), $4 window seconds,
	 * $5 hits (0: only learning the window's count), $6 first flush of
	 * this window by this worker (then the tenant's windows before the
	 * previous one go, skipping rows another flush holds, so two flushes
	 * never wait on each other); $7 the worker's shard. Rows: tenant, class, window start, the window's total
	 * over every shard (this flush included).
	 */
	[ST_RATE_FLUSH] = { "rate_flush",
		"WITH f AS (SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::int[], $5::int[], $6::boolean[])"
		"   AS f(tenant_id, class, ws, secs, hits, first)),"
		" old AS (DELETE FROM rate_counters c WHERE c.ctid IN (SELECT o.ctid FROM rate_counters o JOIN f"
		"   ON f.first AND o.tenant_id = f.tenant_id AND o.class = f.class"
		"   AND o.window_start < to_timestamp(f.ws - f.secs) FOR UPDATE OF o SKIP LOCKED)),"
		" up AS (INSERT INTO rate_counters (tenant_id, class, window_start, shard, hits)"
		"   SELECT tenant_id, class, to_timestamp(ws), $7::smallint, hits FROM f WHERE hits > 0"
		"   ORDER BY tenant_id, class, ws"
		"   ON CONFLICT (tenant_id, class, window_start, shard) DO UPDATE SET hits = rate_counters.hits + EXCLUDED.hits)"
		" SELECT f.tenant_id, f.class, f.ws, f.hits + coalesce((SELECT sum(c.hits) FROM rate_counters c"
		"   WHERE c.tenant_id = f.tenant_id AND c.class = f.class AND c.window_start = to_timestamp(f.ws)), 0)"
		" FROM f", 7 },
	/*
	 * Login failures of ($1 email, $2 client address) and of the address
	 * alone in the 15 minutes before $3 (epoch seconds), counted in
	 * one-minute buckets; and the seconds until the oldest bucket of the
	 * pair leaves the window.
	 */
	[ST_LOGIN_GATE] = { "login_gate",
		"SELECT coalesce(sum(failures) FILTER (WHERE email = $1), 0), coalesce(sum(failures), 0),"
		" coalesce(extract(epoch FROM min(window_start) FILTER (WHERE email = $1))::bigint + 900 - $3::bigint, 0)"
		" FROM login_failures WHERE client_addr = $2"
		" AND window_start > to_timestamp($3::bigint - 900)", 3 },
	/* One more failure of ($1, $2) in the minute of $3; old buckets of the pair go. */
	[ST_LOGIN_FAILED] = { "login_failed",
		"WITH old AS (DELETE FROM login_failures WHERE email = $1 AND client_addr = $2"
		"   AND window_start <= to_timestamp($3::bigint - 900) RETURNING 1)"
		" INSERT INTO login_failures (email, client_addr, window_start, failures)"
		" VALUES ($1, $2, to_timestamp($3::bigint - $3::bigint % 60), 1)"
		" ON CONFLICT (email, client_addr, window_start) DO UPDATE SET failures = login_failures.failures + 1", 3 },
	/* A successful login forgets the pair's failures. */
	[ST_LOGIN_OK] = { "login_ok",
		"DELETE FROM login_failures WHERE email = $1 AND client_addr = $2", 2 },

	/* ---- Users -------------------------------------------------------- */

	/*
	 * $1 email (lower-cased): id and PHC hash of exactly that address,
	 * through app.login_user() (no user is in context at sign-in).
	 */
	[ST_USER_LOGIN] = { "user_login",
		"SELECT id, password_hash FROM app.login_user($1)", 1 },
	/* After ctx_user (RLS: a user updates their own row): $1 user id, $2 new PHC hash (parameter upgrade at login). */
	[ST_USER_SET_HASH] = { "user_set_hash",
		"UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1::uuid", 2 },
	/*
	 * Create a user and its audit row in one statement.
	 * $1 email, $2 name, $3 hash, $4 is_superadmin, $5 actor type,
	 * $6 actor id, $7 actor label, $8 request id, $9 client address.
	 */
	[ST_USER_CREATE] = { "user_create",
		"WITH u AS (INSERT INTO users (email, name, password_hash, is_superadmin)"
		" VALUES ($1, $2, $3, $4::boolean) RETURNING *),"
		" a AS (INSERT INTO audit_log (tenant_id, actor_type, actor_id, actor_label, action,"
		" target_type, target_id, after, request_id, client_addr)"
		" SELECT NULL, $5, $6::uuid, $7, 'user.created', 'user', u.id::text,"
		" jsonb_build_object('email', u.email, 'name', u.name, 'is_superadmin', u.is_superadmin),"
		" $8, $9 FROM u)"
		" SELECT " USER_JSON("u") ", u.id FROM u", 9 },
	/* tenantryctl, after as_operator (RLS shows a superadmin every user): $1 email. */
	[ST_USER_ID_BY_EMAIL] = { "user_id_by_email",
		"SELECT id FROM users WHERE email = $1", 1 },
	/*
	 * The caller and its workspaces; "tenant" is the current context, if
	 * any. Relies on the ctx_* statements having run in the same transaction.
	 */
	[ST_ME] = { "me",
		"SELECT json_build_object('kind', 'user', 'user', " USER_JSON("u") ","
		" 'tenants', coalesce((SELECT json_agg(json_build_object('id', t.id, 'slug', t.slug,"
		"   'name', t.name, 'role', tu.role, 'tier', t.tier, 'status', t.status)"
		"   ORDER BY t.name, t.id)"
		"   FROM tenant_users tu JOIN tenants t ON t.id = tu.tenant_id"
		"   WHERE tu.user_id = u.id), '[]'::json),"
		" 'tenant', CASE WHEN app.tenant() IS NOT NULL THEN"
		"   (SELECT json_build_object('id', t.id, 'slug', t.slug, 'name', t.name, 'role', tu.role)"
		"    FROM tenants t LEFT JOIN tenant_users tu ON tu.tenant_id = t.id AND tu.user_id = u.id"
		"    WHERE t.id = app.tenant()) END)"
		" FROM users u WHERE u.id = app.user_id()", 0 },

	/* The API key of this transaction (set by ctx_key_hash) and its tenant. */
	[ST_ME_KEY] = { "me_key",
		"SELECT json_build_object('kind', 'api_key', 'api_key', json_build_object('id', k.id,"
		" 'name', k.name, 'prefix', k.prefix, 'scopes', k.scopes, 'created_at', app.ts(k.created_at),"
		" 'expires_at', app.ts(k.expires_at)),"
		" 'tenant', json_build_object('id', t.id, 'slug', t.slug, 'name', t.name))"
		" FROM api_keys k JOIN tenants t ON t.id = k.tenant_id"
		" WHERE k.key_hash = decode(current_setting('tenantry.key_hash', true), 'hex') AND k.tenant_id = app.tenant()", 0 },

	/* ---- Operator context (tenantryctl; SET_TENANT also for a new tenant) - */

	[ST_AS_OPERATOR] = { "as_operator",
		"SELECT set_config('tenantry.superadmin', 'on', true)", 0 },
	[ST_SET_TENANT] = { "set_tenant",
		"SELECT set_config('tenantry.tenant_id', $1::uuid::text, true)", 1 },

	/* ---- Tenants ------------------------------------------------------ */

	/* As operator: $1 name, $2 slug, $3 tier, $4 actor label, $5 request id. */
	[ST_TENANT_CREATE] = { "tenant_create",
		"WITH t AS (INSERT INTO tenants (name, slug, tier) VALUES ($1, $2, $3) RETURNING *),"
		" a AS (INSERT INTO audit_log (tenant_id, actor_type, actor_label, action, target_type,"
		" target_id, after, request_id)"
		" SELECT t.id, 'system', $4, 'tenant.created', 'tenant', t.id::text,"
		" jsonb_build_object('name', t.name, 'slug', t.slug, 'tier', t.tier), $5 FROM t)"
		" SELECT id FROM t", 5 },
	[ST_TENANT_ID_BY_SLUG] = { "tenant_id_by_slug",
		"SELECT id FROM tenants WHERE slug = $1", 1 },
	/* $1 user id, $2 role; in the tenant set by ST_AS_TENANT. */
	[ST_MEMBER_UPSERT] = { "member_upsert",
		"INSERT INTO tenant_users (tenant_id, user_id, role) VALUES (app.tenant(), $1::uuid, $2)"
		" ON CONFLICT (tenant_id, user_id) DO UPDATE SET role = EXCLUDED.role"
		" RETURNING (xmax = 0) AS inserted", 2 },
	/*
	 * Demo usage history for the tenant set by ST_AS_TENANT: $1 months of
	 * daily counters and current gauges, scaled by $2 (0 < $2 <= 1) of the
	 * tier's limits so demo workspaces show a spread of quota levels.
	 */
	[ST_SEED_USAGE] = { "seed_usage",
		"WITH lim AS (SELECT m.name, m.kind, m.period, coalesce(nullif(tl.max_value, -1), 1000) AS cap"
		"   FROM meters m JOIN tenants t ON t.id = app.tenant()"
		"   LEFT JOIN tier_limits tl ON tl.tier = t.tier AND tl.meter = m.name"
		"   WHERE m.source = 'reported'),"
		" days AS (SELECT d::date AS day FROM generate_series("
		"   date_trunc('month', now() AT TIME ZONE 'UTC') - make_interval(months => $1::int - 1),"
		"   (now() AT TIME ZONE 'UTC')::date, interval '1 day') d),"
		" gen AS (SELECT lim.name, lim.kind, lim.period, days.day, greatest(0, (CASE"
		"     WHEN lim.kind = 'gauge' THEN lim.cap * $2::float8 * (0.6 + 0.4 * random())"
		"     WHEN lim.period = 'month' THEN lim.cap * $2::float8 / 30 * (0.5 + random())"
		"     ELSE 50 + 500 * random() END)::bigint) AS q"
		"   FROM lim, days),"
		" daily AS (INSERT INTO usage_daily (tenant_id, meter, day, quantity, observed_at)"
		"   SELECT app.tenant(), name, day, q, CASE WHEN kind = 'gauge' THEN day::timestamp AT TIME ZONE 'UTC' END"
		"   FROM gen ON CONFLICT (tenant_id, meter, day) DO NOTHING RETURNING meter, day, quantity),"
		" periods AS (INSERT INTO usage_periods (tenant_id, meter, period_start, quantity)"
		"   SELECT app.tenant(), d.meter, CASE WHEN lim.period = 'month'"
		"     THEN date_trunc('month', d.day)::date ELSE d.day END, sum(d.quantity)"
		"   FROM daily d JOIN lim ON lim.name = d.meter WHERE lim.kind = 'counter' GROUP BY 1, 2, 3"
		"   ON CONFLICT (tenant_id, meter, period_start) DO NOTHING RETURNING 1)"
		" INSERT INTO usage_gauges (tenant_id, meter, value, observed_at)"
		"   SELECT app.tenant(), lim.name, (lim.cap * $2::float8)::bigint, now() FROM lim WHERE lim.kind = 'gauge'"
		"   ON CONFLICT (tenant_id, meter) DO NOTHING"
		" RETURNING (SELECT count(*) FROM daily) + (SELECT count(*) FROM periods)", 2 },

	/* TenantInfoResponse of the tenant in context (user_role null for a superadmin non-member). */
	[ST_TENANT_CURRENT] = { "tenant_current",
		"SELECT json_build_object('id', t.id, 'name', t.name, 'slug', t.slug,"
		" 'subscription_tier', t.tier, 'created_at', app.ts(t.created_at), 'user_role', tu.role,"
		" 'member_count', coalesce((SELECT c.members FROM tenant_counts c WHERE c.tenant_id = t.id), 0))"
		" FROM tenants t LEFT JOIN tenant_users tu ON tu.tenant_id = t.id AND tu.user_id = app.user_id()"
		" WHERE t.id = app.tenant()", 0 },

	/*
	 * Tenants visible to the caller, newest first: all for a superadmin,
	 * else those the caller is a member of. $1 tier, $2 status, $3 search
	 * text (name or slug, case-insensitive substring), $4 $5 the cursor's
	 * timestamp (µs) and id (rows after it), $6 limit, $7 offset (page
	 * paging), $8 page. Three branches, two of them cut when the statement
	 * is planned for its parameters: a superadmin's list reads at most
	 * limit + 1 rows in the order of an index (tenants_created_idx, or by
	 * tier or status); a superadmin's search starts from the matches of
	 * app.tenant_search (trigram indexes, 007_counts_paging.sql) and reads
	 * each by id; a member's list, their memberships. total: the fleet
	 * counts, or the matches of a search, or the caller's own tenants.
	 */
/*
 * A tenant found by app.tenant_search, read by its id (tenants_pkey): the
 * OFFSET 0 keeps the planner from turning the lookup into a join that
 * reads the fleet to hash it (it would, for a search or a member's list
 * with q, whose filter it cannot estimate).
 */
#define SEARCHED_TENANT(t) \
		" (SELECT * FROM tenants x WHERE x.id = s.id OFFSET 0) " t
/* A member's tenant, read by its id: their memberships lead, never the fleet. */
#define MEMBER_TENANT(t) \
		" (SELECT * FROM tenants x WHERE x.id = tu.tenant_id OFFSET 0) " t
#define TENANT_FILTER(t) \
		" AND ($1::text IS NULL OR " t ".tier = $1) AND ($2::text IS NULL OR " t ".status = $2)"
#define TENANT_AFTER(t) \
		" AND ($4::bigint IS NULL OR (" t ".created_at <= " CURSOR_TS("4") \
		"   AND (" t ".created_at < " CURSOR_TS("4") " OR " t ".id > $5::uuid)))"
#define TENANT_MINE_Q(t) \
		" AND ($3::text IS NULL OR strpos(lower(" t ".name), lower($3)) > 0 OR strpos(" t ".slug, lower($3)) > 0)"
#define TENANT_LIST_FIELDS \
	"'tenants', coalesce((SELECT json_agg(" TENANT_JSON("p") \
	"   ORDER BY p.created_at DESC, p.id) FROM p), '[]'::json)," \
	" 'total', CASE WHEN NOT app.is_superadmin() THEN (SELECT count(*) FROM tenant_users tu" \
	"     CROSS JOIN LATERAL" MEMBER_TENANT("t") " WHERE tu.user_id = app.user_id()" TENANT_FILTER("t") TENANT_MINE_Q("t") ")" \
	"   WHEN $3::text IS NULL THEN (SELECT coalesce(sum(c.tenants), 0)::bigint FROM fleet_counts c" \
	"     WHERE ($1::text IS NULL OR c.tier = $1) AND ($2::text IS NULL OR c.status = $2))" \
	"   ELSE (SELECT count(*) FROM app.tenant_search($3) s(id) CROSS JOIN LATERAL" SEARCHED_TENANT("t") \
	"     WHERE true" TENANT_FILTER("t") ") END," \
	" 'page', $8::int, 'limit', $6::int"
	[ST_TENANT_LIST] = { "tenant_list",
		"WITH f AS ("
		"  (SELECT t.* FROM tenants t WHERE app.is_superadmin() AND $3::text IS NULL" TENANT_FILTER("t")
		"   " TENANT_AFTER("t")
		"   ORDER BY t.created_at DESC, t.id LIMIT $6::int + 1 OFFSET $7::int)"
		"  UNION ALL"
		"  (SELECT t.* FROM app.tenant_search($3) s(id) CROSS JOIN LATERAL" SEARCHED_TENANT("t")
		"   WHERE app.is_superadmin() AND $3::text IS NOT NULL" TENANT_FILTER("t") TENANT_AFTER("t")
		"   ORDER BY t.created_at DESC, t.id LIMIT $6::int + 1 OFFSET $7::int)"
		"  UNION ALL"
		"  (SELECT t.* FROM tenant_users tu CROSS JOIN LATERAL" MEMBER_TENANT("t")
		"   WHERE NOT app.is_superadmin() AND tu.user_id = app.user_id()" TENANT_FILTER("t") TENANT_MINE_Q("t")
		"   " TENANT_AFTER("t")
		"   ORDER BY t.created_at DESC, t.id LIMIT $6::int + 1 OFFSET $7::int)),"
		" p AS (SELECT * FROM f ORDER BY created_at DESC, id LIMIT $6::int)"
		LIST_JSON("$6::int", "SELECT " NEXT_CURSOR("$8::int", "p.created_at", "p.id")
		"   FROM p ORDER BY p.created_at, p.id DESC LIMIT 1", TENANT_LIST_FIELDS), 8 },
	[ST_TENANT_GET] = { "tenant_get",
		"SELECT " TENANT_JSON("t") " FROM tenants t WHERE t.id = app.tenant()", 0 },
	/*
	 * As superadmin, with tenantry.tenant_id set to the new id: $1 id,
	 * $2 name, $3 slug, $4 tier, $5 owner email or NULL, $6..$10 audit.
	 * Returns the tenant and whether the owner was found.
	 */
	[ST_TENANT_CREATE_API] = { "tenant_create_api",
		"WITH t AS (INSERT INTO tenants (id, name, slug, tier) VALUES ($1::uuid, $2, $3, $4) RETURNING *),"
		" o AS (INSERT INTO tenant_users (tenant_id, user_id, role)"
		"   SELECT t.id, u.id, 'owner' FROM t JOIN users u ON u.email = $5 RETURNING user_id),"
		" a AS (" AUDIT_INTO " SELECT t.id, $6, $7::uuid, $8, 'tenant.created', 'tenant', t.id::text,"
		"   NULL, jsonb_build_object('name', t.name, 'slug', t.slug, 'tier', t.tier, 'owner_email', $5::text),"
		"   $9, $10 FROM t)"
		" SELECT " TENANT_JSON("t") ", $5::text IS NULL OR EXISTS (SELECT 1 FROM o) FROM t", 10 },
	/*
	 * Change the tenant in context and return its description before the
	 * change. $1 name, $2 tier, $3 status (NULL: unchanged), $4 limit
	 * overrides as a JSON object meter -> integer (-1 unlimited) or null
	 * (remove the override), or NULL.
	 */
	[ST_TENANT_PATCH] = { "tenant_patch",
		"WITH old AS (SELECT t.*, app.limits(t.id, t.tier) AS lim FROM tenants t"
		"   WHERE t.id = app.tenant() FOR UPDATE),"
		" del AS (DELETE FROM tenant_limit_overrides o USING jsonb_each(coalesce($4::jsonb, '{}')) l"
		"   WHERE o.tenant_id = app.tenant() AND o.meter = l.key AND l.value = 'null'::jsonb RETURNING 1),"
		" ins AS (INSERT INTO tenant_limit_overrides (tenant_id, meter, max_value)"
		"   SELECT app.tenant(), l.key, (l.value #>> '{}')::bigint FROM jsonb_each(coalesce($4::jsonb, '{}')) l"
		"   WHERE l.value <> 'null'::jsonb"
		"   ON CONFLICT (tenant_id, meter) DO UPDATE SET max_value = EXCLUDED.max_value RETURNING 1),"
		" upd AS (UPDATE tenants t SET name = coalesce($1, t.name), tier = coalesce($2, t.tier),"
		"   status = coalesce($3, t.status), updated_at = now(), version = t.version + 1"
		"   FROM old WHERE t.id = old.id RETURNING t.id)"
		" SELECT jsonb_build_object('name', old.name, 'tier', old.tier, 'status', old.status,"
		"   'limits', old.lim), (SELECT count(*) FROM upd) + (SELECT count(*) FROM del)"
		"   + (SELECT count(*) FROM ins) FROM old", 4 },
	/* After ST_TENANT_PATCH: $1 before (jsonb), $2..$6 audit. Writes the audit row. */
	[ST_TENANT_AFTER_PATCH] = { "tenant_after_patch",
		"WITH t AS (SELECT * FROM tenants WHERE id = app.tenant()),"
		" a AS (" AUDIT_INTO " SELECT t.id, $2, $3::uuid, $4, 'tenant.updated', 'tenant', t.id::text,"
		"   $1::jsonb, jsonb_build_object('name', t.name, 'tier', t.tier, 'status', t.status,"
		"   'limits', app.limits(t.id, t.tier)), $5, $6 FROM t)"
		" SELECT " TENANT_JSON("t") " FROM t", 6 },
	[ST_TENANT_STATS] = { "tenant_stats",
		"SELECT json_build_object('tenant_id', t.id,"
		" 'members', coalesce((SELECT c.members FROM tenant_counts c WHERE c.tenant_id = t.id), 0),"
		" 'api_keys', (SELECT count(*) FROM api_keys WHERE tenant_id = t.id"
		"   AND (revoked_at IS NULL OR revoked_at > now()) AND (expires_at IS NULL OR expires_at > now())),"
		" 'invitations_pending', (SELECT count(*) FROM invitations WHERE tenant_id = t.id"
		"   AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now()),"
		" 'audit_events_24h', (SELECT count(*) FROM audit_log WHERE tenant_id = t.id"
		"   AND occurred_at > now() - interval '24 hours'))"
		" FROM tenants t WHERE t.id = app.tenant()", 0 },

	/* ---- Members and invitations -------------------------------------- */

	/*
	 * Members of the tenant in context in joined order (tenant_users_joined_idx):
	 * $1 limit, $2 offset (page paging), $3 page, $4 search text (e-mail or
	 * name, case-insensitive substring: app.member_search, on users_email_trgm
	 * and users_name_trgm),
	 * $5 $6 the cursor's joined_at (µs) and user id. total: the maintained
	 * count, or the matches of a search.
	 */
#define MEMBER_Q(tu) \
		" AND ($4::text IS NULL OR " tu ".user_id IN (SELECT app.member_search($4)))"
#define MEMBER_LIST_FIELDS \
	"'users', coalesce((SELECT json_agg((SELECT json_build_object(" \
	"   'user_id', u.id, 'email', u.email, 'name', u.name, 'role', p.role," \
	"   'joined_at', app.ts(p.joined_at)) FROM users u WHERE u.id = p.user_id)" \
	"   ORDER BY p.joined_at, p.user_id) FROM p), '[]'::json)," \
	" 'total', CASE WHEN $4::text IS NULL" \
	"   THEN coalesce((SELECT c.members FROM tenant_counts c WHERE c.tenant_id = app.tenant()), 0)" \
	"   ELSE (SELECT count(*) FROM tenant_users tu WHERE tu.tenant_id = app.tenant()" MEMBER_Q("tu") ") END," \
	" 'page', $3::int, 'limit', $1::int"
	[ST_MEMBER_LIST] = { "member_list",
		"WITH f AS (SELECT tu.* FROM tenant_users tu WHERE tu.tenant_id = app.tenant()" MEMBER_Q("tu")
		"   AND ($5::bigint IS NULL OR (tu.joined_at, tu.user_id) > (" CURSOR_TS("5") ", $6::uuid))"
		"   ORDER BY tu.joined_at, tu.user_id LIMIT $1::int + 1 OFFSET $2::int),"
		" p AS (SELECT * FROM f ORDER BY joined_at, user_id LIMIT $1::int)"
		LIST_JSON("$1::int", "SELECT " NEXT_CURSOR("$3::int", "p.joined_at", "p.user_id")
		"   FROM p ORDER BY p.joined_at DESC, p.user_id DESC LIMIT 1", MEMBER_LIST_FIELDS), 6 },
	/*
	 * Serialise membership changes of the tenant in context: its row stays
	 * locked until the transaction ends. MEMBER_STATE must be a separate,
	 * later statement: under READ COMMITTED it then takes its snapshot
	 * after the lock was granted and counts the owners a concurrent change
	 * left (counted in the locking statement, it would see the count from
	 * before the wait, and two owners could demote each other).
	 */
	[ST_TENANT_LOCK] = { "tenant_lock",
		"SELECT 1 FROM tenants WHERE id = app.tenant() FOR UPDATE", 0 },
	/* $1 target user id -> (target role or NULL, number of owners). */
	[ST_MEMBER_STATE] = { "member_state",
		"SELECT (SELECT role FROM tenant_users WHERE tenant_id = app.tenant() AND user_id = $1::uuid),"
		" (SELECT count(*) FROM tenant_users WHERE tenant_id = app.tenant() AND role = 'owner')", 1 },
	/* $1 user id, $2 new role, $3..$7 audit. */
	[ST_MEMBER_SET_ROLE] = { "member_set_role",
		"WITH old AS (SELECT role FROM tenant_users WHERE tenant_id = app.tenant() AND user_id = $1::uuid),"
		" upd AS (UPDATE tenant_users SET role = $2 WHERE tenant_id = app.tenant() AND user_id = $1::uuid"
		"   RETURNING *),"
		" a AS (" AUDIT_INTO " SELECT app.tenant(), $3, $4::uuid, $5, 'member.role_changed', 'user', $1,"
		"   jsonb_build_object('role', old.role), jsonb_build_object('role', upd.role), $6, $7 FROM old, upd)"
		" SELECT json_build_object('tenant_id', upd.tenant_id, 'user_id', upd.user_id, 'email', u.email,"
		"   'name', u.name, 'role', upd.role, 'joined_at', app.ts(upd.joined_at))"
		" FROM upd JOIN users u ON u.id = upd.user_id", 7 },
	/* $1 user id, $2..$6 audit. */
	[ST_MEMBER_REMOVE] = { "member_remove",
		"WITH d AS (DELETE FROM tenant_users WHERE tenant_id = app.tenant() AND user_id = $1::uuid RETURNING *),"
		" a AS (" AUDIT_INTO " SELECT app.tenant(), $2, $3::uuid, $4, 'member.removed', 'user', $1,"
		"   jsonb_build_object('role', d.role, 'email', u.email), NULL, $5, $6"
		"   FROM d JOIN users u ON u.id = d.user_id)"
		" SELECT count(*) FROM d", 6 },
	/* $1 email: is that address already a member of the tenant in context? */
	[ST_MEMBER_BY_EMAIL] = { "member_by_email",
		"SELECT tu.role FROM tenant_users tu JOIN users u ON u.id = tu.user_id"
		" WHERE tu.tenant_id = app.tenant() AND u.email = $1", 1 },
	/* $1 email: a new invitation replaces the pending one. */
	[ST_INVITE_REVOKE_PENDING] = { "invite_revoke_pending",
		"UPDATE invitations SET revoked_at = now() WHERE tenant_id = app.tenant() AND email = $1"
		" AND accepted_at IS NULL AND revoked_at IS NULL", 1 },
	/* $1 email, $2 role, $3 token SHA-256 (hex), $4 inviter id, $5..$9 audit. */
	[ST_INVITE_CREATE] = { "invite_create",
		"WITH inv AS (INSERT INTO invitations (tenant_id, email, role, token_hash, invited_by, expires_at)"
		"   VALUES (app.tenant(), $1, $2, decode($3, 'hex'), $4::uuid, now() + interval '7 days') RETURNING *),"
		" a AS (" AUDIT_INTO " SELECT app.tenant(), $5, $6::uuid, $7, 'member.invited', 'invitation',"
		"   inv.id::text, NULL, jsonb_build_object('email', inv.email, 'role', inv.role), $8, $9 FROM inv)"
		" SELECT json_build_object('id', inv.id, 'email', inv.email, 'role', inv.role,"
		"   'expires_at', app.ts(inv.expires_at)) FROM inv", 9 },
	/*
	 * Pending invitations of the tenant in context, newest first
	 * (invitations_pending_idx): $1 limit, $2 $3 the cursor's created_at
	 * (µs) and id, $4 page, $5 offset (page paging). No total: pending
	 * invitations count against the users limit, so a page is most of them.
	 */
#define INVITE_LIST_FIELDS \
	"'invitations', coalesce((SELECT json_agg(json_build_object('id', p.id," \
	"   'email', p.email, 'role', p.role, 'invited_by', p.invited_by, 'created_at', app.ts(p.created_at)," \
	"   'expires_at', app.ts(p.expires_at)) ORDER BY p.created_at DESC, p.id) FROM p), '[]'::json)," \
	" 'page', $4::int, 'limit', $1::int"
	[ST_INVITE_LIST] = { "invite_list",
		"WITH f AS (SELECT i.* FROM invitations i WHERE i.tenant_id = app.tenant() AND i.accepted_at IS NULL"
		"   AND i.revoked_at IS NULL AND i.expires_at > now()"
		"   AND ($2::bigint IS NULL OR (i.created_at <= " CURSOR_TS("2")
		"     AND (i.created_at < " CURSOR_TS("2") " OR i.id > $3::uuid)))"
		"   ORDER BY i.created_at DESC, i.id LIMIT $1::int + 1 OFFSET $5::int),"
		" p AS (SELECT * FROM f ORDER BY created_at DESC, id LIMIT $1::int)"
		LIST_JSON("$1::int", "SELECT " NEXT_CURSOR("$4::int", "p.created_at", "p.id")
		"   FROM p ORDER BY p.created_at, p.id DESC LIMIT 1", INVITE_LIST_FIELDS), 5 },
	/* $1 invitation id, $2..$6 audit. */
	[ST_INVITE_REVOKE] = { "invite_revoke",
		"WITH r AS (UPDATE invitations SET revoked_at = now() WHERE tenant_id = app.tenant() AND id = $1::uuid"
		"   AND accepted_at IS NULL AND revoked_at IS NULL RETURNING *),"
		" a AS (" AUDIT_INTO " SELECT app.tenant(), $2, $3::uuid, $4, 'invitation.revoked', 'invitation',"
		"   r.id::text, jsonb_build_object('email', r.email, 'role', r.role), NULL, $5, $6 FROM r)"
		" SELECT count(*) FROM r", 6 },
	/* $1 token SHA-256 (hex): lets this transaction see that one invitation. */
	[ST_INVITE_SET_HASH] = { "invite_set_hash",
		"SELECT set_config('tenantry.invite_hash', $1, true)", 1 },
	/* The last column: does the invitee have an account (app.invite_has_account, sql/009_users_rls.sql)? */
	[ST_INVITE_LOOKUP] = { "invite_lookup",
		"SELECT id, tenant_id, email, role, accepted_at IS NOT NULL, revoked_at IS NOT NULL,"
		" expires_at <= now(), app.invite_has_account(i.token_hash)"
		" FROM invitations i WHERE token_hash = decode($1, 'hex')", 1 },
	/* In the invitation's tenant: $1 invitation id, $2 accepting user id. One row if it was still open. */
	[ST_INVITE_CLAIM] = { "invite_claim",
		"UPDATE invitations SET accepted_at = now(), accepted_by = $2::uuid"
		" WHERE tenant_id = app.tenant() AND id = $1::uuid AND accepted_at IS NULL"
		" AND revoked_at IS NULL AND expires_at > now() RETURNING id", 2 },
	/*
	 * A new user accepting an invitation, in its tenant's context: $1 the
	 * token's SHA-256 (hex), $2 id, $3 name, $4 password hash. The e-mail
	 * is the open invitation's (app.invite_user_create, sql/009_users_rls.sql):
	 * the app role cannot make an account for any other address. NULL: the
	 * invitation is no longer open (invite_claim then fails as well).
	 */
	[ST_USER_CREATE_ID] = { "user_create_id",
		"SELECT app.invite_user_create(decode($1, 'hex'), $2::uuid, $3, $4)", 4 },
	/*
	 * $1 user id, $2 role, $3 invitation id, $4..$8 audit. Returns the
	 * member's role, and whether they joined now. Only after invite_claim
	 * gave this user the invitation: a claim lost to a concurrent accept
	 * joins nothing (and the caller answers 410), rather than failing on
	 * an account that was not made.
	 */
	[ST_MEMBER_JOIN] = { "member_join",
		"WITH j AS (INSERT INTO tenant_users (tenant_id, user_id, role) SELECT app.tenant(), $1::uuid, $2"
		"   WHERE EXISTS (SELECT 1 FROM invitations i WHERE i.tenant_id = app.tenant() AND i.id = $3::uuid"
		"     AND i.accepted_by = $1::uuid)"
		"   ON CONFLICT (tenant_id, user_id) DO NOTHING RETURNING *),"
		" a AS (" AUDIT_INTO " SELECT app.tenant(), $4, $5::uuid, $6, 'member.joined', 'user', $1,"
		"   NULL, jsonb_build_object('role', j.role, 'invitation_id', $3::text), $7, $8 FROM j)"
		" SELECT coalesce((SELECT role FROM j), (SELECT role FROM tenant_users"
		"   WHERE tenant_id = app.tenant() AND user_id = $1::uuid)), EXISTS (SELECT 1 FROM j)", 8 },

	/* ---- Settings ----------------------------------------------------- */

	/*
	 * Settings as the caller may see them: whole for a superadmin, an owner
	 * or an admin; without security.*, notifications.webhook_url and
	 * integrations.* for members, viewers and API keys (no user).
	 */
#define SETTINGS_VISIBLE(s) \
		"CASE WHEN app.is_superadmin() OR EXISTS (SELECT 1 FROM tenant_users tu WHERE tu.tenant_id = app.tenant()" \
		"   AND tu.user_id = app.user_id() AND tu.role IN ('owner', 'admin'))" \
		" THEN " s " ELSE (" s " - 'security' - 'integrations') #- '{notifications,webhook_url}' END"
	/* Column 1: version. */
	[ST_SETTINGS_GET] = { "settings_get",
		"SELECT json_build_object('settings', " SETTINGS_VISIBLE("t.settings") ","
		"   'updated_at', app.ts(t.updated_at), 'version', t.version), t.version"
		" FROM tenants t WHERE t.id = app.tenant()", 0 },
	/* In the PUT's transaction: lock the row, read name, settings, version, tier. */
	[ST_SETTINGS_LOCK] = { "settings_lock",
		"SELECT name, settings::text, version FROM tenants WHERE id = app.tenant() FOR UPDATE", 0 },
	/* $1 name or NULL, $2 settings (jsonb), $3 before (jsonb), $4..$8 audit. */
	[ST_SETTINGS_UPDATE] = { "settings_update",
		"WITH upd AS (UPDATE tenants SET name = coalesce($1, name), settings = $2::jsonb,"
		"   version = version + 1, updated_at = now() WHERE id = app.tenant() RETURNING *),"
		" a AS (" AUDIT_INTO " SELECT upd.id, $4, $5::uuid, $6, 'settings.updated', 'tenant', upd.id::text,"
		"   $3::jsonb, jsonb_build_object('name', upd.name, 'settings', upd.settings), $7, $8 FROM upd)"
		" SELECT json_build_object('settings', " SETTINGS_VISIBLE("upd.settings") ","
		"   'updated_at', app.ts(upd.updated_at), 'version', upd.version), upd.version FROM upd", 8 },
	/* ---- Usage metering and billing ------------------------------------ */

	/*
	 * Every meter with the tenant's effective limit and usage now: $1 today,
	 * $2 the first day of this month (UTC, computed by core/meter.c).
	 * Columns: name, kind, period, unit, source, limit (-1 unlimited: a NULL
	 * or -1 override or tier limit, or none), grace percent, used. Counters
	 * read their period total, gauges their current value, users the
	 * memberships; never the raw events.
	 */
	[ST_USAGE_METERS] = { "usage_meters",
		"SELECT m.name, m.kind, m.period, m.unit, m.source,"
		" coalesce(nullif(CASE WHEN o.meter IS NOT NULL THEN o.max_value ELSE tl.max_value END, -1), -1),"
		" ti.grace_percent,"
		" CASE WHEN m.source = 'memberships' THEN coalesce((SELECT c.members FROM tenant_counts c WHERE c.tenant_id = t.id), 0)"
		"   WHEN m.kind = 'gauge' THEN coalesce((SELECT value FROM usage_gauges g"
		"     WHERE g.tenant_id = t.id AND g.meter = m.name), 0)"
		"   ELSE coalesce((SELECT quantity FROM usage_periods p WHERE p.tenant_id = t.id AND p.meter = m.name"
		"     AND p.period_start = CASE WHEN m.period = 'day' THEN $1::date ELSE $2::date END), 0) END"
		" FROM tenants t JOIN tiers ti ON ti.name = t.tier CROSS JOIN meters m"
		" LEFT JOIN tier_limits tl ON tl.tier = t.tier AND tl.meter = m.name"
		" LEFT JOIN tenant_limit_overrides o ON o.tenant_id = t.id AND o.meter = m.name"
		" WHERE t.id = app.tenant() ORDER BY m.name", 2 },
	/*
	 * Ingest a batch into the tenant in context, in one statement: raw
	 * events (a known idempotency key is skipped), the daily rollup and
	 * the period total of counters, the value of gauges (the latest
	 * observation wins). $1 the events as a JSON array of {i (position),
	 * k (key), m (meter), q (quantity), t (occurred_at), d (its UTC day),
	 * p (its period start), g (gauge)}, $2 API key id or NULL. Rows:
	 *   'c', meter, period start, new period total, added in this call
	 *   'g', meter, NULL, new value, NULL, previous value
	 *   'n', NULL, NULL, events accepted, NULL, NULL
	 * Rows are written in key / meter order, so concurrent batches lock in
	 * the same order and cannot deadlock; a batch repeating one key counts
	 * its first occurrence only.
	 */
	[ST_USAGE_INGEST] = { "usage_ingest",
		"WITH ev AS (SELECT DISTINCT ON (e.k) e.* FROM jsonb_to_recordset($1::jsonb)"
		"   AS e(i int, k text, m text, q bigint, t timestamptz, d date, p date, g boolean) ORDER BY e.k, e.i),"
		" ins AS (INSERT INTO usage_events (tenant_id, idempotency_key, meter, quantity, occurred_at, api_key_id)"
		"   SELECT app.tenant(), k, m, q, t, $2::uuid FROM ev ORDER BY k"
		"   ON CONFLICT (tenant_id, idempotency_key) DO NOTHING RETURNING idempotency_key),"
		" acc AS (SELECT ev.* FROM ev JOIN ins ON ins.idempotency_key = ev.k),"
		" cadd AS (SELECT m, p, sum(q) AS added FROM acc WHERE NOT g GROUP BY m, p),"
		" cday AS (INSERT INTO usage_daily (tenant_id, meter, day, quantity)"
		"   SELECT app.tenant(), m, d, sum(q) FROM acc WHERE NOT g GROUP BY m, d ORDER BY m, d"
		"   ON CONFLICT (tenant_id, meter, day) DO UPDATE SET quantity = usage_daily.quantity + EXCLUDED.quantity"
		"   RETURNING 1),"
		" cper AS (INSERT INTO usage_periods (tenant_id, meter, period_start, quantity)"
		"   SELECT app.tenant(), m, p, added FROM cadd ORDER BY m, p"
		"   ON CONFLICT (tenant_id, meter, period_start)"
		"   DO UPDATE SET quantity = usage_periods.quantity + EXCLUDED.quantity"
		"   RETURNING meter, period_start, quantity),"
		" glast AS (SELECT DISTINCT ON (m) m, q, t FROM acc WHERE g ORDER BY m, t DESC, i DESC),"
		" gold AS (SELECT meter, value FROM usage_gauges WHERE tenant_id = app.tenant()"
		"   AND meter IN (SELECT m FROM glast)),"
		" gday AS (INSERT INTO usage_daily (tenant_id, meter, day, quantity, observed_at)"
		"   SELECT DISTINCT ON (m, d) app.tenant(), m, d, q, t FROM acc WHERE g ORDER BY m, d, t DESC, i DESC"
		"   ON CONFLICT (tenant_id, meter, day) DO UPDATE SET quantity = EXCLUDED.quantity,"
		"   observed_at = EXCLUDED.observed_at"
		"   WHERE usage_daily.observed_at IS NULL OR usage_daily.observed_at <= EXCLUDED.observed_at"
		"   RETURNING 1),"
		" gset AS (INSERT INTO usage_gauges (tenant_id, meter, value, updated_at, observed_at)"
		"   SELECT app.tenant(), m, q, now(), t FROM glast ORDER BY m"
		"   ON CONFLICT (tenant_id, meter) DO UPDATE SET value = EXCLUDED.value, updated_at = now(),"
		"   observed_at = EXCLUDED.observed_at WHERE usage_gauges.observed_at <= EXCLUDED.observed_at"
		"   RETURNING meter, value)"
		" SELECT 'c', cper.meter, cper.period_start::text, cper.quantity, cadd.added, NULL::bigint"
		"   FROM cper JOIN cadd ON cadd.m = cper.meter AND cadd.p = cper.period_start"
		" UNION ALL SELECT 'g', gset.meter, NULL, gset.value, NULL, coalesce(gold.value, 0)"
		"   FROM gset LEFT JOIN gold ON gold.meter = gset.meter"
		" UNION ALL SELECT 'n', NULL, NULL, (SELECT count(*) FROM ins),"
		"   (SELECT count(*) FROM cday) + (SELECT count(*) FROM gday), NULL", 2 },
	/*
	 * Threshold notifications crossed by an ingestion, in its transaction:
	 * $1 a JSON array of {m (meter), th (80|90|100), p (period start),
	 * u (used), l (limit)}. The unique key keeps one per threshold, meter
	 * and period, however many batches cross it.
	 */
	[ST_USAGE_OUTBOX] = { "usage_outbox",
		"WITH o AS (INSERT INTO notification_outbox (tenant_id, meter, threshold, period_start, used, max_value)"
		"   SELECT app.tenant(), m, th, p, u, l FROM jsonb_to_recordset($1::jsonb)"
		"   AS x(m text, th int, p date, u bigint, l bigint)"
		"   ON CONFLICT (tenant_id, meter, threshold, period_start) DO NOTHING RETURNING 1)"
		" SELECT count(*) FROM o", 1 },
	/* Wake `tenantryctl notify --follow` when the transaction commits. */
	[ST_OUTBOX_WAKE] = { "outbox_wake",
		"SELECT pg_notify('tenantry_outbox', '')", 0 },
	/*
	 * The daily rollup of the tenant in context for days $1..$2 (dates):
	 * rows (meter, day index from $1, quantity), then one row per gauge
	 * with index -1: its last value before $1 (carried into the month).
	 */
	[ST_USAGE_DAILY] = { "usage_daily",
		"SELECT meter, day - $1::date, quantity FROM usage_daily"
		" WHERE tenant_id = app.tenant() AND day BETWEEN $1::date AND $2::date"
		" UNION ALL SELECT m.name, -1, (SELECT d.quantity FROM usage_daily d WHERE d.tenant_id = app.tenant()"
		"   AND d.meter = m.name AND d.day < $1::date ORDER BY d.day DESC LIMIT 1)"
		" FROM meters m WHERE m.kind = 'gauge'", 2 },
	/* The tier's limits with the tenant's overrides applied, and the tier's features. */
	[ST_TENANT_LIMITS] = { "tenant_limits",
		"SELECT json_build_object('tenant_id', t.id, 'tier', t.tier, 'grace_percent', ti.grace_percent,"
		" 'limits', app.limits(t.id, t.tier),"
		" 'tier_limits', (SELECT coalesce(json_object_agg(tl.meter, nullif(tl.max_value, -1)"
		"   ORDER BY tl.meter), '{}'::json) FROM tier_limits tl WHERE tl.tier = t.tier),"
		" 'overrides', (SELECT coalesce(json_object_agg(o.meter, nullif(o.max_value, -1)"
		"   ORDER BY o.meter), '{}'::json) FROM tenant_limit_overrides o WHERE o.tenant_id = t.id),"
		" 'features', to_json(ti.features),"
		" 'api_access', (ti.features && '{all,api_access}'::text[])"
		"   AND coalesce((t.settings #>> '{features,api_access_enabled}')::boolean, true))"
		" FROM tenants t JOIN tiers ti ON ti.name = t.tier WHERE t.id = app.tenant()", 0 },
	/* Billing description: $1 month (YYYY-MM), $2 its first day, $3 its last day. */
	[ST_BILLING_TENANT] = { "billing_tenant",
		"SELECT json_build_object('tenant_id', t.id, 'name', t.name, 'slug', t.slug, 'status', t.status,"
		" 'tier', t.tier, 'tier_name', ti.display_name, 'price_plan', ti.price_plan,"
		" 'period', json_build_object('month', $1::text, 'start', $2::text, 'end', $3::text),"
		" 'grace_percent', ti.grace_percent, 'limits', app.limits(t.id, t.tier),"
		" 'features', to_json(ti.features))"
		" FROM tenants t JOIN tiers ti ON ti.name = t.tier WHERE t.id = app.tenant()", 3 },
	/*
	 * Seats of the tenant in context: members, pending invitations other
	 * than to $1 (email), the users limit (-1 none) and the grace percent.
	 * Run after ST_TENANT_LOCK, so concurrent invitations and acceptances
	 * count each other.
	 */
	[ST_INVITE_SEATS] = { "invite_seats",
		"SELECT coalesce((SELECT c.members FROM tenant_counts c WHERE c.tenant_id = t.id), 0),"
		" (SELECT count(*) FROM invitations i WHERE i.tenant_id = t.id AND i.email <> $1"
		"   AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > now()),"
		" coalesce(nullif(CASE WHEN o.meter IS NOT NULL THEN o.max_value ELSE tl.max_value END, -1), -1),"
		" ti.grace_percent"
		" FROM tenants t JOIN tiers ti ON ti.name = t.tier"
		" LEFT JOIN tier_limits tl ON tl.tier = t.tier AND tl.meter = 'users'"
		" LEFT JOIN tenant_limit_overrides o ON o.tenant_id = t.id AND o.meter = 'users'"
		" WHERE t.id = app.tenant()", 1 },

	/* ---- Notification delivery (tenantryctl notify, as operator) ----------- */

	/*
	 * Claim up to $1 due notifications: each gets a lease (next attempt in
	 * 5 minutes) and one more attempt, so a second notifier skips them.
	 */
	[ST_OUTBOX_CLAIM] = { "outbox_claim",
		"UPDATE notification_outbox o SET attempts = o.attempts + 1,"
		" next_attempt_at = now() + interval '5 minutes'"
		" WHERE o.id IN (SELECT id FROM notification_outbox WHERE done_at IS NULL AND next_attempt_at <= now()"
		"   ORDER BY next_attempt_at, id LIMIT $1::int FOR UPDATE SKIP LOCKED)"
		" RETURNING o.id, o.tenant_id, o.meter, o.threshold, o.period_start::text, o.used, o.max_value,"
		" o.attempts, o.email_delivered_at IS NOT NULL, o.webhook_delivered_at IS NOT NULL, app.ts(o.created_at)", 1 },
	/*
	 * In the notification's tenant: name, slug, whether email is on, the
	 * webhook URL, the owners' and admins' addresses (comma-separated),
	 * the meter's unit.
	 */
	[ST_OUTBOX_CONTEXT] = { "outbox_context",
		"SELECT t.name, t.slug, coalesce((t.settings #>> '{notifications,email_enabled}')::boolean, true),"
		" t.settings #>> '{notifications,webhook_url}',"
		" (SELECT string_agg(u.email, ', ' ORDER BY u.email) FROM tenant_users tu JOIN users u ON u.id = tu.user_id"
		"   WHERE tu.tenant_id = t.id AND tu.role IN ('owner', 'admin')),"
		" (SELECT unit FROM meters WHERE name = $1)"
		" FROM tenants t WHERE t.id = app.tenant()", 1 },
	/*
	 * Record a delivery attempt of notification $1: $2 / $3 email / webhook
	 * went out now, $4 nothing is left to send, $5 the error (or NULL),
	 * $6 seconds until the next attempt.
	 */
	[ST_OUTBOX_MARK] = { "outbox_mark",
		"UPDATE notification_outbox SET"
		" email_delivered_at = CASE WHEN $2::boolean THEN coalesce(email_delivered_at, now()) ELSE email_delivered_at END,"
		" webhook_delivered_at = CASE WHEN $3::boolean THEN coalesce(webhook_delivered_at, now()) ELSE webhook_delivered_at END,"
		" done_at = CASE WHEN $4::boolean THEN now() END, last_error = $5,"
		" next_attempt_at = now() + make_interval(secs => $6::int)"
		" WHERE id = $1::bigint", 6 },

	/* ---- API keys ------------------------------------------------------ */

#define KEY_JSON(k) \
	"json_build_object('id', " k ".id, 'name', " k ".name, 'prefix', " k ".prefix, 'scopes', " k ".scopes," \
	" 'created_at', app.ts(" k ".created_at), 'created_by', " k ".created_by," \
	" 'last_used_at', app.ts(" k ".last_used_at), 'expires_at', app.ts(" k ".expires_at)," \
	" 'revoked_at', app.ts(" k ".revoked_at))"
	/*
	 * Keys of the tenant in context, newest first (api_keys_tenant_created_idx):
	 * $1 limit, $2 offset (page paging), $3 page, $4 $5 the cursor's
	 * created_at (µs) and id. Never a hash. total: the maintained count.
	 */
#define KEY_LIST_FIELDS \
	"'api_keys', coalesce((SELECT json_agg(" KEY_JSON("p") " ORDER BY p.created_at DESC, p.id)" \
	"   FROM p), '[]'::json)," \
	" 'total', coalesce((SELECT c.api_keys FROM tenant_counts c WHERE c.tenant_id = app.tenant()), 0)," \
	" 'page', $3::int, 'limit', $1::int"
	[ST_KEY_LIST] = { "key_list",
		"WITH f AS (SELECT * FROM api_keys k WHERE k.tenant_id = app.tenant()"
		"   AND ($4::bigint IS NULL OR (k.created_at <= " CURSOR_TS("4")
		"     AND (k.created_at < " CURSOR_TS("4") " OR k.id > $5::uuid)))"
		"   ORDER BY k.created_at DESC, k.id LIMIT $1::int + 1 OFFSET $2::int),"
		" p AS (SELECT * FROM f ORDER BY created_at DESC, id LIMIT $1::int)"
		LIST_JSON("$1::int", "SELECT " NEXT_CURSOR("$3::int", "p.created_at", "p.id")
		"   FROM p ORDER BY p.created_at, p.id DESC LIMIT 1", KEY_LIST_FIELDS), 5 },
	/*
	 * A key of the tenant in context: $1 name, $2 scopes (text[] literal),
	 * $3 display prefix, $4 hash (hex), $5 creator (user id), $6 expires_at
	 * or NULL, $7 action (api_key.created / api_key.rotated), $8 JSON of the
	 * audit row's "before" or NULL, $9..$13 audit. Returns the key as
	 * created (without the secret).
	 */
	[ST_KEY_CREATE] = { "key_create",
		"WITH k AS (INSERT INTO api_keys (tenant_id, name, prefix, key_hash, scopes, created_by, expires_at)"
		"   VALUES (app.tenant(), $1, $3, decode($4, 'hex'), $2::text[], $5::uuid, $6::timestamptz) RETURNING *),"
		" a AS (" AUDIT_INTO " SELECT app.tenant(), $9, $10::uuid, $11, $7, 'api_key', k.id::text, $8::jsonb,"
		"   jsonb_build_object('name', k.name, 'prefix', k.prefix, 'scopes', k.scopes, 'expires_at', k.expires_at),"
		"   $12, $13 FROM k)"
		" SELECT json_build_object('id', k.id, 'name', k.name, 'prefix', k.prefix, 'scopes', k.scopes,"
		"   'created_at', app.ts(k.created_at), 'expires_at', app.ts(k.expires_at)), k.id FROM k", 13 },
	/*
	 * Before a rotation: lock key $1 of the tenant in context and, if it is
	 * still valid, end it in $2 seconds. Columns: name, scopes (text[]
	 * literal), expires_at, the key's JSON before, whether it was valid.
	 */
	[ST_KEY_ROTATE] = { "key_rotate",
		"WITH old AS (SELECT * FROM api_keys WHERE tenant_id = app.tenant() AND id = $1::uuid FOR UPDATE),"
		" upd AS (UPDATE api_keys k SET revoked_at = now() + make_interval(secs => $2::int)"
		"   FROM old WHERE k.id = old.id AND (old.revoked_at IS NULL OR old.revoked_at > now())"
		"   AND (old.expires_at IS NULL OR old.expires_at > now()) RETURNING k.id)"
		" SELECT old.name, old.scopes::text, app.ts(old.expires_at), " KEY_JSON("old") "::jsonb,"
		"   EXISTS (SELECT 1 FROM upd) FROM old", 2 },
	/* Revoke key $1 now (a pending rotation grace is cut short): $2..$6 audit. Rows: 1 if it was valid. */
	[ST_KEY_REVOKE] = { "key_revoke",
		"WITH r AS (UPDATE api_keys SET revoked_at = now() WHERE tenant_id = app.tenant() AND id = $1::uuid"
		"   AND (revoked_at IS NULL OR revoked_at > now()) RETURNING *),"
		" a AS (" AUDIT_INTO " SELECT app.tenant(), $2, $3::uuid, $4, 'api_key.revoked', 'api_key', r.id::text,"
		"   jsonb_build_object('name', r.name, 'prefix', r.prefix, 'scopes', r.scopes), NULL, $5, $6 FROM r)"
		" SELECT (SELECT count(*) FROM r), EXISTS (SELECT 1 FROM api_keys WHERE tenant_id = app.tenant() AND id = $1::uuid)", 6 },
	/* May the tenant in context have API keys? Its tier's feature and its own setting. */
	[ST_KEY_FEATURE] = { "key_feature",
		"SELECT coalesce((ti.features && '{all,api_access}'::text[])"
		"   AND coalesce((t.settings #>> '{features,api_access_enabled}')::boolean, true), false)"
		" FROM tenants t JOIN tiers ti ON ti.name = t.tier WHERE t.id = app.tenant()", 0 },

	/* ---- Activity ------------------------------------------------------ */

	/*
	 * Audit events of the tenant in context, newest first. $1 from, $2 to
	 * (timestamps or NULL), $3 action, $4 actor label, $5 actor type, $6
	 * cursor (events with a smaller id), $7 rows to return, $8 actor id (the
	 * actor when it is a UUID, else NULL: an actor matches an id or a label).
	 * An actor label alone is served in id order by audit_log_actor_label_idx.
	 * Columns: id, the event as JSON, then the CSV fields.
	 */
	[ST_ACTIVITY] = { "activity",
		"SELECT id, json_build_object('id', id::text, 'occurred_at', app.ts(occurred_at),"
		"   'actor', json_build_object('type', actor_type, 'id', actor_id, 'label', actor_label),"
		"   'action', action, 'target', json_build_object('type', target_type, 'id', target_id),"
		"   'before', before, 'after', after, 'request_id', request_id, 'client_addr', client_addr),"
		" app.ts(occurred_at), actor_type, actor_id, actor_label, action, target_type, target_id,"
		" before::text, after::text, request_id, client_addr"
		" FROM audit_log WHERE tenant_id = app.tenant()"
		" AND ($1::timestamptz IS NULL OR occurred_at >= $1::timestamptz)"
		" AND ($2::timestamptz IS NULL OR occurred_at < $2::timestamptz)"
		" AND ($3::text IS NULL OR action = $3)"
		" AND ($4::text IS NULL OR actor_label = $4 OR ($8::uuid IS NOT NULL AND actor_id = $8::uuid))"
		" AND ($5::text IS NULL OR actor_type = $5) AND ($6::bigint IS NULL OR id < $6::bigint)"
		" ORDER BY id DESC LIMIT $7::int", 8 },

	/* ---- Audit log ---------------------------------------------------- */

	/*
	 * One audit row in the current tenant (or a system row when the tenant
	 * is NULL and the caller is a superadmin). $1 tenant id, $2 actor type,
	 * $3 actor id, $4 actor label, $5 action, $6 target type, $7 target id,
	 * $8 before (jsonb), $9 after (jsonb), $10 request id, $11 client.
	 */
	[ST_AUDIT] = { "audit",
		"INSERT INTO audit_log (tenant_id, actor_type, actor_id, actor_label, action,"
		" target_type, target_id, before, after, request_id, client_addr)"
		" VALUES ($1::uuid, $2, $3::uuid, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10, $11)", 11 },

	/* ---- Dashboard sessions ------------------------------------------- */

	/*
	 * The session behind a __Host-tenantry cookie; $1 the SHA-256 (hex) of
	 * the cookie value. Sets the same transaction-local user as ctx_user
	 * (from the same app.principal()) and returns one row only for a live
	 * session: not past its absolute expiry, not idle longer than its
	 * idle_minutes, and made after the user's last password change.
	 * Columns: user id, CSRF token.
	 */
	[ST_CTX_SESSION] = { "ctx_session",
		"SELECT set_config('tenantry.user_id', u.id::text, true),"
		" set_config('tenantry.superadmin', CASE WHEN u.is_superadmin THEN 'on' ELSE '' END, true),"
		" u.id, s.csrf_token"
		" FROM sessions s CROSS JOIN LATERAL app.principal(s.user_id) u"
		" WHERE s.id_hash = decode($1, 'hex') AND s.expires_at > now()"
		" AND s.last_seen_at > now() - make_interval(mins => s.idle_minutes)"
		" AND s.created_at >= u.password_changed_at", 1 },
	/*
	 * A new session for the user in context (after ctx_user): $1 hash
	 * (hex), $2 CSRF token, $3 client address, $4 user agent. The user's
	 * dead sessions go in the same statement.
	 */
	[ST_SESSION_CREATE] = { "session_create",
		"WITH gone AS (DELETE FROM sessions WHERE user_id = app.user_id()"
		"   AND (expires_at <= now() OR last_seen_at <= now() - make_interval(mins => idle_minutes)))"
		" INSERT INTO sessions (id_hash, user_id, csrf_token, expires_at, client_addr, user_agent, idle_minutes)"
		" VALUES (decode($1, 'hex'), app.user_id(), $2, now() + interval '12 hours', $3, left($4, 200),"
		"   app.session_idle_minutes(app.user_id()))", 4 },
	/*
	 * After ctx_session (the user is set, so their workspaces are
	 * visible): is the session still alive under the strictest idle limit
	 * of the user's workspaces as they are now? One row, "alive". It also
	 * stores that limit and keeps a live session alive, writing at most
	 * once every 30 seconds (or when the limit changed). $1 hash (hex).
	 */
	[ST_SESSION_TOUCH] = { "session_touch",
		"WITH cur AS (SELECT app.session_idle_minutes(app.user_id()) AS m),"
		" s AS (SELECT s.last_seen_at, s.idle_minutes, cur.m,"
		"   s.last_seen_at > now() - make_interval(mins => cur.m) AS alive"
		"   FROM sessions s, cur WHERE s.id_hash = decode($1, 'hex') AND s.user_id = app.user_id()),"
		" t AS (UPDATE sessions SET idle_minutes = s.m,"
		"   last_seen_at = CASE WHEN s.alive AND s.last_seen_at < now() - interval '30 seconds'"
		"     THEN now() ELSE sessions.last_seen_at END"
		"   FROM s WHERE sessions.id_hash = decode($1, 'hex')"
		"   AND (s.idle_minutes <> s.m OR (s.alive AND s.last_seen_at < now() - interval '30 seconds')))"
		" SELECT coalesce((SELECT alive FROM s), false)", 1 },
	/* Sign out: $1 hash (hex). */
	[ST_SESSION_DELETE] = { "session_delete",
		"DELETE FROM sessions WHERE id_hash = decode($1, 'hex')", 1 },
	/* The signed-in user's workspaces for the header's switcher and /dashboard. */
	[ST_WEB_NAV] = { "web_nav",
		"SELECT coalesce(json_agg(json_build_object('id', t.id, 'slug', t.slug, 'name', t.name,"
		"   'role', tu.role, 'tier', t.tier, 'status', t.status) ORDER BY lower(t.name), t.id), '[]'::json)"
		" FROM tenant_users tu JOIN tenants t ON t.id = tu.tenant_id WHERE tu.user_id = app.user_id()", 0 },
	/* One API key of the tenant in context, for its revoke page: $1 key id. */
	[ST_WEB_KEY] = { "web_key",
		"SELECT json_build_object('id', id, 'name', name, 'prefix', prefix,"
		"   'revoked', revoked_at IS NOT NULL AND revoked_at <= now())"
		" FROM api_keys WHERE id = $1::uuid AND tenant_id = app.tenant()", 1 },
	/* One member of the tenant in context, for the remove page: $1 user id. */
	[ST_WEB_MEMBER] = { "web_member",
		"SELECT json_build_object('user_id', u.id, 'email', u.email, 'name', u.name, 'role', tu.role)"
		" FROM tenant_users tu JOIN users u ON u.id = tu.user_id"
		" WHERE tu.tenant_id = app.tenant() AND tu.user_id = $1::uuid", 1 },
	/*
	 * An invitation shown on /invite/{token} before anyone signs in: $1
	 * the token's SHA-256 (hex), after invite_set_hash made that one row
	 * visible. WEB_INVITE_CTX takes its workspace as the context so its
	 * name can be read; WEB_INVITE returns only what the invitee needs.
	 */
	[ST_WEB_INVITE_CTX] = { "web_invite_ctx",
		"SELECT set_config('tenantry.tenant_id', coalesce((SELECT tenant_id::text FROM invitations"
		"   WHERE token_hash = decode($1, 'hex')), ''), true)", 1 },
	[ST_WEB_INVITE] = { "web_invite",
		"SELECT json_build_object('email', i.email, 'role', i.role, 'workspace', t.name,"
		"   'expires_at', app.ts(i.expires_at),"
		"   'state', CASE WHEN i.accepted_at IS NOT NULL OR i.revoked_at IS NOT NULL THEN 'used'"
		"     WHEN i.expires_at <= now() THEN 'expired' ELSE 'open' END,"
		"   'has_account', app.invite_has_account(i.token_hash))"
		" FROM invitations i JOIN tenants t ON t.id = i.tenant_id WHERE i.token_hash = decode($1, 'hex')", 1 },
	/* The slug of a workspace the user in context belongs to: $1 tenant id. */
	[ST_WEB_TENANT_SLUG] = { "web_tenant_slug",
		"SELECT slug FROM tenants WHERE id = $1::uuid", 1 },
	/* The overview's recent activity: the tenant's last $1 audit events. */
	[ST_WEB_RECENT] = { "web_recent",
		"SELECT coalesce(json_agg(json_build_object('occurred_at', app.ts(occurred_at),"
		"   'actor', actor_label, 'action', action) ORDER BY id DESC), '[]'::json)"
		" FROM (SELECT id, occurred_at, actor_label, action FROM audit_log"
		"   WHERE tenant_id = app.tenant() ORDER BY id DESC LIMIT $1::int) e", 1 },

	/* ---- Usage reads with the meter catalog cached (src/api/usage.c) ---- */

	/*
	 * Every tier's meters as ST_USAGE_METERS would show them without
	 * overrides: tier, meter, kind, period, unit, source, the tier's limit
	 * (-1: none or unlimited), grace percent; by tier, then meter.
	 */
	[ST_METER_CATALOG] = { "meter_catalog",
		"SELECT t.name, m.name, m.kind, m.period, m.unit, m.source, coalesce(tl.max_value, -1), t.grace_percent"
		" FROM tiers t CROSS JOIN meters m LEFT JOIN tier_limits tl ON tl.tier = t.name AND tl.meter = m.name"
		" ORDER BY t.name, m.name", 0 },
	/*
	 * What ST_USAGE_METERS adds to the catalog for the tenant in context,
	 * as plain rows, no join with the catalog: ('p', meter, period start,
	 * total) for the counters' periods starting $1 (today) or $2 (this
	 * month); ('g', meter, NULL, value) for gauges; ('o', meter, NULL,
	 * override: NULL or -1 unlimited); ('u', NULL, NULL, members).
	 */
	[ST_USAGE_FACTS] = { "usage_facts",
		"SELECT 'p', p.meter, p.period_start::text, p.quantity FROM usage_periods p"
		"   WHERE p.tenant_id = app.tenant() AND p.period_start IN ($1::date, $2::date)"
		" UNION ALL SELECT 'g', g.meter, NULL, g.value FROM usage_gauges g WHERE g.tenant_id = app.tenant()"
		" UNION ALL SELECT 'o', o.meter, NULL, o.max_value FROM tenant_limit_overrides o"
		"   WHERE o.tenant_id = app.tenant()"
		" UNION ALL SELECT 'u', NULL, NULL, coalesce((SELECT c.members FROM tenant_counts c"
		"   WHERE c.tenant_id = app.tenant()), 0)", 2 },
	/*
	 * After session_touch, in its transaction (so last_seen_at is the one
	 * just written): the session's deadlines as epoch seconds beside the
	 * database's now(), for a worker that keeps the session in its cache:
	 * now, expires_at, last_seen_at, idle_minutes, created_at, the user's
	 * password_changed_at. $1 hash (hex).
	 */
	[ST_SESSION_FACTS] = { "session_facts",
		"SELECT extract(epoch FROM now())::float8, extract(epoch FROM s.expires_at)::float8,"
		" extract(epoch FROM s.last_seen_at)::float8, s.idle_minutes,"
		" extract(epoch FROM s.created_at)::float8, extract(epoch FROM u.password_changed_at)::float8"
		" FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = decode($1, 'hex')", 1 },

	/*
	 * The user in context's live sessions (not past their absolute or idle
	 * limit, not from before the last password change), newest activity
	 * first: {"sessions": [{id, created_at, last_seen_at, expires_at,
	 * client_addr, user_agent, current}]}. $1 the hash (hex) of the session
	 * the request itself carries, "" for none.
	 */
	[ST_ME_SESSIONS] = { "me_sessions",
		"SELECT json_build_object('sessions', coalesce(json_agg(json_build_object("
		"   'id', s.public_id, 'created_at', app.ts(s.created_at), 'last_seen_at', app.ts(s.last_seen_at),"
		"   'expires_at', app.ts(s.expires_at), 'client_addr', s.client_addr, 'user_agent', s.user_agent,"
		"   'current', coalesce(s.id_hash = decode(nullif($1, ''), 'hex'), false))"
		"   ORDER BY s.last_seen_at DESC, s.public_id), '[]'::json))"
		" FROM sessions s JOIN users u ON u.id = s.user_id"
		" WHERE s.user_id = app.user_id() AND s.expires_at > now()"
		" AND s.last_seen_at > now() - make_interval(mins => s.idle_minutes)"
		" AND s.created_at >= u.password_changed_at", 1 },
#define SESSION_END_AUDIT \
		" a AS (INSERT INTO audit_log (tenant_id, actor_type, actor_id, actor_label, action," \
		"   target_type, target_id, after, request_id, client_addr)" \
		"   SELECT NULL, 'user', app.user_id(), $2, 'session.revoked', 'session', d.public_id::text," \
		"   jsonb_build_object('client_addr', d.client_addr, 'user_agent', d.user_agent), $3, $4 FROM d)" \
		" SELECT count(*) FROM d"
	/* End one of the caller's sessions: $1 its public id; $2 the actor's label, $3 request id, $4 client. */
	[ST_ME_SESSION_END] = { "me_session_end",
		"WITH d AS (DELETE FROM sessions s WHERE s.public_id = $1::uuid AND s.user_id = app.user_id()"
		"   RETURNING s.public_id, s.client_addr, s.user_agent)," SESSION_END_AUDIT, 4 },
	/* End every session of the caller but the one whose hash is $1 ("" ends them all); $2..$4 as above. */
	[ST_ME_SESSIONS_END_OTHERS] = { "me_sessions_end_others",
		"WITH d AS (DELETE FROM sessions s WHERE s.user_id = app.user_id()"
		"   AND s.id_hash IS DISTINCT FROM decode(nullif($1, ''), 'hex')"
		"   RETURNING s.public_id, s.client_addr, s.user_agent)," SESSION_END_AUDIT, 4 },
#undef SESSION_END_AUDIT
	/*
	 * The connecting role (the app role) sets its own statement_timeout,
	 * lock_timeout and idle_in_transaction_session_timeout: $1, $2, $3 in
	 * ms. Returns the role's name; refused (42501) for the schema's owner
	 * or a superuser, 22023 for a value outside 1..3600000.
	 */
	[ST_ROLE_TIMEOUTS_SET] = { "role_timeouts_set",
		"SELECT app.role_timeouts_set($1::int, $2::int, $3::int)", 3 },

	/* ---- Maintained counts (tenantryctl verify-counts, as operator) ------- */

	/*
	 * Every maintained count recomputed (app.verify_counts in
	 * 007_counts_paging.sql): one row per count that differs, (tenant id,
	 * slug, what, stored, actual); $1 true sets each to the actual value.
	 */
	[ST_VERIFY_COUNTS] = { "verify_counts",
		"SELECT tenant_id, slug, what, stored, actual FROM app.verify_counts($1::boolean)", 1 },
};
