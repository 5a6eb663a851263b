-- 008_timeouts.sql: app.role_timeouts_set(), with which `tenantryctl migrate` gives the app role its statement, lock and idle-in-transaction timeouts.
--
-- A slow statement, a lock wait or a transaction left open must not hold a
-- worker (and its client) indefinitely: the app role carries
-- statement_timeout, lock_timeout and idle_in_transaction_session_timeout
-- as role settings (ALTER ROLE ... SET), which every new session of the
-- role takes, through PgBouncer too. The worker answers a statement or
-- lock timeout with 503 and Retry-After (src/db/db.c, db_classify).
--
-- The owner role that runs migrations may not alter another role (it has
-- no CREATEROLE, on purpose), but every role may set its own session
-- defaults. So the app role calls this on its own connection: a SECURITY
-- INVOKER function, altering current_user and nobody else, which gives the
-- app role no power it did not have. Values are bound parameters (ALTER
-- ROLE takes none; format() quotes them here), whole milliseconds from
-- 1 ms to an hour. The schema's owner or a superuser is refused: the
-- timeouts are the app role's, and a migration must never be cancelled
-- by them.

CREATE FUNCTION app.role_timeouts_set(statement_ms integer, lock_ms integer, idle_tx_ms integer)
RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	IF statement_ms IS NULL OR lock_ms IS NULL OR idle_tx_ms IS NULL OR
	   statement_ms NOT BETWEEN 1 AND 3600000 OR lock_ms NOT BETWEEN 1 AND 3600000 OR
	   idle_tx_ms NOT BETWEEN 1 AND 3600000 THEN
		RAISE EXCEPTION 'each timeout must be from 1 to 3600000 ms'
			USING ERRCODE = '22023';
	END IF;
	IF EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = current_user AND r.rolsuper) OR
	   EXISTS (SELECT 1 FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner
	            WHERE n.nspname = 'app' AND r.rolname = current_user) THEN
		RAISE EXCEPTION 'role % owns the schema or is a superuser: the timeouts are for the app role', current_user
			USING ERRCODE = '42501';
	END IF;
	EXECUTE format('ALTER ROLE CURRENT_USER SET statement_timeout = %L', statement_ms || 'ms');
	EXECUTE format('ALTER ROLE CURRENT_USER SET lock_timeout = %L', lock_ms || 'ms');
	EXECUTE format('ALTER ROLE CURRENT_USER SET idle_in_transaction_session_timeout = %L',
		idle_tx_ms || 'ms');
	RETURN current_user;
END $$;

REVOKE ALL ON FUNCTION app.role_timeouts_set(integer, integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.role_timeouts_set(integer, integer, integer) TO tenantry_app;
