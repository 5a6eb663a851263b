-- bench/scale.sql: the big data set of issue 19, built with generate_series as the owner role (row security FORCEd: each write names its tenant).
--
-- psql variables (psql -v NAME=VALUE):
--   tag      a prefix of every slug and e-mail made here (lower case, digits)
--   tenants  how many tenants (the fleet; the first is the big workspace)
--   members  members of the big workspace (users made here, one per member)
--   audit    audit rows in the big workspace, spread over the last 30 days
-- Every other tenant gets one owner (one of the big workspace's members, in
-- turn), one API key and, one in ten, a pending invitation; the big
-- workspace gets 1 API key per 40 members and 1 pending invitation per 20.
-- Deterministic: ids are random, everything else follows from the numbers.
-- Runs in the caller's transaction (tests/api/plans.bats rolls it back;
-- bench/scale commits it). Times: 10^4 tenants, 2*10^3 members, 2*10^5
-- audit rows take a few seconds; 10^5, 2*10^4, 10^7 about three minutes.
--
-- The maintained counts (007_counts_paging.sql) are kept by the triggers
-- as the rows go in, like any other writer's.

SELECT set_config('tenantry.superadmin', 'on', true), set_config('scale.tag', :'tag', true);

INSERT INTO users (email, name, password_hash)
SELECT :'tag' || '-m' || i || '@scale.example', 'Scale Member ' || i,
       '$argon2id$v=19$m=19456,t=2,p=1$c2NhbGVzY2FsZQ$bm90LWEtcmVhbC1oYXNoLW5vdC1hLXJlYWwtaGFzaA'
  FROM generate_series(1, :members) i;

INSERT INTO tenants (name, slug, tier, status, created_at, updated_at)
SELECT 'Scale Tenant ' || :'tag' || ' ' || i, :'tag' || '-' || i,
       (ARRAY['free', 'starter', 'business', 'enterprise'])[1 + i % 4],
       CASE WHEN i % 50 = 0 THEN 'suspended' ELSE 'active' END,
       now() - i * interval '7 seconds', now() - i * interval '7 seconds'
  FROM generate_series(1, :tenants) i;

-- The big workspace: its members, keys, invitations and audit log.
SELECT set_config('tenantry.tenant_id', id::text, true) AS big FROM tenants WHERE slug = :'tag' || '-1' \gset
INSERT INTO tenant_users (tenant_id, user_id, role, joined_at)
SELECT :'big'::uuid, u.id, CASE WHEN u.n = 1 THEN 'owner' WHEN u.n % 10 = 0 THEN 'admin' ELSE 'member' END,
       now() - u.n * interval '3 seconds'
  FROM (SELECT id, substring(email FROM '-m([0-9]+)@')::int AS n FROM users
         WHERE email LIKE :'tag' || '-m%@scale.example') u;
INSERT INTO api_keys (tenant_id, name, prefix, key_hash, scopes, created_at)
SELECT :'big'::uuid, 'scale key ' || i, 'tnt_scale' || i, sha256(convert_to(:'tag' || 'k' || i, 'UTF8')),
       '{read}', now() - i * interval '1 minute'
  FROM generate_series(1, greatest(:members / 40, 1)) i;
INSERT INTO invitations (tenant_id, email, role, token_hash, created_at, expires_at)
SELECT :'big'::uuid, :'tag' || '-inv' || i || '@scale.example', 'member',
       sha256(convert_to(:'tag' || 'i' || i, 'UTF8')), now() - i * interval '1 minute', now() + interval '6 days'
  FROM generate_series(1, greatest(:members / 20, 1)) i;
INSERT INTO audit_log (tenant_id, occurred_at, actor_type, actor_id, actor_label, action, target_type, target_id)
SELECT :'big'::uuid, now() - (:audit - i) * (interval '30 days' / :audit),
       (ARRAY['user', 'user', 'api_key', 'system'])[1 + i % 4], NULL,
       :'tag' || '-m' || (1 + i % :members) || '@scale.example',
       (ARRAY['settings.updated', 'member.invited', 'member.joined', 'api_key.created', 'tenant.updated'])[1 + i % 5],
       'tenant', :'big'
  FROM generate_series(1, :audit) i;

-- Every other tenant: an owner, a key, and one in ten an invitation,
-- each in that tenant's own context.
DO $$
DECLARE
	t record;
	owners uuid[];
	k int := 0;
BEGIN
	SELECT array_agg(id ORDER BY substring(email FROM '-m([0-9]+)@')::int) INTO owners FROM users
	 WHERE email LIKE current_setting('scale.tag') || '-m%@scale.example';
	FOR t IN SELECT id, row_number() OVER (ORDER BY slug) AS n FROM tenants
	          WHERE slug LIKE current_setting('scale.tag') || '-%' AND slug <> current_setting('scale.tag') || '-1'
	LOOP
		k := k + 1;
		PERFORM set_config('tenantry.tenant_id', t.id::text, true);
		INSERT INTO tenant_users (tenant_id, user_id, role) VALUES (t.id, owners[1 + k % array_length(owners, 1)], 'owner');
		INSERT INTO api_keys (tenant_id, name, prefix, key_hash, scopes)
		VALUES (t.id, 'key', 'tnt_sc' || k, sha256(convert_to(t.id::text, 'UTF8')), '{read}');
		IF k % 10 = 0 THEN
			INSERT INTO invitations (tenant_id, email, role, token_hash, expires_at)
			VALUES (t.id, 'inv' || k || '@scale.example', 'viewer', sha256(convert_to('i' || t.id, 'UTF8')),
			        now() + interval '6 days');
		END IF;
	END LOOP;
END $$;
SELECT set_config('tenantry.tenant_id', '', true);

ANALYZE users, tenants, tenant_users, tenant_counts, fleet_counts, tenant_search, api_keys, invitations, audit_log;
