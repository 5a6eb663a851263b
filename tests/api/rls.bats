#!/usr/bin/env bats
# rls.bats -- defense in depth (SPEC §2): as the app role (tenantry_app),
# row-level security shows a transaction only its tenant's rows, nothing
# without a context, and the audit log is insert-only.

load helpers

setup_file() {
    export ACME GLOBEX MIA_ID X_TENANT X_OWNER_ID
    ACME="$(demo_tenant_id acme)"
    GLOBEX="$(demo_tenant_id globex)"
    login mia@acme.example "$DEMO_PASSWORD" >/dev/null
    MIA_ID="$(jqb .user.id)"
    # A tenant of our own with a row in every table below, so that "only
    # acme's rows" is tested against rows that exist elsewhere (the demo data
    # has no API keys). Written as the owner, in that tenant's context.
    new_user rls-owner
    X_OWNER_ID="$NEW_ID"
    new_tenant rls "$NEW_EMAIL"
    X_TENANT="$NEW_TENANT_ID"
    psql_in_tenant "$TENANTRY_TEST_OWNER_DB_URL" "$X_TENANT" "
        INSERT INTO api_keys (tenant_id, name, prefix, key_hash, scopes)
            VALUES ('$X_TENANT', 'rls test', 'tnt_rls', sha256(convert_to(gen_random_uuid()::text, 'UTF8')), '{read}');
        INSERT INTO audit_log (tenant_id, actor_type, action) VALUES ('$X_TENANT', 'system', 'rls.test');
        INSERT INTO usage_daily (tenant_id, meter, day, quantity) VALUES ('$X_TENANT', 'api_calls', current_date, 7);"
}

# as_app_in TENANT SQL / as_app SQL: one transaction as tenantry_app.
as_app_in() {
    psql_in_tenant "$TENANTRY_TEST_APP_DB_URL" "$1" "$2"
}

as_app() {
    psql_app <<EOF
BEGIN;
$1
COMMIT;
EOF
}

# The truth, without RLS (the superuser bypasses it).
count_super() {
    psql_super "SELECT count(*) FROM $1 WHERE tenant_id = '$2';"
}

@test "rls: the app role with acme's context sees exactly acme's tenant_users rows" {
    local n total want
    want="$(count_super tenant_users "$ACME")"
    ((want > 0)) || fail "acme has no members?"
    total="$(psql_super "SELECT count(*) FROM tenant_users;")"
    ((total > want)) || fail "no other tenant's rows to hide"
    n="$(as_app_in "$ACME" "SELECT count(*) FROM tenant_users;")"
    [[ "$n" == "$want" ]] || fail "count(*) FROM tenant_users in acme's context: $n, acme has $want (all tenants: $total)"
    n="$(as_app_in "$ACME" "SELECT count(*) FROM tenant_users WHERE tenant_id <> '$ACME';")"
    [[ "$n" == 0 ]] || fail "$n rows of other tenants visible in acme's context"
}

@test "rls: api_keys, audit_log and usage_daily show only acme's rows in acme's context" {
    local t n want
    for t in api_keys audit_log usage_daily; do
        want="$(count_super "$t" "$ACME")"
        n="$(as_app_in "$ACME" "SELECT count(*) FROM $t;")"
        [[ "$n" == "$want" ]] || fail "$t: $n rows visible in acme's context, acme has $want"
        n="$(as_app_in "$ACME" "SELECT count(*) FROM $t WHERE tenant_id IS DISTINCT FROM '$ACME';")"
        [[ "$n" == 0 ]] || fail "$t: $n rows of other tenants (or of none) visible in acme's context"
        # Our tenant's row exists, and only its own context sees it.
        [[ "$(count_super "$t" "$X_TENANT")" -ge 1 ]] || fail "$t: the test row is missing"
        n="$(as_app_in "$X_TENANT" "SELECT count(*) FROM $t;")"
        [[ "$n" == "$(count_super "$t" "$X_TENANT")" ]] || fail "$t: $n rows in our tenant's own context"
        n="$(as_app_in "$ACME" "SELECT count(*) FROM $t WHERE tenant_id = '$X_TENANT';")"
        [[ "$n" == 0 ]] || fail "$t: another tenant's row is visible by asking for it"
    done
}

@test "rls: with no context the app role sees no tenant_users except tenantry.user_id's own" {
    local n want
    n="$(as_app "SELECT count(*) FROM tenant_users;")"
    [[ "$n" == 0 ]] || fail "$n tenant_users rows visible with no context"
    want="$(psql_super "SELECT count(*) FROM tenant_users WHERE user_id = '$MIA_ID';")"
    ((want == 2)) || fail "mia should have 2 memberships, has $want"
    n="$(as_app "SELECT set_config('tenantry.user_id', '$MIA_ID', true) \\gset
SELECT count(*) FROM tenant_users;")"
    [[ "$n" == "$want" ]] || fail "with tenantry.user_id = mia: $n rows, she has $want"
    n="$(as_app "SELECT set_config('tenantry.user_id', '$MIA_ID', true) \\gset
SELECT count(*) FROM tenant_users WHERE user_id <> '$MIA_ID';")"
    [[ "$n" == 0 ]] || fail "with tenantry.user_id = mia: $n rows of other users"
}

@test "rls: with no context api_keys, audit_log and usage_daily show nothing" {
    local t n
    for t in api_keys audit_log usage_daily; do
        n="$(as_app "SELECT count(*) FROM $t;")"
        [[ "$n" == 0 ]] || fail "$t: $n rows visible with no tenant context"
    done
}

@test "rls: the context ends with its transaction ('' afterwards: nothing visible)" {
    local out
    out="$(psql_app <<EOF
BEGIN;
SELECT set_config('tenantry.tenant_id', '$ACME', true) \\gset
SELECT count(*) > 0 FROM tenant_users;
COMMIT;
SELECT count(*) FROM tenant_users;
SELECT count(*) FROM audit_log;
EOF
)"
    [[ "$out" == $'t\n0\n0' ]] || fail "in, then after the transaction: $out"
}

@test "rls: the audit log is insert-only for the app role (UPDATE, DELETE, TRUNCATE refused)" {
    local sql err
    for sql in "UPDATE audit_log SET action = 'x';" "DELETE FROM audit_log;" "TRUNCATE audit_log;" \
        "UPDATE audit_log SET action = 'tampered.event' WHERE tenant_id = '$ACME';"; do
        if err="$(as_app_in "$ACME" "$sql" 2>&1)"; then
            fail "the app role ran: $sql"
        fi
        [[ "$err" == *"permission denied"* ]] || fail "$sql: expected permission denied, got: $err"
        if err="$(as_app "$sql" 2>&1)"; then
            fail "the app role ran without a context: $sql"
        fi
        [[ "$err" == *"permission denied"* ]] || fail "$sql (no context): expected permission denied, got: $err"
    done
    # Nothing changed.
    [[ "$(psql_super "SELECT count(*) FROM audit_log WHERE action = 'x' OR action = 'tampered.event';")" == 0 ]]
    # Inserting in its own context is what it may do (rolled back here).
    psql_app <<EOF
BEGIN;
SELECT set_config('tenantry.tenant_id', '$ACME', true) \\gset
INSERT INTO audit_log (tenant_id, actor_type, action) VALUES ('$ACME', 'system', 'rls.insert_check');
ROLLBACK;
EOF
}

@test "rls: the app role cannot write another tenant's rows from acme's context" {
    local err n
    if err="$(as_app_in "$ACME" "INSERT INTO tenant_users (tenant_id, user_id, role) VALUES ('$GLOBEX', '$MIA_ID', 'owner');" 2>&1)"; then
        fail "inserted a membership into globex from acme's context"
    fi
    [[ "$err" == *"row-level security"* ]] || fail "expected a row-level security violation, got: $err"
    if err="$(as_app_in "$ACME" "INSERT INTO audit_log (tenant_id, actor_type, action) VALUES ('$GLOBEX', 'system', 'rls.cross');" 2>&1)"; then
        fail "wrote globex's audit log from acme's context"
    fi
    [[ "$err" == *"row-level security"* ]] || fail "expected a row-level security violation, got: $err"
    # UPDATE/DELETE of other tenants' rows touch nothing.
    n="$(as_app_in "$ACME" "WITH u AS (UPDATE tenant_users SET role = 'viewer' WHERE tenant_id = '$GLOBEX' RETURNING 1) SELECT count(*) FROM u;")"
    [[ "$n" == 0 ]] || fail "updated $n globex memberships from acme's context"
    n="$(as_app_in "$ACME" "WITH d AS (DELETE FROM tenant_users WHERE tenant_id = '$X_TENANT' RETURNING 1) SELECT count(*) FROM d;")"
    [[ "$n" == 0 ]] || fail "deleted $n memberships of another tenant from acme's context"
    [[ "$(count_super tenant_users "$X_TENANT")" -ge 1 ]] || fail "our tenant lost its owner"
}

@test "rls: the app role owns no table and cannot bypass RLS" {
    local n
    n="$(psql_app "SELECT count(*) FROM pg_tables WHERE tableowner = current_user;")"
    [[ "$n" == 0 ]] || fail "tenantry_app owns $n tables"
    [[ "$(psql_app "SELECT rolbypassrls OR rolsuper FROM pg_roles WHERE rolname = current_user;")" == f ]] ||
        fail "tenantry_app is a superuser or has BYPASSRLS"
    n="$(psql_super "SELECT count(*) FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
        WHERE s.nspname = 'public' AND c.relkind = 'r'
          AND c.relname IN ('tenant_users', 'api_keys', 'audit_log', 'usage_daily', 'usage_events', 'invitations', 'tenants')
          AND NOT (c.relrowsecurity AND c.relforcerowsecurity);")"
    [[ "$n" == 0 ]] || fail "$n tenant-scoped tables without FORCEd row-level security"
}
