#!/usr/bin/env bats
# tenants.bats -- list, create, get, patch and stats of tenants; suspension.

load lib_tenants

setup_file() {
    tt_fixture_tenant TN business
}

TENANT_KEYS='["created_at","id","limits","name","slug","status","tier","updated_at","version"]'

# create BODY_JSON: POST /api/v1/tenants as superadmin.
create() {
    tt_api -t "$(tt_admin_token)" POST /api/v1/tenants "$1"
}

@test "create: 201 with the tenant; slug derived from the name; tier free by default; default settings" {
    local u
    u="$(tt_uniq)"
    create "{\"name\":\"TT Derived  Slug! $u\"}"
    tt_expect 201
    tt_check "keys == $TENANT_KEYS"
    tt_check '.slug == $s and .name == $n and .tier == "free" and .status == "active" and (.version | type == "number")' \
        --arg s "tt-derived-slug-$u" --arg n "TT Derived  Slug! $u"
    tt_check '(.created_at | test("Z$")) and (.updated_at | test("Z$")) and (.limits | type == "object")'
    local id
    id="$(tt_jq .id)"
    tt_api -t "$(tt_admin_token)" -H "X-Tenant-ID: $id" GET /api/v1/tenants/current/settings
    tt_expect 200
    tt_check '.settings == {"branding": {"primary_color": "#000000", "logo_url": null},
        "notifications": {"email_enabled": true, "webhook_url": null},
        "security": {"ip_whitelist": [], "mfa_required": false, "session_timeout_minutes": 60},
        "features": {"custom_models_enabled": false, "api_access_enabled": true, "sso_enabled": false},
        "integrations": {"slack_workspace": null, "microsoft_teams": null}}'
    # No owner given: no members.
    tt_api -t "$(tt_admin_token)" GET "/api/v1/tenants/$id/users"
    tt_check '.total == 0'
}

@test "create: an explicit slug and tier are kept" {
    local u
    u="$(tt_uniq)"
    create "{\"name\":\"TT Explicit $u\",\"slug\":\"explicit-$u\",\"tier\":\"starter\"}"
    tt_expect 201
    tt_check '.slug == $s and .tier == "starter" and .limits.users == 20' --arg s "explicit-$u"
}

@test "create: a duplicate slug is 409 (explicit or derived) and creates nothing" {
    local u
    u="$(tt_uniq)"
    create "{\"name\":\"TT Dup $u\"}"
    tt_expect 201
    local slug
    slug="$(tt_jq .slug)"
    create "{\"name\":\"TT Dup $u\"}"
    tt_expect 409 conflict
    create "{\"name\":\"Another name $u\",\"slug\":\"$slug\"}"
    tt_expect 409 conflict
    tt_api -t "$(tt_admin_token)" GET "/api/v1/tenants?q=$slug"
    tt_check '.total == 1'
}

@test "create: unknown tier 400; bad slug, short name, unknown field 400; an unknown owner_email 400 and nothing created" {
    local u
    u="$(tt_uniq)"
    create "{\"name\":\"TT Tier $u\",\"tier\":\"platinum\"}"
    tt_expect 400
    tt_check 'any(.error.details[]?; .field == "tier")'
    create "{\"name\":\"TT Tier $u\",\"tier\":\"Not A Tier!\"}"
    tt_expect 400
    create "{\"name\":\"TT Slug $u\",\"slug\":\"Bad Slug\"}"
    tt_expect 400
    create "{\"name\":\"TT Slug $u\",\"slug\":\"-edge-\"}"
    tt_expect 400
    create '{"name":"ab"}'
    tt_expect 400
    create "{\"name\":\"TT Extra $u\",\"plan\":\"free\"}"
    tt_expect 400
    create "{\"name\":\"TT NoOwner $u\",\"owner_email\":\"nobody-$u@tt.example\"}"
    tt_expect 400
    tt_api -t "$(tt_admin_token)" GET "/api/v1/tenants?q=$u"
    tt_check '.total == 0'
}

@test "create: owner_email becomes the owner; only a superadmin creates" {
    tt_new_user tn-newowner
    local email="$TT_EMAIL" uid="$TT_UID" u
    u="$(tt_uniq)"
    create "$(jq -cn --arg n "TT Owned $u" --arg e "$email" '{name:$n, owner_email:$e, tier:"business"}')"
    tt_expect 201
    local id
    id="$(tt_jq .id)"
    tt_api -t "$(tt_admin_token)" GET "/api/v1/tenants/$id/users"
    tt_check '.total == 1 and .users[0].user_id == $u and .users[0].role == "owner"' --arg u "$uid"
    tt_api POST /api/v1/auth/login "$(jq -cn --arg e "$email" --arg p "$TT_PASSWORD" '{email:$e, password:$p}')"
    tt_check 'any(.tenants[]; .id == $t and .role == "owner")' --arg t "$id"
    local tok
    tok="$(tt_jq .access_token)"
    tt_api -t "$tok" POST /api/v1/tenants "{\"name\":\"TT Not Allowed $u\"}"
    tt_expect 403
    tt_api POST /api/v1/tenants "{\"name\":\"TT Anonymous $u\"}"
    tt_expect 401
}

@test "list as superadmin: every tenant, total/page/limit, tier filter, q over name and slug" {
    local u tok
    u="$(tt_uniq)"
    tok="$(tt_admin_token)"
    create "{\"name\":\"TT QZ$u Alpha\",\"tier\":\"starter\"}"
    tt_expect 201
    create "{\"name\":\"TT qz$u Beta\",\"tier\":\"business\"}"
    tt_expect 201
    create "{\"name\":\"Gamma Workspace $u\",\"slug\":\"gamma-qz$u\",\"tier\":\"starter\"}"
    tt_expect 201
    local gamma
    gamma="$(tt_jq .id)"

    tt_api -t "$tok" GET /api/v1/tenants
    tt_expect 200
    tt_check '.page == 1 and .limit == 50 and .total >= 6 and (.tenants | length) == ([.total, 50] | min)'
    tt_check "all(.tenants[]; keys == $TENANT_KEYS)"
    # The seeded tenants are there too.
    tt_api -t "$tok" GET "/api/v1/tenants?q=acme"
    tt_check 'any(.tenants[]; .slug == "acme")'

    # q: case-insensitive on the name, and the slug.
    tt_api -t "$tok" GET "/api/v1/tenants?q=QZ$u"
    tt_expect 200
    tt_check '.total == 3 and (.tenants | length) == 3'
    # q is a plain substring, not a LIKE pattern.
    tt_api -t "$tok" GET "/api/v1/tenants?q=_z$u"
    tt_check '.total == 0'
    tt_api -t "$tok" GET "/api/v1/tenants?q=gamma-qz$u"
    tt_check '.total == 1 and .tenants[0].id == $g' --arg g "$gamma"
    # tier filter, alone and with q.
    tt_api -t "$tok" GET "/api/v1/tenants?q=qz$u&tier=starter"
    tt_check '.total == 2 and all(.tenants[]; .tier == "starter")'
    tt_api -t "$tok" GET "/api/v1/tenants?tier=business&limit=100"
    tt_check '.total >= 1 and all(.tenants[]; .tier == "business")'
    tt_api -t "$tok" GET "/api/v1/tenants?tier=nosuchtier"
    tt_expect 200
    tt_check '.total == 0 and .tenants == []'
    # pages
    tt_api -t "$tok" GET "/api/v1/tenants?q=qz$u&limit=2&page=1"
    tt_check '.total == 3 and .page == 1 and .limit == 2 and (.tenants | length) == 2'
    local p1
    p1="$(tt_jq '[.tenants[].id] | join(",")')"
    tt_api -t "$tok" GET "/api/v1/tenants?q=qz$u&limit=2&page=2"
    tt_check '.total == 3 and .page == 2 and (.tenants | length) == 1'
    [[ "$p1" != *"$(tt_jq '.tenants[0].id')"* ]]
    tt_api -t "$tok" GET "/api/v1/tenants?q=qz$u&limit=2&page=3"
    tt_check '.total == 3 and .tenants == []'
}

@test "list: bad page, limit or tier are 400" {
    local q
    for q in limit=0 limit=101 page=0 limit=x "tier=BAD%20TIER"; do
        tt_api -t "$(tt_admin_token)" GET "/api/v1/tenants?$q"
        tt_expect 400
    done
}

@test "list as a member: only the tenants they belong to" {
    tt_new_user tn-two
    local email="$TT_EMAIL" a b
    a="$(tt_create_tenant "TT Mine A $(tt_uniq)" free)"
    b="$(tt_create_tenant "TT Mine B $(tt_uniq)" starter)"
    tt_add_member "$a" "$email" viewer
    tt_add_member "$b" "$email" admin
    local tok
    tok="$(tt_login "$email")"
    tt_api -t "$tok" GET /api/v1/tenants
    tt_expect 200
    tt_check '.total == 2 and ([.tenants[].id] | sort) == ([$a, $b] | sort)' --arg a "$a" --arg b "$b"
    # Another tenant is not found by searching for it, nor by its tier.
    tt_api -t "$tok" GET "/api/v1/tenants?q=$TN_SLUG"
    tt_check '.total == 0 and .tenants == []'
    tt_api -t "$tok" GET "/api/v1/tenants?q=acme"
    tt_check '.total == 0'
    tt_api -t "$tok" GET "/api/v1/tenants?tier=starter"
    tt_check '.total == 1 and .tenants[0].id == $b' --arg b "$b"
    # Same answer with a tenant-scoped token.
    tt_api -t "$(tt_tenant_token "$tok" "$a")" GET /api/v1/tenants
    tt_check '.total == 2'
}

@test "get: the tenant's description for a member" {
    tt_api -t "$TN_VIEWER_TTOKEN" GET "/api/v1/tenants/$TN_ID"
    tt_expect 200
    tt_check "keys == $TENANT_KEYS"
    tt_check '.id == $i and .slug == $s and .tier == "business" and .status == "active" and .limits.users == 100' \
        --arg i "$TN_ID" --arg s "$TN_SLUG"
    tt_api -t "$TN_VIEWER_TTOKEN" GET "/api/v1/tenants/not-a-uuid"
    tt_expect 400
}

@test "current: TenantInfoResponse" {
    tt_api -t "$TN_ADMIN_TTOKEN" GET /api/v1/tenants/current
    tt_expect 200
    tt_check 'keys == ["created_at","id","member_count","name","slug","subscription_tier","user_role"]'
    tt_check '.id == $i and .subscription_tier == "business" and .user_role == "admin" and .member_count >= 4' --arg i "$TN_ID"
    tt_api -t "$(tt_admin_token)" -H "X-Tenant-ID: $TN_ID" GET /api/v1/tenants/current
    tt_expect 200
    tt_check '.user_role == null'
}

@test "patch: an admin renames (200, version and updated_at move); tier, limits or status are 403 for an admin or owner, nothing applied" {
    tt_api -t "$TN_ADMIN_TTOKEN" GET "/api/v1/tenants/$TN_ID"
    local v0 name
    v0="$(tt_jq .version)"
    name="TT Renamed $(tt_uniq)"
    tt_api -t "$TN_ADMIN_TTOKEN" PATCH "/api/v1/tenants/$TN_ID" "{\"name\":\"$name\"}"
    tt_expect 200
    tt_check '.name == $n and .version > ($v | tonumber) and .slug == $s' --arg n "$name" --arg v "$v0" --arg s "$TN_SLUG"
    local v1
    v1="$(tt_jq .version)"
    local body who
    for who in ADMIN OWNER; do
        local t="TN_${who}_TTOKEN"
        for body in '{"tier":"enterprise"}' '{"status":"suspended"}' '{"limits":{"users":1000}}' \
            "{\"name\":\"TT Sneaky $(tt_uniq)\",\"tier\":\"enterprise\"}"; do
            tt_api -t "${!t}" PATCH "/api/v1/tenants/$TN_ID" "$body"
            tt_expect 403
        done
    done
    tt_api -t "$TN_MEMBER_TTOKEN" PATCH "/api/v1/tenants/$TN_ID" '{"name":"Member rename"}'
    tt_expect 403
    tt_api -t "$TN_VIEWER_TTOKEN" GET "/api/v1/tenants/$TN_ID"
    tt_check '.name == $n and .tier == "business" and .status == "active" and .limits.users == 100 and .version == ($v | tonumber)' \
        --arg n "$name" --arg v "$v1"
    # Validation
    tt_api -t "$TN_ADMIN_TTOKEN" PATCH "/api/v1/tenants/$TN_ID" '{"name":"ab"}'
    tt_expect 400
    tt_api -t "$TN_ADMIN_TTOKEN" PATCH "/api/v1/tenants/$TN_ID" '{"name":"bad\u0000name"}'
    tt_expect 400
    tt_api -t "$TN_ADMIN_TTOKEN" PATCH "/api/v1/tenants/$TN_ID" '{"slug":"new-slug"}'
    tt_expect 400
}

@test "patch as superadmin: tier, limit overrides (integer, -1 unlimited, null back to the tier), status; bad values 400" {
    local id tok
    id="$(tt_create_tenant "TT Super Patch $(tt_uniq)" free)"
    tok="$(tt_admin_token)"
    tt_api -t "$tok" PATCH "/api/v1/tenants/$id" '{"tier":"starter"}'
    tt_expect 200
    tt_check '.tier == "starter" and .limits.users == 20'
    tt_api -t "$tok" PATCH "/api/v1/tenants/$id" '{"limits":{"users":7,"tokens":-1}}'
    tt_expect 200
    tt_check '.limits.users == 7 and .limits.tokens == null and .limits.teams == 10'
    tt_api -t "$tok" PATCH "/api/v1/tenants/$id" '{"limits":{"users":null}}'
    tt_expect 200
    tt_check '.limits.users == 20 and .limits.tokens == null'
    tt_api -t "$tok" GET "/api/v1/tenants/$id"
    tt_check '.limits.users == 20 and .limits.tokens == null'
    tt_api -t "$tok" PATCH "/api/v1/tenants/$id" '{"tier":"nosuchtier"}'
    tt_expect 400
    tt_api -t "$tok" PATCH "/api/v1/tenants/$id" '{"status":"deleted"}'
    tt_expect 400
    tt_api -t "$tok" PATCH "/api/v1/tenants/$id" '{"limits":{"users":-2}}'
    tt_expect 400
    tt_api -t "$tok" PATCH "/api/v1/tenants/$id" '{"limits":{"users":"10"}}'
    tt_expect 400
    tt_api -t "$tok" PATCH "/api/v1/tenants/$id" '{"limits":{"no_such_meter":10}}'
    tt_expect 400
    tt_api -t "$tok" GET "/api/v1/tenants/$id"
    tt_check '.tier == "starter" and .status == "active" and .limits.users == 20'
}

@test "suspended: members get 403 tenant_suspended on its routes, a superadmin still 200; reactivated, all is back" {
    tt_fixture_tenant SU business
    local tok
    tok="$(tt_admin_token)"
    tt_api -t "$tok" PATCH "/api/v1/tenants/$SU_ID" '{"status":"suspended"}'
    tt_expect 200
    tt_check '.status == "suspended"'
    local who route
    for who in OWNER ADMIN MEMBER VIEWER; do
        local t="SU_${who}_TTOKEN"
        for route in "/api/v1/tenants/$SU_ID" "/api/v1/tenants/$SU_ID/stats" "/api/v1/tenants/$SU_ID/users" \
            /api/v1/tenants/current /api/v1/tenants/current/settings; do
            tt_api -t "${!t}" GET "$route"
            tt_expect 403 tenant_suspended
        done
    done
    tt_api -t "$SU_ADMIN_TTOKEN" GET "/api/v1/tenants/$SU_ID/activity"
    tt_expect 403 tenant_suspended
    tt_api -t "$SU_ADMIN_TTOKEN" PUT /api/v1/tenants/current/settings '{"settings":{}}'
    tt_expect 403 tenant_suspended
    tt_api -t "$SU_OWNER_TTOKEN" PATCH "/api/v1/tenants/$SU_ID" '{"name":"Rename while suspended"}'
    tt_expect 403 tenant_suspended
    tt_api -t "$SU_OWNER_TTOKEN" POST "/api/v1/tenants/$SU_ID/users/invite" "{\"email\":\"su-$(tt_uniq)@tt.example\",\"role\":\"viewer\"}"
    tt_expect 403 tenant_suspended
    tt_api -t "$SU_OWNER_TTOKEN" DELETE "/api/v1/tenants/$SU_ID/users/$SU_VIEWER_UID"
    tt_expect 403 tenant_suspended
    # Identity token + path: the same.
    tt_api -t "$SU_MEMBER_TOKEN" GET "/api/v1/tenants/$SU_ID"
    tt_expect 403 tenant_suspended
    # The superadmin still reads and acts.
    tt_api -t "$tok" GET "/api/v1/tenants/$SU_ID"
    tt_expect 200
    tt_check '.status == "suspended"'
    tt_api -t "$tok" GET "/api/v1/tenants/$SU_ID/users"
    tt_expect 200
    tt_api -t "$tok" -H "X-Tenant-ID: $SU_ID" GET /api/v1/tenants/current/settings
    tt_expect 200
    # Members still see the tenant in their list (with its status).
    tt_api -t "$SU_MEMBER_TOKEN" GET /api/v1/tenants
    tt_check 'any(.tenants[]; .id == $t and .status == "suspended")' --arg t "$SU_ID"
    # Reactivated.
    tt_api -t "$tok" PATCH "/api/v1/tenants/$SU_ID" '{"status":"active"}'
    tt_expect 200
    tt_api -t "$SU_VIEWER_TTOKEN" GET "/api/v1/tenants/$SU_ID"
    tt_expect 200
    tt_api -t "$SU_ADMIN_TTOKEN" PUT /api/v1/tenants/current/settings '{"settings":{}}'
    tt_expect 200
}

@test "stats: counts of members, api_keys, pending invitations, audit events (24 h) and usage per meter" {
    tt_fixture_tenant ST business
    tt_api -t "$ST_VIEWER_TTOKEN" GET "/api/v1/tenants/$ST_ID/stats"
    tt_expect 200
    tt_check 'keys == ["api_keys","audit_events_24h","invitations_pending","members","tenant_id","usage"]'
    tt_check '.tenant_id == $t and .members == 4 and .api_keys == 0 and .invitations_pending == 0
        and (.audit_events_24h | type == "number" and . >= 1)' --arg t "$ST_ID"
    tt_check '(.usage | type == "object") and (.usage | length >= 1)
        and all(.usage[]; (.used | type == "number") and (.period | type == "string") and (.unit | type == "string"))
        and .usage.users.used == 4'
    local audit0
    audit0="$(tt_jq .audit_events_24h)"
    tt_api -t "$ST_ADMIN_TTOKEN" POST "/api/v1/tenants/$ST_ID/users/invite" "{\"email\":\"st-$(tt_uniq)@tt.example\",\"role\":\"viewer\"}"
    tt_expect 201
    tt_api -t "$ST_ADMIN_TTOKEN" POST "/api/v1/tenants/$ST_ID/users/invite" "{\"email\":\"st-$(tt_uniq)@tt.example\",\"role\":\"member\"}"
    tt_expect 201
    tt_api -t "$ST_ADMIN_TTOKEN" DELETE "/api/v1/tenants/$ST_ID/users/$ST_VIEWER_UID"
    tt_expect 204
    tt_api -t "$ST_MEMBER_TTOKEN" GET "/api/v1/tenants/$ST_ID/stats"
    tt_check '.members == 3 and .invitations_pending == 2 and .audit_events_24h == ($a | tonumber) + 3 and .usage.users.used == 3' \
        --arg a "$audit0"
}
