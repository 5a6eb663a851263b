#!/usr/bin/env bats
# tenant_context.bats -- POST /api/v1/auth/tenant-token, GET /api/v1/me's
# tenant, X-Tenant-ID, and membership re-read on every request (SPEC §2).

load helpers

TT=/api/v1/auth/tenant-token

setup_file() {
    export ACME GLOBEX INITECH MIA_TOKEN
    ACME="$(demo_tenant_id acme)"
    GLOBEX="$(demo_tenant_id globex)"
    INITECH="$(demo_tenant_id initech)"
    # mia: member of acme, viewer of initech, nothing in globex.
    MIA_TOKEN="$(login mia@acme.example "$DEMO_PASSWORD")"
}

tt_body() {
    jq -cn --arg t "$1" '{tenant_id: $t}'
}

# A fresh tenant with a fresh owner and a fresh member of ROLE; sets
# F_TENANT F_OWNER_EMAIL F_EMAIL F_ID F_PASSWORD F_TOKEN (identity) F_TTOKEN.
fresh_member() {
    new_user "ctx-owner"
    F_OWNER_EMAIL="$NEW_EMAIL"
    new_tenant ctx "$F_OWNER_EMAIL"
    F_TENANT="$NEW_TENANT_ID"
    new_user "ctx-${1}"
    F_EMAIL="$NEW_EMAIL" F_ID="$NEW_ID" F_PASSWORD="$NEW_PASSWORD"
    add_member "$F_TENANT" "$F_EMAIL" "$1"
    F_TOKEN="$(login "$F_EMAIL" "$F_PASSWORD")"
    F_TTOKEN="$(tenant_token "$F_TOKEN" "$F_TENANT")"
}

# ---- POST /api/v1/auth/tenant-token ------------------------------------------------

@test "tenant-token: a member gets a tenant-scoped token with their role" {
    local tok now
    api_as "$MIA_TOKEN" POST "$TT" "$(tt_body "$ACME")"
    expect_status 200
    check_body '.tenant_id == $t and .role == "member" and .token_type == "Bearer" and .expires_in == 900' --arg t "$ACME"
    tok="$(jqb .access_token)"
    now="$(date +%s)"
    jwt_payload "$tok" | jq -e --arg t "$ACME" --argjson now "$now" '
        .aud == "tenantry:tenant" and .tenant_id == $t and (.exp - .iat) == 900 and (.iat - $now | fabs) < 60' \
        >/dev/null || fail "payload: $(jwt_payload "$tok")"
    # The viewer role in the other tenant.
    api_as "$MIA_TOKEN" POST "$TT" "$(tt_body "$INITECH")"
    expect_status 200
    check_body '.tenant_id == $t and .role == "viewer"' --arg t "$INITECH"
}

@test "tenant-token: the tenant token sets /me's tenant" {
    local tok
    tok="$(tenant_token "$MIA_TOKEN" "$ACME")"
    api_as "$tok" GET /api/v1/me
    expect_status 200
    check_body '.kind == "user" and .user.email == "mia@acme.example"'
    check_body '.tenant == {id: $t, slug: "acme", name: .tenant.name, role: "member"} and (.tenant.name | type == "string")' --arg t "$ACME"
    check_body '[.tenants[].slug] | sort == ["acme", "initech"]'
}

@test "tenant-token: a non-member is 403 permission_denied" {
    api_as "$MIA_TOKEN" POST "$TT" "$(tt_body "$GLOBEX")"
    expect_error 403 permission_denied
    check_body 'has("access_token") | not'
}

@test "tenant-token: a tenant that does not exist is 403 for a non-superadmin (same as not a member)" {
    local missing
    missing="$(cat /proc/sys/kernel/random/uuid)"
    api_as "$MIA_TOKEN" POST "$TT" "$(tt_body "$missing")"
    expect_error 403 permission_denied
    local not_member="$(jqb 'del(.error.request_id)' | jq -cS .)"
    api_as "$MIA_TOKEN" POST "$TT" "$(tt_body "$GLOBEX")"
    [[ "$(jqb 'del(.error.request_id)' | jq -cS .)" == "$not_member" ]] ||
        fail "a missing tenant and a foreign one answer differently: $not_member vs $BODY"
}

@test "tenant-token: a superadmin gets one for any tenant (role null), 404 for a missing one" {
    local tok
    api_as "$(admin_token)" POST "$TT" "$(tt_body "$GLOBEX")"
    expect_status 200
    check_body '.tenant_id == $t and .role == null and (.access_token | type == "string")' --arg t "$GLOBEX"
    tok="$(jqb .access_token)"
    api_as "$tok" GET /api/v1/me
    expect_status 200
    check_body '.tenant.id == $t and .tenant.slug == "globex"' --arg t "$GLOBEX"
    api_as "$(admin_token)" POST "$TT" "$(tt_body "$(cat /proc/sys/kernel/random/uuid)")"
    expect_error 404 tenant_not_found
}

@test "tenant-token: a tenant-scoped token is refused with 401" {
    local tok
    tok="$(tenant_token "$MIA_TOKEN" "$ACME")"
    api_as "$tok" POST "$TT" "$(tt_body "$ACME")"
    expect_error 401 unauthenticated
    api_as "$tok" POST "$TT" "$(tt_body "$INITECH")"
    expect_error 401 unauthenticated
}

@test "tenant-token: no token is 401" {
    api POST "$TT" "$(tt_body "$ACME")"
    expect_error 401 unauthenticated
}

@test "tenant-token: a malformed, missing or mistyped tenant_id is 400" {
    local body
    for body in '{"tenant_id":"not-a-uuid"}' '{"tenant_id":"acme"}' '{}' '{"tenant_id":null}' \
        '{"tenant_id":42}' "{\"tenant_id\":[\"$ACME\"]}" "{\"tenant_id\":\"$ACME \"}" \
        "{\"tenant_id\":\"${ACME}0\"}" '{"tenant_id":"00000000-0000-0000-0000-00000000000g"}'; do
        api_as "$MIA_TOKEN" POST "$TT" "$body"
        REQ="POST $TT $body"
        expect_error 400 invalid_request
    done
    api_as "$MIA_TOKEN" POST "$TT" '[]'
    expect_error 400 invalid_request
}

@test "tenant-token: a role asked for in the body is not granted" {
    api_as "$MIA_TOKEN" POST "$TT" "$(jq -cn --arg t "$ACME" '{tenant_id: $t, role: "owner"}')"
    if [[ "$STATUS" == 200 ]]; then
        check_body '.role == "member"'
        jwt_payload "$(jqb .access_token)" | jq -e '(has("role") | not) or .role == "member"' >/dev/null ||
            fail "token payload: $(jwt_payload "$(jqb .access_token)")"
    else
        expect_error 400 invalid_request
        check_body 'any(.error.details[]; .field == "role")'
    fi
}

@test "tenant-token: an upper-case tenant id names the same tenant" {
    api_as "$MIA_TOKEN" POST "$TT" "$(tt_body "${ACME^^}")"
    expect_status 200
    check_body '.tenant_id == $t and .role == "member"' --arg t "$ACME"
}

@test "tenant-token: X-Tenant-ID that disagrees with the body's tenant_id is 403 tenant_mismatch" {
    api_as "$MIA_TOKEN" POST "$TT" "$(tt_body "$ACME")" -H "X-Tenant-ID: $INITECH"
    expect_error 403 tenant_mismatch
    api_as "$MIA_TOKEN" POST "$TT" "$(tt_body "$ACME")" -H "X-Tenant-ID: $ACME"
    expect_status 200
}

@test "tenant-token: a tenant_id claim inside an identity token is ignored" {
    local tok uid
    uid="$(jwt_payload "$MIA_TOKEN" | jq -r .sub)"
    tok="$(forge_jwt "$(claims identity "$uid" "$GLOBEX")")"
    api_as "$tok" GET /api/v1/me
    expect_status 200
    check_body '.tenant == null'
}

# ---- X-Tenant-ID -------------------------------------------------------------------

@test "X-Tenant-ID with an identity token sets /me's tenant for a member, 403 for a non-member" {
    api_as "$MIA_TOKEN" GET /api/v1/me "" -H "X-Tenant-ID: $INITECH"
    expect_status 200
    check_body '.tenant.id == $t and .tenant.role == "viewer" and .tenant.slug == "initech"' --arg t "$INITECH"
    api_as "$MIA_TOKEN" GET /api/v1/me "" -H "X-Tenant-ID: $GLOBEX"
    expect_error 403 permission_denied
    api_as "$MIA_TOKEN" GET /api/v1/me "" -H "X-Tenant-ID: $(cat /proc/sys/kernel/random/uuid)"
    expect_error 403 permission_denied
}

@test "X-Tenant-ID with a superadmin's identity token: any tenant (role null), 404 for a missing one" {
    api_as "$(admin_token)" GET /api/v1/me "" -H "X-Tenant-ID: $GLOBEX"
    expect_status 200
    check_body '.tenant.id == $t and .tenant.slug == "globex" and .tenant.role == null' --arg t "$GLOBEX"
    api_as "$(admin_token)" GET /api/v1/me "" -H "X-Tenant-ID: $(cat /proc/sys/kernel/random/uuid)"
    expect_error 404 tenant_not_found
}

@test "X-Tenant-ID that disagrees with a tenant token's tenant is 403 tenant_mismatch" {
    local tok
    tok="$(tenant_token "$MIA_TOKEN" "$ACME")"
    # Another tenant she belongs to: still a mismatch.
    api_as "$tok" GET /api/v1/me "" -H "X-Tenant-ID: $INITECH"
    expect_error 403 tenant_mismatch
    api_as "$tok" GET /api/v1/me "" -H "X-Tenant-ID: $GLOBEX"
    expect_error 403 tenant_mismatch
    # The same tenant, in any case, agrees.
    api_as "$tok" GET /api/v1/me "" -H "X-Tenant-ID: $ACME"
    expect_status 200
    check_body '.tenant.id == $t' --arg t "$ACME"
    api_as "$tok" GET /api/v1/me "" -H "X-Tenant-ID: ${ACME^^}"
    expect_status 200
    check_body '.tenant.id == $t' --arg t "$ACME"
}

@test "two X-Tenant-ID headers that disagree are refused, not resolved by picking one" {
    # SPEC §2: every place naming a tenant must agree, else 403. Two headers
    # are two such places; taking the first (or the last) would let a proxy
    # and the app disagree about the tenant of one request.
    local order
    for order in "$ACME $GLOBEX" "$GLOBEX $ACME" "$ACME $INITECH"; do
        set -- $order
        api_as "$MIA_TOKEN" GET /api/v1/me "" -H "X-Tenant-ID: $1" -H "X-Tenant-ID: $2"
        REQ="GET /api/v1/me with X-Tenant-ID: $1 and X-Tenant-ID: $2"
        [[ "$STATUS" == 400 || "$STATUS" == 403 ]] ||
            fail "$REQ answered $STATUS with tenant $(jqb '.tenant.slug // empty' 2>/dev/null)"
        if [[ "$STATUS" == 400 ]]; then expect_error 400 invalid_request; else expect_error 403 tenant_mismatch; fi
    done
    # The same tenant twice agrees.
    api_as "$MIA_TOKEN" GET /api/v1/me "" -H "X-Tenant-ID: $ACME" -H "X-Tenant-ID: $ACME"
    [[ "$STATUS" == 200 || "$STATUS" == 400 ]] || fail "the same X-Tenant-ID twice: $STATUS $BODY"
}

@test "a malformed X-Tenant-ID is 400 invalid_request" {
    local tok v
    tok="$(tenant_token "$MIA_TOKEN" "$ACME")"
    for v in not-a-uuid acme "$ACME-x" "${ACME//-/}" "{$ACME}" "' OR 1=1 --" 0; do
        api_as "$MIA_TOKEN" GET /api/v1/me "" -H "X-Tenant-ID: $v"
        REQ="GET /api/v1/me X-Tenant-ID: $v (identity token)"
        expect_error 400 invalid_request
        api_as "$tok" GET /api/v1/me "" -H "X-Tenant-ID: $v"
        REQ="GET /api/v1/me X-Tenant-ID: $v (tenant token)"
        expect_error 400 invalid_request
    done
}

@test "a forged tenant token for a tenant the user is not in is 403 (membership is read, not trusted)" {
    local uid
    uid="$(jwt_payload "$MIA_TOKEN" | jq -r .sub)"
    api_as "$(forge_jwt "$(claims tenant "$uid" "$GLOBEX")")" GET /api/v1/me
    expect_error 403 permission_denied
    # A tenant token without a tenant_id is not a token at all.
    api_as "$(forge_jwt "$(claims tenant "$uid")")" GET /api/v1/me
    expect_error 401 unauthenticated
}

# ---- membership is re-read on every request ------------------------------------------

@test "a removed member's still-valid tenant token is refused on the next request" {
    fresh_member member
    api_as "$F_TTOKEN" GET /api/v1/me
    expect_status 200
    check_body '.tenant.id == $t and .tenant.role == "member"' --arg t "$F_TENANT"

    # Remove the membership behind the server's back (RLS is FORCEd on the
    # owner too: the tenant context is set first, in the same transaction).
    psql_in_tenant "$TENANTRY_TEST_OWNER_DB_URL" "$F_TENANT" \
        "DELETE FROM tenant_users WHERE tenant_id = '$F_TENANT' AND user_id = '$F_ID';"
    [[ "$(psql_in_tenant "$TENANTRY_TEST_OWNER_DB_URL" "$F_TENANT" \
        "SELECT count(*) FROM tenant_users WHERE user_id = '$F_ID';")" == 0 ]] || fail "the membership is still there"

    api_as "$F_TTOKEN" GET /api/v1/me
    expect_error 403 permission_denied
    # The identity token naming the tenant: refused too.
    api_as "$F_TOKEN" GET /api/v1/me "" -H "X-Tenant-ID: $F_TENANT"
    expect_error 403 permission_denied
    # And no new tenant token.
    api_as "$F_TOKEN" POST "$TT" "$(tt_body "$F_TENANT")"
    expect_error 403 permission_denied
    # Without a tenant the identity still works, and no longer lists the tenant.
    api_as "$F_TOKEN" GET /api/v1/me
    expect_status 200
    check_body '.tenants == [] and .tenant == null'
}

@test "a role change takes effect on the next request" {
    fresh_member viewer
    api_as "$F_TTOKEN" GET /api/v1/me
    expect_status 200
    check_body '.tenant.role == "viewer"'

    add_member "$F_TENANT" "$F_EMAIL" admin       # an existing member gets the new role
    api_as "$F_TTOKEN" GET /api/v1/me
    expect_status 200
    check_body '.tenant.role == "admin"'
    check_body '[.tenants[] | select(.id == $t) | .role] == ["admin"]' --arg t "$F_TENANT"

    psql_in_tenant "$TENANTRY_TEST_OWNER_DB_URL" "$F_TENANT" \
        "UPDATE tenant_users SET role = 'member' WHERE tenant_id = '$F_TENANT' AND user_id = '$F_ID';"
    api_as "$F_TTOKEN" GET /api/v1/me
    expect_status 200
    check_body '.tenant.role == "member"'
    api_as "$F_TOKEN" GET /api/v1/me "" -H "X-Tenant-ID: $F_TENANT"
    expect_status 200
    check_body '.tenant.role == "member"'
}

@test "a deleted user's still-valid tokens are 401" {
    fresh_member member
    api_as "$F_TOKEN" GET /api/v1/me
    expect_status 200
    psql_owner "DELETE FROM users WHERE id = '$F_ID';"
    api_as "$F_TOKEN" GET /api/v1/me
    expect_error 401 unauthenticated
    api_as "$F_TTOKEN" GET /api/v1/me
    expect_error 401 unauthenticated
}
