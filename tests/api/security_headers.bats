#!/usr/bin/env bats
# security_headers.bats -- what nginx and the worker put on every response
# (SPEC §1 nginx: TLS, HTTP->HTTPS redirect, security headers).

load helpers

setup_file() {
    export MIA
    MIA="$(login mia@acme.example "$DEMO_PASSWORD")"
}

# The security headers, each exactly once.
expect_security_headers() {
    local h v
    for h in Strict-Transport-Security X-Content-Type-Options X-Frame-Options Content-Security-Policy Cache-Control; do
        [[ "$(header_count "$h")" == 1 ]] ||
            fail "$REQ ($STATUS): $h appears $(header_count "$h") times" "headers:" "$HEADERS" || return 1
    done
    v="$(header Strict-Transport-Security)"
    [[ "$v" =~ max-age=([0-9]+) ]] && ((BASH_REMATCH[1] >= 86400)) ||
        fail "$REQ: Strict-Transport-Security '$v' (max-age of at least a day expected)" || return 1
    [[ "$(header X-Content-Type-Options)" == nosniff ]] ||
        fail "$REQ: X-Content-Type-Options '$(header X-Content-Type-Options)'" || return 1
    [[ "$(header X-Frame-Options)" == DENY ]] ||
        fail "$REQ: X-Frame-Options '$(header X-Frame-Options)'" || return 1
    v="$(header Content-Security-Policy)"
    [[ "$v" == *"default-src"* && "$v" != *unsafe-inline* && "$v" != *unsafe-eval* ]] ||
        fail "$REQ: Content-Security-Policy '$v'" || return 1
    [[ "$v" == *"frame-ancestors 'none'"* ]] || fail "$REQ: CSP without frame-ancestors 'none': '$v'" || return 1
    [[ "$(header Cache-Control)" == *no-store* ]] ||
        fail "$REQ: Cache-Control '$(header Cache-Control)'" || return 1
}

@test "a JSON route (200) carries HSTS, nosniff, DENY, CSP and Cache-Control no-store" {
    api_as "$MIA" GET /api/v1/me
    expect_status 200
    expect_security_headers
}

@test "the login answer (it carries a token) is not cacheable and has the security headers" {
    api POST /api/v1/auth/login "$(jq -cn --arg p "$DEMO_PASSWORD" '{email: "mia@acme.example", password: $p}')"
    expect_status 200
    expect_security_headers
}

@test "/health and /ready carry the security headers" {
    api GET /health
    expect_status 200
    expect_security_headers
    api GET /ready
    expect_status 200
    expect_security_headers
}

@test "error answers (401, 404, 405, 415, and nginx's own 413) carry the security headers" {
    api GET /api/v1/me
    expect_error 401 unauthenticated
    expect_security_headers
    api GET /api/v1/nope
    expect_error 404 not_found
    expect_security_headers
    api DELETE /api/v1/me
    expect_error 405 method_not_allowed
    expect_security_headers
    api POST /api/v1/auth/login "" -H 'Content-Type: text/plain' --data-binary x
    expect_error 415 unsupported_media_type
    expect_security_headers
    head -c 70000 /dev/zero | tr '\0' a >"$BATS_TEST_TMPDIR/big"
    api POST /api/v1/auth/login "" -H 'Content-Type: application/json' --data-binary "@$BATS_TEST_TMPDIR/big"
    expect_error 413 payload_too_large
    expect_security_headers
}

@test "the Server header does not reveal a version" {
    api GET /health
    [[ "$(header Server)" != */[0-9]* ]] || fail "Server: $(header Server)"
    [[ -z "$(header X-Powered-By)" ]] || fail "X-Powered-By: $(header X-Powered-By)"
}

@test "plain HTTP redirects to HTTPS (301/308), same path and query, nothing served" {
    local http="${TENANTRY_TEST_HTTP_URL:-}" loc
    if [[ -z "$http" ]]; then
        http="http://127.0.0.1:${TENANTRY_TEST_HTTP_PORT:-18080}"
    fi
    HEADERS="$(curl -s --max-time 10 -o /dev/null -D - "$http/api/v1/me?x=1" | tr -d '\r')"
    STATUS="$(awk 'NR == 1 { print $2 }' <<<"$HEADERS")"
    REQ="GET $http/api/v1/me?x=1"
    [[ "$STATUS" == 301 || "$STATUS" == 308 ]] || fail "$REQ: $STATUS" "$HEADERS"
    loc="$(header Location)"
    [[ "$loc" == https://* ]] || fail "Location: $loc"
    [[ "$loc" == */api/v1/me\?x=1 ]] || fail "Location does not keep the path and query: $loc"
    # The redirect target is this very HTTPS server.
    api GET "/api/v1/me?x=1" "" -H "Authorization: Bearer $MIA"
    expect_status 200
    local target
    target="$(tcurl -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $MIA" "$loc")"
    [[ "$target" == 200 ]] || fail "following $loc gave $target"

    # A POST with credentials over plain HTTP is not served either.
    HEADERS="$(curl -s --max-time 10 -o /dev/null -D - -X POST -H 'Content-Type: application/json' \
        --data-binary '{"email":"mia@acme.example","password":"demo-password"}' "$http/api/v1/auth/login" | tr -d '\r')"
    STATUS="$(awk 'NR == 1 { print $2 }' <<<"$HEADERS")"
    [[ "$STATUS" == 301 || "$STATUS" == 308 ]] || fail "POST over HTTP: $STATUS" "$HEADERS"
    [[ "$(header Location)" == https://*/api/v1/auth/login ]] || fail "Location: $(header Location)"
}
