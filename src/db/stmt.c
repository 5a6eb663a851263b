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

#define USER_JSON(u) \
	"json_build_object('id', " u ".id, 'email', " u ".email, 'name', " u ".name, " \
	"'is_superadmin', " u ".is_superadmin, 'created_at', app.ts(" u ".created_at))"

const struct stmt_def stmts[ST__COUNT] = {
	[ST_PING] = { "ping", "SELECT 1", 0 },

	/* ---- Authorisation ------------------------------------------------ */

	/*
	 * The authorisation context (see sql/001_schema.sql): ctx_user first,
	 * then ctx_tenant_id or ctx_tenant_slug, in the request's transaction.
	 * $1 user id.
	 */
	[ST_CTX_USER] = { "ctx_user",
		"SELECT set_config('tenantry.user_id', u.id::text, true),"
		" set_config('tenantry.superadmin', CASE WHEN u.is_superadmin THEN 'on' ELSE '' END, true)"
		" FROM users u WHERE u.id = $1::uuid", 1 },
#define CTX_TENANT(join) \
		"SELECT u.id IS NOT NULL, u.email, u.name, coalesce(u.is_superadmin, false)," \
		" t.id IS NOT NULL, t.id, t.slug, t.name, t.tier, t.status, tu.role," \
		" set_config('tenantry.tenant_id', CASE WHEN t.id IS NOT NULL AND" \
		"   (tu.role IS NOT NULL OR u.is_superadmin) THEN t.id::text ELSE '' END, true)" \
		" FROM (SELECT 1) one" \
		" LEFT JOIN users u ON u.id = app.user_id()" \
		" LEFT JOIN tenants t ON " join \
		" LEFT JOIN tenant_users tu ON tu.tenant_id = t.id AND tu.user_id = u.id"
	/* $1 tenant id (NULL: no tenant context). */
	[ST_CTX_TENANT_ID] = { "ctx_tenant_id", CTX_TENANT("t.id = $1::uuid"), 1 },
	/* $1 workspace slug. */
	[ST_CTX_TENANT_SLUG] = { "ctx_tenant_slug", CTX_TENANT("t.slug = $1"), 1 },

	/* ---- Users -------------------------------------------------------- */

	/* $1 email (lower-cased). */
	[ST_USER_LOGIN] = { "user_login",
		"SELECT id, password_hash FROM users WHERE email = $1", 1 },
	/* $1 user id, $2 new PHC hash (parameter upgrade at login). */
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

	/* ---- Operator context (tenantryctl only) --------------------------- */

	[ST_AS_OPERATOR] = { "as_operator",
		"SELECT set_config('tenantry.superadmin', 'on', true)", 0 },
	[ST_AS_TENANT] = { "as_tenant",
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
		" daily AS (INSERT INTO usage_daily (tenant_id, meter, day, quantity)"
		"   SELECT app.tenant(), lim.name, days.day, greatest(0, (CASE"
		"     WHEN lim.kind = 'gauge' THEN lim.cap * $2::float8 * (0.6 + 0.4 * random())"
		"     WHEN lim.period = 'month' THEN lim.cap * $2::float8 / 30 * (0.5 + random())"
		"     ELSE 50 + 500 * random() END)::bigint)"
		"   FROM lim, days"
		"   ON CONFLICT (tenant_id, meter, day) DO NOTHING RETURNING 1)"
		" INSERT INTO usage_gauges (tenant_id, meter, value)"
		"   SELECT app.tenant(), lim.name, (lim.cap * $2::float8)::bigint FROM lim WHERE lim.kind = 'gauge'"
		"   ON CONFLICT (tenant_id, meter) DO NOTHING"
		" RETURNING (SELECT count(*) FROM daily)", 2 },
	/* $1 actor id, $2 actor label, $3 action, $4 target type, $5 target id. */
	[ST_SEED_AUDIT] = { "seed_audit",
		"INSERT INTO audit_log (tenant_id, actor_type, actor_id, actor_label, action,"
		" target_type, target_id, request_id)"
		" VALUES (app.tenant(), 'user', $1::uuid, $2, $3, $4, $5, 'seed-demo')", 5 },

	/* TenantInfoResponse of the tenant in context (user_role null for a superadmin non-member). */
	[ST_TENANT_CURRENT] = { "tenant_current",
		"SELECT json_build_object('id', t.id, 'name', t.name, 'slug', t.slug,"
		" 'subscription_tier', t.tier, 'created_at', app.ts(t.created_at), 'user_role', tu.role,"
		" 'member_count', (SELECT count(*) FROM tenant_users m WHERE m.tenant_id = t.id))"
		" FROM tenants t LEFT JOIN tenant_users tu ON tu.tenant_id = t.id AND tu.user_id = app.user_id()"
		" WHERE t.id = app.tenant()", 0 },

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
};
