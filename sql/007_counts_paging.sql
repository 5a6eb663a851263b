-- 007_counts_paging.sql: counts maintained in the changing transaction (members, API keys, the fleet by tier and status), keyset indexes for every list, trigram search of tenants and members.
--
-- Issue 19: no read, list or filter may cost more as a workspace or the
-- fleet grows. Before this migration every member count (usage's users,
-- tenants/current's member_count, the members list's total, the users
-- meter's history) was a count(*) over the workspace's memberships, and the
-- operator's tenant list counted the fleet on every page.
--
-- Who writes the counts. The counters are written only by the trigger
-- functions below, which run as this migration's role (SECURITY DEFINER):
-- a membership may change outside the tenant's own context (a user deleted
-- by an operator cascades into every workspace they belonged to), where
-- the app role's row security would hide the counter row and the count
-- would drift. The counter tables keep row security FORCEd; their one
-- write policy names this migration's role (TO CURRENT_USER), and the app
-- role may only read them (the tenant in context, or a superadmin).
-- `tenantryctl verify-counts` recomputes every count and reports drift.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- ---------------------------------------------------------------------------
-- A tenant's counts: members and API keys
-- ---------------------------------------------------------------------------

CREATE TABLE tenant_counts (
	tenant_id uuid PRIMARY KEY REFERENCES tenants ON DELETE CASCADE,
	members   bigint NOT NULL DEFAULT 0 CHECK (members >= 0),
	api_keys  bigint NOT NULL DEFAULT 0 CHECK (api_keys >= 0)
);
ALTER TABLE tenant_counts ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_counts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_counts_select ON tenant_counts FOR SELECT
	USING (tenant_id = app.tenant() OR app.is_superadmin());
CREATE POLICY tenant_counts_maintain ON tenant_counts FOR ALL TO CURRENT_USER
	USING (true) WITH CHECK (true);
GRANT SELECT ON tenant_counts TO tenantry_app;

-- The fleet by tier and status (the superadmin's tenant list total).
CREATE TABLE fleet_counts (
	tier    text NOT NULL,
	status  text NOT NULL,
	tenants bigint NOT NULL DEFAULT 0 CHECK (tenants >= 0),
	PRIMARY KEY (tier, status)
);
ALTER TABLE fleet_counts ENABLE ROW LEVEL SECURITY;
ALTER TABLE fleet_counts FORCE ROW LEVEL SECURITY;
CREATE POLICY fleet_counts_select ON fleet_counts FOR SELECT USING (app.is_superadmin());
CREATE POLICY fleet_counts_maintain ON fleet_counts FOR ALL TO CURRENT_USER
	USING (true) WITH CHECK (true);
GRANT SELECT ON fleet_counts TO tenantry_app;

-- Tenants' names and slugs for the operator's substring search. Row
-- security on tenants keeps a trigram index out of reach of the app role:
-- a qual that is not leakproof (LIKE, lower()) is never used as an index
-- condition under a policy, so the search runs in app.tenant_search() on
-- this copy, which only this migration's role reads.
CREATE TABLE tenant_search (
	tenant_id uuid PRIMARY KEY REFERENCES tenants ON DELETE CASCADE,
	name_lc   text NOT NULL,
	slug      text NOT NULL
);
ALTER TABLE tenant_search ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_search FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_search_maintain ON tenant_search FOR ALL TO CURRENT_USER
	USING (true) WITH CHECK (true);
CREATE INDEX tenant_search_name_trgm ON tenant_search USING gin (name_lc gin_trgm_ops);
CREATE INDEX tenant_search_slug_trgm ON tenant_search USING gin (slug gin_trgm_ops);

-- Membership changes, one statement at a time (a bulk insert is one
-- update per tenant, not one per row), in tenant order so that concurrent
-- statements lock counter rows in the same order. The users meter's daily
-- history (002_metering.sql's row trigger, which counted the workspace on
-- every change) is written here from the maintained count, still only in
-- the tenant's own context.
CREATE FUNCTION app.count_members() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
	r record;
BEGIN
	IF TG_OP = 'INSERT' THEN
		FOR r IN SELECT tenant_id, count(*) AS n FROM new_rows GROUP BY tenant_id ORDER BY tenant_id
		LOOP
			INSERT INTO tenant_counts AS c (tenant_id, members) VALUES (r.tenant_id, r.n)
			ON CONFLICT (tenant_id) DO UPDATE SET members = c.members + EXCLUDED.members;
		END LOOP;
	ELSE
		FOR r IN SELECT tenant_id, count(*) AS n FROM old_rows GROUP BY tenant_id ORDER BY tenant_id
		LOOP
			UPDATE tenant_counts SET members = greatest(members - r.n, 0) WHERE tenant_id = r.tenant_id;
		END LOOP;
	END IF;
	IF app.tenant() IS NOT NULL THEN
		INSERT INTO usage_daily (tenant_id, meter, day, quantity, observed_at)
		SELECT c.tenant_id, 'users', (now() AT TIME ZONE 'UTC')::date, c.members, now()
		  FROM tenant_counts c WHERE c.tenant_id = app.tenant()
		   AND EXISTS (SELECT 1 FROM meters WHERE name = 'users')
		ON CONFLICT (tenant_id, meter, day) DO UPDATE SET quantity = EXCLUDED.quantity,
			observed_at = EXCLUDED.observed_at;
	END IF;
	RETURN NULL;
END $$;
DROP TRIGGER tenant_users_meter ON tenant_users;
DROP FUNCTION app.users_meter_track();
CREATE TRIGGER tenant_users_count_ins AFTER INSERT ON tenant_users
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app.count_members();
CREATE TRIGGER tenant_users_count_del AFTER DELETE ON tenant_users
	REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION app.count_members();

CREATE FUNCTION app.count_api_keys() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
	r record;
BEGIN
	IF TG_OP = 'INSERT' THEN
		FOR r IN SELECT tenant_id, count(*) AS n FROM new_rows GROUP BY tenant_id ORDER BY tenant_id
		LOOP
			INSERT INTO tenant_counts AS c (tenant_id, api_keys) VALUES (r.tenant_id, r.n)
			ON CONFLICT (tenant_id) DO UPDATE SET api_keys = c.api_keys + EXCLUDED.api_keys;
		END LOOP;
	ELSE
		FOR r IN SELECT tenant_id, count(*) AS n FROM old_rows GROUP BY tenant_id ORDER BY tenant_id
		LOOP
			UPDATE tenant_counts SET api_keys = greatest(api_keys - r.n, 0) WHERE tenant_id = r.tenant_id;
		END LOOP;
	END IF;
	RETURN NULL;
END $$;
CREATE TRIGGER api_keys_count_ins AFTER INSERT ON api_keys
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app.count_api_keys();
CREATE TRIGGER api_keys_count_del AFTER DELETE ON api_keys
	REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION app.count_api_keys();

-- Add d (may be negative) to the fleet count of (tier, status).
CREATE FUNCTION app.fleet_add(p_tier text, p_status text, d bigint) RETURNS void LANGUAGE sql AS $$
INSERT INTO fleet_counts AS f (tier, status, tenants) VALUES (p_tier, p_status, greatest(d, 0))
ON CONFLICT (tier, status) DO UPDATE SET tenants = greatest(f.tenants + d, 0)
$$;

-- A tenant's row: its counter row and search entry are made with it, the
-- fleet counts follow its tier and status, the search entry its name and
-- slug. Deletion cascades to both tables; the fleet counts go down here.
CREATE FUNCTION app.count_tenants() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
	r record;
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO tenant_counts (tenant_id) SELECT id FROM new_rows ORDER BY id
		ON CONFLICT (tenant_id) DO NOTHING;
		INSERT INTO tenant_search (tenant_id, name_lc, slug)
		SELECT id, lower(name), slug FROM new_rows ORDER BY id
		ON CONFLICT (tenant_id) DO UPDATE SET name_lc = EXCLUDED.name_lc, slug = EXCLUDED.slug;
	ELSIF TG_OP = 'UPDATE' THEN
		UPDATE tenant_search s SET name_lc = lower(n.name), slug = n.slug
		  FROM new_rows n JOIN old_rows o ON o.id = n.id
		 WHERE s.tenant_id = n.id AND (o.name <> n.name OR o.slug <> n.slug);
	END IF;
	IF TG_OP = 'INSERT' THEN
		FOR r IN SELECT tier, status, count(*) AS d FROM new_rows GROUP BY tier, status ORDER BY tier, status
		LOOP
			PERFORM app.fleet_add(r.tier, r.status, r.d);
		END LOOP;
	ELSIF TG_OP = 'DELETE' THEN
		FOR r IN SELECT tier, status, count(*) AS d FROM old_rows GROUP BY tier, status ORDER BY tier, status
		LOOP
			PERFORM app.fleet_add(r.tier, r.status, -r.d);
		END LOOP;
	ELSE
		FOR r IN SELECT x.tier, x.status, sum(x.d) AS d FROM (
				SELECT n.tier, n.status, 1 AS d FROM new_rows n JOIN old_rows o ON o.id = n.id
				 WHERE o.tier <> n.tier OR o.status <> n.status
				UNION ALL
				SELECT o.tier, o.status, -1 FROM new_rows n JOIN old_rows o ON o.id = n.id
				 WHERE o.tier <> n.tier OR o.status <> n.status) x
			GROUP BY x.tier, x.status HAVING sum(x.d) <> 0 ORDER BY x.tier, x.status
		LOOP
			PERFORM app.fleet_add(r.tier, r.status, r.d);
		END LOOP;
	END IF;
	RETURN NULL;
END $$;
CREATE TRIGGER tenants_count_ins AFTER INSERT ON tenants
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app.count_tenants();
CREATE TRIGGER tenants_count_upd AFTER UPDATE ON tenants
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app.count_tenants();
CREATE TRIGGER tenants_count_del AFTER DELETE ON tenants
	REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION app.count_tenants();

-- A count is a fact the workers' cached answers show (usage's users,
-- member_count): a change that bypasses the membership triggers (a fix by
-- verify-counts) is announced like a membership change (005_cache.sql).
CREATE FUNCTION app.cache_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM app.cache_notify('t:' || NEW.tenant_id);
	RETURN NULL;
END $$;
CREATE TRIGGER tenant_counts_cache AFTER UPDATE ON tenant_counts FOR EACH ROW
	WHEN (OLD.members IS DISTINCT FROM NEW.members OR OLD.api_keys IS DISTINCT FROM NEW.api_keys)
	EXECUTE FUNCTION app.cache_counts();

-- ---------------------------------------------------------------------------
-- The counts as they are now (this migration runs once: row security does
-- not hide rows from a superuser, and the owner sees every tenant's rows
-- here only through the context each DO loop sets).
-- ---------------------------------------------------------------------------

CREATE FUNCTION app.counts_actual(p_tenant uuid, OUT members bigint, OUT api_keys bigint)
LANGUAGE plpgsql STABLE AS $$
BEGIN
	-- Row security of tenant_users and api_keys shows the rows of the
	-- tenant in context: the caller sets it (app.verify_counts does).
	SELECT count(*) INTO members FROM tenant_users WHERE tenant_id = p_tenant;
	SELECT count(*) INTO api_keys FROM api_keys WHERE tenant_id = p_tenant;
END $$;

-- Recompute every tenant's counts and the fleet's; one row per count that
-- differs (tenant, slug, what, stored, actual), and with p_fix the stored
-- count is set to the actual one. Superadmins only (tenantryctl
-- verify-counts). Runs as this migration's role, which sees a tenant's
-- memberships only in that tenant's context: the loop sets it for each
-- tenant and puts the caller's back afterwards.
CREATE FUNCTION app.verify_counts(p_fix boolean)
RETURNS TABLE (tenant_id uuid, slug text, what text, stored bigint, actual bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
	prev text := coalesce(current_setting('tenantry.tenant_id', true), '');
	t record;
	a record;
	c record;
BEGIN
	IF NOT app.is_superadmin() THEN
		RAISE EXCEPTION 'verify_counts is for superadmins' USING ERRCODE = '42501';
	END IF;
	FOR t IN SELECT x.id, x.slug FROM tenants x ORDER BY x.id
	LOOP
		PERFORM set_config('tenantry.tenant_id', t.id::text, true);
		SELECT * INTO a FROM app.counts_actual(t.id);
		SELECT k.members, k.api_keys INTO c FROM tenant_counts k WHERE k.tenant_id = t.id;
		IF NOT FOUND THEN
			tenant_id := t.id; slug := t.slug; what := 'counts_row'; stored := 0; actual := 1;
			RETURN NEXT;
			IF p_fix THEN
				INSERT INTO tenant_counts (tenant_id, members, api_keys) VALUES (t.id, a.members, a.api_keys);
			END IF;
			CONTINUE;
		END IF;
		IF c.members <> a.members THEN
			tenant_id := t.id; slug := t.slug; what := 'members'; stored := c.members; actual := a.members;
			RETURN NEXT;
		END IF;
		IF c.api_keys <> a.api_keys THEN
			tenant_id := t.id; slug := t.slug; what := 'api_keys'; stored := c.api_keys; actual := a.api_keys;
			RETURN NEXT;
		END IF;
		IF p_fix AND (c.members <> a.members OR c.api_keys <> a.api_keys) THEN
			UPDATE tenant_counts k SET members = a.members, api_keys = a.api_keys WHERE k.tenant_id = t.id;
		END IF;
	END LOOP;
	PERFORM set_config('tenantry.tenant_id', prev, true);
	FOR c IN
		SELECT coalesce(x.tier, f.tier) AS tier, coalesce(x.status, f.status) AS status,
		       coalesce(f.tenants, 0) AS stored, coalesce(x.n, 0) AS actual
		  FROM (SELECT y.tier, y.status, count(*) AS n FROM tenants y GROUP BY y.tier, y.status) x
		  FULL JOIN fleet_counts f ON f.tier = x.tier AND f.status = x.status
		 WHERE coalesce(f.tenants, 0) <> coalesce(x.n, 0)
	LOOP
		tenant_id := NULL; slug := NULL; what := 'fleet:' || c.tier || '/' || c.status;
		stored := c.stored; actual := c.actual;
		RETURN NEXT;
		IF p_fix THEN
			INSERT INTO fleet_counts AS f (tier, status, tenants) VALUES (c.tier, c.status, c.actual)
			ON CONFLICT (tier, status) DO UPDATE SET tenants = EXCLUDED.tenants;
		END IF;
	END LOOP;
	-- The search copy follows the tenants' names and slugs.
	FOR t IN SELECT x.id, x.slug, x.name FROM tenants x
	          LEFT JOIN tenant_search s ON s.tenant_id = x.id
	         WHERE s.tenant_id IS NULL OR s.name_lc <> lower(x.name) OR s.slug <> x.slug
	LOOP
		tenant_id := t.id; slug := t.slug; what := 'search'; stored := 0; actual := 1;
		RETURN NEXT;
		IF p_fix THEN
			INSERT INTO tenant_search (tenant_id, name_lc, slug) VALUES (t.id, lower(t.name), t.slug)
			ON CONFLICT (tenant_id) DO UPDATE SET name_lc = EXCLUDED.name_lc, slug = EXCLUDED.slug;
		END IF;
	END LOOP;
END $$;
REVOKE EXECUTE ON FUNCTION app.verify_counts(boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.verify_counts(boolean) TO tenantry_app;

-- The backfill: verify_counts with p_fix, as an operator would run it.
SELECT set_config('tenantry.superadmin', 'on', true);
SELECT count(*) FROM app.verify_counts(true);
SELECT set_config('tenantry.superadmin', '', true);

-- The operator's substring search of name or slug (case-insensitive),
-- for a superadmin only; p_q is the text as typed (LIKE's wildcards in it
-- match themselves). The trigram indexes are its only plan: on a small
-- fleet the planner would rather read the table, which grows with the
-- fleet (enable_seqscan is off for this function's own queries).
CREATE FUNCTION app.tenant_search(p_q text) RETURNS SETOF uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
SET enable_seqscan = off ROWS 100 AS $$
DECLARE
	pat text := '%' || replace(replace(replace(lower(p_q), '\', '\\'), '%', '\%'), '_', '\_') || '%';
BEGIN
	IF NOT app.is_superadmin() THEN
		RETURN;
	END IF;
	RETURN QUERY SELECT s.tenant_id FROM tenant_search s WHERE s.name_lc LIKE pat
	    UNION SELECT s.tenant_id FROM tenant_search s WHERE s.slug LIKE pat;
END $$;
REVOKE EXECUTE ON FUNCTION app.tenant_search(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.tenant_search(text) TO tenantry_app;

-- Member search by e-mail or name within the tenant in context: the ids of
-- its members whose e-mail or lower-case name holds p_q (as typed; LIKE's
-- wildcards match themselves). A definer function for the same reason as
-- app.tenant_search: under row security on users (a table the app role may
-- one day read only through policies) no trigram index would serve a LIKE.
-- It answers only for the tenant in context, and only its members.
CREATE FUNCTION app.member_search(p_q text) RETURNS SETOF uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
SET enable_seqscan = off ROWS 100 AS $$
DECLARE
	pat text := '%' || replace(replace(replace(lower(p_q), '\', '\\'), '%', '\%'), '_', '\_') || '%';
BEGIN
	IF app.tenant() IS NULL THEN
		RETURN;
	END IF;
	RETURN QUERY SELECT m.id FROM (
	        SELECT u.id FROM users u WHERE u.email LIKE pat
	        UNION SELECT u.id FROM users u WHERE lower(u.name) LIKE pat) m
	    WHERE EXISTS (SELECT 1 FROM tenant_users tu WHERE tu.tenant_id = app.tenant() AND tu.user_id = m.id);
END $$;
REVOKE EXECUTE ON FUNCTION app.member_search(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.member_search(text) TO tenantry_app;

-- ---------------------------------------------------------------------------
-- Indexes in each list's keyset order
-- ---------------------------------------------------------------------------

-- The fleet, newest first, whole (tenants_created_idx) or by tier or status.
CREATE INDEX tenants_tier_created_idx ON tenants (tier, created_at DESC, id);
CREATE INDEX tenants_status_created_idx ON tenants (status, created_at DESC, id);
DROP INDEX tenants_tier_idx;
-- A workspace's members in joined order; its owners (the last-owner rule).
CREATE INDEX tenant_users_joined_idx ON tenant_users (tenant_id, joined_at, user_id);
CREATE INDEX tenant_users_owners_idx ON tenant_users (tenant_id) WHERE role = 'owner';
-- Member search by e-mail or name (app.member_search).
CREATE INDEX users_email_trgm ON users USING gin (email gin_trgm_ops);
CREATE INDEX users_name_trgm ON users USING gin (lower(name) gin_trgm_ops);
-- A tenant's keys newest first, ties by id.
CREATE INDEX api_keys_tenant_created_idx ON api_keys (tenant_id, created_at DESC, id);
DROP INDEX api_keys_tenant_idx;
-- A tenant's pending invitations newest first.
CREATE INDEX invitations_pending_idx ON invitations (tenant_id, created_at DESC, id)
	WHERE accepted_at IS NULL AND revoked_at IS NULL;

-- The activity log's actor filter, in its keyset order (id, newest first):
-- by label (e-mail, key name) and by actor id.
CREATE INDEX audit_log_actor_label_idx ON audit_log (tenant_id, actor_label, id DESC);
CREATE INDEX audit_log_actor_id_idx ON audit_log (tenant_id, actor_id, id DESC) WHERE actor_id IS NOT NULL;

GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA app TO tenantry_app;
