-- 002_metering.sql: period totals, gauge observation times, the users meter kept by memberships, outbox delivery state.
--
-- Ingestion (POST /api/v1/usage/events) writes raw events, the per-day
-- rollup and the per-period total in one statement (src/db/stmt.c,
-- usage_ingest); reads use the rollups only, so a tenant with ten million
-- events costs what one with ten costs.

-- The total of a counter in one period (its day or month): one row per
-- (tenant, meter, period start). Every ingestion of a meter updates this
-- row, so concurrent batches of one tenant and meter are serialised on it
-- and the limit check sees an exact total.
CREATE TABLE usage_periods (
	tenant_id    uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
	meter        text NOT NULL REFERENCES meters ON UPDATE CASCADE,
	period_start date NOT NULL,
	quantity     bigint NOT NULL DEFAULT 0 CHECK (quantity >= 0),
	PRIMARY KEY (tenant_id, meter, period_start)
);

-- Gauges keep the value observed last (by occurred_at): a late report of
-- an older value changes neither the current value nor the day's.
ALTER TABLE usage_gauges ADD COLUMN observed_at timestamptz NOT NULL DEFAULT '-infinity';
ALTER TABLE usage_daily ADD COLUMN observed_at timestamptz;

-- A delivered-or-not-needed mark per notification: pending rows are those
-- without done_at. Each channel records its own success, so a retry never
-- sends a channel that already went out.
ALTER TABLE notification_outbox ADD COLUMN done_at timestamptz;
DROP INDEX notification_outbox_pending_idx;
CREATE INDEX notification_outbox_pending_idx ON notification_outbox (next_attempt_at) WHERE done_at IS NULL;

GRANT SELECT, INSERT, UPDATE ON usage_periods TO tenantry_app;
ALTER TABLE usage_periods ENABLE ROW LEVEL SECURITY;
ALTER TABLE usage_periods FORCE ROW LEVEL SECURITY;
CREATE POLICY usage_periods_tenant ON usage_periods FOR ALL
	USING (tenant_id = app.tenant()) WITH CHECK (tenant_id = app.tenant());

-- `tenantryctl notify` delivers every tenant's notifications as the
-- operator (tenantry.superadmin = on): it claims rows across tenants, then
-- reads each tenant's recipients inside that tenant's context.
CREATE POLICY notification_outbox_operator ON notification_outbox FOR ALL
	USING (app.is_superadmin()) WITH CHECK (app.is_superadmin());

-- The users meter is counted from memberships; its daily history (for the
-- billing chart) is written here, in the transaction that changes the
-- membership. A change made outside the tenant's context (a cascade from a
-- deleted user) is skipped: RLS would refuse the write, and the live count
-- stays right.
CREATE FUNCTION app.users_meter_track() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	tid uuid := coalesce(NEW.tenant_id, OLD.tenant_id);
	n bigint;
BEGIN
	IF tid IS DISTINCT FROM app.tenant() THEN
		RETURN NULL;
	END IF;
	SELECT count(*) INTO n FROM tenant_users WHERE tenant_id = tid;
	INSERT INTO usage_daily (tenant_id, meter, day, quantity, observed_at)
	VALUES (tid, 'users', (now() AT TIME ZONE 'UTC')::date, n, now())
	ON CONFLICT (tenant_id, meter, day) DO UPDATE SET quantity = EXCLUDED.quantity,
		observed_at = EXCLUDED.observed_at;
	RETURN NULL;
END $$;
CREATE TRIGGER tenant_users_meter AFTER INSERT OR DELETE ON tenant_users
	FOR EACH ROW EXECUTE FUNCTION app.users_meter_track();

-- Usage now is read by the API from usage_periods (src/db/stmt.c); the
-- 001 helper that summed daily rows is gone.
DROP FUNCTION app.usage_now(uuid);

GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA app TO tenantry_app;
