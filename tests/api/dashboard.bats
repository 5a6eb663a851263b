#!/usr/bin/env bats
# dashboard.bats -- the server-rendered dashboard's HTTP contract, driven with
# curl and a cookie jar per "browser" (SPEC §2 dashboard sessions and CSRF,
# §6 pages, §7 secrets never logged): the session cookie and what the
# database keeps of it, session fixation, sign-in failures, next=, sign-out,
# idle / absolute timeouts and password change, what each role may see and
# post, the headers every page carries, escaping, and the settings, API key,
# member, invitation and activity pages doing what the JSON API does.
#
# Every test makes its own users and workspaces (business tier: API access).

load helpers
load lib_dashboard

# ---- helpers of this file -------------------------------------------------------

# workspace PREFIX: a fresh owner (OWNER_EMAIL OWNER_PW OWNER_ID) and business
# workspace (T_ID T_SLUG).
workspace() {
    new_user "${1}-owner" || return 1
    OWNER_EMAIL="$NEW_EMAIL" OWNER_PW="$NEW_PASSWORD" OWNER_ID="$NEW_ID"
    new_tenant "$1" "$OWNER_EMAIL" business || return 1
    T_ID="$NEW_TENANT_ID" T_SLUG="$NEW_TENANT_SLUG"
}

# owner_tt: the owner's tenant-scoped token for T_ID, in TT.
owner_tt() {
    local idt
    idt="$(login "$OWNER_EMAIL" "$OWNER_PW")" || return 1
    TT="$(tenant_token "$idt" "$T_ID")" || return 1
}

# api_settings: GET the settings with TT; BODY is the settings document.
api_settings() {
    api_as "$TT" GET /api/v1/tenants/current/settings
    expect_status 200
}

# member_role USER_ID: that member's role in T_ID per the API ("" if not a member).
member_role() {
    api_as "$TT" GET "/api/v1/tenants/$T_ID/users?limit=100"
    expect_status 200 || return 1
    jqb --arg u "$1" '[.users[] | select(.user_id == $u) | .role][0] // ""'
}

nginx_access_log() { printf '%s/log/nginx-access.log' "$TENANTRY_TEST_STATE_DIR"; }

# ---- the session cookie ---------------------------------------------------------

@test "session cookie: __Host-tenantry, HttpOnly, Secure, SameSite=Lax, Path=/, no Domain; only its SHA-256 stored, never logged" {
    workspace dc
    local j line name value attrs a
    j="$(jar)"
    sign_in "$j" "$OWNER_EMAIL" "$OWNER_PW"
    expect_redirect /dashboard
    line="$(set_cookie_line "$SESSION_COOKIE")"
    [[ -n "$line" ]] || fail "POST /login set no $SESSION_COOKIE cookie" "$HEADERS"
    [[ "$(grep -ci "^set-cookie: $SESSION_COOKIE=" <<<"$HEADERS")" == 1 ]] ||
        fail "expected one Set-Cookie for $SESSION_COOKIE" "$HEADERS"
    name="${line%%=*}"
    value="${line#*=}"
    value="${value%%;*}"
    [[ "$name" == "$SESSION_COOKIE" ]]
    [[ "$value" =~ $SID_RE ]] || fail "session id '$value' is not 32 base62 characters"
    [[ "$value" == "$SID" ]]
    attrs="$(tr ';' '\n' <<<"${line#*;}" | sed -E 's/^[ \t]+|[ \t]+$//g')"
    grep -qix 'HttpOnly' <<<"$attrs" || fail "no HttpOnly: $line"
    grep -qix 'Secure' <<<"$attrs" || fail "no Secure: $line"
    grep -qix 'SameSite=Lax' <<<"$attrs" || fail "no SameSite=Lax: $line"
    grep -qx 'Path=/' <<<"$attrs" || fail "not Path=/: $line"
    ! grep -qi '^Domain' <<<"$attrs" || fail "a __Host- cookie must not carry Domain: $line"
    while read -r a; do
        [[ -z "$a" ]] || [[ "$a" =~ ^(HttpOnly|Secure|SameSite=Lax|Path=/|Max-Age=[0-9]+|Expires=.*)$ ]] ||
            fail "unexpected cookie attribute '$a': $line"
    done <<<"$attrs"

    # The session works, and is used for a page and a form.
    page "$j" GET "/w/$T_SLUG"
    expect_page 200
    session_csrf "$j"

    # The database holds SHA-256(cookie), never the cookie itself.
    [[ "$(session_rows "$SID")" == 1 ]]
    [[ "$(psql_owner "SELECT count(*) FROM sessions WHERE user_id = '$OWNER_ID'")" == 1 ]]
    [[ "$(psql_owner "SELECT encode(id_hash, 'hex') FROM sessions WHERE user_id = '$OWNER_ID'")" == "$(sha256_hex "$SID")" ]]
    [[ "$(psql_owner "SELECT count(*) FROM sessions s WHERE s::text LIKE '%$SID%'")" == 0 ]]
    [[ "$(psql_owner "SELECT count(*) FROM sessions WHERE encode(id_hash, 'escape') LIKE '%$SID%' OR encode(id_hash, 'hex') = '$SID'")" == 0 ]]

    # Neither the worker log nor nginx's access log ever sees the id (or the password).
    sleep 0.3   # let the log lines land
    [[ -s "$TENANTRY_TEST_WORKER_LOG" ]] || fail "no worker log at $TENANTRY_TEST_WORKER_LOG"
    [[ -s "$(nginx_access_log)" ]] || fail "no nginx access log at $(nginx_access_log)"
    grep -q "dashboard sign-in\|/login" "$TENANTRY_TEST_WORKER_LOG" "$(nginx_access_log)" ||
        fail "the logs show no trace of the sign-in: are these the right files?"
    ! grep -qF "$SID" "$TENANTRY_TEST_WORKER_LOG" || fail "the session id is in the worker log"
    ! grep -qF "$SID" "$(nginx_access_log)" || fail "the session id is in the nginx access log"
    ! grep -qF "$OWNER_PW" "$TENANTRY_TEST_WORKER_LOG" "$(nginx_access_log)" || fail "the password is in a log"
}

@test "session fixation: a planted session id is never promoted; a second sign-in makes a new id and deletes the first" {
    workspace dfx
    local j planted pre first
    j="$(jar)"
    planted="$(openssl rand -base64 48 | tr -dc '0-9A-Za-z' | head -c 32)"
    [[ "$planted" =~ $SID_RE ]]

    # The planted cookie is sent (a dead id: the page clears it and sends to sign in).
    api GET /dashboard "" -H "Accept: $HTML_ACCEPT" -H "Cookie: $SESSION_COOKIE=$planted"
    expect_to_login
    [[ "$(set_cookie_line "$SESSION_COOKIE")" == "$SESSION_COOKIE=;"* ]] ||
        fail "a dead session cookie is not cleared" "$HEADERS"

    # Sign in with the planted id in the request.
    page "$j" GET /login
    expect_page 200
    CSRF="$(scrape_csrf)"
    pre="$(cookie "$j" "$SESSION_COOKIE-pre")"
    [[ -n "$pre" ]] || fail "GET /login set no pre-session cookie"
    api POST /login "" -H "Accept: $HTML_ACCEPT" -H "Cookie: $SESSION_COOKIE-pre=$pre; $SESSION_COOKIE=$planted" \
        --data-urlencode "csrf_token=$CSRF" --data-urlencode "email=$OWNER_EMAIL" \
        --data-urlencode "password=$OWNER_PW"
    expect_redirect /dashboard
    first="$(set_cookie_line "$SESSION_COOKIE")"
    first="${first#*=}"
    first="${first%%;*}"
    [[ "$first" =~ $SID_RE ]] || fail "no new session cookie" "$HEADERS"
    [[ "$first" != "$planted" ]] || fail "the planted session id was kept"
    [[ "$(session_rows "$planted")" == 0 ]]
    [[ "$(session_rows "$first")" == 1 ]]
    # The planted id is still nobody's session.
    api GET /dashboard "" -H "Accept: $HTML_ACCEPT" -H "Cookie: $SESSION_COOKIE=$planted"
    expect_to_login

    # Two sign-ins in one browser: two ids, the first gone server-side.
    sign_in "$j" "$OWNER_EMAIL" "$OWNER_PW"
    first="$SID"
    sign_in "$j" "$OWNER_EMAIL" "$OWNER_PW"
    [[ "$SID" != "$first" ]] || fail "the second sign-in kept the session id"
    [[ "$(session_rows "$first")" == 0 ]] || fail "the first session's row survived the second sign-in"
    [[ "$(session_rows "$SID")" == 1 ]]
    api GET /dashboard "" -H "Accept: $HTML_ACCEPT" -H "Cookie: $SESSION_COOKIE=$first"
    expect_to_login
    page "$j" GET /dashboard
    expect_page 200
}

# ---- sign-in failures ------------------------------------------------------------

@test "sign-in failures: 401 page naming the email but never the password; unknown email reads the same; CSRF token and Origin checked" {
    workspace dlf
    local j wrong="Wr0ng-$(uniqsfx)-pass" msg_wrong msg_unknown ghost
    j="$(jar)"
    page "$j" GET /login
    CSRF="$(scrape_csrf)"

    post_form "$j" /login "csrf_token=$CSRF" "email=$OWNER_EMAIL" "password=$wrong"
    expect_page 401
    body_has "Invalid email or password"
    body_has "value=\"$OWNER_EMAIL\""
    body_lacks "$wrong"
    [[ -z "$(set_cookie_line "$SESSION_COOKIE")" ]] || fail "a failed sign-in set a session cookie"
    msg_wrong="$(grep -o 'role="alert"[^<]*<\?' <<<"$BODY" | head -1)"

    ghost="nobody-$(uniqsfx)@api-tests.example"
    post_form "$j" /login "csrf_token=$CSRF" "email=$ghost" "password=$wrong"
    expect_page 401
    body_has "Invalid email or password"
    body_lacks "$wrong"
    msg_unknown="$(grep -o 'role="alert"[^<]*<\?' <<<"$BODY" | head -1)"
    [[ "$msg_wrong" == "$msg_unknown" ]] || fail "unknown email says '$msg_unknown', wrong password '$msg_wrong'"
    [[ "$(psql_owner "SELECT count(*) FROM sessions WHERE user_id = '$OWNER_ID'")" == 0 ]]

    # No CSRF token: 403, no session.
    post_form "$j" /login "email=$OWNER_EMAIL" "password=$OWNER_PW"
    expect_page 403
    [[ -z "$(set_cookie_line "$SESSION_COOKIE")" ]]
    # A wrong one: 403.
    local bad_token="${CSRF%?}0"
    [[ "$bad_token" != "$CSRF" ]] || bad_token="${CSRF%?}1"
    post_form "$j" /login "csrf_token=$bad_token" "email=$OWNER_EMAIL" "password=$OWNER_PW"
    expect_page 403
    [[ -z "$(set_cookie_line "$SESSION_COOKIE")" ]]
    # A valid token sent from another site: 403.
    post_form "$j" /login "csrf_token=$CSRF" "email=$OWNER_EMAIL" "password=$OWNER_PW" -- \
        -H "Origin: https://evil.example"
    expect_page 403
    [[ -z "$(set_cookie_line "$SESSION_COOKIE")" ]]
    [[ "$(psql_owner "SELECT count(*) FROM sessions WHERE user_id = '$OWNER_ID'")" == 0 ]]
    [[ -z "$(cookie "$j" "$SESSION_COOKIE")" ]]

    # This site's own Origin, and no Origin at all, are accepted with a valid token.
    post_form "$j" /login "csrf_token=$CSRF" "email=$OWNER_EMAIL" "password=$OWNER_PW" -- \
        -H "Origin: $TENANTRY_TEST_URL"
    expect_redirect /dashboard
    [[ "$(cookie "$j" "$SESSION_COOKIE")" =~ $SID_RE ]]
    rm -f "$j"
    page "$j" GET /login
    CSRF="$(scrape_csrf)"
    post_form "$j" /login "csrf_token=$CSRF" "email=$OWNER_EMAIL" "password=$OWNER_PW"
    expect_redirect /dashboard
    [[ "$(cookie "$j" "$SESSION_COOKIE")" =~ $SID_RE ]]
    [[ "$(psql_owner "SELECT count(*) FROM sessions WHERE user_id = '$OWNER_ID'")" == 2 ]]
}

# ---- next= -------------------------------------------------------------------------

@test "next=: a same-site path is followed after sign-in; other sites, scheme-relative, backslash and javascript: go to /dashboard" {
    workspace dnx
    local j bad loc
    j="$(jar)"
    sign_in "$j" "$OWNER_EMAIL" "$OWNER_PW" "/w/$T_SLUG/billing"
    expect_redirect "/w/$T_SLUG/billing"
    page "$j" GET "$(header Location)"
    expect_page 200

    for bad in 'https://evil.example' '//evil.example' '/\evil.example' 'javascript:alert(1)' \
        '/\/evil.example' 'https:/evil.example'; do
        rm -f "$j"
        page "$j" GET "/login?next=$(urlencode "$bad")"
        expect_page 200
        body_lacks 'evil.example'
        body_lacks 'javascript:'
        CSRF="$(scrape_csrf)"
        post_form "$j" /login "csrf_token=$CSRF" "email=$OWNER_EMAIL" "password=$OWNER_PW" "next=$bad"
        expect_status 303
        loc="$(header Location)"
        [[ "$loc" == /dashboard ]] || fail "next=$bad: Location is '$loc', expected /dashboard"
    done
}

@test "a page without a session redirects to /login?next=<the page>, and signing in from there lands on it" {
    workspace dnr
    local j loc next
    j="$(jar)"
    page "$j" GET "/w/$T_SLUG/settings"
    expect_to_login
    loc="$(header Location)"
    [[ "$loc" == "/login?next="* ]] || fail "no next= in '$loc'"
    next="$(urldecode "${loc#/login?next=}")"
    [[ "$next" == "/w/$T_SLUG/settings" ]] || fail "next decodes to '$next'"

    # The query string comes along, encoded so it stays one parameter.
    page "$j" GET "/w/$T_SLUG/billing?month=2026-01"
    expect_to_login
    loc="$(header Location)"
    [[ "$loc" != *"&"* ]] || fail "the next= value is not encoded: $loc"
    [[ "$(urldecode "${loc#/login?next=}")" == "/w/$T_SLUG/billing?month=2026-01" ]] || fail "next in '$loc'"

    # Following the redirect: the form carries next, and sign-in returns there.
    page "$j" GET "/login?next=$(urlencode "/w/$T_SLUG/settings")"
    expect_page 200
    [[ "$(scrape_input next)" == "/w/$T_SLUG/settings" ]] || fail "the form's next is '$(scrape_input next)'"
    sign_in "$j" "$OWNER_EMAIL" "$OWNER_PW" "/w/$T_SLUG/settings"
    expect_redirect "/w/$T_SLUG/settings"
}

# ---- sign-out -------------------------------------------------------------------

@test "sign-out: GET /logout is 405 (Allow: POST); POST needs the token; it clears the cookie and deletes the session" {
    workspace dlo
    local j old line
    j="$(jar)"
    sign_in "$j" "$OWNER_EMAIL" "$OWNER_PW"
    old="$SID"

    page "$j" GET /logout
    expect_status 405
    [[ "$(header Allow)" == POST ]] || fail "Allow is '$(header Allow)', expected POST"
    # Still signed in.
    session_csrf "$j"

    post_form "$j" /logout
    expect_page 403
    post_form "$j" /logout "csrf_token=$CSRF" -- -H "Origin: https://evil.example"
    expect_page 403
    [[ "$(session_rows "$old")" == 1 ]] || fail "a refused sign-out ended the session"

    post_form "$j" /logout "csrf_token=$CSRF"
    expect_redirect /login
    line="$(set_cookie_line "$SESSION_COOKIE")"
    [[ "$line" == "$SESSION_COOKIE=;"* ]] || fail "the session cookie is not cleared: '$line'"
    grep -qiE ';[ ]*(Max-Age=0|Expires=Thu, 01 Jan 1970)' <<<"$line" || fail "the clearing cookie does not expire: $line"
    grep -qi 'Path=/' <<<"$line" && grep -qi 'Secure' <<<"$line" || fail "the clearing cookie lacks Path=/ or Secure: $line"
    # (curl 7.88's jar keeps a cookie whose Set-Cookie has an empty value and
    # Max-Age=0, so the jar is not asserted on: the header above is the contract.)
    [[ "$(session_rows "$old")" == 0 ]] || fail "the session row survived sign-out"

    # Replaying the old cookie: revoked server-side.
    api GET "/w/$T_SLUG" "" -H "Accept: $HTML_ACCEPT" -H "Cookie: $SESSION_COOKIE=$old"
    expect_to_login
    api GET /dashboard "" -H "Accept: $HTML_ACCEPT" -H "Cookie: $SESSION_COOKIE=$old"
    expect_to_login
}

# ---- timeouts and password change -------------------------------------------------

@test "idle timeout follows security.session_timeout_minutes: 4 minutes idle still works, 6 minutes is over at 5" {
    workspace dit
    local j
    j="$(jar)"
    owner_tt
    api_as "$TT" PUT /api/v1/tenants/current/settings '{"settings":{"security":{"session_timeout_minutes":5}}}'
    expect_status 200
    sign_in "$j" "$OWNER_EMAIL" "$OWNER_PW"

    psql_owner "UPDATE sessions SET last_seen_at = now() - interval '4 minutes' WHERE id_hash = decode('$(sha256_hex "$SID")', 'hex')"
    page "$j" GET "/w/$T_SLUG"
    expect_page 200

    psql_owner "UPDATE sessions SET last_seen_at = now() - interval '6 minutes' WHERE id_hash = decode('$(sha256_hex "$SID")', 'hex')"
    page "$j" GET "/w/$T_SLUG"
    expect_to_login
    [[ "$(urldecode "$(header Location | sed 's/^\/login?next=//')")" == "/w/$T_SLUG" ]]
    [[ "$(set_cookie_line "$SESSION_COOKIE")" == "$SESSION_COOKIE=;"* ]] || fail "the dead cookie is not cleared"
    page "$j" GET /dashboard
    expect_to_login
}

# SPEC §2: the idle limit is the tenant's security.session_timeout_minutes,
# and sql/004 promises a tightened policy reaches existing sessions within a
# minute. A session idle 6 minutes when the limit is 5 is over, whenever the
# limit was lowered.
@test "idle timeout: a policy tightened after sign-in applies to a session already idle longer than the new limit" {
    workspace dit2
    local j
    j="$(jar)"
    owner_tt
    sign_in "$j" "$OWNER_EMAIL" "$OWNER_PW"
    page "$j" GET "/w/$T_SLUG"
    expect_page 200
    # The workspace tightens its policy to 5 minutes; this session has been idle for 6.
    api_as "$TT" PUT /api/v1/tenants/current/settings '{"settings":{"security":{"session_timeout_minutes":5}}}'
    expect_status 200
    psql_owner "UPDATE sessions SET last_seen_at = now() - interval '6 minutes' WHERE id_hash = decode('$(sha256_hex "$SID")', 'hex')"
    page "$j" GET "/w/$T_SLUG"
    expect_to_login
}

@test "absolute timeout: a session past expires_at is over" {
    workspace dab
    local j
    j="$(jar)"
    sign_in "$j" "$OWNER_EMAIL" "$OWNER_PW"
    # Created with a 12-hour lifetime.
    [[ "$(psql_owner "SELECT expires_at - created_at BETWEEN interval '11 hours 59 minutes' AND interval '12 hours 1 minute' FROM sessions WHERE id_hash = decode('$(sha256_hex "$SID")', 'hex')")" == t ]]
    page "$j" GET "/w/$T_SLUG"
    expect_page 200
    psql_owner "UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id_hash = decode('$(sha256_hex "$SID")', 'hex')"
    page "$j" GET "/w/$T_SLUG"
    expect_to_login
}

@test "a password change ends the user's sessions" {
    workspace dpw
    local j
    j="$(jar)"
    sign_in "$j" "$OWNER_EMAIL" "$OWNER_PW"
    page "$j" GET "/w/$T_SLUG"
    expect_page 200
    psql_owner "UPDATE users SET password_changed_at = now() WHERE id = '$OWNER_ID'"
    page "$j" GET "/w/$T_SLUG"
    expect_to_login
    page "$j" GET /dashboard
    expect_to_login
}

# The billing page is answered from each worker's cache (the session for
# that workspace, with its deadlines, and the page's totals and charts:
# docs/decisions.md, "The worker's cache"). Every rule of the session path
# holds on a warm cache: the session's cookie is sent by hand, so each of
# the repeated reads (spread over the workers) carries it even after a
# refusal cleared it.
billing_sid() {
    local n="${1:-12}" want="$2" i
    for ((i = 0; i < n; i++)); do
        api GET "/w/$T_SLUG/billing" "" -H "Cookie: $SESSION_COOKIE=$SID" -H "Accept: $HTML_ACCEPT"
        if [[ "$want" == login ]]; then expect_to_login || return 1; else expect_page 200 || return 1; fi
    done
}

@test "cached billing page: a password change, the absolute timeout and a policy tightened in another workspace still end the session" {
    workspace dcb
    local j t2 tt2 hits
    j="$(jar)"
    new_tenant dcb2 "$OWNER_EMAIL" business
    t2="$NEW_TENANT_ID"
    tt2="$(tenant_token "$(login "$OWNER_EMAIL" "$OWNER_PW")" "$t2")"

    sign_in "$j" "$OWNER_EMAIL" "$OWNER_PW"
    billing_sid 16 ok
    hits="$(grep -F "\"tenant\":\"$T_ID\"" "$TENANTRY_TEST_WORKER_LOG" | grep -c '"route":"/w/{slug}/billing".*"cache":"hit"' || true)"
    ((hits > 0)) || fail "the billing page was never answered from the cache"
    psql_owner "UPDATE users SET password_changed_at = now() WHERE id = '$OWNER_ID'"
    billing_sid 12 login

    sign_in "$j" "$OWNER_EMAIL" "$OWNER_PW"
    billing_sid 16 ok
    psql_owner "UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id_hash = decode('$(sha256_hex "$SID")', 'hex')"
    billing_sid 12 login

    # Idle 6 minutes (last_seen_at is moved back by hand: a keep-alive is
    # no notification), then the OTHER workspace tightens its policy to 5:
    # the session's idle limit is the strictest of the user's workspaces,
    # which reaches this workspace's cached session only through
    # 006_session_cache.sql (u:<member>).
    sign_in "$j" "$OWNER_EMAIL" "$OWNER_PW"
    billing_sid 16 ok
    psql_owner "UPDATE sessions SET last_seen_at = now() - interval '6 minutes' WHERE id_hash = decode('$(sha256_hex "$SID")', 'hex')"
    api_as "$tt2" PUT /api/v1/tenants/current/settings '{"settings":{"security":{"session_timeout_minutes":5}}}'
    expect_status 200
    billing_sid 12 login
}

# A workspace renamed shows its new name in every member's switcher at once,
# also on a cached page of another workspace (006_session_cache.sql).
@test "cached billing page: the workspace switcher follows a rename of another workspace" {
    workspace dcn
    local j t2 tt2 i
    j="$(jar)"
    new_tenant dcn2 "$OWNER_EMAIL" business
    t2="$NEW_TENANT_ID"
    tt2="$(tenant_token "$(login "$OWNER_EMAIL" "$OWNER_PW")" "$t2")"
    sign_in "$j" "$OWNER_EMAIL" "$OWNER_PW"
    billing_sid 16 ok
    api_as "$tt2" PUT /api/v1/tenants/current/settings '{"name":"Renamed dcn2 workspace"}'
    expect_status 200
    for ((i = 0; i < 12; i++)); do
        api GET "/w/$T_SLUG/billing" "" -H "Cookie: $SESSION_COOKIE=$SID" -H "Accept: $HTML_ACCEPT"
        expect_page 200
        body_has "Renamed dcn2 workspace"
    done
}

# ---- authorisation through pages --------------------------------------------------

@test "a viewer: 403 pages for billing, API keys, activity and a settings POST (nothing changes); overview and settings readable" {
    workspace dvw
    local j v0 name0 p
    j="$(jar)"
    new_user dvw-viewer
    add_member "$T_ID" "$NEW_EMAIL" viewer
    sign_in "$j" "$NEW_EMAIL" "$NEW_PASSWORD"

    page "$j" GET "/w/$T_SLUG"
    expect_page 200
    page "$j" GET "/w/$T_SLUG/settings"
    expect_page 200
    body_lacks 'Save settings'
    for p in billing api-keys activity activity.csv; do
        page "$j" GET "/w/$T_SLUG/$p"
        expect_page 403
        body_has "This needs the admin or owner role."
    done

    owner_tt
    api_settings
    v0="$(jqb .version)"
    api_as "$TT" GET "/api/v1/tenants/$T_ID"
    name0="$(jqb .name)"
    session_csrf "$j"
    post_form "$j" "/w/$T_SLUG/settings" "csrf_token=$CSRF" "version=$v0" "name=Viewer was here" \
        "branding_primary_color=#ff0000" "notifications_email_enabled=on" \
        "security_session_timeout_minutes=30" "security_ip_whitelist="
    expect_page 403
    body_has "This needs the admin or owner role."
    api_settings
    [[ "$(jqb .version)" == "$v0" ]] || fail "the settings changed: version $v0 -> $(jqb .version)"
    [[ "$(jqb .settings.branding.primary_color)" == '#000000' ]]
    api_as "$TT" GET "/api/v1/tenants/$T_ID"
    [[ "$(jqb .name)" == "$name0" ]]
}

@test "cross-tenant: a member of A gets 403 on B's pages (and on a workspace that does not exist)" {
    workspace dxa
    local j a_slug="$T_SLUG"
    j="$(jar)"
    new_user dxa-member
    add_member "$T_ID" "$NEW_EMAIL" admin
    local m_email="$NEW_EMAIL" m_pw="$NEW_PASSWORD"
    workspace dxb
    sign_in "$j" "$m_email" "$m_pw"
    page "$j" GET "/w/$a_slug"
    expect_page 200
    page "$j" GET "/w/$T_SLUG"
    expect_page 403
    body_lacks "API test $T_SLUG"
    page "$j" GET "/w/$T_SLUG/settings"
    expect_page 403
    page "$j" GET "/w/$T_SLUG/members"
    expect_page 403
    session_csrf "$j"
    post_form "$j" "/w/$T_SLUG/api-keys" "csrf_token=$CSRF" "name=cross" "scope=read"
    expect_page 403
    page "$j" GET "/w/no-such-$(uniqsfx)"
    expect_page 403
}

@test "/admin/tenants: 200 for a superadmin (search works), 403 for anyone else" {
    workspace dad
    local j k
    j="$(jar su)" k="$(jar owner)"
    sign_in "$j" "$TENANTRY_TEST_ADMIN_EMAIL" "$TENANTRY_TEST_ADMIN_PASSWORD"
    page "$j" GET "/admin/tenants?q=$T_SLUG"
    expect_page 200
    body_has "$T_SLUG"
    sign_in "$k" "$OWNER_EMAIL" "$OWNER_PW"
    page "$k" GET /admin/tenants
    expect_page 403
    body_has "This needs a superadmin."
    body_lacks "All tenants (operator)"
}

@test "an unknown page is a 404 page; a malformed billing month is a 400 page" {
    workspace dnf
    local j
    j="$(jar)"
    sign_in "$j" "$OWNER_EMAIL" "$OWNER_PW"
    page "$j" GET "/w/$T_SLUG/no-such-page"
    expect_page 404
    page "$j" GET "/no-such-page-$(uniqsfx)"
    expect_page 404
    page "$j" GET "/w/$T_SLUG/billing?month=2026-13"
    expect_page 400
    page "$j" GET "/w/$T_SLUG/billing?month=garbage"
    expect_page 400
    page "$j" GET "/w/$T_SLUG/billing?month=2026-01"
    expect_page 200
    body_has "2026-01"
    body_has "<svg"
    # A malformed id in a page's path is a 400 page too, not the API's JSON.
    page "$j" GET "/w/$T_SLUG/api-keys/not-a-uuid/revoke"
    expect_page 400
    page "$j" GET "/w/$T_SLUG/members/12345/remove"
    expect_page 400
}

# ---- headers ----------------------------------------------------------------------

@test "every page: no-store, a strict CSP (no 'unsafe-inline', frame-ancestors 'none'), X-Frame-Options DENY, Referrer-Policy, text/html; the stylesheet comes from nginx" {
    workspace dhd
    local j p csp
    j="$(jar)"
    sign_in "$j" "$OWNER_EMAIL" "$OWNER_PW"
    for p in /dashboard "/w/$T_SLUG" "/w/$T_SLUG/settings" "/w/$T_SLUG/billing" "/w/$T_SLUG/api-keys" \
        "/w/$T_SLUG/members" "/w/$T_SLUG/activity" /admin/tenants "/w/$T_SLUG/nope" /login; do
        page "$j" GET "$p"
        [[ "$STATUS" =~ ^(200|403|404)$ ]] || fail "$p: $STATUS"
        [[ "$(header Content-Type)" == "text/html; charset=utf-8" ]] || fail "$p: Content-Type '$(header Content-Type)'"
        [[ "$(header Cache-Control)" == *no-store* ]] || fail "$p: Cache-Control '$(header Cache-Control)'"
        csp="$(header Content-Security-Policy)"
        [[ -n "$csp" && "$(header_count Content-Security-Policy)" == 1 ]] || fail "$p: CSP '$csp' ($(header_count Content-Security-Policy) headers)"
        [[ "$csp" != *unsafe-inline* && "$csp" != *unsafe-eval* ]] || fail "$p: CSP allows unsafe-*: $csp"
        [[ "$csp" == *"frame-ancestors 'none'"* ]] || fail "$p: CSP without frame-ancestors 'none': $csp"
        [[ "$csp" == *"script-src 'self'"* || ("$csp" == *"default-src 'self'"* && "$csp" != *script-src*) ]] ||
            fail "$p: scripts not limited to 'self': $csp"
        [[ "$(header X-Frame-Options)" == DENY ]] || fail "$p: X-Frame-Options '$(header X-Frame-Options)'"
        [[ -n "$(header Referrer-Policy)" ]] || fail "$p: no Referrer-Policy"
        [[ "$(header X-Content-Type-Options)" == nosniff ]] || fail "$p: X-Content-Type-Options"
        # No inline script in the markup.
        ! grep -qiE '<script>|<script [^>]*>[^<]|on(click|load|submit)=' <<<"$BODY" || fail "$p: inline script"
    done
    api GET /static/app.css
    expect_status 200
    [[ "$(header Content-Type)" == text/css* ]] || fail "app.css Content-Type '$(header Content-Type)'"
    grep -q '{' <<<"$BODY" || fail "app.css is empty"
}

# ---- escaping -----------------------------------------------------------------------

@test "escaping: a workspace named <script>… shows escaped on its pages, never as markup" {
    workspace des
    local j evil='<script>alert(1)</script> & "q"' p
    j="$(jar)"
    owner_tt
    api_as "$TT" PATCH "/api/v1/tenants/$T_ID" "$(jq -cn --arg n "$evil" '{name: $n}')"
    expect_status 200
    [[ "$(jqb .name)" == "$evil" ]]
    sign_in "$j" "$OWNER_EMAIL" "$OWNER_PW"
    for p in "/w/$T_SLUG" /dashboard "/w/$T_SLUG/settings"; do
        page "$j" GET "$p"
        expect_page 200
        body_has '&lt;script&gt;alert(1)&lt;/script&gt; &amp; '
        grep -qE '&amp; (&quot;|&#34;|&#x22;)q(&quot;|&#34;|&#x22;)' <<<"$BODY" || fail "$p: the quotes are not escaped" "$BODY"
        body_lacks '<script>alert'
        body_lacks '"q"'
    done
}

# ---- settings form ------------------------------------------------------------------

@test "settings form: a valid POST saves (303, flash, API shows it, audit row); a stale version is 412; a bad colour is 422; neither changes anything" {
    workspace dst
    local j v name2 v2
    j="$(jar)"
    owner_tt
    sign_in "$j" "$OWNER_EMAIL" "$OWNER_PW"
    page "$j" GET "/w/$T_SLUG/settings"
    expect_page 200
    CSRF="$(scrape_csrf)"
    v="$(scrape_input version)"
    [[ -n "$v" ]] || fail "no version in the settings form"
    [[ "$(scrape_input branding_primary_color)" == '#000000' ]]
    name2="Renamed $(uniqsfx)"
    post_form "$j" "/w/$T_SLUG/settings" "csrf_token=$CSRF" "version=$v" "name=$name2" \
        "branding_primary_color=#12ab34" "branding_logo_url=https://cdn.example.com/logo.png" \
        "notifications_email_enabled=on" "security_session_timeout_minutes=45" \
        "security_ip_whitelist=10.0.0.0/8 127.0.0.1/32"
    expect_redirect "/w/$T_SLUG/settings"
    page "$j" GET "/w/$T_SLUG/settings"
    expect_page 200
    body_has "Settings saved."
    body_has 'value="#12ab34"'
    page "$j" GET "/w/$T_SLUG/settings"
    body_lacks "Settings saved."   # shown once

    api_settings
    check_body '.settings.branding.primary_color == "#12ab34" and .settings.branding.logo_url == "https://cdn.example.com/logo.png"
        and .settings.security.session_timeout_minutes == 45 and .settings.security.ip_whitelist == ["10.0.0.0/8","127.0.0.1/32"]
        and .settings.notifications.email_enabled == true and .settings.security.mfa_required == false'
    v2="$(jqb .version)"
    [[ "$v2" != "$v" ]]
    api_as "$TT" GET "/api/v1/tenants/$T_ID"
    [[ "$(jqb .name)" == "$name2" ]]
    [[ "$(psql_in_tenant "$TENANTRY_TEST_OWNER_DB_URL" "$T_ID" \
        "SELECT count(*) FROM audit_log WHERE tenant_id = '$T_ID' AND action = 'settings.updated' AND actor_id = '$OWNER_ID';")" -ge 1 ]] ||
        fail "no settings.updated audit row by the owner"

    # Stale: someone saves through the API after this form was loaded.
    page "$j" GET "/w/$T_SLUG/settings"
    v="$(scrape_input version)"
    api_as "$TT" PUT /api/v1/tenants/current/settings '{"settings":{"branding":{"primary_color":"#222222"}}}'
    expect_status 200
    v2="$(jqb .version)"
    post_form "$j" "/w/$T_SLUG/settings" "csrf_token=$CSRF" "version=$v" "name=Stale $name2" \
        "branding_primary_color=#333333" "notifications_email_enabled=on" \
        "security_session_timeout_minutes=45" "security_ip_whitelist=10.0.0.0/8 127.0.0.1/32"
    expect_page 412
    body_has "Someone else changed these settings"
    api_settings
    [[ "$(jqb .settings.branding.primary_color)" == '#222222' && "$(jqb .version)" == "$v2" ]] ||
        fail "a stale form changed the settings" "$BODY"
    api_as "$TT" GET "/api/v1/tenants/$T_ID"
    [[ "$(jqb .name)" == "$name2" ]]

    # Invalid: "blue" is not #RRGGBB.
    post_form "$j" "/w/$T_SLUG/settings" "csrf_token=$CSRF" "version=$v2" "name=$name2" \
        "branding_primary_color=blue" "notifications_email_enabled=on" \
        "security_session_timeout_minutes=45" "security_ip_whitelist=10.0.0.0/8 127.0.0.1/32"
    expect_page 422
    body_has 'id="branding_primary_color-err"'
    body_has 'value="blue"'
    grep -qE 'id="branding_primary_color-err">[^<]+<' <<<"$BODY" || fail "no message next to the colour field" "$BODY"
    api_settings
    [[ "$(jqb .settings.branding.primary_color)" == '#222222' && "$(jqb .version)" == "$v2" ]] ||
        fail "an invalid form changed the settings" "$BODY"
}

# ---- CSRF on workspace forms -------------------------------------------------------

@test "workspace forms: no token, another session's token, the sign-in form's token or a foreign Origin is 403 and changes nothing" {
    workspace dcf
    local j o other origin
    j="$(jar)" o="$(jar other)"
    owner_tt
    new_user dcf-admin
    add_member "$T_ID" "$NEW_EMAIL" admin
    sign_in "$o" "$NEW_EMAIL" "$NEW_PASSWORD"
    session_csrf "$o"
    other="$CSRF"
    page "$j" GET /login
    local pre_token
    pre_token="$(scrape_csrf)"
    sign_in "$j" "$OWNER_EMAIL" "$OWNER_PW"
    session_csrf "$j"
    [[ "$CSRF" != "$other" && "$CSRF" != "$pre_token" ]] || fail "two sessions share a CSRF token"

    post_form "$j" "/w/$T_SLUG/api-keys" "name=no-token" "scope=read"
    expect_page 403
    post_form "$j" "/w/$T_SLUG/api-keys" "csrf_token=$other" "name=other-session" "scope=read"
    expect_page 403
    post_form "$j" "/w/$T_SLUG/api-keys" "csrf_token=$pre_token" "name=pre-session" "scope=read"
    expect_page 403
    for origin in https://evil.example null "http://${TENANTRY_TEST_URL#https://}" "$TENANTRY_TEST_URL.evil.example"; do
        post_form "$j" "/w/$T_SLUG/api-keys" "csrf_token=$CSRF" "name=origin" "scope=read" -- -H "Origin: $origin"
        expect_page 403
    done
    api_as "$TT" GET "/api/v1/tenants/$T_ID/api-keys"
    expect_status 200
    [[ "$(jqb '.api_keys | length')" == 0 ]] || fail "a refused form made a key" "$BODY"

    # The same form with its own token (and this site's Origin) works.
    post_form "$j" "/w/$T_SLUG/api-keys" "csrf_token=$CSRF" "name=good" "scope=read" -- -H "Origin: $TENANTRY_TEST_URL"
    expect_page 201
    api_as "$TT" GET "/api/v1/tenants/$T_ID/api-keys"
    [[ "$(jqb '.api_keys | length')" == 1 ]]
}

# ---- API keys ------------------------------------------------------------------------

@test "API keys page: create shows the tnt_ key once (and it works), the list never shows it, revoke asks first and then the key is 401" {
    workspace dky
    local j key kid kname="page-key-$(uniqsfx)"
    j="$(jar)"
    sign_in "$j" "$OWNER_EMAIL" "$OWNER_PW"
    page "$j" GET "/w/$T_SLUG/api-keys"
    expect_page 200
    CSRF="$(scrape_csrf)"
    post_form "$j" "/w/$T_SLUG/api-keys" "csrf_token=$CSRF" "name=$kname" "scope=read"
    expect_page 201
    key="$(grep -oE 'tnt_[0-9A-Za-z]{38}' <<<"$BODY" | sort -u)"
    [[ "$(wc -l <<<"$key")" == 1 && -n "$key" ]] || fail "expected one tnt_ key on the page, got: $key"
    api_as "$key" GET /api/v1/tenants/current
    expect_status 200
    [[ "$(jqb .id)" == "$T_ID" ]]

    page "$j" GET "/w/$T_SLUG/api-keys"
    expect_page 200
    body_has "$kname"
    body_lacks "$key"
    body_lacks "${key:0:20}"
    kid="$(grep -oE "/w/$T_SLUG/api-keys/$UUID_RE/revoke" <<<"$BODY" | head -1 | grep -oE "$UUID_RE")"
    [[ -n "$kid" ]] || fail "no revoke link on the keys page" "$BODY"

    page "$j" GET "/w/$T_SLUG/api-keys/$kid/revoke"
    expect_page 200
    body_has "$kname"
    body_has "action=\"/w/$T_SLUG/api-keys/$kid/revoke\""
    api_as "$key" GET /api/v1/tenants/current
    expect_status 200   # the confirmation page revokes nothing

    post_form "$j" "/w/$T_SLUG/api-keys/$kid/revoke" "csrf_token=$CSRF"
    expect_redirect "/w/$T_SLUG/api-keys"
    api_as "$key" GET /api/v1/tenants/current
    expect_error 401 unauthenticated
    page "$j" GET "/w/$T_SLUG/api-keys"
    body_has "The API key was revoked."
    [[ "$(psql_in_tenant "$TENANTRY_TEST_OWNER_DB_URL" "$T_ID" \
        "SELECT count(*) FROM audit_log WHERE tenant_id = '$T_ID' AND action IN ('api_key.created', 'api_key.revoked') AND target_id = '$kid';")" == 2 ]]
}

# ---- members --------------------------------------------------------------------------

@test "members page: invite shows a link, a role change takes effect, the last owner cannot be demoted, removal asks first and takes effect at once" {
    workspace dmb
    local j mj m_id m_email m_pw inv role
    j="$(jar owner)" mj="$(jar member)"
    owner_tt
    new_user dmb-member
    m_id="$NEW_ID" m_email="$NEW_EMAIL" m_pw="$NEW_PASSWORD"
    add_member "$T_ID" "$m_email" member
    sign_in "$mj" "$m_email" "$m_pw"
    sign_in "$j" "$OWNER_EMAIL" "$OWNER_PW"
    page "$j" GET "/w/$T_SLUG/members"
    expect_page 200
    body_has "$m_email"
    CSRF="$(scrape_csrf)"

    inv="invitee-$(uniqsfx)@api-tests.example"
    post_form "$j" "/w/$T_SLUG/members" "csrf_token=$CSRF" action=invite "email=$inv" role=viewer
    expect_page 201
    grep -qE "value=\"[^\"]*/invite/[0-9A-Za-z_-]{20,}\"" <<<"$BODY" || fail "no invitation link on the page" "$BODY"
    body_has "$inv"

    post_form "$j" "/w/$T_SLUG/members" "csrf_token=$CSRF" action=role "user_id=$m_id" role=admin
    expect_redirect "/w/$T_SLUG/members"
    [[ "$(member_role "$m_id")" == admin ]]
    page "$mj" GET "/w/$T_SLUG/billing"   # the new role applies to the member's next request
    expect_page 200

    post_form "$j" "/w/$T_SLUG/members" "csrf_token=$CSRF" action=role "user_id=$OWNER_ID" role=admin
    [[ "$STATUS" =~ ^4[0-9][0-9]$ ]] || fail "demoting the last owner: $STATUS"
    [[ "$(header Content-Type)" == "text/html; charset=utf-8" ]]
    grep -q 'role="alert"' <<<"$BODY" || fail "no error shown" "$BODY"
    [[ "$(member_role "$OWNER_ID")" == owner ]] || fail "the last owner was demoted"

    page "$j" GET "/w/$T_SLUG/members/$m_id/remove"
    expect_page 200
    body_has "$m_email"
    body_has "action=\"/w/$T_SLUG/members/$m_id/remove\""
    [[ "$(member_role "$m_id")" == admin ]] || fail "the confirmation page removed the member"
    post_form "$j" "/w/$T_SLUG/members/$m_id/remove" "csrf_token=$CSRF"
    expect_redirect "/w/$T_SLUG/members"
    [[ -z "$(member_role "$m_id")" ]] || fail "the member is still listed"
    page "$mj" GET "/w/$T_SLUG"
    expect_page 403
}

# ---- invitations ----------------------------------------------------------------------

@test "invitation page: shows the workspace, a new user joins with name and password (303 + session), the link then answers 410" {
    workspace div
    local j k idt tok inv pw="Inv-$(uniqsfx)-pass" uid
    j="$(jar invitee)" k="$(jar later)"
    idt="$(login "$OWNER_EMAIL" "$OWNER_PW")"
    inv="joiner-$(uniqsfx)@api-tests.example"
    api_as "$idt" POST "/api/v1/tenants/$T_ID/users/invite" "$(jq -cn --arg e "$inv" '{email: $e, role: "member"}')"
    expect_status 201
    tok="$(jqb .token)"
    [[ -n "$tok" && "$tok" != null ]]

    page "$j" GET "/invite/$tok"
    expect_page 200
    body_has "API test $T_SLUG"
    body_has "$inv"
    CSRF="$(scrape_csrf)"
    [[ -n "$CSRF" && -n "$(cookie "$j" "$SESSION_COOKIE-pre")" ]]

    # Without the token: 403, nothing created.
    post_form "$j" "/invite/$tok" "name=Joiner" "password=$pw"
    expect_page 403
    [[ "$(psql_owner "SELECT count(*) FROM users WHERE email = '$inv'")" == 0 ]]

    post_form "$j" "/invite/$tok" "csrf_token=$CSRF" "name=Joiner" "password=$pw"
    expect_redirect "/w/$T_SLUG"
    [[ "$(set_cookie_line "$SESSION_COOKIE")" =~ ^$SESSION_COOKIE=[0-9A-Za-z]{32}\; ]] || fail "no session cookie" "$HEADERS"
    page "$j" GET "/w/$T_SLUG"
    expect_page 200
    body_has "Welcome! You joined the workspace."
    uid="$(psql_owner "SELECT id FROM users WHERE email = '$inv'")"
    [[ -n "$uid" ]]
    owner_tt
    [[ "$(member_role "$uid")" == member ]]

    # The link is used up: 410, for the page and for another POST.
    page "$k" GET "/invite/$tok"
    expect_page 410
    body_lacks 'name="password"'
    page "$k" GET /login   # the same pre-session, so the same form token
    CSRF="$(scrape_csrf)"
    post_form "$k" "/invite/$tok" "csrf_token=$CSRF" "name=Again" "password=$pw"
    expect_page 410
    [[ -z "$(cookie "$k" "$SESSION_COOKIE")" ]]
    page "$k" GET "/invite/Nope$(uniqsfx)Nope0000000000000"
    expect_page 404
}

# ---- activity CSV ---------------------------------------------------------------------

@test "activity.csv: text/csv with the header row and the workspace's events" {
    workspace dcs
    local j
    j="$(jar)"
    owner_tt
    api_as "$TT" PATCH "/api/v1/tenants/$T_ID" '{"name":"CSV export check"}'
    expect_status 200
    sign_in "$j" "$OWNER_EMAIL" "$OWNER_PW"
    page "$j" GET "/w/$T_SLUG/activity.csv"
    expect_status 200
    [[ "$(header Content-Type)" == text/csv* ]] || fail "Content-Type '$(header Content-Type)'"
    [[ "$(head -1 <<<"$BODY" | tr -d '\r')" == id,occurred_at,actor_type,actor_id,actor_label,action,* ]] ||
        fail "no header row: $(head -1 <<<"$BODY")"
    grep -q ',tenant.updated,' <<<"$BODY" || fail "the rename is not in the CSV" "$BODY"
    page "$j" GET "/w/$T_SLUG/activity"
    expect_page 200
    body_has "tenant.updated"
}

@test "/w/{slug}/members: a GET search box (e-mail or name) and pages chained by cursor; /admin/tenants pages by cursor too" {
    workspace dms
    local j i u next
    u="$(uniqsfx)"
    j="$(jar ms)"
    for i in $(seq 1 3); do
        create_user "dms$i-$u@example.com" "Findable Person $i" "dms-password-$i" >/dev/null
        add_member "$T_ID" "dms$i-$u@example.com" viewer
    done
    sign_in "$j" "$OWNER_EMAIL" "$OWNER_PW"
    page "$j" GET "/w/$T_SLUG/members"
    expect_page 200
    body_has 'role="search"'
    body_has 'method="get" action="/w/'"$T_SLUG"'/members"'
    body_has '4 members'
    body_has "<td>$OWNER_EMAIL</td>"
    page "$j" GET "/w/$T_SLUG/members?q=FINDABLE%20person"
    expect_page 200
    body_has '3 matching members'
    body_has "dms1-$u@example.com"
    body_lacks "<td>$OWNER_EMAIL</td>"
    page "$j" GET "/w/$T_SLUG/members?q=nobody-$u"
    expect_page 200
    body_has "No member matches"
    # Two a page: the next page's link carries the cursor and the search.
    page "$j" GET "/w/$T_SLUG/members?q=findable&limit=2"
    expect_page 200
    next="$(grep -o 'href="[^"]*cursor=[^"]*"' <<<"$BODY" | head -n 1 | sed -e 's/^href="//' -e 's/"$//' -e 's/&amp;/\&/g')"
    [[ "$next" == "/w/$T_SLUG/members?cursor="*"&q=findable" ]] || fail "no next link: $next"
    page "$j" GET "$next&limit=2"
    expect_page 200
    body_has "dms3-$u@example.com"
    body_lacks "dms1-$u@example.com"
    body_has "First page"
    page "$j" GET "/w/$T_SLUG/members?cursor=not-a-cursor"
    expect_page 400
    # The operator's list.
    local k
    k="$(jar ms-su)"
    sign_in "$k" "$TENANTRY_TEST_ADMIN_EMAIL" "$TENANTRY_TEST_ADMIN_PASSWORD"
    page "$k" GET "/admin/tenants?limit=1&status=active"
    expect_page 200
    next="$(grep -o 'href="/admin/tenants?cursor=[^"]*"' <<<"$BODY" | head -n 1 | sed -e 's/^href="//' -e 's/"$//' -e 's/&amp;/\&/g')"
    [[ "$next" == *"&status=active" ]] || fail "no next link on /admin/tenants: $next"
    page "$k" GET "$next&limit=1"
    expect_page 200
    body_has "First page"
}
