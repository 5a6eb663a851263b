#!/usr/bin/env bats
# ip_allowlist.bats -- a workspace's IP allow-list (settings security.ip_whitelist)
# holds every credential that acts in the workspace: tenant tokens, identity
# tokens with X-Tenant-ID, API keys, dashboard sessions. Outside it: 403
# ip_not_allowed (the dashboard: a page naming the address). The test stack
# trusts 127.0.0.1 as a proxy (scripts/dev test sets TENANTRY_TRUSTED_PROXIES),
# so each request names the client address it comes from in X-Forwarded-For.

load lib_tenants

setup_file() {
    tt_fixture_tenant IA business
    tt_fixture_tenant IB business
    export IA_KEY SUPER
    SUPER="$(tt_admin_token)"
    tt_api -t "$IA_OWNER_TTOKEN" POST "/api/v1/tenants/$IA_ID/api-keys" '{"name":"allow-list key","scopes":["read","write"]}'
    [[ "$TT_STATUS" == 201 ]] || tt_fail "key: $TT_STATUS $TT_BODY"
    IA_KEY="$(tt_jq .key)"
}

# allow LIST...: set IA's allow-list straight in the database (as the owner role), then
# wait until the workers answer by it (SPEC §2: a change reaches every worker within 2 s).
allow() {
    local list
    list="$(printf '%s\n' "$@" | jq -R . | jq -sc 'map(select(. != ""))')"
    tt_sql_in_tenant "$TENANTRY_TEST_OWNER_DB_URL" "$IA_ID" "
        UPDATE tenants SET settings = jsonb_set(settings, '{security,ip_whitelist}', '$list'::jsonb)
        WHERE id = :'tid'::uuid RETURNING 1;" >/dev/null
    sleep 2.2
}

# as ADDR CRED: GET IA's current tenant with credential CRED (tt, identity, key, super,
# other) from client address ADDR; sets TT_STATUS / TT_BODY.
as() {
    local addr="$1" cred="$2"
    local -a h=(-H "X-Forwarded-For: $addr")
    case "$cred" in
        tt) tt_api -t "$IA_VIEWER_TTOKEN" "${h[@]}" GET /api/v1/tenants/current ;;
        identity) tt_api -t "$IA_ADMIN_TOKEN" "${h[@]}" -H "X-Tenant-ID: $IA_ID" GET /api/v1/tenants/current ;;
        key) tt_api -t "$IA_KEY" "${h[@]}" GET /api/v1/tenants/current ;;
        usage) tt_api -t "$IA_OWNER_TTOKEN" "${h[@]}" GET /api/v1/tenants/current/usage ;;
        super) tt_api -t "$SUPER" "${h[@]}" -H "X-Tenant-ID: $IA_ID" GET /api/v1/tenants/current ;;
        other) tt_api -t "$IB_ADMIN_TOKEN" "${h[@]}" -H "X-Tenant-ID: $IA_ID" GET /api/v1/tenants/current ;;
        *) tt_fail "unknown credential $cred" ;;
    esac
}

# cells LIST_NAME < TABLE: every "address credential expected" line, each checked.
cells() {
    local addr cred want n=0 bad=0 code
    local -a out=()
    while read -r addr cred want; do
        [[ -z "$addr" || "$addr" == \#* ]] && continue
        as "$addr" "$cred"
        n=$((n + 1))
        code="$(tt_jq '.error.code // empty' 2>/dev/null || true)"
        if [[ "$TT_STATUS${code:+/$code}" != "$want" ]]; then
            bad=$((bad + 1))
            out+=("$1: $cred from $addr: expected $want, got $TT_STATUS${code:+/$code}: ${TT_BODY:0:200}")
        fi
    done
    printf '%s\n' "${out[@]}" >&2
    [ "$n" -gt 0 ]
    [ "$bad" -eq 0 ]
}

@test "an empty allow-list lets every address in, with every credential" {
    allow
    cells empty <<'EOF'
198.51.100.1  tt        200
2001:db8::1   identity  200
203.0.113.7   key       200
198.51.100.1  super     200
EOF
}

@test "IPv4 list: inside is served, outside is 403 ip_not_allowed for every credential; a non-member learns nothing of the list" {
    allow 203.0.113.0/24 192.0.2.10
    cells ipv4 <<'EOF'
203.0.113.7     tt        200
203.0.113.255   identity  200
192.0.2.10      key       200
203.0.113.1     usage     200
::ffff:203.0.113.9  tt    200
198.51.100.1    tt        403/ip_not_allowed
192.0.2.11      identity  403/ip_not_allowed
203.0.114.1     key       403/ip_not_allowed
10.0.0.1        usage     403/ip_not_allowed
198.51.100.1    super     403/ip_not_allowed
198.51.100.1    other     403/permission_denied
203.0.113.7     other     403/permission_denied
EOF
    # The refusal names the address the request came from, never the list.
    as 198.51.100.1 tt
    tt_check '.error.message | contains("198.51.100.1") and (contains("203.0.113") | not)'
}

@test "IPv6 list (and a mixed one): prefix boundaries hold" {
    allow 2001:db8:abcd::/48 10.0.0.0/8
    cells ipv6 <<'EOF'
2001:db8:abcd::1        tt   200
2001:db8:abcd:ffff::9   key  200
2001:db8:abce::1        tt   403/ip_not_allowed
2001:db9::1             key  403/ip_not_allowed
10.255.255.255          tt   200
11.0.0.0                tt   403/ip_not_allowed
EOF
}

@test "X-Forwarded-For is read from the right: a client cannot prepend an allowed address" {
    allow 203.0.113.0/24
    as "203.0.113.7, 198.51.100.1" tt
    tt_expect 403 ip_not_allowed
    as "198.51.100.1, 203.0.113.7" tt
    tt_expect 200
    # A malformed hop is not an address: the last trusted hop (127.0.0.1) is the client.
    as "203.0.113.7, not-an-address" tt
    tt_expect 403 ip_not_allowed
}

@test "signing in is not acting in a workspace; getting a tenant token for it is" {
    allow 203.0.113.0/24
    tt_api -H "X-Forwarded-For: 198.51.100.1" POST /api/v1/auth/login \
        "$(jq -cn --arg e "$IA_MEMBER_EMAIL" --arg p "$TT_PASSWORD" '{email:$e,password:$p}')"
    tt_expect 200
    local idt
    idt="$(tt_jq .access_token)"
    tt_api -t "$idt" -H "X-Forwarded-For: 198.51.100.1" POST /api/v1/auth/tenant-token "{\"tenant_id\":\"$IA_ID\"}"
    tt_expect 403 ip_not_allowed
    tt_api -t "$idt" -H "X-Forwarded-For: 203.0.113.50" POST /api/v1/auth/tenant-token "{\"tenant_id\":\"$IA_ID\"}"
    tt_expect 200
}

@test "a change of the list reaches cached contexts within the propagation bound" {
    allow 203.0.113.0/24
    as 203.0.113.7 usage
    tt_expect 200
    as 203.0.113.7 usage   # now answered from the worker's cache
    tt_expect 200
    allow 192.0.2.0/24
    as 203.0.113.7 usage
    tt_expect 403 ip_not_allowed
    as 192.0.2.1 usage
    tt_expect 200
}

@test "the lock-out guard: a list that leaves out the saver's own address needs confirm_ip_lockout" {
    allow
    local before
    before="$(tt_sql_in_tenant "$TENANTRY_TEST_OWNER_DB_URL" "$IA_ID" "SELECT settings::text FROM tenants WHERE id = :'tid'::uuid")"
    tt_api -t "$IA_OWNER_TTOKEN" -H "X-Forwarded-For: 198.51.100.1" PUT /api/v1/tenants/current/settings \
        '{"settings":{"security":{"ip_whitelist":["203.0.113.0/24"]}}}'
    tt_expect 422 invalid_settings
    tt_check '.error.details[0].field == "settings.security.ip_whitelist" and (.error.details[0].problem | contains("198.51.100.1"))'
    [[ "$(tt_sql_in_tenant "$TENANTRY_TEST_OWNER_DB_URL" "$IA_ID" "SELECT settings::text FROM tenants WHERE id = :'tid'::uuid")" == "$before" ]]
    # A list that holds the saver's address needs no confirmation.
    tt_api -t "$IA_OWNER_TTOKEN" -H "X-Forwarded-For: 203.0.113.7" PUT /api/v1/tenants/current/settings \
        '{"settings":{"security":{"ip_whitelist":["203.0.113.0/24"]}}}'
    tt_expect 200
    # Confirmed, the guard steps aside -- and then the saver's address is outside.
    tt_api -t "$IA_OWNER_TTOKEN" -H "X-Forwarded-For: 203.0.113.7" PUT /api/v1/tenants/current/settings \
        '{"settings":{"security":{"ip_whitelist":["192.0.2.0/24"]}},"confirm_ip_lockout":true}'
    tt_expect 200
    sleep 2.2
    as 203.0.113.7 tt
    tt_expect 403 ip_not_allowed
    as 192.0.2.5 tt
    tt_expect 200
    # confirm_ip_lockout is a boolean, like every field.
    tt_api -t "$IA_OWNER_TTOKEN" -H "X-Forwarded-For: 192.0.2.5" PUT /api/v1/tenants/current/settings \
        '{"settings":{"security":{"ip_whitelist":[]}},"confirm_ip_lockout":"yes"}'
    tt_expect 400 invalid_request
    allow
}

# ---- the dashboard ------------------------------------------------------------

HTML='text/html,application/xhtml+xml'

# signin JAR EMAIL ADDR: a dashboard session from ADDR.
signin() {
    local jar="$1" email="$2" addr="$3" csrf
    tt_curl -c "$jar" -b "$jar" -H "Accept: $HTML" -H "X-Forwarded-For: $addr" -o "$BATS_TEST_TMPDIR/login.html" "$TT_URL/login"
    csrf="$(grep -o 'name="csrf_token" value="[^"]*"' "$BATS_TEST_TMPDIR/login.html" | head -1 | sed -E 's/.*value="([^"]*)"/\1/')"
    [[ -n "$csrf" ]]
    tt_curl -c "$jar" -b "$jar" -H "Accept: $HTML" -H "X-Forwarded-For: $addr" -o /dev/null -w '%{http_code}' \
        --data-urlencode "csrf_token=$csrf" --data-urlencode "email=$email" --data-urlencode "password=$TT_PASSWORD" \
        "$TT_URL/login" | grep -qx 303
}

# page JAR ADDR METHOD PATH [curl args]: sets TT_STATUS and TT_BODY.
page() {
    local jar="$1" addr="$2" m="$3" p="$4"
    shift 4
    TT_STATUS="$(tt_curl -X "$m" -c "$jar" -b "$jar" -H "Accept: $HTML" -H "X-Forwarded-For: $addr" \
        -o "$BATS_TEST_TMPDIR/page.html" -w '%{http_code}' "$@" "$TT_URL$p")"
    TT_BODY="$(cat "$BATS_TEST_TMPDIR/page.html")"
}

@test "dashboard: a session outside the list gets a page that says so and names the address" {
    allow 203.0.113.0/24
    local jar="$BATS_TEST_TMPDIR/jar"
    signin "$jar" "$IA_ADMIN_EMAIL" 198.51.100.1
    page "$jar" 198.51.100.1 GET "/w/$IA_SLUG"
    [[ "$TT_STATUS" == 403 ]]
    grep -qF "does not accept requests from your address" <<<"$TT_BODY"
    grep -qF "198.51.100.1" <<<"$TT_BODY"
    ! grep -qF "203.0.113.0/24" <<<"$TT_BODY"
    page "$jar" 203.0.113.7 GET "/w/$IA_SLUG"
    [[ "$TT_STATUS" == 200 ]]
    # The dashboard's list of workspaces is not acting in one: still served.
    page "$jar" 198.51.100.1 GET /dashboard
    [[ "$TT_STATUS" == 200 ]]
    allow
}

@test "dashboard: saving a list that locks the owner out asks first, then saves when confirmed" {
    allow
    local jar="$BATS_TEST_TMPDIR/jar" csrf version
    signin "$jar" "$IA_OWNER_EMAIL" 198.51.100.1
    page "$jar" 198.51.100.1 GET "/w/$IA_SLUG/settings"
    [[ "$TT_STATUS" == 200 ]]
    csrf="$(grep -o 'name="csrf_token" value="[^"]*"' <<<"$TT_BODY" | head -1 | sed -E 's/.*value="([^"]*)"/\1/')"
    version="$(grep -o 'name="version" value="[^"]*"' <<<"$TT_BODY" | head -1 | sed -E 's/.*value="([^"]*)"/\1/')"
    local -a form=(--data-urlencode "csrf_token=$csrf" --data-urlencode "version=$version"
        --data-urlencode "name=$IA_NAME" --data-urlencode "branding_primary_color=#123456"
        --data-urlencode "security_session_timeout_minutes=60"
        --data-urlencode "security_ip_whitelist=203.0.113.0/24")
    page "$jar" 198.51.100.1 POST "/w/$IA_SLUG/settings" "${form[@]}"
    [[ "$TT_STATUS" == 422 ]]
    grep -qF "saving it would lock you out" <<<"$TT_BODY"
    grep -qF 'name="confirm_ip_lockout"' <<<"$TT_BODY"
    grep -qF 'aria-invalid="true"' <<<"$TT_BODY"
    # What was typed is still there.
    tr -d '\n' <<<"$TT_BODY" | grep -qE 'id="security_ip_whitelist"[^>]*>[^<]*203\.0\.113\.0/24[^<]*</textarea>'
    page "$jar" 198.51.100.1 POST "/w/$IA_SLUG/settings" "${form[@]}" --data-urlencode "confirm_ip_lockout=1"
    [[ "$TT_STATUS" == 303 ]]
    [[ "$(tt_sql_in_tenant "$TENANTRY_TEST_OWNER_DB_URL" "$IA_ID" "SELECT settings #>> '{security,ip_whitelist,0}' FROM tenants WHERE id = :'tid'::uuid")" == 203.0.113.0/24 ]]
    allow
}

@test "the access log names the client the trusted proxy reported, not the proxy" {
    allow
    as 192.0.2.77 tt
    tt_expect 200
    sleep 0.3
    grep -F '"client":"192.0.2.77"' "$TENANTRY_TEST_WORKER_LOG" | grep -qF '"route":"/api/v1/tenants/current"'
}
