-- 005_cache.sql: push invalidation of the workers' caches (NOTIFY in every changing transaction) and the batched rate flush.
--
-- A worker may answer a read from its cache of database facts (SPEC §2,
-- src/core/cache.c). Every change to a fact it may hold is announced here,
-- by the changing transaction itself, on the channel tenantry_cache: so
-- the API, tenantryctl, psql and any future writer cannot forget. The
-- payload names what changed:
--   u:<user id>      the user (superadmin flag, deletion, password)
--   t:<tenant id>    the tenant's row (name, tier, status, settings), its
--                    memberships, its limit overrides
--   k:<api key id>   the key (revoked, rotated, expiry, scopes)
--   s:<hash hex>     a dashboard session
--   usage:<tenant>   the tenant's usage rollups and gauges
--   catalog          tiers, meters, tier limits, rate limits
--   *                everything (a TRUNCATE)
-- NOTIFY is delivered at commit, and only then (a rolled-back change
-- announces nothing); PostgreSQL folds identical notifications of one
-- transaction into one. A worker also never uses an entry older than 2 s,
-- so a change that bypasses triggers (session_replication_role = replica)
-- is seen at most 2 s late.

CREATE FUNCTION app.cache_notify(tag text) RETURNS void LANGUAGE sql AS
$$ SELECT pg_notify('tenantry_cache', tag) $$;

CREATE FUNCTION app.cache_users() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM app.cache_notify('u:' || OLD.id);
	RETURN NULL;
END $$;
CREATE TRIGGER users_cache AFTER UPDATE OR DELETE ON users
	FOR EACH ROW EXECUTE FUNCTION app.cache_users();

CREATE FUNCTION app.cache_tenants() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM app.cache_notify('t:' || OLD.id);
	RETURN NULL;
END $$;
CREATE TRIGGER tenants_cache AFTER UPDATE OR DELETE ON tenants
	FOR EACH ROW EXECUTE FUNCTION app.cache_tenants();

-- A membership is a fact of its user (their contexts) and of its tenant
-- (member counts, the users meter).
CREATE FUNCTION app.cache_members() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP <> 'INSERT' THEN
		PERFORM app.cache_notify('u:' || OLD.user_id);
		PERFORM app.cache_notify('t:' || OLD.tenant_id);
	END IF;
	IF TG_OP <> 'DELETE' THEN
		PERFORM app.cache_notify('u:' || NEW.user_id);
		PERFORM app.cache_notify('t:' || NEW.tenant_id);
	END IF;
	RETURN NULL;
END $$;
CREATE TRIGGER tenant_users_cache AFTER INSERT OR UPDATE OR DELETE ON tenant_users
	FOR EACH ROW EXECUTE FUNCTION app.cache_members();

CREATE FUNCTION app.cache_overrides() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM app.cache_notify('t:' || coalesce(NEW.tenant_id, OLD.tenant_id));
	IF TG_OP = 'UPDATE' AND NEW.tenant_id <> OLD.tenant_id THEN
		PERFORM app.cache_notify('t:' || OLD.tenant_id);
	END IF;
	RETURN NULL;
END $$;
CREATE TRIGGER tenant_limit_overrides_cache AFTER INSERT OR UPDATE OR DELETE ON tenant_limit_overrides
	FOR EACH ROW EXECUTE FUNCTION app.cache_overrides();

-- A key's last_used_at (touched at most once a minute) is not a fact any
-- decision rests on: only the columns that are.
CREATE FUNCTION app.cache_api_keys() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM app.cache_notify('k:' || OLD.id);
	RETURN NULL;
END $$;
CREATE TRIGGER api_keys_cache AFTER UPDATE ON api_keys FOR EACH ROW
	WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at OR OLD.expires_at IS DISTINCT FROM NEW.expires_at
	   OR OLD.scopes IS DISTINCT FROM NEW.scopes OR OLD.name IS DISTINCT FROM NEW.name
	   OR OLD.tenant_id IS DISTINCT FROM NEW.tenant_id OR OLD.key_hash IS DISTINCT FROM NEW.key_hash)
	EXECUTE FUNCTION app.cache_api_keys();
CREATE TRIGGER api_keys_cache_delete AFTER DELETE ON api_keys
	FOR EACH ROW EXECUTE FUNCTION app.cache_api_keys();

-- Sessions: the end of one (sign-out, expiry sweep, password change
-- cascade), not its keep-alive.
CREATE FUNCTION app.cache_sessions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM app.cache_notify('s:' || encode(OLD.id_hash, 'hex'));
	RETURN NULL;
END $$;
CREATE TRIGGER sessions_cache AFTER UPDATE ON sessions FOR EACH ROW
	WHEN (OLD.expires_at IS DISTINCT FROM NEW.expires_at OR OLD.idle_minutes IS DISTINCT FROM NEW.idle_minutes
	   OR OLD.user_id IS DISTINCT FROM NEW.user_id)
	EXECUTE FUNCTION app.cache_sessions();
CREATE TRIGGER sessions_cache_delete AFTER DELETE ON sessions
	FOR EACH ROW EXECUTE FUNCTION app.cache_sessions();

-- Usage: every rollup and gauge row an ingestion writes (one notification
-- per tenant and transaction, after PostgreSQL's folding).
CREATE FUNCTION app.cache_usage() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM app.cache_notify('usage:' || coalesce(NEW.tenant_id, OLD.tenant_id));
	RETURN NULL;
END $$;
CREATE TRIGGER usage_periods_cache AFTER INSERT OR UPDATE OR DELETE ON usage_periods
	FOR EACH ROW EXECUTE FUNCTION app.cache_usage();
CREATE TRIGGER usage_gauges_cache AFTER INSERT OR UPDATE OR DELETE ON usage_gauges
	FOR EACH ROW EXECUTE FUNCTION app.cache_usage();
CREATE TRIGGER usage_daily_cache AFTER INSERT OR UPDATE OR DELETE ON usage_daily
	FOR EACH ROW EXECUTE FUNCTION app.cache_usage();

-- The plans: rare operator edits, one notification per statement.
CREATE FUNCTION app.cache_catalog() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM app.cache_notify('catalog');
	RETURN NULL;
END $$;
CREATE FUNCTION app.cache_everything() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM app.cache_notify('*');
	RETURN NULL;
END $$;
DO $$
DECLARE t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['tiers', 'meters', 'tier_limits', 'tier_rate_limits']
	LOOP
		EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %I '
		    'FOR EACH STATEMENT EXECUTE FUNCTION app.cache_catalog()', t || '_cache', t);
	END LOOP;
	FOREACH t IN ARRAY ARRAY['tiers', 'meters', 'tier_limits', 'tier_rate_limits', 'users', 'tenants',
	    'tenant_users', 'tenant_limit_overrides', 'api_keys', 'sessions', 'usage_periods',
	    'usage_gauges', 'usage_daily']
	LOOP
		EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %I '
		    'FOR EACH STATEMENT EXECUTE FUNCTION app.cache_everything()', t || '_cache_truncate', t);
	END LOOP;
END $$;

-- Batched rate counting (src/auth/rate.c): a worker flushes the read
-- counts of many tenants in one statement, in a transaction that declares
-- itself a flush (tenantry.rate_flush, transaction-local). Counters are
-- request counts, not tenant data; every other use of the table stays
-- bound to the tenant in context.
CREATE POLICY rate_counters_flush ON rate_counters FOR ALL
	USING (current_setting('tenantry.rate_flush', true) = 'on')
	WITH CHECK (current_setting('tenantry.rate_flush', true) = 'on');

GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA app TO tenantry_app;
