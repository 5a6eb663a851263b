#!/usr/bin/env bats
# users_rls.bats -- the users table under row-level security (sql/009_users_rls.sql),
# as the worker's role (tenantry_app) sees it: no context, no user; a user
# sees their own row, and with a tenant in context its members' rows; a
# superadmin all. What must look across (sign-in, the authorisation
# context, invitation accept) goes through SECURITY DEFINER functions that
# return only what their caller needs; sign-in, a hash upgrade and
# invitation accept still work end to end through the API.

load lib_tenants

# A PHC string made by libargon2 with weaker parameters than ours
# (m=4096, t=3) for the password below: a login with it must upgrade it.
OLD_HASH='$argon2id$v=19$m=4096,t=3,p=1$cmxzZnV6ei1zYWx0LTE2Yg$tFH6/WQlwRq8jwyt9fLu8CSqpQg5y1coMXDTkqNTDSM'
OLD_PASSWORD='rehash-me-please-1'

setup_file() {
    tt_fixture_tenant UA business
    tt_fixture_tenant UB business
    # UA's member also belongs to UB: a co-member of two tenants.
    tt_add_member "$UB_ID" "$UA_MEMBER_EMAIL" viewer
    # Someone in no tenant at all.
    tt_new_user ur-loner
    export LONER_EMAIL="$TT_EMAIL" LONER_UID="$TT_UID"
}

# as_app SETTINGS SQL: one transaction as tenantry_app, after set_config of
# each "name=value" in SETTINGS (space-separated; may be empty), rolled back.
as_app() {
    local s kv sets=""
    for kv in $1; do
        sets+="SELECT set_config('tenantry.${kv%%=*}', '${kv#*=}', true);"$'\n'
    done
    tt_psql "$TENANTRY_TEST_APP_DB_URL" <<EOF
BEGIN;
\o /dev/null
$sets
\o
$2
;
ROLLBACK;
EOF
}

# ids_super WHERE: the ids of users matching WHERE, sorted, comma-separated, as the superuser sees them.
ids_super() {
    tt_sql_super "SELECT coalesce(string_agg(id::text, ',' ORDER BY id), '') FROM users WHERE $1"
}

IDS="SELECT coalesce(string_agg(id::text, ',' ORDER BY id), '') FROM users"

@test "users: RLS enabled and FORCEd; the app role cannot change an e-mail or the superadmin flag" {
    [ "$(tt_sql_super "SELECT relrowsecurity AND relforcerowsecurity FROM pg_class WHERE oid = 'public.users'::regclass")" = t ]
    [ "$(tt_sql_super "SELECT string_agg(c || '=' || has_column_privilege('tenantry_app', 'public.users', c, 'UPDATE'), ',' ORDER BY c)
        FROM unnest('{email,is_superadmin,name,password_hash}'::text[]) c")" = \
        "email=false,is_superadmin=false,name=true,password_hash=true" ]
    run as_app "user_id=$UA_MEMBER_UID" "UPDATE users SET is_superadmin = true WHERE id = '$UA_MEMBER_UID'"
    [ "$status" -ne 0 ]
    [[ "$output" == *"permission denied"* ]]
}

@test "no context: the app role sees no user, no e-mail and no password hash, and can write none" {
    [ "$(tt_sql_super "SELECT count(*) > 10 FROM users")" = t ]
    [ "$(as_app "" "SELECT count(*), count(password_hash), count(email) FROM users")" = "0|0|0" ]
    [ "$(as_app "" "SELECT count(*) FROM users WHERE email = '$UA_OWNER_EMAIL' OR id = '$UA_OWNER_UID'")" = 0 ]
    # After a context's transaction the settings read '' again: nothing.
    [ "$(tt_psql "$TENANTRY_TEST_APP_DB_URL" -c "SELECT set_config('tenantry.superadmin', 'on', true)" \
        -c "SELECT count(*) FROM users")" = "on
0" ]
    [ "$(as_app "" "WITH u AS (UPDATE users SET name = 'hijacked' RETURNING 1) SELECT count(*) FROM u")" = 0 ]
    run as_app "" "INSERT INTO users (email, name, password_hash) VALUES ('ur-$(tt_uniq)@tt.example', 'x', 'x')"
    [ "$status" -ne 0 ]
    [[ "$output" == *"row-level security"* ]]
    [ "$(tt_sql_super "SELECT count(*) FROM users WHERE name = 'hijacked'")" = 0 ]
}

@test "a user in context: only their own row; with a tenant in context, that tenant's members too, nobody else" {
    # Alone: self only, whichever tenants they belong to.
    [ "$(as_app "user_id=$UA_MEMBER_UID" "$IDS")" = "$UA_MEMBER_UID" ]
    [ "$(as_app "user_id=$LONER_UID" "$IDS")" = "$LONER_UID" ]
    # In UA: self + UA's members (UB's other members stay hidden).
    local want
    want="$(ids_super "id IN (SELECT user_id FROM tenant_users WHERE tenant_id = '$UA_ID')")"
    [ "$(echo "$want" | tr ',' '\n' | wc -l)" = 4 ]
    [ "$(as_app "user_id=$UA_MEMBER_UID tenant_id=$UA_ID" "$IDS")" = "$want" ]
    [ "$(as_app "user_id=$UA_MEMBER_UID tenant_id=$UA_ID" "SELECT count(*) FROM users WHERE id = '$UB_OWNER_UID'")" = 0 ]
    # In UB: UB's members (the co-member included), not UA's owner.
    want="$(ids_super "id IN (SELECT user_id FROM tenant_users WHERE tenant_id = '$UB_ID')")"
    [ "$(as_app "user_id=$UA_MEMBER_UID tenant_id=$UB_ID" "$IDS")" = "$want" ]
    [ "$(as_app "user_id=$UA_MEMBER_UID tenant_id=$UB_ID" "SELECT count(*) FROM users WHERE id = '$UA_OWNER_UID'")" = 0 ]
    # The loner in UA's context (as app.ctx() never sets it for a non-member): UA's members and self.
    want="$(ids_super "id = '$LONER_UID' OR id IN (SELECT user_id FROM tenant_users WHERE tenant_id = '$UA_ID')")"
    [ "$(as_app "user_id=$LONER_UID tenant_id=$UA_ID" "$IDS")" = "$want" ]
    # An API key's context (a tenant, no user): the tenant's members.
    want="$(ids_super "id IN (SELECT user_id FROM tenant_users WHERE tenant_id = '$UB_ID')")"
    [ "$(as_app "tenant_id=$UB_ID" "$IDS")" = "$want" ]
    # A superadmin: everyone.
    [ "$(as_app "superadmin=on" "SELECT count(*) FROM users")" = "$(tt_sql_super "SELECT count(*) FROM users")" ]
}

@test "a user updates only their own row, even in a tenant where the other is a member" {
    [ "$(as_app "user_id=$UA_MEMBER_UID tenant_id=$UA_ID" \
        "WITH u AS (UPDATE users SET name = 'renamed' WHERE id = '$UA_OWNER_UID' RETURNING 1) SELECT count(*) FROM u")" = 0 ]
    [ "$(as_app "user_id=$UA_MEMBER_UID tenant_id=$UA_ID" \
        "WITH u AS (UPDATE users SET name = 'renamed' RETURNING id) SELECT string_agg(id::text, ',') FROM u")" = "$UA_MEMBER_UID" ]
}

@test "app.login_user: the id and hash of exactly the e-mail asked, nothing else and nobody else" {
    local want
    want="$(tt_sql_super "SELECT id || '|' || password_hash FROM users WHERE id = '$UA_VIEWER_UID'")"
    [ "$(as_app "" "SELECT * FROM app.login_user('$UA_VIEWER_EMAIL')")" = "$want" ]
    [ "$(as_app "" "SELECT json_object_keys(row_to_json(l)) FROM app.login_user('$UA_VIEWER_EMAIL') l" | sort | tr '\n' ' ')" = "id password_hash " ]
    local e
    for e in "${UA_VIEWER_EMAIL^^}" " $UA_VIEWER_EMAIL" "$UA_VIEWER_EMAIL " "%" "%@tt.example" "${UA_VIEWER_EMAIL%?}_" ""; do
        [ "$(as_app "" "SELECT count(*) FROM app.login_user('$e')")" = 0 ] || tt_fail "login_user('$e') answered"
    done
    [ "$(as_app "" "SELECT count(*) FROM app.login_user(NULL)")" = 0 ]
    # It does not open the table: after it, in the same transaction, still nothing.
    [ "$(as_app "" "SELECT count(*) FROM app.login_user('$UA_VIEWER_EMAIL'); SELECT count(*) FROM users")" = "1
0" ]
}

@test "app.principal: the superadmin flag and the password change time of one user by id, no e-mail, name or hash" {
    [ "$(as_app "" "SELECT json_object_keys(row_to_json(p)) FROM app.principal('$UA_OWNER_UID') p" | sort | tr '\n' ' ')" = \
        "id is_superadmin password_changed_at " ]
    [ "$(as_app "" "SELECT id || '|' || is_superadmin FROM app.principal('$UA_OWNER_UID')")" = "$UA_OWNER_UID|false" ]
    [ "$(as_app "" "SELECT p.is_superadmin FROM app.login_user('$TENANTRY_TEST_ADMIN_EMAIL') l, app.principal(l.id) p")" = t ]
    [ "$(as_app "" "SELECT count(*) FROM app.principal('$(cat /proc/sys/kernel/random/uuid)')")" = 0 ]
    [ "$(as_app "" "SELECT count(*) FROM app.principal(NULL)")" = 0 ]
}

@test "the definer functions: owned by the table's owner, SECURITY DEFINER, search_path pinned, not executable by PUBLIC" {
    local f
    for f in 'app.principal(uuid)' 'app.login_user(text)' 'app.invite_has_account(bytea)' \
        'app.invite_user_create(bytea,uuid,text,text)'; do
        [ "$(tt_sql_super "SELECT p.prosecdef AND pg_get_userbyid(p.proowner) = (SELECT tableowner FROM pg_tables WHERE tablename = 'users')
            AND p.proconfig = '{\"search_path=pg_catalog, pg_temp\"}'
            AND has_function_privilege('tenantry_app', p.oid, 'EXECUTE')
            AND NOT coalesce(array_to_string(p.proacl, ',') ~ '(^|,)=X', true)
            FROM pg_proc p WHERE p.oid = '$f'::regprocedure")" = t ] || tt_fail "$f"
    done
}

# invite_token EMAIL ROLE: an invitation in UA (by UA's admin); prints "token hash-hex".
invite_token() {
    tt_api -t "$UA_ADMIN_TTOKEN" POST "/api/v1/tenants/$UA_ID/users/invite" \
        "$(jq -cn --arg e "$1" --arg r "$2" '{email:$e, role:$r}')"
    tt_expect 201 || return 1
    local t
    t="$(tt_jq .token)"
    printf '%s %s\n' "$t" "$(printf '%s' "$t" | sha256sum | cut -c1-64)"
}

@test "app.invite_has_account: only for an invitation the caller can see (its token's hash or its tenant in context)" {
    local tok h fresh
    read -r tok h < <(invite_token "$UB_OWNER_EMAIL" member)
    # The invitee has an account, but the invitation is invisible without its hash or tenant.
    [ "$(as_app "" "SELECT app.invite_has_account(decode('$h', 'hex'))")" = f ]
    [ "$(as_app "invite_hash=$h" "SELECT app.invite_has_account(decode('$h', 'hex'))")" = t ]
    [ "$(as_app "tenant_id=$UA_ID" "SELECT app.invite_has_account(decode('$h', 'hex'))")" = t ]
    [ "$(as_app "tenant_id=$UB_ID" "SELECT app.invite_has_account(decode('$h', 'hex'))")" = f ]
    # A fresh address has no account.
    read -r tok fresh < <(invite_token "ur-fresh-$(tt_uniq)@tt.example" member)
    [ "$(as_app "invite_hash=$fresh" "SELECT app.invite_has_account(decode('$fresh', 'hex'))")" = f ]
}

@test "app.invite_user_create: an account only for the e-mail of an open invitation the caller can see" {
    local tok h email="ur-make-$(tt_uniq)@tt.example" id
    read -r tok h < <(invite_token "$email" viewer)
    id="$(cat /proc/sys/kernel/random/uuid)"
    # Not visible: nothing made.
    [ "$(as_app "" "SELECT app.invite_user_create(decode('$h', 'hex'), '$id', 'N', 'x') IS NULL")" = t ]
    [ "$(as_app "tenant_id=$UB_ID" "SELECT app.invite_user_create(decode('$h', 'hex'), '$id', 'N', 'x') IS NULL")" = t ]
    # Visible and open: the account carries the invitation's e-mail (read back as a
    # superadmin in the same, rolled-back transaction: not a member yet, the new
    # user is not visible in the tenant's context).
    [ "$(as_app "tenant_id=$UA_ID" "SELECT app.invite_user_create(decode('$h', 'hex'), '$id', 'N', 'x');
        SELECT count(*) FROM users WHERE id = '$id';
        SELECT set_config('tenantry.superadmin', 'on', true);
        SELECT email FROM users WHERE id = '$id'")" = "$id
0
on
$email" ]
    [ "$(tt_sql_super "SELECT count(*) FROM users WHERE id = '$id' OR email = '$email'")" = 0 ]
    # Revoked: nothing.
    tt_sql_super "UPDATE invitations SET revoked_at = now() WHERE token_hash = decode('$h', 'hex')"
    [ "$(as_app "tenant_id=$UA_ID" "SELECT app.invite_user_create(decode('$h', 'hex'), '$id', 'N', 'x') IS NULL")" = t ]
    # An address that has an account: a unique violation, as a plain INSERT would be.
    read -r tok h < <(invite_token "$UB_ADMIN_EMAIL" viewer)
    run as_app "tenant_id=$UA_ID" "SELECT app.invite_user_create(decode('$h', 'hex'), '$id', 'N', 'x')"
    [ "$status" -ne 0 ]
    [[ "$output" == *users_email_key* ]]
}

@test "through the API: sign-in, an old hash upgraded at sign-in, /me and the member list work under RLS" {
    local email="ur-login-$(tt_uniq)@tt.example" uid tok
    uid="$(tt_create_user "$email" "UR Login")"
    tt_add_member "$UA_ID" "$email" member
    tok="$(tt_login "$email")"
    tt_api -t "$tok" GET /api/v1/me
    tt_expect 200
    tt_check '.user.id == $u and .user.email == $e and (.tenants | map(.id) == [$t])' --arg u "$uid" --arg e "$email" --arg t "$UA_ID"
    # A hash with old parameters: the sign-in succeeds and stores ours.
    tt_sql_super "UPDATE users SET password_hash = '$OLD_HASH' WHERE id = '$uid'"
    tt_login "$email" "$OLD_PASSWORD" >/dev/null
    [[ "$(tt_sql_super "SELECT password_hash FROM users WHERE id = '$uid'")" == '$argon2id$v=19$m=19456,t=2,p=1$'* ]]
    tt_login "$email" "$OLD_PASSWORD" >/dev/null
    # A wrong password and an unknown address: the same 401.
    tt_api POST /api/v1/auth/login "$(jq -cn --arg e "$email" '{email:$e, password:"not-the-password"}')"
    tt_expect 401 unauthenticated
    tt_api POST /api/v1/auth/login '{"email":"ur-nobody@tt.example","password":"not-the-password"}'
    tt_expect 401 unauthenticated
    # Members read other users' rows in their tenant's context: the list has every member's e-mail.
    tt_api -t "$(tt_tenant_token "$tok" "$UA_ID")" GET "/api/v1/tenants/$UA_ID/users?limit=100"
    tt_expect 200
    tt_check '(.users | map(.email) | sort) == ([$a, $b, $c, $d, $e] | sort) and .total == 5' \
        --arg a "$UA_OWNER_EMAIL" --arg b "$UA_ADMIN_EMAIL" --arg c "$UA_MEMBER_EMAIL" --arg d "$UA_VIEWER_EMAIL" --arg e "$email"
    # An API key (a tenant, no user) reads them too.
    tt_api -t "$UB_OWNER_TTOKEN" POST "/api/v1/tenants/$UB_ID/api-keys" '{"name":"ur read","scopes":["read"]}'
    tt_expect 201
    tt_api -t "$(tt_jq .key)" GET "/api/v1/tenants/$UB_ID/users?limit=100"
    tt_expect 200
    tt_check '.total == 5 and (.users | map(.email) | index($m)) != null' --arg m "$UA_MEMBER_EMAIL"
}

@test "through the API: invitation accept by a new address (an account with the invitation's e-mail) and by an existing account" {
    local tok h email="ur-accept-$(tt_uniq)@tt.example" uid
    read -r tok h < <(invite_token "$email" member)
    tt_api POST /api/v1/invitations/accept "$(jq -cn --arg t "$tok" '{token:$t, name:"UR New", password:"ur-new-password-1"}')"
    tt_expect 200
    uid="$(tt_jq .user_id)"
    [ "$(tt_sql_super "SELECT email || '|' || name FROM users WHERE id = '$uid'")" = "$email|UR New" ]
    [ "$(tt_sql_super "SELECT role FROM tenant_users WHERE tenant_id = '$UA_ID' AND user_id = '$uid'")" = member ]
    tt_login "$email" ur-new-password-1 >/dev/null
    # An existing account: sign in first (409), then accept with the token.
    read -r tok h < <(invite_token "$UB_VIEWER_EMAIL" viewer)
    tt_api POST /api/v1/invitations/accept "$(jq -cn --arg t "$tok" '{token:$t, name:"UR Dup", password:"ur-dup-password-1"}')"
    tt_expect 409 conflict
    tt_api -t "$UB_VIEWER_TOKEN" POST /api/v1/invitations/accept "$(jq -cn --arg t "$tok" '{token:$t}')"
    tt_expect 200
    tt_check '.user_id == $u and .tenant_id == $t and .role == "viewer"' --arg u "$UB_VIEWER_UID" --arg t "$UA_ID"
    # The invitation page (no one signed in) knows whether the invitee has an account.
    read -r tok h < <(invite_token "$LONER_EMAIL" viewer)
    tt_api GET "/invite/$tok"
    tt_expect 200
    [[ "$TT_BODY" == *"You already have an account"* && "$TT_BODY" != *'name="password"'* ]]
    read -r tok h < <(invite_token "ur-page-$(tt_uniq)@tt.example" viewer)
    tt_api GET "/invite/$tok"
    tt_expect 200
    [[ "$TT_BODY" != *"You already have an account"* && "$TT_BODY" == *'name="password"'* ]]
}
