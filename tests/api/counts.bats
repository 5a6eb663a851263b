#!/usr/bin/env bats
# counts.bats -- maintained counts (issue 19): after every kind of membership change the stored member count equals count(*), concurrent joins and removals leave no drift, and tenantryctl verify-counts finds and fixes drift.

load lib_tenants

setup_file() {
    tt_fixture_tenant CN business
}

# stored_vs_actual TENANT: "stored|actual" members of the tenant (as the owner, in its context).
stored_vs_actual() {
    tt_sql_in_tenant "$TENANTRY_TEST_OWNER_DB_URL" "$1" \
        "SELECT coalesce((SELECT members FROM tenant_counts WHERE tenant_id = '$1'), -1) || '|' ||
                (SELECT count(*) FROM tenant_users WHERE tenant_id = '$1')" | tail -n 1
}

# expect_count TENANT N: the stored count is N and equals count(*); and every
# API read that shows it (usage's users_count, tenants/current's
# member_count, the member list's total) says N, within the cache's
# propagation bound (a membership change notifies the workers).
expect_count() {
    local tid="$1" n="$2" tok got i
    got="$(stored_vs_actual "$tid")"
    [ "$got" = "$n|$n" ] || tt_fail "tenant $tid: stored|actual members is $got, expected $n|$n"
    tok="$(tt_admin_token)"
    for i in $(seq 1 40); do
        tt_api -t "$tok" -H "X-Tenant-ID: $tid" GET /api/v1/tenants/current/usage
        [ "$(tt_jq .users_count)" = "$n" ] && break
        sleep 0.05
    done
    tt_check '.users_count == ($n | tonumber)' --arg n "$n"
    for i in $(seq 1 40); do
        tt_api -t "$tok" -H "X-Tenant-ID: $tid" GET /api/v1/tenants/current
        [ "$(tt_jq .member_count)" = "$n" ] && break
        sleep 0.05
    done
    tt_check '.member_count == ($n | tonumber)' --arg n "$n"
    tt_api -t "$tok" GET "/api/v1/tenants/$tid/users?limit=1"
    tt_check '.total == ($n | tonumber)' --arg n "$n"
}

ctl() {
    eval "$TENANTRY_TEST_CTL \"\$@\""
}

@test "counts: tenant creation (API with and without an owner, tenantryctl) starts the count right" {
    local u tid
    u="$(tt_uniq)"
    tid="$(tt_create_tenant "CN Empty $u" starter)"
    expect_count "$tid" 0
    tt_new_user cn-own
    tid="$(tt_create_tenant "CN Owned $u" starter "$TT_EMAIL")"
    expect_count "$tid" 1
    tid="$(ctl create-tenant --name "CN Ctl $u" --slug "cn-ctl-$u" --tier starter --owner-email "$TT_EMAIL")"
    expect_count "$tid" 1
}

@test "counts: tenantryctl add-member, a re-role, an accepted invitation and a removal" {
    expect_count "$CN_ID" 4
    tt_new_user cn-add
    local uid="$TT_UID" email="$TT_EMAIL"
    tt_add_member "$CN_ID" "$email" member
    expect_count "$CN_ID" 5
    # An existing member given a new role is not counted twice.
    tt_add_member "$CN_ID" "$email" viewer
    expect_count "$CN_ID" 5
    # An invitation accepted by a new user.
    local inv="cn-inv-$(tt_uniq)@$TT_DOMAIN" token
    tt_api -t "$CN_ADMIN_TTOKEN" POST "/api/v1/tenants/$CN_ID/users/invite" "$(jq -cn --arg e "$inv" '{email:$e, role:"member"}')"
    tt_expect 201
    token="$(tt_jq .token)"
    # A pending invitation is not a member.
    expect_count "$CN_ID" 5
    tt_api POST /api/v1/invitations/accept "$(jq -cn --arg t "$token" '{token:$t, name:"CN Joiner", password:"cn-joiner-password-1"}')"
    tt_expect 200
    expect_count "$CN_ID" 6
    # A removal.
    tt_api -t "$CN_ADMIN_TTOKEN" DELETE "/api/v1/tenants/$CN_ID/users/$uid"
    tt_expect 204
    expect_count "$CN_ID" 5
    # A refused removal (the last owner) changes nothing.
    tt_api -t "$CN_OWNER_TTOKEN" DELETE "/api/v1/tenants/$CN_ID/users/$CN_OWNER_UID"
    [ "$TT_STATUS" -ge 400 ]
    expect_count "$CN_ID" 5
}

@test "counts: a user deleted by an operator leaves every workspace's count right (outside any tenant context)" {
    local u t1 t2 uid
    u="$(tt_uniq)"
    tt_new_user cn-gone
    uid="$TT_UID"
    t1="$(tt_create_tenant "CN Gone A $u" starter "$TT_EMAIL")"
    t2="$(tt_create_tenant "CN Gone B $u" starter)"
    tt_add_member "$t2" "$TT_EMAIL" member
    expect_count "$t1" 1
    expect_count "$t2" 1
    # As the owner role with no tenant set: the cascade runs where row
    # security shows the owner no membership row.
    tt_sql_owner "DELETE FROM users WHERE id = '$uid'"
    expect_count "$t1" 0
    expect_count "$t2" 0
}

@test "counts: a deleted tenant takes its counts with it, and the fleet counts follow creation, suspension and deletion" {
    local u tid before after
    u="$(tt_uniq)"
    ctl verify-counts
    tt_new_user cn-del
    tid="$(tt_create_tenant "CN Deleted $u" enterprise "$TT_EMAIL")"
    tt_api -t "$(tt_admin_token)" PATCH "/api/v1/tenants/$tid" '{"status":"suspended"}'
    tt_expect 200
    run ctl verify-counts
    [ "$status" -eq 0 ] || tt_fail "drift after a suspension: $output"
    tt_sql_super "BEGIN; DELETE FROM audit_log WHERE tenant_id = '$tid'; DELETE FROM tenants WHERE id = '$tid'; COMMIT;"
    [ "$(tt_sql_super "SELECT count(*) FROM tenant_counts WHERE tenant_id = '$tid'")" = 0 ]
    run ctl verify-counts
    [ "$status" -eq 0 ] || tt_fail "drift after a deletion: $output"
    # The superadmin's unfiltered total is the fleet count, and it is count(*).
    tt_api -t "$(tt_admin_token)" GET "/api/v1/tenants?limit=1"
    [ "$(tt_jq .total)" = "$(tt_sql_super "SELECT count(*) FROM tenants")" ]
    tt_api -t "$(tt_admin_token)" GET "/api/v1/tenants?limit=1&tier=enterprise&status=suspended"
    [ "$(tt_jq .total)" = "$(tt_sql_super "SELECT count(*) FROM tenants WHERE tier = 'enterprise' AND status = 'suspended'")" ]
}

@test "counts: 8 concurrent joins, then 8 concurrent removals and joins, leave no drift" {
    local u tid i emails=() uids=() pids=()
    u="$(tt_uniq)"
    tid="$(tt_create_tenant "CN Race $u" enterprise)"
    for i in $(seq 1 16); do
        tt_new_user "cn-race$i"
        emails+=("$TT_EMAIL")
        uids+=("$TT_UID")
    done
    for i in $(seq 0 7); do
        ctl add-member --tenant "$tid" --email "${emails[$i]}" --role admin >/dev/null 2>&1 &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i"; done
    expect_count "$tid" 8
    # Four admins remove four others while four new members join.
    local tok
    tok="$(tt_admin_token)"
    pids=()
    for i in $(seq 0 3); do
        tt_curl -o /dev/null -X DELETE -H "Authorization: Bearer $tok" \
            "$TT_URL/api/v1/tenants/$tid/users/${uids[$((i + 4))]}" &
        pids+=($!)
        ctl add-member --tenant "$tid" --email "${emails[$((i + 8))]}" --role member >/dev/null 2>&1 &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i"; done
    expect_count "$tid" 8
    run ctl verify-counts
    [ "$status" -eq 0 ] || tt_fail "verify-counts found drift: $output"
}

@test "verify-counts: reports drift (exit 1, the tenant named), --fix repairs it and the API shows the right count again" {
    local tid
    tid="$CN_ID"
    tt_sql_in_tenant "$TENANTRY_TEST_OWNER_DB_URL" "$tid" \
        "UPDATE tenant_counts SET members = members + 7, api_keys = api_keys + 1 WHERE tenant_id = '$tid'"
    run ctl verify-counts
    [ "$status" -eq 1 ]
    [[ "$output" == *"$tid $CN_SLUG members "* ]] || tt_fail "no members drift reported: $output"
    [[ "$output" == *"$tid $CN_SLUG api_keys "* ]] || tt_fail "no api_keys drift reported: $output"
    run ctl verify-counts --fix
    [ "$status" -eq 0 ]
    [[ "$output" == *"fixed"* ]]
    run ctl verify-counts
    [ "$status" -eq 0 ]
    # The fix notified the workers: the cached reads show the real count.
    expect_count "$tid" "$(stored_vs_actual "$tid" | cut -d'|' -f2)"
    # Only a superadmin context may run it.
    run tt_sql_app "SELECT count(*) FROM app.verify_counts(false)"
    [ "$status" -ne 0 ]
    [[ "$output" == *"superadmins"* ]]
}

@test "counts: the app role cannot write a counter" {
    run tt_sql_in_tenant "$TENANTRY_TEST_APP_DB_URL" "$CN_ID" \
        "UPDATE tenant_counts SET members = 0 WHERE tenant_id = '$CN_ID'"
    [ "$status" -ne 0 ]
    [[ "$output" == *"permission denied"* ]]
    run tt_sql_in_tenant "$TENANTRY_TEST_APP_DB_URL" "$CN_ID" "SELECT count(*) FROM tenant_search"
    [ "$status" -ne 0 ]
}
