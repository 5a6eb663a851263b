-- 010_account.sql: a user's own sessions, listed and ended from the account page and the API.
--
-- A session is named to its user by a random public id, never by its
-- cookie's hash (which is what the credential lookup uses): the list and
-- the "sign out that device" link carry nothing a cookie could be made
-- from. Ending one deletes its row; the sessions trigger of 005_cache.sql
-- announces it, so every worker drops what it cached of it.
ALTER TABLE sessions ADD COLUMN public_id uuid NOT NULL DEFAULT gen_random_uuid();
CREATE UNIQUE INDEX sessions_public_id_idx ON sessions (public_id);

-- Account events (a session ended by its user) belong to no workspace: a
-- user may write them for themselves only (tenant NULL, actor = the user in
-- context); reading them stays an operator's (no select policy matches NULL).
CREATE POLICY audit_log_insert_self ON audit_log FOR INSERT
	WITH CHECK (tenant_id IS NULL AND actor_type = 'user' AND actor_id = app.user_id()
	            AND action LIKE 'session.%');
