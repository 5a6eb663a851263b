-- 001_schema.sql: the whole schema: identity, tenants, keys, sessions, audit, plans, usage, outbox, rate limits.
--
-- Applied by `tenantryctl migrate` as the owner role (tenantry_owner) in one
-- transaction. The worker connects as tenantry_app, which owns nothing, may
-- only INSERT into the audit log, and is subject to row-level security on
-- every tenant-scoped table (FORCEd, so even the owner is).
--
-- Tenant isolation keys off transaction-local settings written by app.ctx():
--   tenantry.tenant_id   the tenant this transaction acts for ('' = none)
--   tenantry.user_id     the authenticated user ('' = none)
--   tenantry.superadmin  'on' for a superadmin ('' otherwise)
-- After a transaction ends they read '' (not NULL) on the same connection,
-- hence the nullif() in every accessor.

CREATE SCHEMA app;
GRANT USAGE ON SCHEMA app TO tenantry_app;
GRANT USAGE ON SCHEMA public TO tenantry_app;

CREATE FUNCTION app.tenant() RETURNS uuid LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT nullif(current_setting('tenantry.tenant_id', true), '')::uuid $$;
CREATE FUNCTION app.user_id() RETURNS uuid LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT nullif(current_setting('tenantry.user_id', true), '')::uuid $$;
CREATE FUNCTION app.is_superadmin() RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT coalesce(current_setting('tenantry.superadmin', true), '') = 'on' $$;
-- RFC 3339 UTC with seconds: the only timestamp format the API speaks.
CREATE FUNCTION app.ts(t timestamptz) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') $$;

-- ---------------------------------------------------------------------------
-- Plans and meters (catalogs: adding a tier or a meter is a row, not code)
-- ---------------------------------------------------------------------------

CREATE TABLE tiers (
	name          text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]{0,31}$'),
	display_name  text NOT NULL,
	price_plan    text NOT NULL,
	rank          int NOT NULL UNIQUE,
	grace_percent int NOT NULL DEFAULT 10 CHECK (grace_percent BETWEEN 0 AND 1000),
	features      text[] NOT NULL DEFAULT '{}',
	rate_exempt   boolean NOT NULL DEFAULT false
);

CREATE TABLE meters (
	name   text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]{0,62}$'),
	kind   text NOT NULL CHECK (kind IN ('gauge', 'counter')),
	period text CHECK (period IN ('day', 'month')),
	unit   text NOT NULL,
	source text NOT NULL DEFAULT 'reported' CHECK (source IN ('reported', 'memberships')),
	CHECK ((kind = 'gauge') = (period IS NULL))
);

-- max_value NULL or -1: unlimited.
CREATE TABLE tier_limits (
	tier      text NOT NULL REFERENCES tiers ON UPDATE CASCADE ON DELETE CASCADE,
	meter     text NOT NULL REFERENCES meters ON UPDATE CASCADE ON DELETE CASCADE,
	max_value bigint CHECK (max_value >= -1),
	PRIMARY KEY (tier, meter)
);

-- Request classes: read, write, settings_read, settings_write, usage.
CREATE TABLE tier_rate_limits (
	tier           text NOT NULL REFERENCES tiers ON UPDATE CASCADE ON DELETE CASCADE,
	class          text NOT NULL CHECK (class IN ('read', 'write', 'settings_read', 'settings_write', 'usage')),
	max_requests   int NOT NULL CHECK (max_requests >= -1),
	window_seconds int NOT NULL CHECK (window_seconds > 0),
	PRIMARY KEY (tier, class)
);

INSERT INTO tiers (name, display_name, price_plan, rank, grace_percent, features, rate_exempt) VALUES
	('free',       'Free',       'free-monthly',       1, 10, '{basic_chat,team_collaboration}', false),
	('starter',    'Starter',    'starter-monthly',    2, 10, '{basic_chat,team_collaboration,api_access}', false),
	('business',   'Business',   'business-monthly',   3, 10, '{all}', false),
	('enterprise', 'Enterprise', 'enterprise-annual',  4, 0,  '{all,custom_deployment,sla}', true);

INSERT INTO meters (name, kind, period, unit, source) VALUES
	('users',            'gauge',   NULL,    'users',         'memberships'),
	('teams',            'gauge',   NULL,    'teams',         'reported'),
	('conversations',    'gauge',   NULL,    'conversations', 'reported'),
	('devices',          'gauge',   NULL,    'devices',       'reported'),
	('tokens',           'counter', 'month', 'tokens',        'reported'),
	('api_calls',        'counter', 'day',   'calls',         'reported'),
	('telemetry_points', 'counter', 'day',   'points',        'reported'),
	('storage_mb',       'gauge',   NULL,    'MB',            'reported');

INSERT INTO tier_limits (tier, meter, max_value) VALUES
	('free', 'users', 5), ('free', 'teams', 2), ('free', 'conversations', 50), ('free', 'tokens', 100000),
	('starter', 'users', 20), ('starter', 'teams', 10), ('starter', 'conversations', 500), ('starter', 'tokens', 1000000),
	('business', 'users', 100), ('business', 'teams', 50), ('business', 'conversations', 5000), ('business', 'tokens', 10000000),
	('enterprise', 'users', -1), ('enterprise', 'teams', -1), ('enterprise', 'conversations', -1), ('enterprise', 'tokens', -1);

INSERT INTO tier_rate_limits (tier, class, max_requests, window_seconds) VALUES
	('free', 'read', 300, 60), ('free', 'write', 60, 60), ('free', 'usage', 120, 60),
	('free', 'settings_read', 100, 60), ('free', 'settings_write', 10, 3600),
	('starter', 'read', 1000, 60), ('starter', 'write', 300, 60), ('starter', 'usage', 600, 60),
	('starter', 'settings_read', 100, 60), ('starter', 'settings_write', 10, 3600),
	('business', 'read', 5000, 60), ('business', 'write', 1000, 60), ('business', 'usage', 3000, 60),
	('business', 'settings_read', 100, 60), ('business', 'settings_write', 10, 3600),
	('enterprise', 'read', -1, 60), ('enterprise', 'write', -1, 60), ('enterprise', 'usage', -1, 60),
	('enterprise', 'settings_read', -1, 60), ('enterprise', 'settings_write', -1, 3600);

GRANT SELECT ON tiers, meters, tier_limits, tier_rate_limits TO tenantry_app;

-- ---------------------------------------------------------------------------
-- Identity
-- ---------------------------------------------------------------------------

-- Users are global (one person, many workspaces): no tenant column, no RLS.
-- email is stored lower-cased by the application.
CREATE TABLE users (
	id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	email               text NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
	name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
	password_hash       text NOT NULL,
	is_superadmin       boolean NOT NULL DEFAULT false,
	created_at          timestamptz NOT NULL DEFAULT now(),
	updated_at          timestamptz NOT NULL DEFAULT now(),
	password_changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (email);
GRANT SELECT, INSERT, UPDATE ON users TO tenantry_app;

-- Dashboard sessions: only the SHA-256 of the cookie value is stored.
CREATE TABLE sessions (
	id_hash      bytea PRIMARY KEY CHECK (length(id_hash) = 32),
	user_id      uuid NOT NULL REFERENCES users ON DELETE CASCADE,
	csrf_token   text NOT NULL,
	created_at   timestamptz NOT NULL DEFAULT now(),
	last_seen_at timestamptz NOT NULL DEFAULT now(),
	expires_at   timestamptz NOT NULL,            -- absolute timeout (12 h)
	client_addr  text,
	user_agent   text
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);
GRANT SELECT, INSERT, UPDATE, DELETE ON sessions TO tenantry_app;

-- ---------------------------------------------------------------------------
-- Tenants and membership
-- ---------------------------------------------------------------------------

CREATE FUNCTION app.default_settings() RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
SELECT '{"branding": {"primary_color": "#000000", "logo_url": null},
  "notifications": {"email_enabled": true, "webhook_url": null},
  "security": {"ip_whitelist": [], "mfa_required": false, "session_timeout_minutes": 60},
  "features": {"custom_models_enabled": false, "api_access_enabled": true, "sso_enabled": false},
  "integrations": {"slack_workspace": null, "microsoft_teams": null}}'::jsonb
$$;

CREATE TABLE tenants (
	id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	name       text NOT NULL CHECK (length(name) BETWEEN 3 AND 100),
	slug       text NOT NULL CHECK (slug ~ '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$'),
	tier       text NOT NULL DEFAULT 'free' REFERENCES tiers ON UPDATE CASCADE,
	status     text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
	settings   jsonb NOT NULL DEFAULT app.default_settings(),
	version    bigint NOT NULL DEFAULT 1,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX tenants_slug_key ON tenants (slug);
CREATE INDEX tenants_tier_idx ON tenants (tier);
CREATE INDEX tenants_created_idx ON tenants (created_at DESC, id);

CREATE TABLE tenant_users (
	tenant_id uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
	user_id   uuid NOT NULL REFERENCES users ON DELETE CASCADE,
	role      text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
	joined_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX tenant_users_user_idx ON tenant_users (user_id, tenant_id) INCLUDE (role);

-- Per-tenant limit overrides (superadmin); max_value NULL or -1 = unlimited.
CREATE TABLE tenant_limit_overrides (
	tenant_id uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
	meter     text NOT NULL REFERENCES meters ON UPDATE CASCADE ON DELETE CASCADE,
	max_value bigint CHECK (max_value >= -1),
	PRIMARY KEY (tenant_id, meter)
);

CREATE TABLE invitations (
	id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	tenant_id   uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
	email       text NOT NULL CHECK (email = lower(email)),
	role        text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
	token_hash  bytea NOT NULL CHECK (length(token_hash) = 32),
	invited_by  uuid REFERENCES users ON DELETE SET NULL,
	created_at  timestamptz NOT NULL DEFAULT now(),
	expires_at  timestamptz NOT NULL,
	accepted_at timestamptz,
	accepted_by uuid REFERENCES users ON DELETE SET NULL,
	revoked_at  timestamptz
);
CREATE UNIQUE INDEX invitations_token_key ON invitations (token_hash);
-- One pending invitation per address and tenant (re-inviting replaces it).
CREATE UNIQUE INDEX invitations_pending_key ON invitations (tenant_id, email)
	WHERE accepted_at IS NULL AND revoked_at IS NULL;

CREATE TABLE api_keys (
	id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	tenant_id    uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
	name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
	prefix       text NOT NULL,                     -- display prefix, not secret
	key_hash     bytea NOT NULL CHECK (length(key_hash) = 32),
	scopes       text[] NOT NULL CHECK (cardinality(scopes) > 0 AND scopes <@ '{read,write,usage:write}'::text[]),
	created_by   uuid REFERENCES users ON DELETE SET NULL,
	created_at   timestamptz NOT NULL DEFAULT now(),
	last_used_at timestamptz,
	expires_at   timestamptz,
	revoked_at   timestamptz,                       -- may be in the future: rotation grace
	replaced_by  uuid REFERENCES api_keys ON DELETE SET NULL
);
CREATE UNIQUE INDEX api_keys_hash_key ON api_keys (key_hash);
CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id, created_at DESC);

-- ---------------------------------------------------------------------------
-- Audit log: insert-only for the application
-- ---------------------------------------------------------------------------

CREATE TABLE audit_log (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	tenant_id   uuid REFERENCES tenants,            -- NULL: a system-level event
	occurred_at timestamptz NOT NULL DEFAULT now(),
	actor_type  text NOT NULL CHECK (actor_type IN ('user', 'api_key', 'system')),
	actor_id    uuid,
	actor_label text,                               -- email or key name at the time
	action      text NOT NULL CHECK (action ~ '^[a-z_]+(\.[a-z_]+)+$'),
	target_type text,
	target_id   text,
	before      jsonb,
	after       jsonb,
	request_id  text,
	client_addr text
);
CREATE INDEX audit_log_tenant_idx ON audit_log (tenant_id, id DESC);
CREATE INDEX audit_log_tenant_time_idx ON audit_log (tenant_id, occurred_at DESC);
CREATE INDEX audit_log_tenant_action_idx ON audit_log (tenant_id, action, id DESC);

-- ---------------------------------------------------------------------------
-- Usage: raw events (idempotent) and write-through rollups
-- ---------------------------------------------------------------------------

CREATE TABLE usage_events (
	tenant_id       uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
	idempotency_key text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 200),
	meter           text NOT NULL REFERENCES meters ON UPDATE CASCADE,
	quantity        bigint NOT NULL CHECK (quantity >= 0),
	occurred_at     timestamptz NOT NULL,
	received_at     timestamptz NOT NULL DEFAULT now(),
	api_key_id      uuid REFERENCES api_keys ON DELETE SET NULL,
	PRIMARY KEY (tenant_id, idempotency_key)
);

-- Counters: the day's sum. Gauges: the last value reported that day.
CREATE TABLE usage_daily (
	tenant_id uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
	meter     text NOT NULL REFERENCES meters ON UPDATE CASCADE,
	day       date NOT NULL,
	quantity  bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (tenant_id, meter, day)
);

-- Current value of each gauge.
CREATE TABLE usage_gauges (
	tenant_id  uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
	meter      text NOT NULL REFERENCES meters ON UPDATE CASCADE,
	value      bigint NOT NULL,
	updated_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (tenant_id, meter)
);

-- Threshold notifications, written in the ingesting transaction; the unique
-- key makes "one per threshold per period" a database fact.
CREATE TABLE notification_outbox (
	id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	tenant_id            uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
	meter                text NOT NULL REFERENCES meters ON UPDATE CASCADE,
	threshold            int NOT NULL CHECK (threshold IN (80, 90, 100)),
	period_start         date NOT NULL,
	used                 bigint NOT NULL,
	max_value            bigint NOT NULL,
	created_at           timestamptz NOT NULL DEFAULT now(),
	attempts             int NOT NULL DEFAULT 0,
	next_attempt_at      timestamptz NOT NULL DEFAULT now(),
	email_delivered_at   timestamptz,
	webhook_delivered_at timestamptz,
	last_error           text,
	UNIQUE (tenant_id, meter, threshold, period_start)
);
CREATE INDEX notification_outbox_pending_idx ON notification_outbox (next_attempt_at)
	WHERE email_delivered_at IS NULL OR webhook_delivered_at IS NULL;

-- ---------------------------------------------------------------------------
-- Rate limits: UNLOGGED (no WAL per request), sharded (no single hot row)
-- ---------------------------------------------------------------------------

CREATE UNLOGGED TABLE rate_counters (
	tenant_id    uuid NOT NULL,
	class        text NOT NULL,
	window_start timestamptz NOT NULL,
	shard        smallint NOT NULL,
	hits         int NOT NULL DEFAULT 0,
	PRIMARY KEY (tenant_id, class, window_start, shard)
);

CREATE UNLOGGED TABLE login_failures (
	email        text NOT NULL,
	client_addr  text NOT NULL,
	window_start timestamptz NOT NULL,
	failures     int NOT NULL DEFAULT 0,
	PRIMARY KEY (email, client_addr, window_start)
);
CREATE INDEX login_failures_addr_idx ON login_failures (client_addr, window_start);
GRANT SELECT, INSERT, UPDATE, DELETE ON login_failures TO tenantry_app;

-- ---------------------------------------------------------------------------
-- Grants and row-level security on every tenant-scoped table
-- ---------------------------------------------------------------------------

GRANT SELECT, INSERT, UPDATE ON tenants TO tenantry_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON tenant_users, tenant_limit_overrides, invitations, api_keys TO tenantry_app;
GRANT SELECT, INSERT ON audit_log TO tenantry_app;
GRANT SELECT, INSERT ON usage_events TO tenantry_app;
GRANT SELECT, INSERT, UPDATE ON usage_daily, usage_gauges, notification_outbox TO tenantry_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON rate_counters TO tenantry_app;

ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
-- A tenant row is visible in its own context, to its members (so a user can
-- list their workspaces), and to superadmins; only superadmins create one.
-- app.member_of() is a plpgsql function, not an inlined subquery, so the
-- policy adds no subplan to every query on tenants, and it is evaluated
-- only when the cheap branches are false.
CREATE FUNCTION app.member_of(p_tenant uuid) RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN EXISTS (SELECT 1 FROM tenant_users WHERE tenant_id = p_tenant AND user_id = app.user_id());
END $$;
CREATE POLICY tenants_select ON tenants FOR SELECT
	USING (id = app.tenant() OR app.is_superadmin() OR app.member_of(id));
CREATE POLICY tenants_insert ON tenants FOR INSERT WITH CHECK (app.is_superadmin());
CREATE POLICY tenants_update ON tenants FOR UPDATE USING (id = app.tenant()) WITH CHECK (id = app.tenant());

ALTER TABLE tenant_users ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_users FORCE ROW LEVEL SECURITY;
-- A user sees their own memberships in every tenant; changes need the context.
CREATE POLICY tenant_users_select ON tenant_users FOR SELECT
	USING (tenant_id = app.tenant() OR user_id = app.user_id());
CREATE POLICY tenant_users_insert ON tenant_users FOR INSERT WITH CHECK (tenant_id = app.tenant());
CREATE POLICY tenant_users_update ON tenant_users FOR UPDATE
	USING (tenant_id = app.tenant()) WITH CHECK (tenant_id = app.tenant());
CREATE POLICY tenant_users_delete ON tenant_users FOR DELETE USING (tenant_id = app.tenant());

ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
-- Outside its tenant a key row is visible only to whoever presents its hash.
CREATE POLICY api_keys_select ON api_keys FOR SELECT USING (
	tenant_id = app.tenant()
	OR key_hash = decode(nullif(current_setting('tenantry.key_hash', true), ''), 'hex'));
CREATE POLICY api_keys_write ON api_keys FOR ALL USING (tenant_id = app.tenant()) WITH CHECK (tenant_id = app.tenant());

ALTER TABLE invitations ENABLE ROW LEVEL SECURITY;
ALTER TABLE invitations FORCE ROW LEVEL SECURITY;
CREATE POLICY invitations_select ON invitations FOR SELECT USING (
	tenant_id = app.tenant()
	OR token_hash = decode(nullif(current_setting('tenantry.invite_hash', true), ''), 'hex'));
CREATE POLICY invitations_write ON invitations FOR ALL USING (tenant_id = app.tenant()) WITH CHECK (tenant_id = app.tenant());

ALTER TABLE tenant_limit_overrides ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_limit_overrides FORCE ROW LEVEL SECURITY;
-- Limits are part of a tenant's description: visible wherever the tenant is.
CREATE POLICY tenant_limit_overrides_select ON tenant_limit_overrides FOR SELECT
	USING (tenant_id = app.tenant() OR app.is_superadmin() OR app.member_of(tenant_id));
CREATE POLICY tenant_limit_overrides_write ON tenant_limit_overrides FOR ALL
	USING (tenant_id = app.tenant()) WITH CHECK (tenant_id = app.tenant());

ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_log_select ON audit_log FOR SELECT USING (tenant_id = app.tenant());
-- Superadmins act across tenants (creating one, say) and write system
-- events (tenant_id NULL); everyone else writes only in their context.
CREATE POLICY audit_log_insert ON audit_log FOR INSERT
	WITH CHECK (tenant_id = app.tenant() OR app.is_superadmin());

DO $$
DECLARE t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['usage_events', 'usage_daily',
	    'usage_gauges', 'notification_outbox', 'rate_counters']
	LOOP
		EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
		EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
		EXECUTE format('CREATE POLICY %I ON %I FOR ALL USING (tenant_id = app.tenant()) '
		    'WITH CHECK (tenant_id = app.tenant())', t || '_tenant', t);
	END LOOP;
END $$;

-- ---------------------------------------------------------------------------
-- The database half of the one authorisation function
-- ---------------------------------------------------------------------------
--
-- Every authenticated request's transaction starts with two statements
-- (src/db/stmt.c, pipelined with the request's reads in one round trip):
--   ctx_user:   sets tenantry.user_id and tenantry.superadmin from the users
--               row (nothing is set for a user that does not exist);
--   ctx_tenant: reads the named tenant (by id or slug) and the caller's role,
--               and sets tenantry.tenant_id only if the caller is a member or
--               a superadmin. A non-member cannot even see the tenant row.
-- Later statements in the transaction therefore see that tenant's rows and
-- no other's. Plain SQL, not plpgsql: this runs on every request.

-- Effective limits of a tenant: its overrides over its tier's limits, per
-- meter; null = unlimited (stored as NULL or -1). plpgsql so its plan is
-- cached per connection.
CREATE FUNCTION app.limits(p_tenant uuid, p_tier text) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN (SELECT coalesce(jsonb_object_agg(m.name, nullif(CASE WHEN o.meter IS NOT NULL
	            THEN o.max_value ELSE tl.max_value END, -1) ORDER BY m.name), '{}'::jsonb)
	          FROM meters m
	          LEFT JOIN tier_limits tl ON tl.tier = p_tier AND tl.meter = m.name
	          LEFT JOIN tenant_limit_overrides o ON o.tenant_id = p_tenant AND o.meter = m.name
	         WHERE tl.meter IS NOT NULL OR o.meter IS NOT NULL);
END $$;

-- Usage of every meter now, for the tenant's stats: gauges' current value
-- (users counted from memberships), counters summed over their current
-- period (UTC day or month) from the daily rollups, never from raw events.
CREATE FUNCTION app.usage_now(p_tenant uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	today date := (now() AT TIME ZONE 'UTC')::date;
BEGIN
	RETURN (SELECT coalesce(jsonb_object_agg(m.name, jsonb_build_object(
	    'used', CASE
	        WHEN m.source = 'memberships' THEN
	            (SELECT count(*) FROM tenant_users WHERE tenant_id = p_tenant)
	        WHEN m.kind = 'gauge' THEN
	            coalesce((SELECT value FROM usage_gauges g WHERE g.tenant_id = p_tenant AND g.meter = m.name), 0)
	        WHEN m.period = 'day' THEN
	            coalesce((SELECT quantity FROM usage_daily d WHERE d.tenant_id = p_tenant
	                      AND d.meter = m.name AND d.day = today), 0)
	        ELSE
	            coalesce((SELECT sum(quantity) FROM usage_daily d WHERE d.tenant_id = p_tenant
	                      AND d.meter = m.name AND d.day >= date_trunc('month', today)::date
	                      AND d.day <= today), 0)
	        END,
	    'period', coalesce(m.period, 'current'), 'unit', m.unit) ORDER BY m.name), '{}'::jsonb)
	  FROM meters m);
END $$;

GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA app TO tenantry_app;
