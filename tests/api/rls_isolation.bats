#!/usr/bin/env bats
# rls_isolation.bats -- row-level security as the database enforces it, below
# the application: queries that "forget" their WHERE, run directly as the
# worker's role (tenantry_app), see only the tenant in context, and nothing
# without one; the audit log is insert-only for that role.

load lib_tenants

TABLES="tenant_users invitations audit_log api_keys usage_daily tenant_limit_overrides"

setup_file() {
    tt_fixture_tenant RA business
    tt_fixture_tenant RB business
    local tok
    tok="$(tt_admin_token)"
    # Different numbers of rows per tenant and table, so equal counts cannot be luck.
    tt_add_member "$RB_ID" "$RA_MEMBER_EMAIL" viewer
    local i
    tt_api -t "$RA_ADMIN_TTOKEN" POST "/api/v1/tenants/$RA_ID/users/invite" "{\"email\":\"rls-a-$(tt_uniq)@tt.example\",\"role\":\"viewer\"}"
    [[ "$TT_STATUS" == 201 ]] || tt_fail "invite: $TT_STATUS $TT_BODY"
    for i in 1 2 3; do
        tt_api -t "$RB_ADMIN_TTOKEN" POST "/api/v1/tenants/$RB_ID/users/invite" "{\"email\":\"rls-b$i-$(tt_uniq)@tt.example\",\"role\":\"member\"}"
        [[ "$TT_STATUS" == 201 ]] || tt_fail "invite: $TT_STATUS $TT_BODY"
    done
    tt_api -t "$tok" PATCH "/api/v1/tenants/$RA_ID" '{"limits":{"users":50}}'
    [[ "$TT_STATUS" == 200 ]] || tt_fail "limits: $TT_STATUS $TT_BODY"
    tt_api -t "$tok" PATCH "/api/v1/tenants/$RB_ID" '{"limits":{"users":60,"teams":5,"tokens":-1}}'
    [[ "$TT_STATUS" == 200 ]] || tt_fail "limits: $TT_STATUS $TT_BODY"
    # API keys and usage rollups: written as the superuser (RLS does not apply to it).
    tt_sql_super "
        INSERT INTO api_keys (tenant_id, name, prefix, key_hash, scopes)
        SELECT '$RA_ID', 'rls key ' || g, 'tnt_rls' || g, sha256(('rls-a-' || g || '$RA_ID')::bytea), '{read}'
          FROM generate_series(1, 2) g;
        INSERT INTO api_keys (tenant_id, name, prefix, key_hash, scopes)
        SELECT '$RB_ID', 'rls key ' || g, 'tnt_rls' || g, sha256(('rls-b-' || g || '$RB_ID')::bytea), '{read,write}'
          FROM generate_series(1, 4) g;
        INSERT INTO usage_daily (tenant_id, meter, day, quantity)
        SELECT '$RA_ID', 'api_calls', current_date - g, 10 * g FROM generate_series(0, 2) g;
        INSERT INTO usage_daily (tenant_id, meter, day, quantity)
        SELECT '$RB_ID', 'tokens', current_date - g, 100 FROM generate_series(0, 4) g;"
}

# expected TENANT: "n1|n2|..." rows per table of TABLES for TENANT, as the superuser sees them.
expected() {
    local sql="SELECT " sep="" t
    for t in $TABLES; do
        sql+="$sep(SELECT count(*) FROM $t WHERE tenant_id = '$1')"
        sep=", "
    done
    tt_sql_super "$sql"
}

# visible URL [TENANT]: "n1|n2|..." rows per table, counted with no WHERE at all,
# in one transaction with tenantry.tenant_id set to TENANT (or not set at all).
visible() {
    local sql="SELECT " sep="" t
    for t in $TABLES; do
        sql+="$sep(SELECT count(*) FROM $t)"
        sep=", "
    done
    if [[ -n "${2:-}" ]]; then
        tt_sql_in_tenant "$1" "$2" "$sql"
    else
        tt_psql "$1" -c "$sql"
    fi
}

@test "the fixture: both tenants have rows in every table, and other tenants exist too" {
    local a b all
    a="$(expected "$RA_ID")"
    b="$(expected "$RB_ID")"
    echo "A: $a  B: $b"
    [[ "$a" =~ ^[1-9][0-9]*(\|[1-9][0-9]*){5}$ ]]
    [[ "$b" =~ ^[1-9][0-9]*(\|[1-9][0-9]*){5}$ ]]
    [ "$a" != "$b" ]
    all="$(tt_sql_super "SELECT count(DISTINCT tenant_id) FROM tenant_users")"
    [ "$all" -gt 2 ]
}

@test "the roles: neither the app nor the owner role bypasses RLS, and RLS is FORCEd on every tenant table" {
    [ "$(tt_sql_super "SELECT string_agg(rolname || '=' || rolbypassrls || '/' || rolsuper, ',' ORDER BY rolname)
        FROM pg_roles WHERE rolname IN ('tenantry_app', 'tenantry_owner')")" = "tenantry_app=false/false,tenantry_owner=false/false" ]
    local t
    for t in $TABLES tenants usage_events usage_gauges notification_outbox rate_counters; do
        [ "$(tt_sql_super "SELECT relrowsecurity AND relforcerowsecurity FROM pg_class
            WHERE oid = 'public.$t'::regclass")" = t ] || tt_fail "RLS not forced on $t"
    done
    # The app role owns no table.
    [ "$(tt_sql_super "SELECT count(*) FROM pg_tables WHERE tableowner = 'tenantry_app'")" = 0 ]
}

@test "as the app role with tenantry.tenant_id = A: a query without WHERE sees exactly A's rows, in every table" {
    local want got
    want="$(expected "$RA_ID")"
    got="$(visible "$TENANTRY_TEST_APP_DB_URL" "$RA_ID")"
    echo "tables: $TABLES"
    echo "expected (superuser, WHERE tenant_id = A): $want"
    echo "visible  (app, no WHERE, context A):       $got"
    [ "$got" = "$want" ]
}

@test "as the app role with tenantry.tenant_id = B: exactly B's rows" {
    local want got
    want="$(expected "$RB_ID")"
    got="$(visible "$TENANTRY_TEST_APP_DB_URL" "$RB_ID")"
    echo "expected $want, visible $got"
    [ "$got" = "$want" ]
}

@test "in A's context, asking for B's rows by name returns none" {
    local t sql="SELECT " sep=""
    for t in $TABLES; do
        sql+="$sep(SELECT count(*) FROM $t WHERE tenant_id = '$RB_ID')"
        sep=", "
    done
    [ "$(tt_sql_in_tenant "$TENANTRY_TEST_APP_DB_URL" "$RA_ID" "$sql")" = "0|0|0|0|0|0" ]
    # and the tenants table shows A only (the app role has no user or superadmin setting here).
    [ "$(tt_sql_in_tenant "$TENANTRY_TEST_APP_DB_URL" "$RA_ID" "SELECT count(*), min(id::text) FROM tenants")" = "1|$RA_ID" ]
}

@test "as the app role with no tenant setting (or an empty one): nothing at all" {
    [ "$(visible "$TENANTRY_TEST_APP_DB_URL")" = "0|0|0|0|0|0" ]
    local t sql="SELECT " sep=""
    for t in $TABLES; do
        sql+="$sep(SELECT count(*) FROM $t)"
        sep=", "
    done
    [ "$(printf "BEGIN;\nSELECT set_config('tenantry.tenant_id', '', true) \\g /dev/null\n%s;\nCOMMIT;\n" "$sql" |
        tt_psql "$TENANTRY_TEST_APP_DB_URL")" = "0|0|0|0|0|0" ]
    # After a transaction that set A, the same session sees nothing again.
    [ "$(printf "BEGIN;\nSELECT set_config('tenantry.tenant_id', '%s', true) \\g /dev/null\nCOMMIT;\n%s;\n" "$RA_ID" "$sql" |
        tt_psql "$TENANTRY_TEST_APP_DB_URL")" = "0|0|0|0|0|0" ]
    [ "$(tt_sql_app "SELECT count(*) FROM tenants")" = 0 ]
}

@test "the owner role is subject to RLS too (FORCEd): nothing without a context, A's rows with A" {
    [ "$(visible "$TENANTRY_TEST_OWNER_DB_URL")" = "0|0|0|0|0|0" ]
    [ "$(visible "$TENANTRY_TEST_OWNER_DB_URL" "$RA_ID")" = "$(expected "$RA_ID")" ]
}

@test "the audit log is insert-only for the app role: UPDATE and DELETE are permission denied" {
    local before
    before="$(expected "$RA_ID" | cut -d'|' -f3)"
    run tt_psql "$TENANTRY_TEST_APP_DB_URL" -v tid="$RA_ID" <<'EOF'
BEGIN;
SELECT set_config('tenantry.tenant_id', :'tid', true) \g /dev/null
UPDATE audit_log SET actor_label = 'tampered';
ROLLBACK;
EOF
    echo "$output"
    [ "$status" -ne 0 ]
    [[ "$output" == *"permission denied for table audit_log"* ]]
    run tt_psql "$TENANTRY_TEST_APP_DB_URL" -v tid="$RA_ID" <<'EOF'
BEGIN;
SELECT set_config('tenantry.tenant_id', :'tid', true) \g /dev/null
DELETE FROM audit_log;
ROLLBACK;
EOF
    echo "$output"
    [ "$status" -ne 0 ]
    [[ "$output" == *"permission denied for table audit_log"* ]]
    run tt_psql "$TENANTRY_TEST_APP_DB_URL" -c "TRUNCATE audit_log"
    [ "$status" -ne 0 ]
    [[ "$output" == *"permission denied"* ]]
    [ "$(expected "$RA_ID" | cut -d'|' -f3)" = "$before" ]
    [ "$(tt_sql_super "SELECT count(*) FROM audit_log WHERE actor_label = 'tampered'")" = 0 ]
}

@test "writes are confined too: in A's context the app role cannot insert B's rows or change them" {
    run tt_psql "$TENANTRY_TEST_APP_DB_URL" -v tid="$RA_ID" -v other="$RB_ID" <<'EOF'
BEGIN;
SELECT set_config('tenantry.tenant_id', :'tid', true) \g /dev/null
INSERT INTO audit_log (tenant_id, actor_type, action) VALUES (:'other', 'system', 'rls.probe');
ROLLBACK;
EOF
    echo "$output"
    [ "$status" -ne 0 ]
    [[ "$output" == *"row-level security"* ]]
    run tt_psql "$TENANTRY_TEST_APP_DB_URL" -v tid="$RA_ID" -v other="$RB_ID" -v uid="$RA_OWNER_UID" <<'EOF'
BEGIN;
SELECT set_config('tenantry.tenant_id', :'tid', true) \g /dev/null
INSERT INTO tenant_users (tenant_id, user_id, role) VALUES (:'other', :'uid', 'owner');
ROLLBACK;
EOF
    echo "$output"
    [ "$status" -ne 0 ]
    [[ "$output" == *"row-level security"* ]]
    # UPDATE and DELETE of B's rows touch nothing (they are invisible).
    run tt_psql "$TENANTRY_TEST_APP_DB_URL" -v tid="$RA_ID" -v other="$RB_ID" <<'EOF'
BEGIN;
SELECT set_config('tenantry.tenant_id', :'tid', true) \g /dev/null
WITH u AS (UPDATE tenant_users SET role = 'viewer' WHERE tenant_id = :'other' RETURNING 1),
     d AS (DELETE FROM invitations WHERE tenant_id = :'other' RETURNING 1),
     k AS (UPDATE api_keys SET revoked_at = now() WHERE tenant_id = :'other' RETURNING 1)
SELECT (SELECT count(*) FROM u), (SELECT count(*) FROM d), (SELECT count(*) FROM k);
ROLLBACK;
EOF
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$output" = "0|0|0" ]
    [ "$(tt_sql_super "SELECT count(*) FROM tenant_users WHERE tenant_id = '$RB_ID' AND role = 'owner'")" = 1 ]
}
