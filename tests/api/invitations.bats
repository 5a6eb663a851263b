#!/usr/bin/env bats
# invitations.bats -- invite, the invitation email, accept (new and existing
# users), and every refused token: used 410, expired 410, revoked 410,
# replaced 410, unknown 404; refused accepts create nothing.

load lib_tenants

setup_file() {
    tt_fixture_tenant IV business
}

# invite TOKEN EMAIL ROLE: POST .../users/invite in IV; sets INV_TOKEN INV_ID INV_URL.
invite() {
    tt_api -t "$1" POST "/api/v1/tenants/$IV_ID/users/invite" \
        "$(jq -cn --arg e "$2" --arg r "$3" '{email:$e, role:$r}')"
    tt_expect 201
    INV_TOKEN="$(tt_jq .token)"
    INV_ID="$(tt_jq .invitation.id)"
    INV_URL="$(tt_jq .invite_url)"
}

# accept_new TOKEN NAME [PASSWORD]: a new user accepts (no bearer).
accept_new() {
    tt_api POST /api/v1/invitations/accept \
        "$(jq -cn --arg t "$1" --arg n "$2" --arg p "${3:-$TT_PASSWORD}" '{token:$t, name:$n, password:$p}')"
}

# accept_as IDENTITY_TOKEN TOKEN: an existing user accepts.
accept_as() {
    tt_api -t "$1" POST /api/v1/invitations/accept "$(jq -cn --arg t "$2" '{token:$t}')"
}

# The counts that a refused accept must not change: "users tenant_users invitations_open".
counts() {
    local u m i
    u="$(tt_sql_owner "SELECT count(*) FROM users")"
    m="$(tt_sql_in_tenant "$TENANTRY_TEST_OWNER_DB_URL" "$IV_ID" "SELECT count(*) FROM tenant_users")"
    i="$(tt_sql_in_tenant "$TENANTRY_TEST_OWNER_DB_URL" "$IV_ID" \
        "SELECT count(*) FROM invitations WHERE accepted_at IS NULL AND revoked_at IS NULL")"
    printf '%s %s %s' "$u" "$m" "$i"
}

# role_of EMAIL: the member's role in IV, from the API ("" if not a member).
role_of() {
    tt_api -t "$IV_ADMIN_TTOKEN" GET "/api/v1/tenants/$IV_ID/users?limit=100"
    tt_expect 200
    tt_jq --arg e "$1" '.users[] | select(.email == $e) | .role'
}

@test "invite: 201 with the invitation, a URL-safe token, invite_url, 7 days; the token is stored hashed" {
    local email="inv-shape-$(tt_uniq)@$TT_DOMAIN"
    invite "$IV_ADMIN_TTOKEN" "$email" member
    tt_check '.invitation.email == $e and .invitation.role == "member" and (.invitation.id | test("^[0-9a-f-]{36}$"))' --arg e "$email"
    [[ "$INV_TOKEN" =~ ^[A-Za-z0-9_-]{22,}$ ]]
    [[ "$INV_URL" == https://*"/invite/$INV_TOKEN" ]]
    # expires_at: 7 days from now (give or take a minute).
    local exp now
    exp="$(tt_jq '.invitation.expires_at | fromdateiso8601')"
    now="$(date +%s)"
    [ $((exp - now)) -gt $((7 * 86400 - 120)) ]
    [ $((exp - now)) -lt $((7 * 86400 + 120)) ]
    # Stored as SHA-256, never in clear.
    run tt_sql_in_tenant "$TENANTRY_TEST_OWNER_DB_URL" "$IV_ID" \
        "SELECT token_hash = sha256(convert_to('$INV_TOKEN', 'UTF8')),
                position('$INV_TOKEN' in row_to_json(i)::text) = 0
           FROM invitations i WHERE id = '$INV_ID'"
    [ "$status" -eq 0 ]
    [ "$output" = "t|t" ]
    # Pending: listed (without the token), and counted in stats.
    tt_api -t "$IV_ADMIN_TTOKEN" GET "/api/v1/tenants/$IV_ID/invitations"
    tt_expect 200
    tt_check 'any(.invitations[]; .id == $i and .email == $e and .role == "member" and .expires_at != null)' --arg i "$INV_ID" --arg e "$email"
    [[ "$TT_BODY" != *"$INV_TOKEN"* ]]
}

@test "invite: the email arrives in the mail sink with the invite_url" {
    local email="inv-mail-$(tt_uniq)@$TT_DOMAIN" f="" i
    invite "$IV_ADMIN_TTOKEN" "$email" viewer
    for i in $(seq 1 50); do
        f="$(tt_mail_for "$email")" && break
        sleep 0.1
    done
    [ -n "$f" ]
    grep -qF "$INV_URL" "$f"
    grep -qiE '^Subject: .+' "$f"
    grep -qF "$IV_NAME" "$f"
}

@test "accept by a new user (name + password): 200, can log in, and is a member with the invited role" {
    local email="inv-new-$(tt_uniq)@$TT_DOMAIN"
    invite "$IV_ADMIN_TTOKEN" "$email" member
    accept_new "$INV_TOKEN" "New Member"
    tt_expect 200
    tt_check '.tenant_id == $t and .role == "member" and (.user_id | test("^[0-9a-f-]{36}$"))' --arg t "$IV_ID"
    local uid
    uid="$(tt_jq .user_id)"
    tt_api POST /api/v1/auth/login "$(jq -cn --arg e "$email" --arg p "$TT_PASSWORD" '{email:$e, password:$p}')"
    tt_expect 200
    local tok
    tok="$(tt_jq .access_token)"
    tt_check 'any(.tenants[]; .id == $t and .role == "member") and .user.id == $u and .user.name == "New Member"' \
        --arg t "$IV_ID" --arg u "$uid"
    [ "$(role_of "$email")" = member ]
    # and acts as one: reads the tenant, cannot invite.
    local tt
    tt="$(tt_tenant_token "$tok" "$IV_ID")"
    tt_api -t "$tt" GET /api/v1/tenants/current
    tt_expect 200
    tt_check '.user_role == "member"'
    tt_api -t "$tt" POST "/api/v1/tenants/$IV_ID/users/invite" '{"email":"x-'"$(tt_uniq)"'@tt.example","role":"viewer"}'
    tt_expect 403
    # No longer pending.
    tt_api -t "$IV_ADMIN_TTOKEN" GET "/api/v1/tenants/$IV_ID/invitations"
    tt_check 'all(.invitations[]; .email != $e)' --arg e "$email"
}

@test "a second accept of the same token is 410 invitation_used and creates nothing" {
    local email="inv-twice-$(tt_uniq)@$TT_DOMAIN"
    invite "$IV_ADMIN_TTOKEN" "$email" viewer
    accept_new "$INV_TOKEN" "First Accept"
    tt_expect 200
    local before after
    before="$(counts)"
    accept_new "$INV_TOKEN" "Second Accept"
    tt_expect 410 invitation_used
    accept_new "$INV_TOKEN" "Third Accept" "another-password-1"
    tt_expect 410 invitation_used
    # Not even for a signed-in user.
    accept_as "$IV_MEMBER_TOKEN" "$INV_TOKEN"
    tt_expect 410 invitation_used
    after="$(counts)"
    [ "$before" = "$after" ]
    [ "$(role_of "$email")" = viewer ]
    # The first password still works; nobody replaced it.
    tt_login "$email" >/dev/null
}

@test "an unknown token is 404 invitation_not_found and creates nothing" {
    local before
    before="$(counts)"
    accept_new "NoSuchInvitationToken$(tt_uniq)abcdef" "Nobody"
    tt_expect 404 invitation_not_found
    accept_as "$IV_MEMBER_TOKEN" "NoSuchInvitationToken$(tt_uniq)abcdef"
    tt_expect 404 invitation_not_found
    [ "$(counts)" = "$before" ]
}

@test "an expired invitation is 410 invitation_expired and creates nothing" {
    local email="inv-exp-$(tt_uniq)@$TT_DOMAIN"
    invite "$IV_ADMIN_TTOKEN" "$email" member
    tt_sql_in_tenant "$TENANTRY_TEST_OWNER_DB_URL" "$IV_ID" \
        "UPDATE invitations SET expires_at = now() - interval '1 minute' WHERE id = '$INV_ID'"
    local before
    before="$(counts)"
    accept_new "$INV_TOKEN" "Too Late"
    tt_expect 410 invitation_expired
    [ "$(counts)" = "$before" ]
    [ -z "$(role_of "$email")" ]
    [ "$(tt_sql_owner "SELECT count(*) FROM users WHERE email = '$email'")" = 0 ]
    # Expired invitations are not pending.
    tt_api -t "$IV_ADMIN_TTOKEN" GET "/api/v1/tenants/$IV_ID/invitations"
    tt_check 'all(.invitations[]; .id != $i)' --arg i "$INV_ID"
}

@test "a revoked invitation (DELETE .../invitations/{id}) is 410 invitation_revoked; revoking twice is 404" {
    local email="inv-rev-$(tt_uniq)@$TT_DOMAIN"
    invite "$IV_OWNER_TTOKEN" "$email" admin
    tt_api -t "$IV_ADMIN_TTOKEN" DELETE "/api/v1/tenants/$IV_ID/invitations/$INV_ID"
    tt_expect 204
    tt_api -t "$IV_ADMIN_TTOKEN" GET "/api/v1/tenants/$IV_ID/invitations"
    tt_check 'all(.invitations[]; .id != $i)' --arg i "$INV_ID"
    local before
    before="$(counts)"
    accept_new "$INV_TOKEN" "Revoked Person"
    tt_expect 410 invitation_revoked
    [ "$(counts)" = "$before" ]
    [ "$(tt_sql_owner "SELECT count(*) FROM users WHERE email = '$email'")" = 0 ]
    tt_api -t "$IV_ADMIN_TTOKEN" DELETE "/api/v1/tenants/$IV_ID/invitations/$INV_ID"
    tt_expect 404
    # A member may not revoke.
    invite "$IV_ADMIN_TTOKEN" "inv-rev2-$(tt_uniq)@$TT_DOMAIN" viewer
    tt_api -t "$IV_MEMBER_TTOKEN" DELETE "/api/v1/tenants/$IV_ID/invitations/$INV_ID"
    tt_expect 403
}

@test "re-inviting the same email replaces the pending invitation: the old token is 410, the new one works" {
    local email="inv-again-$(tt_uniq)@$TT_DOMAIN"
    invite "$IV_ADMIN_TTOKEN" "$email" viewer
    local old_token="$INV_TOKEN" old_id="$INV_ID"
    invite "$IV_ADMIN_TTOKEN" "$email" member
    [ "$INV_TOKEN" != "$old_token" ]
    tt_api -t "$IV_ADMIN_TTOKEN" GET "/api/v1/tenants/$IV_ID/invitations"
    tt_check '[.invitations[] | select(.email == $e)] | length == 1 and .[0].id == $i and .[0].role == "member"' \
        --arg e "$email" --arg i "$INV_ID"
    local before
    before="$(counts)"
    accept_new "$old_token" "Old Link"
    tt_expect 410
    [ "$(counts)" = "$before" ]
    accept_new "$INV_TOKEN" "New Link"
    tt_expect 200
    tt_check '.role == "member"'
    [ "$(role_of "$email")" = member ]
    [ "$old_id" != "$INV_ID" ]
}

@test "an existing user accepts with their identity token (no password): 200 with the invited role" {
    tt_new_user inv-existing
    local email="$TT_EMAIL" uid="$TT_UID" tok
    tok="$(tt_login "$email")"
    invite "$IV_ADMIN_TTOKEN" "$email" admin
    # Signed in: only the token; a password as well is refused.
    tt_api -t "$tok" POST /api/v1/invitations/accept "$(jq -cn --arg t "$INV_TOKEN" '{token:$t, password:"whatever-123"}')"
    tt_expect 400
    local before
    before="$(tt_sql_owner "SELECT count(*) FROM users")"
    accept_as "$tok" "$INV_TOKEN"
    tt_expect 200
    tt_check '.tenant_id == $t and .user_id == $u and .role == "admin"' --arg t "$IV_ID" --arg u "$uid"
    [ "$(tt_sql_owner "SELECT count(*) FROM users")" = "$before" ]
    [ "$(role_of "$email")" = admin ]
    # The same identity token now reaches the tenant as admin.
    tt_api -t "$tok" GET "/api/v1/tenants/$IV_ID/invitations"
    tt_expect 200
}

@test "an existing email accepting without a token (as a new user) is 409 and creates nothing" {
    tt_new_user inv-exists
    local email="$TT_EMAIL"
    invite "$IV_ADMIN_TTOKEN" "$email" member
    local before
    before="$(counts)"
    accept_new "$INV_TOKEN" "Impostor" "impostor-password-1"
    tt_expect 409 conflict
    [ "$(counts)" = "$before" ]
    # The account's password is untouched and the invitation still open.
    tt_login "$email" >/dev/null
    if tt_login "$email" impostor-password-1 >/dev/null 2>&1; then false; fi
    accept_as "$(tt_login "$email")" "$INV_TOKEN"
    tt_expect 200
}

@test "the invitation of another address accepted with someone else's identity token is 403 and creates nothing" {
    local email="inv-other-$(tt_uniq)@$TT_DOMAIN"
    invite "$IV_ADMIN_TTOKEN" "$email" admin
    tt_new_user inv-thief
    local thief_tok
    thief_tok="$(tt_login "$TT_EMAIL")"
    local before
    before="$(counts)"
    accept_as "$thief_tok" "$INV_TOKEN"
    tt_expect 403
    # A member of the tenant cannot take it either (and keeps their role).
    accept_as "$IV_VIEWER_TOKEN" "$INV_TOKEN"
    tt_expect 403
    [ "$(counts)" = "$before" ]
    [ "$(role_of "$IV_VIEWER_EMAIL")" = viewer ]
    # Still usable by its addressee.
    accept_new "$INV_TOKEN" "Rightful Owner"
    tt_expect 200
}

@test "accept needs an identity token when signed in: a tenant-scoped token is 401" {
    local email="inv-tt-$(tt_uniq)@$TT_DOMAIN"
    invite "$IV_ADMIN_TTOKEN" "$email" viewer
    accept_as "$IV_MEMBER_TTOKEN" "$INV_TOKEN"
    tt_expect 401
}

@test "a new user must give a name and a password (400), and nothing is created" {
    local email="inv-half-$(tt_uniq)@$TT_DOMAIN"
    invite "$IV_ADMIN_TTOKEN" "$email" viewer
    local before
    before="$(counts)"
    tt_api POST /api/v1/invitations/accept "$(jq -cn --arg t "$INV_TOKEN" '{token:$t, name:"No Password"}')"
    tt_expect 400
    tt_api POST /api/v1/invitations/accept "$(jq -cn --arg t "$INV_TOKEN" '{token:$t, password:"no-name-password"}')"
    tt_expect 400
    tt_api POST /api/v1/invitations/accept "$(jq -cn --arg t "$INV_TOKEN" '{token:$t, name:"Short", password:"short"}')"
    tt_expect 400
    [ "$(counts)" = "$before" ]
}

@test "two concurrent accepts of one token: exactly one 200, one 410, one member" {
    local email="inv-race-$(tt_uniq)@$TT_DOMAIN" dir
    invite "$IV_ADMIN_TTOKEN" "$email" member
    dir="$(tt_tmp)/race"
    mkdir -p "$dir"
    local n
    for n in a b; do
        tt_curl -X POST -H 'Content-Type: application/json' \
            --data-binary "$(jq -cn --arg t "$INV_TOKEN" --arg n "Racer $n" '{token:$t, name:$n, password:"race-password-1"}')" \
            -o "$dir/$n.body" -w '%{http_code}' "$TT_URL/api/v1/invitations/accept" >"$dir/$n.status" &
    done
    wait
    local s
    s="$(cat "$dir/a.status") $(cat "$dir/b.status")"
    echo "statuses: $s"
    # The loser is refused as "used" (410), or at worst as a conflict on the email (409).
    [[ "$s" == "200 410" || "$s" == "410 200" || "$s" == "200 409" || "$s" == "409 200" ]]
    [ "$(tt_sql_owner "SELECT count(*) FROM users WHERE email = '$email'")" = 1 ]
    [ "$(role_of "$email")" = member ]
}

@test "inviting an address that is already a member is 409" {
    tt_api -t "$IV_ADMIN_TTOKEN" POST "/api/v1/tenants/$IV_ID/users/invite" \
        "$(jq -cn --arg e "$IV_MEMBER_EMAIL" '{email:$e, role:"admin"}')"
    tt_expect 409
    [ "$(role_of "$IV_MEMBER_EMAIL")" = member ]
}

@test "invite: only an owner (or superadmin) invites an owner; a member cannot invite; bad role or email is 400" {
    local email="inv-own-$(tt_uniq)@$TT_DOMAIN"
    tt_api -t "$IV_ADMIN_TTOKEN" POST "/api/v1/tenants/$IV_ID/users/invite" "$(jq -cn --arg e "$email" '{email:$e, role:"owner"}')"
    tt_expect 403
    tt_api -t "$IV_MEMBER_TTOKEN" POST "/api/v1/tenants/$IV_ID/users/invite" "$(jq -cn --arg e "$email" '{email:$e, role:"viewer"}')"
    tt_expect 403
    tt_api -t "$IV_ADMIN_TTOKEN" POST "/api/v1/tenants/$IV_ID/users/invite" "$(jq -cn --arg e "$email" '{email:$e, role:"superuser"}')"
    tt_expect 400
    tt_api -t "$IV_ADMIN_TTOKEN" POST "/api/v1/tenants/$IV_ID/users/invite" '{"email":"not-an-email","role":"viewer"}'
    tt_expect 400
    invite "$IV_OWNER_TTOKEN" "$email" owner
    accept_new "$INV_TOKEN" "Second Owner"
    tt_expect 200
    tt_check '.role == "owner"'
    [ "$(role_of "$email")" = owner ]
}
