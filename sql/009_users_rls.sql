-- 009_users_rls.sql: users under row-level security (self, members of the tenant in context, superadmins); what must look across goes through narrow SECURITY DEFINER functions.
--
-- Until now users had no RLS (001: "users are global"): the app role read
-- every user's e-mail and password hash with no context at all. From here:
--
--   SELECT  a user's own row (app.user_id()); the rows of the members of
--           the tenant in context (app.tenant(), which app.ctx() sets only
--           for a member or a superadmin, or for an API key of that
--           tenant); every row for a superadmin (tenantryctl, the operator
--           routes). Nothing with no context.
--   INSERT  superadmins only (POST /api/v1/users, tenantryctl create-user).
--   UPDATE  a user's own row, or a superadmin; and only the columns the
--           application writes (name, password_hash, updated_at,
--           password_changed_at): never e-mail or is_superadmin through
--           the app role.
--
-- Four things the application does before any user is in context, each a
-- function below that runs as the owner of this schema (SECURITY DEFINER,
-- search_path pinned, every name qualified) and returns only what its one
-- caller needs:
--   app.principal(id)          the authorisation facts of one user, by id:
--                              ctx_user and ctx_session (src/db/stmt.c), on
--                              every request that is not answered from the
--                              worker's cache;
--   app.login_user(email)      id and password hash of exactly that e-mail
--                              (sign-in, src/api/auth.c);
--   app.invite_has_account(h)  whether the invitation whose token hashes to
--                              h is addressed to an existing account;
--   app.invite_user_create(h, id, name, hash)
--                              the account of an open invitation's e-mail
--                              (src/api/members.c).
-- The invitation functions read invitations under that table's own
-- policies (the owner is subject to them too: FORCE), so they answer only
-- for an invitation the caller could already see: by its token's hash
-- (tenantry.invite_hash) or in its tenant's context. They never take an
-- e-mail from the caller, so they cannot be used to probe addresses.
--
-- The functions see the users table through the owner policy below: the
-- role that owns the table (and could disable RLS on it) sees every row of
-- it, which is also what migrations and operators' psql sessions as the
-- owner need. The app role is not that role and cannot become it.

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;

-- A member's row is visible in their tenant's context. The membership test
-- is an inline subquery, not a plpgsql function like app.member_of(): a
-- member list reads one users row per member, and a function call per row
-- doubled its cost (100 members: 0.43 ms -> 0.95 ms; inline: 0.51 ms); the
-- first two branches still decide a user's own row (every authorisation
-- context) without it. It reads tenant_users under that table's policy,
-- which must never read users: two policies that read each other's table
-- are an "infinite recursion detected in policy" error on every query.
CREATE POLICY users_select ON users FOR SELECT USING (
	id = app.user_id() OR app.is_superadmin()
	OR EXISTS (SELECT 1 FROM tenant_users tu WHERE tu.tenant_id = app.tenant() AND tu.user_id = users.id));
CREATE POLICY users_insert ON users FOR INSERT WITH CHECK (app.is_superadmin());
CREATE POLICY users_update ON users FOR UPDATE
	USING (id = app.user_id() OR app.is_superadmin())
	WITH CHECK (id = app.user_id() OR app.is_superadmin());

REVOKE UPDATE ON users FROM tenantry_app;
GRANT UPDATE (name, password_hash, updated_at, password_changed_at) ON users TO tenantry_app;

-- The owner role (whoever runs the migrations and so owns the table) sees
-- and writes every row: the definer functions below run as it.
DO $$
BEGIN
	EXECUTE format('CREATE POLICY users_owner ON users FOR ALL TO %I USING (true) WITH CHECK (true)',
	    (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'public.users'::regclass));
END $$;

-- The facts authorisation rests on, of the user p_user: is_superadmin, and
-- password_changed_at (a session made before it is over). No e-mail, name
-- or hash. An unknown id: no row. plpgsql, so its plan is kept per
-- connection (this is on every request the cache cannot answer).
CREATE FUNCTION app.principal(p_user uuid,
	OUT id uuid, OUT is_superadmin boolean, OUT password_changed_at timestamptz)
RETURNS SETOF record LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	RETURN QUERY SELECT u.id, u.is_superadmin, u.password_changed_at FROM public.users u WHERE u.id = p_user;
END $$;

-- Sign-in: the id and the PHC hash of the user whose e-mail is exactly
-- p_email (the application lower-cases it first, as it stores it); no row
-- otherwise. Nothing else about the user, nobody else.
CREATE FUNCTION app.login_user(p_email text, OUT id uuid, OUT password_hash text)
RETURNS SETOF record LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	RETURN QUERY SELECT u.id, u.password_hash FROM public.users u WHERE u.email = p_email;
END $$;

-- Does the invitation whose token's SHA-256 is p_token_hash go to an
-- address that has an account? false for an invitation the caller cannot
-- see (unknown, or neither its hash nor its tenant in context).
CREATE FUNCTION app.invite_has_account(p_token_hash bytea) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	RETURN EXISTS (SELECT 1 FROM public.invitations i JOIN public.users u ON u.email = i.email
	               WHERE i.token_hash = p_token_hash);
END $$;

-- A new account for the e-mail of the open invitation whose token's
-- SHA-256 is p_token_hash: id p_id, name p_name, PHC hash p_password_hash.
-- Returns p_id, or NULL when no such invitation is visible and open (the
-- caller's claim of the invitation then fails too). An address that
-- already has an account: unique_violation (23505), as an INSERT would.
CREATE FUNCTION app.invite_user_create(p_token_hash bytea, p_id uuid, p_name text, p_password_hash text)
RETURNS uuid LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
DECLARE created uuid;
BEGIN
	INSERT INTO public.users (id, email, name, password_hash)
	SELECT p_id, i.email, p_name, p_password_hash FROM public.invitations i
	 WHERE i.token_hash = p_token_hash AND i.accepted_at IS NULL AND i.revoked_at IS NULL
	   AND i.expires_at > now()
	RETURNING users.id INTO created;
	RETURN created;
END $$;

-- Functions are executable by PUBLIC by default: the definer ones only by
-- the app role.
REVOKE EXECUTE ON FUNCTION app.principal(uuid), app.login_user(text), app.invite_has_account(bytea),
	app.invite_user_create(bytea, uuid, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.principal(uuid), app.login_user(text),
	app.invite_has_account(bytea), app.invite_user_create(bytea, uuid, text, text) TO tenantry_app;
