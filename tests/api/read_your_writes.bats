#!/usr/bin/env bats
# read_your_writes.bats -- SPEC §2 lets a worker answer a read from its cache
# for up to the propagation bound after a change. A client that must see its
# own write at once asks for the database's word: Cache-Control: no-cache
# (or max-age=0, or Pragma: no-cache) on the API; the dashboard does it for
# its users, for a few seconds after every successful form post (the fresh
# cookie). Nothing else changes: the same answer, the same authorisation.

load lib_tenants

setup_file() {
    tt_fixture_tenant RW business
}

# The access line of the newest request of route ROUTE: its "cache" field.
last_cache() {
    sleep 0.2
    grep -F "\"route\":\"$1\"" "$TENANTRY_TEST_WORKER_LOG" | tail -1 | jq -r '.cache // "-"'
}

@test "Cache-Control: no-cache reads the database: a rename is seen by the very next read, on every worker, every time" {
    local i name stale=0
    # The cache is in use for this read: within a few dozen requests spread
    # over the workers, one is answered from it.
    local hit=0
    for i in $(seq 1 40); do
        tt_api -t "$RW_ADMIN_TTOKEN" GET /api/v1/tenants/current
        if [[ "$(last_cache /api/v1/tenants/current)" == hit ]]; then hit=1; break; fi
    done
    [ "$hit" -eq 1 ]
    for i in $(seq 1 25); do
        name="RW renamed $i $(tt_uniq)"
        tt_api -t "$RW_ADMIN_TTOKEN" PATCH "/api/v1/tenants/$RW_ID" "$(jq -cn --arg n "$name" '{name:$n}')"
        tt_expect 200
        tt_api -t "$RW_ADMIN_TTOKEN" -H 'Cache-Control: no-cache' GET /api/v1/tenants/current
        tt_expect 200
        [[ "$(tt_jq .name)" == "$name" ]] || stale=$((stale + 1))
        [[ "$(last_cache /api/v1/tenants/current)" == bypass ]]
    done
    [ "$stale" -eq 0 ]
}

@test "max-age=0 and Pragma: no-cache are the same ask; other directives are not" {
    tt_api -t "$RW_ADMIN_TTOKEN" -H 'Cache-Control: max-age=0' GET /api/v1/tenants/current
    tt_expect 200
    [[ "$(last_cache /api/v1/tenants/current)" == bypass ]]
    tt_api -t "$RW_ADMIN_TTOKEN" -H 'Pragma: no-cache' GET /api/v1/tenants/current
    tt_expect 200
    [[ "$(last_cache /api/v1/tenants/current)" == bypass ]]
    tt_api -t "$RW_ADMIN_TTOKEN" -H 'Cache-Control: private, No-Cache' GET /api/v1/tenants/current
    tt_expect 200
    [[ "$(last_cache /api/v1/tenants/current)" == bypass ]]
    local i c
    for i in $(seq 1 8); do
        tt_api -t "$RW_ADMIN_TTOKEN" -H 'Cache-Control: no-cache-please, max-age=5' GET /api/v1/tenants/current
        tt_expect 200
        c="$(last_cache /api/v1/tenants/current)"
        [[ "$c" == hit || "$c" == miss ]]
    done
    [[ "$c" == hit ]]
}

@test "the bypass changes no decision: a viewer's no-cache write is still 403, an unknown token still 401" {
    tt_api -t "$RW_VIEWER_TTOKEN" -H 'Cache-Control: no-cache' PATCH "/api/v1/tenants/$RW_ID" '{"name":"viewer try"}'
    tt_expect 403 permission_denied
    tt_api -t "not-a-token" -H 'Cache-Control: no-cache' GET /api/v1/tenants/current
    tt_expect 401 unauthenticated
    tt_api -t "$RW_VIEWER_TTOKEN" -H 'Cache-Control: no-cache' GET /api/v1/tenants/current/usage
    tt_expect 200
}

@test "dashboard: a successful form post sets the fresh cookie; a failed one does not" {
    local jar="$BATS_TEST_TMPDIR/jar" d="$BATS_TEST_TMPDIR" csrf version code
    tt_curl -c "$jar" -b "$jar" -H 'Accept: text/html' -o "$d/login.html" "$TT_URL/login"
    csrf="$(grep -o 'name="csrf_token" value="[^"]*"' "$d/login.html" | head -1 | sed -E 's/.*value="([^"]*)"/\1/')"
    code="$(tt_curl -c "$jar" -b "$jar" -H 'Accept: text/html' -o /dev/null -w '%{http_code}' \
        --data-urlencode "csrf_token=$csrf" --data-urlencode "email=$RW_OWNER_EMAIL" \
        --data-urlencode "password=$TT_PASSWORD" "$TT_URL/login")"
    [[ "$code" == 303 ]]
    tt_curl -c "$jar" -b "$jar" -H 'Accept: text/html' -o "$d/s.html" "$TT_URL/w/$RW_SLUG/settings"
    csrf="$(grep -o 'name="csrf_token" value="[^"]*"' "$d/s.html" | head -1 | sed -E 's/.*value="([^"]*)"/\1/')"
    version="$(grep -o 'name="version" value="[^"]*"' "$d/s.html" | head -1 | sed -E 's/.*value="([^"]*)"/\1/')"
    # A failed save (a bad colour): 422, no fresh cookie.
    tt_curl -c "$jar" -b "$jar" -H 'Accept: text/html' -D "$d/h1" -o /dev/null \
        --data-urlencode "csrf_token=$csrf" --data-urlencode "version=$version" --data-urlencode "name=RW saved" \
        --data-urlencode "branding_primary_color=blue" --data-urlencode "security_session_timeout_minutes=60" \
        "$TT_URL/w/$RW_SLUG/settings"
    grep -q '^HTTP/[0-9.]* 422' "$d/h1"
    ! grep -qi '^set-cookie: __Host-tenantry-fresh=' "$d/h1"
    # A good one: 303 with the cookie, a little longer than the 2 s bound.
    tt_curl -c "$jar" -b "$jar" -H 'Accept: text/html' -D "$d/h2" -o /dev/null \
        --data-urlencode "csrf_token=$csrf" --data-urlencode "version=$version" --data-urlencode "name=RW saved" \
        --data-urlencode "branding_primary_color=#224466" --data-urlencode "security_session_timeout_minutes=60" \
        "$TT_URL/w/$RW_SLUG/settings"
    grep -q '^HTTP/[0-9.]* 303' "$d/h2"
    grep -qi '^set-cookie: __Host-tenantry-fresh=1; Path=/; Max-Age=3; Secure; HttpOnly; SameSite=Lax' "$d/h2"
    # With it, the billing page (a cached page) is read from the database.
    tt_curl -c "$jar" -b "$jar" -H 'Accept: text/html' -o "$d/b.html" "$TT_URL/w/$RW_SLUG/billing"
    grep -qF "RW saved" "$d/b.html"
    [[ "$(last_cache /w/{slug}/billing)" == bypass ]]
    # Once it has expired (curl drops it from the jar like a browser; curl counts whole
    # seconds, so a 3 s cookie may last into its fourth), the cache serves again.
    sleep 4.2
    tt_curl -c "$jar" -b "$jar" -H 'Accept: text/html' -o /dev/null "$TT_URL/w/$RW_SLUG/billing"
    tt_curl -c "$jar" -b "$jar" -H 'Accept: text/html' -o /dev/null "$TT_URL/w/$RW_SLUG/billing"
    [[ "$(last_cache /w/{slug}/billing)" != bypass ]]
}
