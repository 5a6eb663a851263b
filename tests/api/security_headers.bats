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

# tls_try ARGS...: one TLS handshake with openssl s_client against the stack;
# prints the negotiated "protocol cipher", or "refused".
tls_try() {
    local hostport="${TENANTRY_TEST_URL#https://}" out
    out="$(timeout 10 openssl s_client -connect "$hostport" -servername localhost "$@" </dev/null 2>&1)"
    if grep -q '^New, ' <<<"$out" && ! grep -q 'Cipher is (NONE)' <<<"$out"; then
        awk '/^New, / { gsub(",", ""); print $2, $NF; exit }' <<<"$out"
    else
        echo refused
    fi
}

@test "TLS: 1.2 offers only ECDHE AEAD suites, in the server's order; 1.3 works; 1.1 and CBC, CCM8, ARIA, Camellia are refused" {
    local got c
    got="$(tls_try -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256)"
    [[ "$got" == "TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256" ]] || fail "AES128-GCM over TLS 1.2: $got"
    got="$(tls_try -tls1_2 -cipher ECDHE-ECDSA-CHACHA20-POLY1305)"
    [[ "$got" == "TLSv1.2 ECDHE-ECDSA-CHACHA20-POLY1305" ]] || fail "ChaCha20 over TLS 1.2: $got"
    for c in ECDHE-ECDSA-AES128-SHA256 ECDHE-ECDSA-AES256-SHA384 ECDHE-ECDSA-AES128-SHA ECDHE-ECDSA-AES256-SHA \
        ECDHE-ECDSA-AES128-CCM8 ECDHE-ECDSA-AES128-CCM ECDHE-ECDSA-ARIA128-GCM-SHA256 \
        ECDHE-ECDSA-CAMELLIA128-SHA256 AES128-GCM-SHA256 AES128-SHA; do
        got="$(tls_try -tls1_2 -cipher "$c@SECLEVEL=0")"
        [[ "$got" == refused ]] || fail "TLS 1.2 with $c was accepted: $got"
    done
    # The client prefers ChaCha20; the server's order (AES-GCM first) wins.
    got="$(tls_try -tls1_2 -cipher ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256)"
    [[ "$got" == "TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256" ]] || fail "server preference: $got"
    got="$(tls_try -tls1_3)"
    [[ "$got" == TLSv1.3* ]] || fail "TLS 1.3: $got"
    got="$(tls_try -tls1_1 -cipher 'DEFAULT@SECLEVEL=0')"
    [[ "$got" == refused ]] || fail "TLS 1.1 was accepted: $got"
}
