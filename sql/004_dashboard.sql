-- 004_dashboard.sql: dashboard sessions: the idle limit each session carries, and its source.

-- A session ends after idle_minutes without a request. The value is the
-- strictest security.session_timeout_minutes among the user's workspaces
-- (60 when they have none), taken at sign-in and refreshed whenever the
-- session is touched, so a workspace that tightens its policy applies it
-- to its members' sessions within a minute, in every worker and host.
ALTER TABLE sessions ADD COLUMN idle_minutes integer NOT NULL DEFAULT 60
	CHECK (idle_minutes BETWEEN 5 AND 1440);

-- Runs as the caller: RLS shows the user's own memberships (app.user_id()
-- is set) and the tenants they belong to, nothing else.
CREATE FUNCTION app.session_idle_minutes(p_user uuid) RETURNS integer
LANGUAGE sql STABLE AS $$
	SELECT coalesce(min(least(greatest(coalesce(
		CASE WHEN jsonb_typeof(t.settings #> '{security,session_timeout_minutes}') = 'number'
		     THEN (t.settings #>> '{security,session_timeout_minutes}')::numeric::int END,
		60), 5), 1440)), 60)
	FROM tenant_users tu JOIN tenants t ON t.id = tu.tenant_id
	WHERE tu.user_id = p_user
$$;
GRANT EXECUTE ON FUNCTION app.session_idle_minutes(uuid) TO tenantry_app;
