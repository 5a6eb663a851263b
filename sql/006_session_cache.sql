-- 006_session_cache.sql: a workspace's row is also a fact of each of its members (their switcher, their sessions' idle limit): NOTIFY u:<member>.
--
-- A worker keeps a dashboard session per workspace in its cache (SPEC §2,
-- src/auth/authz.c): the session's deadlines, the user's context there and
-- the header's workspace switcher, tagged s:<session hash>, u:<user> and
-- t:<that workspace>. Two of those facts come from the user's OTHER
-- workspaces too:
--   - the switcher lists every workspace of the user with its name, slug,
--     tier and status;
--   - the session's idle limit is the strictest
--     security.session_timeout_minutes of all the user's workspaces
--     (004_dashboard.sql), so tightening it in one workspace shortens the
--     sessions of its members everywhere.
-- 005_cache.sql announces a change of a tenant's row as t:<tenant> only,
-- which reaches none of those entries of another workspace. This trigger
-- also names every member (u:<user>) when one of those columns changes:
-- rare operator and admin edits, one notification per member.
-- Memberships are already covered (005: u: and t: on every change).

CREATE FUNCTION app.cache_tenant_members() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE m uuid;
BEGIN
	FOR m IN SELECT user_id FROM tenant_users WHERE tenant_id = OLD.id
	LOOP
		PERFORM app.cache_notify('u:' || m);
	END LOOP;
	RETURN NULL;
END $$;

-- The function runs as the changing role and reads what RLS shows it: a
-- tenant row can only be updated in that tenant's own context (policy
-- tenants_update, FORCEd for the owner too), where all its memberships are
-- visible; a superuser sees everything anyway.
CREATE TRIGGER tenants_cache_members AFTER UPDATE ON tenants FOR EACH ROW
	WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.slug IS DISTINCT FROM NEW.slug
	   OR OLD.tier IS DISTINCT FROM NEW.tier OR OLD.status IS DISTINCT FROM NEW.status
	   OR (OLD.settings #> '{security,session_timeout_minutes}')
	      IS DISTINCT FROM (NEW.settings #> '{security,session_timeout_minutes}'))
	EXECUTE FUNCTION app.cache_tenant_members();
