#!/usr/bin/env bats
# account_sessions.bats -- a user's own dashboard sessions (issue 12): listed
# (device, address, times, which one is this browser) on /account and by
# GET /api/v1/me/sessions; one ended, or every other one, by the user only;
# an ended session is refused on every worker within SPEC §2's bound; each
# ending is audited. Sessions are named by a public id, never their hash.

load lib_tenants

setup_file() {
    tt_fixture_tenant AS business
    tt_fixture_tenant AO business
}

HTML='text/html,application/xhtml+xml'
UA_FIREFOX='Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'

# signin JAR EMAIL [USER_AGENT]: a dashboard session in JAR.
signin() {
    local jar="$1" email="$2" ua="${3:-curl/bats}" csrf
    tt_curl -c "$jar" -b "$jar" -A "$ua" -H "Accept: $HTML" -o "$BATS_TEST_TMPDIR/l.html" "$TT_URL/login"
    csrf="$(grep -o 'name="csrf_token" value="[^"]*"' "$BATS_TEST_TMPDIR/l.html" | head -1 | sed -E 's/.*value="([^"]*)"/\1/')"
    [[ "$(tt_curl -c "$jar" -b "$jar" -A "$ua" -H "Accept: $HTML" -o /dev/null -w '%{http_code}' \
        --data-urlencode "csrf_token=$csrf" --data-urlencode "email=$email" \
        --data-urlencode "password=$TT_PASSWORD" "$TT_URL/login")" == 303 ]]
}

# page JAR METHOD PATH [curl args]: TT_STATUS, TT_BODY, TT_HEADERS.
page() {
    local jar="$1" m="$2" p="$3"
    shift 3
    TT_STATUS="$(tt_curl -X "$m" -c "$jar" -b "$jar" -H "Accept: $HTML" -D "$BATS_TEST_TMPDIR/h" \
        -o "$BATS_TEST_TMPDIR/p.html" -w '%{http_code}' "$@" "$TT_URL$p")"
    TT_BODY="$(cat "$BATS_TEST_TMPDIR/p.html")"
    TT_HEADERS="$(tr -d '\r' <"$BATS_TEST_TMPDIR/h")"
}

csrf_of_body() {
    grep -o 'name="csrf_token" value="[^"]*"' <<<"$TT_BODY" | head -1 | sed -E 's/.*value="([^"]*)"/\1/'
}

# alive JAR: the session in JAR still opens /account (200), else 303 to sign in.
alive() {
    page "$1" GET /account
    [[ "$TT_STATUS" == 200 ]]
}

# gone_within JAR: the session in JAR is refused within 2 s (SPEC §2).
gone_within() {
    local i
    for i in $(seq 1 20); do
        page "$1" GET /account
        [[ "$TT_STATUS" == 303 ]] && return 0
        sleep 0.1
    done
    return 1
}

@test "the API lists the user's live sessions: public ids, device and address, no secret" {
    local a="$BATS_TEST_TMPDIR/a" b="$BATS_TEST_TMPDIR/b"
    signin "$a" "$AS_MEMBER_EMAIL" "$UA_FIREFOX"
    signin "$b" "$AS_MEMBER_EMAIL"
    tt_api -t "$AS_MEMBER_TOKEN" GET /api/v1/me/sessions
    tt_expect 200
    tt_check '(.sessions | length) == 2 and all(.sessions[]; (.id | test("^[0-9a-f-]{36}$")) and .client_addr != null
        and (.created_at | test("Z$")) and .current == false and (keys | sort) == ["client_addr","created_at","current","expires_at","id","last_seen_at","user_agent"])'
    tt_check 'any(.sessions[]; .user_agent | contains("Firefox"))'
    # Nothing in it could be made into a cookie: no hash, no CSRF token.
    local sid
    sid="$(awk -F'\t' '$6 == "__Host-tenantry" { print $7 }' "$a")"
    [[ -n "$sid" ]]
    ! grep -qF "$sid" <<<"$TT_BODY"
    ! grep -qF "$(printf '%s' "$sid" | sha256sum | cut -d' ' -f1)" <<<"$TT_BODY"
    # Another user sees only their own (none).
    tt_api -t "$AO_ADMIN_TOKEN" GET /api/v1/me/sessions
    tt_expect 200
    tt_check '.sessions == []'
}

@test "/account shows the sessions, marks this browser, and offers to sign out the others" {
    local a="$BATS_TEST_TMPDIR/a" b="$BATS_TEST_TMPDIR/b"
    signin "$a" "$AS_VIEWER_EMAIL" "$UA_FIREFOX"
    signin "$b" "$AS_VIEWER_EMAIL"
    page "$a" GET /account
    [[ "$TT_STATUS" == 200 ]]
    grep -qF "Firefox on Linux" <<<"$TT_BODY"
    [[ "$(grep -c 'this browser' <<<"$TT_BODY")" == 1 ]]
    [[ "$(grep -c 'name="action" value="end_session"' <<<"$TT_BODY")" == 1 ]]
    # Every form posts to the page itself (SPEC §6).
    [[ "$(grep -c '<form method="post" action="/account"' <<<"$TT_BODY")" == 2 ]]
    grep -qF "Sign out everywhere else" <<<"$TT_BODY"
    # The header links to it.
    grep -qF 'href="/account"' <<<"$TT_BODY"
}

@test "ending one session: 204, refused on every worker within the bound, audited; a stranger's try is 404 and ends nothing" {
    local a="$BATS_TEST_TMPDIR/a" b="$BATS_TEST_TMPDIR/b" id
    signin "$a" "$AS_ADMIN_EMAIL"
    signin "$b" "$AS_ADMIN_EMAIL"
    # Warm every worker with b (its context and the session's cache entry).
    local i
    for i in 1 2 3 4 5 6; do alive "$b"; done
    page "$b" GET /account
    id="$(grep -o 'name="session" value="[0-9a-f-]*"' <<<"$TT_BODY" | head -1 | sed -E 's/.*value="([^"]*)"/\1/')"
    [[ -n "$id" ]]   # a's session, as b sees it
    # Someone else cannot end it, nor learn that it exists.
    tt_api -t "$AO_OWNER_TOKEN" DELETE "/api/v1/me/sessions/$id"
    tt_expect 404 not_found
    alive "$a"
    # Its user can, with a bearer token too.
    tt_api -t "$AS_ADMIN_TOKEN" DELETE "/api/v1/me/sessions/$id"
    tt_expect 204
    gone_within "$a"
    alive "$b"
    tt_api -t "$AS_ADMIN_TOKEN" DELETE "/api/v1/me/sessions/$id"
    tt_expect 404 not_found
    # Account events have no workspace: only an operator (here the superuser) reads them.
    [[ "$(tt_psql "$(tt_super_url)" -c "SELECT count(*) FROM audit_log WHERE tenant_id IS NULL
        AND action = 'session.revoked' AND target_id = '$id' AND actor_id = '$AS_ADMIN_UID'")" == 1 ]]
    # A malformed id is 400 before anything runs.
    tt_api -t "$AS_ADMIN_TOKEN" DELETE /api/v1/me/sessions/not-a-uuid
    tt_expect 400 invalid_request
}

@test "the dashboard signs out every other session, keeps this one, and says so; the form needs its CSRF token" {
    local a="$BATS_TEST_TMPDIR/a" b="$BATS_TEST_TMPDIR/b" c="$BATS_TEST_TMPDIR/c" csrf
    signin "$a" "$AS_OWNER_EMAIL"
    signin "$b" "$AS_OWNER_EMAIL"
    signin "$c" "$AS_OWNER_EMAIL"
    page "$a" GET /account
    csrf="$(csrf_of_body)"
    # Without the token: 403, nothing ended.
    page "$a" POST /account --data-urlencode action=end_others
    [[ "$TT_STATUS" == 403 ]]
    alive "$b"
    page "$a" POST /account --data-urlencode action=no_such_thing --data-urlencode "csrf_token=$csrf"
    [[ "$TT_STATUS" == 400 ]]
    alive "$b"
    page "$a" POST /account --data-urlencode action=end_session --data-urlencode session=not-a-uuid --data-urlencode "csrf_token=$csrf"
    [[ "$TT_STATUS" == 400 ]]
    page "$a" POST /account --data-urlencode action=end_others --data-urlencode "csrf_token=$csrf"
    [[ "$TT_STATUS" == 303 ]]
    grep -qi '^location: /account$' <<<"$TT_HEADERS"
    page "$a" GET /account
    [[ "$TT_STATUS" == 200 ]]
    grep -qF "Every other session is signed out." <<<"$TT_BODY"
    grep -qF "You are signed in nowhere else." <<<"$TT_BODY"
    gone_within "$b"
    gone_within "$c"
    alive "$a"
}

@test "DELETE /api/v1/me/sessions with a bearer token ends every session of the user" {
    local a="$BATS_TEST_TMPDIR/a" b="$BATS_TEST_TMPDIR/b"
    tt_new_member "$AS_ID" member as-all || return 1
    local email="$TT_EMAIL" token="$TT_TOKEN"
    signin "$a" "$email"
    signin "$b" "$email"
    tt_api -t "$token" DELETE /api/v1/me/sessions
    tt_expect 200
    tt_check '.ended == 2'
    gone_within "$a"
    gone_within "$b"
    tt_api -t "$token" GET /api/v1/me/sessions
    tt_check '.sessions == []'
}
