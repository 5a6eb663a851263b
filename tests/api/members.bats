#!/usr/bin/env bats
# members.bats -- list members, change roles, remove members: the owner rules
# (only an owner grants, demotes or removes an owner; the last owner stays;
# nobody raises their own role) and membership read on every request.

load lib_tenants

setup_file() {
    tt_fixture_tenant MM business
}

users_path() { printf '/api/v1/tenants/%s/users' "${1:-$MM_ID}"; }

# set_role TOKEN USER_ID ROLE [TENANT]
set_role() {
    tt_api -t "$1" PATCH "$(users_path "${4:-}")/$2/role" "{\"role\":\"$3\"}"
}

# remove TOKEN USER_ID [TENANT]
remove() {
    tt_api -t "$1" DELETE "$(users_path "${3:-}")/$2"
}

# role_in TENANT USER_ID: the role from the API ("" if not a member).
role_in() {
    tt_api -t "$(tt_admin_token)" GET "$(users_path "$1")?limit=100"
    tt_expect 200
    tt_jq --arg u "$2" '.users[] | select(.user_id == $u) | .role'
}

owners_in() {
    tt_api -t "$(tt_admin_token)" GET "$(users_path "$1")?limit=100"
    tt_jq '[.users[] | select(.role == "owner")] | length'
}

# A fresh tenant with an owner (TO_*) for the owner-rule cases; sets TO_ID,
# TO_OWNER_UID, TO_OWNER_TT.
fresh_tenant() {
    tt_new_user mo-owner
    TO_OWNER_UID="$TT_UID"
    TO_OWNER_EMAIL="$TT_EMAIL"
    TO_ID="$(tt_create_tenant "TT owners $(tt_uniq)" business "$TT_EMAIL")"
    TO_OWNER_TT="$(tt_tenant_token "$(tt_login "$TO_OWNER_EMAIL")" "$TO_ID")"
}

@test "list: users with user_id, email, name, role, joined_at; total, page, limit" {
    tt_api -t "$MM_VIEWER_TTOKEN" GET "$(users_path)"
    tt_expect 200
    tt_check '.total >= 4 and .page == 1 and .limit == 50 and (.users | length) == .total'
    tt_check 'all(.users[]; (.user_id | type == "string") and (.email | type == "string") and (.name | type == "string")
        and (.role | IN("owner","admin","member","viewer")) and (.joined_at | test("^[0-9-]{10}T[0-9:]{8}Z$")))'
    tt_check '([.users[] | {(.user_id): .role}] | add) as $r
        | $r[$o] == "owner" and $r[$a] == "admin" and $r[$m] == "member" and $r[$v] == "viewer"' \
        --arg o "$MM_OWNER_UID" --arg a "$MM_ADMIN_UID" --arg m "$MM_MEMBER_UID" --arg v "$MM_VIEWER_UID"
    # No secrets in a member list.
    [[ "$TT_BODY" != *password* && "$TT_BODY" != *'$argon2'* ]]
}

@test "list: page and limit; out-of-range values are 400" {
    tt_api -t "$MM_MEMBER_TTOKEN" GET "$(users_path)?limit=2&page=2"
    tt_expect 200
    tt_check '.page == 2 and .limit == 2 and (.users | length) <= 2 and .total >= 4'
    local p1 p2
    tt_api -t "$MM_MEMBER_TTOKEN" GET "$(users_path)?limit=2&page=1"
    p1="$(tt_jq '[.users[].user_id] | join(",")')"
    tt_api -t "$MM_MEMBER_TTOKEN" GET "$(users_path)?limit=2&page=2"
    p2="$(tt_jq '[.users[].user_id] | join(",")')"
    [ -n "$p1" ]
    [ -n "$p2" ]
    [ "$p1" != "$p2" ]
    local q
    for q in limit=0 limit=101 limit=abc page=0 page=-1; do
        tt_api -t "$MM_MEMBER_TTOKEN" GET "$(users_path)?$q"
        tt_expect 400
    done
}

@test "change role: an admin demotes a member to viewer (200 membership); the change applies on the next request" {
    tt_new_member "$MM_ID" member mm-demote
    local uid="$TT_UID" tt="$TT_TTOKEN"
    tt_api -t "$tt" GET /api/v1/tenants/current
    tt_check '.user_role == "member"'
    set_role "$MM_ADMIN_TTOKEN" "$uid" viewer
    tt_expect 200
    tt_check '.user_id == $u and .role == "viewer" and .tenant_id == $t and (.email | type == "string")' --arg u "$uid" --arg t "$MM_ID"
    # Same token, next request: the new role.
    tt_api -t "$tt" GET /api/v1/tenants/current
    tt_check '.user_role == "viewer"'
    [ "$(role_in "$MM_ID" "$uid")" = viewer ]
}

@test "change role: a promoted member acts as admin at once, a demoted admin loses it at once (same token)" {
    tt_new_member "$MM_ID" member mm-promote
    local uid="$TT_UID" tt="$TT_TTOKEN"
    tt_api -t "$tt" GET "/api/v1/tenants/$MM_ID/invitations"
    tt_expect 403
    set_role "$MM_OWNER_TTOKEN" "$uid" admin
    tt_expect 200
    tt_api -t "$tt" GET "/api/v1/tenants/$MM_ID/invitations"
    tt_expect 200
    set_role "$MM_ADMIN_TTOKEN" "$uid" member
    tt_expect 200
    tt_api -t "$tt" GET "/api/v1/tenants/$MM_ID/invitations"
    tt_expect 403
}

@test "owner rules: an admin cannot grant owner (403); an owner can; owners may then demote each other" {
    fresh_tenant
    tt_new_member "$TO_ID" admin mo-admin
    local admin_uid="$TT_UID" admin_tt="$TT_TTOKEN"
    tt_new_member "$TO_ID" member mo-member
    local member_uid="$TT_UID"
    set_role "$admin_tt" "$member_uid" owner "$TO_ID"
    tt_expect 403 permission_denied
    [ "$(role_in "$TO_ID" "$member_uid")" = member ]
    # An admin cannot raise themself to owner either.
    set_role "$admin_tt" "$admin_uid" owner "$TO_ID"
    tt_expect 403
    [ "$(role_in "$TO_ID" "$admin_uid")" = admin ]
    set_role "$TO_OWNER_TT" "$member_uid" owner "$TO_ID"
    tt_expect 200
    tt_check '.role == "owner"'
    [ "$(owners_in "$TO_ID")" = 2 ]
    # Two owners: one may demote the other, even the original one.
    local second_tt
    second_tt="$(tt_tenant_token "$(tt_login "$(tt_sql_owner "SELECT email FROM users WHERE id = '$member_uid'")")" "$TO_ID")"
    set_role "$second_tt" "$TO_OWNER_UID" admin "$TO_ID"
    tt_expect 200
    [ "$(role_in "$TO_ID" "$TO_OWNER_UID")" = admin ]
    [ "$(owners_in "$TO_ID")" = 1 ]
}

@test "owner rules: an admin can neither demote nor remove an owner (403)" {
    fresh_tenant
    tt_new_member "$TO_ID" admin mo-admin2
    local admin_tt="$TT_TTOKEN"
    set_role "$admin_tt" "$TO_OWNER_UID" admin "$TO_ID"
    tt_expect 403 permission_denied
    remove "$admin_tt" "$TO_OWNER_UID" "$TO_ID"
    tt_expect 403 permission_denied
    [ "$(role_in "$TO_ID" "$TO_OWNER_UID")" = owner ]
}

@test "owner rules: the last owner can be neither demoted nor removed (409), not even by a superadmin" {
    fresh_tenant
    set_role "$TO_OWNER_TT" "$TO_OWNER_UID" admin "$TO_ID"
    tt_expect 409 conflict
    remove "$TO_OWNER_TT" "$TO_OWNER_UID" "$TO_ID"
    tt_expect 409 conflict
    set_role "$(tt_admin_token)" "$TO_OWNER_UID" member "$TO_ID"
    tt_expect 409 conflict
    remove "$(tt_admin_token)" "$TO_OWNER_UID" "$TO_ID"
    tt_expect 409 conflict
    [ "$(role_in "$TO_ID" "$TO_OWNER_UID")" = owner ]
    # With a second owner, the first may step down.
    tt_new_member "$TO_ID" owner mo-owner2
    set_role "$TO_OWNER_TT" "$TO_OWNER_UID" admin "$TO_ID"
    tt_expect 200
    [ "$(owners_in "$TO_ID")" = 1 ]
}

@test "nobody raises their own role: a viewer, a member (403)" {
    tt_new_member "$MM_ID" viewer mm-selfv
    set_role "$TT_TTOKEN" "$TT_UID" admin
    tt_expect 403
    [ "$(role_in "$MM_ID" "$TT_UID")" = viewer ]
    tt_new_member "$MM_ID" member mm-selfm
    set_role "$TT_TTOKEN" "$TT_UID" admin
    tt_expect 403
    set_role "$TT_TTOKEN" "$TT_UID" owner
    tt_expect 403
    [ "$(role_in "$MM_ID" "$TT_UID")" = member ]
}

@test "a superadmin (not a member) may grant and remove owner" {
    fresh_tenant
    tt_new_member "$TO_ID" member mo-sa
    local uid="$TT_UID"
    set_role "$(tt_admin_token)" "$uid" owner "$TO_ID"
    tt_expect 200
    [ "$(owners_in "$TO_ID")" = 2 ]
    remove "$(tt_admin_token)" "$uid" "$TO_ID"
    tt_expect 204
    [ -z "$(role_in "$TO_ID" "$uid")" ]
}

@test "remove: 204, gone from the list, and the removed member's tokens get 403 on the next request" {
    tt_new_member "$MM_ID" member mm-removed
    local uid="$TT_UID" tt="$TT_TTOKEN" idt="$TT_TOKEN"
    tt_api -t "$tt" GET /api/v1/tenants/current
    tt_expect 200
    remove "$MM_ADMIN_TTOKEN" "$uid"
    tt_expect 204
    [ -z "$TT_BODY" ]
    [ -z "$(role_in "$MM_ID" "$uid")" ]
    tt_api -t "$tt" GET /api/v1/tenants/current
    tt_expect 403
    tt_api -t "$tt" GET "/api/v1/tenants/$MM_ID"
    tt_expect 403
    tt_api -t "$idt" GET "/api/v1/tenants/$MM_ID/users"
    tt_expect 403
    tt_api -t "$idt" -H "X-Tenant-ID: $MM_ID" GET /api/v1/tenants/current/settings
    tt_expect 403
    # and cannot get a new tenant token.
    tt_api -t "$idt" POST /api/v1/auth/tenant-token "{\"tenant_id\":\"$MM_ID\"}"
    tt_expect 403
    # The user still exists and still signs in (removal is from the tenant only).
    tt_api -t "$idt" GET /api/v1/tenants
    tt_expect 200
    tt_check 'all(.tenants[]; .id != $t)' --arg t "$MM_ID"
}

@test "a demoted admin's token loses admin rights at once" {
    tt_new_member "$MM_ID" admin mm-demoted-admin
    local uid="$TT_UID" tt="$TT_TTOKEN"
    tt_api -t "$tt" PUT /api/v1/tenants/current/settings '{"settings":{}}'
    tt_expect 200
    set_role "$MM_OWNER_TTOKEN" "$uid" viewer
    tt_expect 200
    tt_api -t "$tt" PUT /api/v1/tenants/current/settings '{"settings":{}}'
    tt_expect 403
    tt_api -t "$tt" POST "/api/v1/tenants/$MM_ID/users/invite" "{\"email\":\"x-$(tt_uniq)@tt.example\",\"role\":\"viewer\"}"
    tt_expect 403
}

@test "role change and removal of a non-member is 404; a bad role is 400; a malformed user id is 400" {
    tt_new_user mm-outsider
    set_role "$MM_ADMIN_TTOKEN" "$TT_UID" viewer
    tt_expect 404
    remove "$MM_ADMIN_TTOKEN" "$TT_UID"
    tt_expect 404
    # A member of another tenant is not a member here.
    set_role "$MM_ADMIN_TTOKEN" "$(tt_sql_owner "SELECT id FROM users WHERE email = 'mia@acme.example'")" viewer
    tt_expect 404
    set_role "$MM_ADMIN_TTOKEN" "$MM_MEMBER_UID" superuser
    tt_expect 400
    set_role "$MM_ADMIN_TTOKEN" "$MM_MEMBER_UID" ""
    tt_expect 400
    tt_api -t "$MM_ADMIN_TTOKEN" PATCH "$(users_path)/$MM_MEMBER_UID/role" '{"role":"viewer","extra":1}'
    tt_expect 400
    set_role "$MM_ADMIN_TTOKEN" not-a-uuid viewer
    tt_expect 400
    remove "$MM_ADMIN_TTOKEN" 12345
    tt_expect 400
    [ "$(role_in "$MM_ID" "$MM_MEMBER_UID")" = member ]
}

@test "members of another tenant cannot list, change or remove members here (403)" {
    tt_fixture_tenant MX business
    tt_api -t "$MX_ADMIN_TTOKEN" GET "$(users_path)"
    tt_expect 403
    set_role "$MX_OWNER_TTOKEN" "$MM_MEMBER_UID" viewer
    tt_expect 403
    remove "$MX_OWNER_TTOKEN" "$MM_MEMBER_UID"
    tt_expect 403
    tt_api -t "$MX_OWNER_TOKEN" DELETE "$(users_path)/$MM_MEMBER_UID"
    tt_expect 403
    [ "$(role_in "$MM_ID" "$MM_MEMBER_UID")" = member ]
}

@test "two owners demoting each other at the same time never leave the tenant without an owner" {
    fresh_tenant
    tt_new_member "$TO_ID" owner mo-race
    local a_uid="$TO_OWNER_UID" a_tt="$TO_OWNER_TT" b_uid="$TT_UID" b_tt="$TT_TTOKEN" b_email="$TT_EMAIL"
    local dir round sa sb
    dir="$(tt_tmp)/race"
    mkdir -p "$dir"
    for round in $(seq 1 15); do
        tt_add_member "$TO_ID" "$TO_OWNER_EMAIL" owner
        tt_add_member "$TO_ID" "$b_email" owner
        tt_curl -X PATCH -H "Authorization: Bearer $a_tt" -H 'Content-Type: application/json' \
            --data-binary '{"role":"admin"}' -o "$dir/a.body" -w '%{http_code}' \
            "$TT_URL$(users_path "$TO_ID")/$b_uid/role" >"$dir/a.status" &
        tt_curl -X PATCH -H "Authorization: Bearer $b_tt" -H 'Content-Type: application/json' \
            --data-binary '{"role":"admin"}' -o "$dir/b.body" -w '%{http_code}' \
            "$TT_URL$(users_path "$TO_ID")/$a_uid/role" >"$dir/b.status" &
        wait
        sa="$(cat "$dir/a.status")" sb="$(cat "$dir/b.status")"
        local owners
        owners="$(owners_in "$TO_ID")"
        echo "round $round: a=$sa b=$sb owners=$owners"
        [ "$owners" -ge 1 ]
        [[ "$sa $sb" != "200 200" ]]
    done
}
