#!/usr/bin/env bats
# errors.bats -- the error contract of SPEC §3: every error is
# {"error":{"code","message","request_id"}} (+ details) with request_id equal
# to X-Request-Id; 401 WWW-Authenticate, 405 Allow, 404, 413, 415; bad input
# is a 4xx, never a 5xx.

load helpers

LOGIN=/api/v1/auth/login

setup_file() {
    export ADMIN
    ADMIN="$(admin_token)"
}

# A JSON object of exactly N bytes: {"pad":"aaa..."}
json_of_size() {
    local n="$1" pad
    pad=$((n - 10))
    printf '{"pad":"%s"}' "$(head -c "$pad" /dev/zero | tr '\0' a)"
}

@test "404: unknown routes are not_found in the error shape" {
    local p
    for p in /nope /api /api/v1 /api/v1/nope /api/v2/me /api/v1/me/extra /api/v1/auth /api/v1/auth/login/x \
        '/api/v1/me%2f..' '/api/v1/%2e%2e/me' /API/V1/ME '/api/v1/me;x' '/api/v1//me/'; do
        api GET "$p"
        REQ="GET $p"
        expect_error 404 not_found
    done
}

@test "requests nginx itself refuses (NUL in the path, two Authorization headers) still get the JSON error shape" {
    # nginx answers 400 before the worker sees it; like its 413 and 502/504
    # (mapped to JSON in the config), it must not be an HTML page.
    api GET '/api/v1/%00'
    expect_error 400 invalid_request
    # nginx also refuses a request with two Authorization headers itself.
    api GET /api/v1/me "" -H 'Authorization: Bearer a.b.c' -H 'Authorization: Bearer d.e.f'
    [[ "$STATUS" == 400 || "$STATUS" == 401 ]] || fail "two Authorization headers: $STATUS"
    expect_error "$STATUS" "$([[ $STATUS == 401 ]] && echo unauthenticated || echo invalid_request)"
}

@test "404: with a valid token the answer is the same" {
    api_as "$ADMIN" GET /api/v1/does-not-exist
    expect_error 404 not_found
    api_as "$ADMIN" POST /api/v1/does-not-exist '{}'
    expect_error 404 not_found
}

@test "405: a known route with another method is method_not_allowed with Allow" {
    local m p allow
    # method|path|a method Allow must name
    for m in "DELETE|/api/v1/me|GET" "POST|/api/v1/me|GET" "PUT|/api/v1/me|GET" "PATCH|/api/v1/me|GET" \
        "GET|/api/v1/auth/login|POST" "PUT|/api/v1/auth/login|POST" "GET|/api/v1/auth/tenant-token|POST" \
        "DELETE|/api/v1/users|POST" "PUT|/health|GET" "DELETE|/ready|GET"; do
        IFS='|' read -r m p allow <<<"$m"
        api "$m" "$p" "" -H 'Content-Type: application/json' --data-binary '{}'
        REQ="$m $p"
        expect_error 405 method_not_allowed
        [[ ", $(header Allow), " == *", $allow, "* ]] || fail "$m $p: Allow '$(header Allow)' does not name $allow"
        [[ ", $(header Allow), " != *", $m, "* ]] || fail "$m $p: Allow '$(header Allow)' names the refused $m"
    done
}

@test "405 comes before authentication: no token still gets 405, not 401" {
    api DELETE /api/v1/me
    expect_error 405 method_not_allowed
}

@test "401: a protected route without a token says WWW-Authenticate: Bearer" {
    api GET /api/v1/me
    expect_error 401 unauthenticated
    api POST /api/v1/auth/tenant-token '{"tenant_id":"00000000-0000-4000-8000-000000000000"}'
    expect_error 401 unauthenticated
    api POST /api/v1/users '{"email":"x@y.example","name":"x","password":"xxxxxxxxxxxx"}'
    expect_error 401 unauthenticated
}

@test "415: a JSON route refuses other content types" {
    local ct
    for ct in 'text/plain' 'application/x-www-form-urlencoded' 'multipart/form-data; boundary=x' \
        'application/jsonp' 'application/json-patch+json' 'application/xml' 'text/json' 'json'; do
        api POST "$LOGIN" "" -H "Content-Type: $ct" --data-binary '{"email":"a@b.example","password":"x"}'
        REQ="POST $LOGIN Content-Type: $ct"
        expect_error 415 unsupported_media_type
    done
    # No Content-Type at all.
    api POST "$LOGIN" "" -H 'Content-Type:' --data-binary '{"email":"a@b.example","password":"x"}'
    REQ="POST $LOGIN without Content-Type"
    expect_error 415 unsupported_media_type
    # Same with a valid token on an authenticated route.
    api_as "$ADMIN" POST /api/v1/users "" -H 'Content-Type: text/plain' --data-binary '{}'
    expect_error 415 unsupported_media_type
}

@test "413: a body over 64 KiB is payload_too_large in the error shape (nginx's answer too)" {
    local f="$BATS_TEST_TMPDIR/big.json"
    json_of_size $((64 * 1024 + 1)) >"$f"
    [[ "$(wc -c <"$f")" == $((64 * 1024 + 1)) ]]
    api POST "$LOGIN" "" -H 'Content-Type: application/json' --data-binary "@$f"
    expect_error 413 payload_too_large
    json_of_size $((1024 * 1024)) >"$f"
    api_as "$ADMIN" POST /api/v1/users "" -H 'Content-Type: application/json' --data-binary "@$f"
    expect_error 413 payload_too_large
}

@test "413: a chunked body (no Content-Length) over 64 KiB is refused too" {
    local f="$BATS_TEST_TMPDIR/big.json"
    json_of_size $((200 * 1024)) >"$f"
    api POST "$LOGIN" "" --http1.1 -H 'Transfer-Encoding: chunked' -H 'Content-Type: application/json' \
        --data-binary "@$f"
    expect_error 413 payload_too_large
}

@test "a body of exactly 64 KiB is not too large" {
    local f="$BATS_TEST_TMPDIR/edge.json"
    json_of_size $((64 * 1024)) >"$f"
    [[ "$(wc -c <"$f")" == $((64 * 1024)) ]]
    api POST "$LOGIN" "" -H 'Content-Type: application/json' --data-binary "@$f"
    # Read and judged on its fields: "pad" is unknown, email/password missing.
    expect_error 400 invalid_request
    check_body 'any(.error.details[]; .field == "pad")'
}

@test "malformed JSON is a 400, never a 5xx: deep nesting, bad UTF-8, NUL, huge numbers, lone surrogates" {
    local deep i body
    deep="$(printf '%0.s[' $(seq 1 5000))$(printf '%0.s]' $(seq 1 5000))"
    local -a bodies=(
        "{\"email\":$deep,\"password\":\"x\"}"
        "$(printf '{"email":"a@b.example","password":"\xff\xfe"}')"
        "$(printf '{"email":"a@b.example","password":"\xc0\xaf"}')"
        '{"email":"a\u0000@b.example","password":"x"}'
        '{"email":"a@b.example","password":1e999999}'
        '{"email":"a@b.example","password":123456789012345678901234567890}'
        '{"email":"a@b.example","password":"\ud800"}'
        '{"email":"a@b.example","password":NaN}'
        '{"email":"a@b.example","password":Infinity}'
        '{"email":"a@b.example","password":"x\q"}'
        '{"email":"a@b.example","password":"tab	inside"}'
        '{"email":"a@b.example","password":01}'
        '{"email":"a@b.example","password":"x"}   '
        '{"email":"a@b.example","email":"c@d.example","password":"x"}'
    )
    for i in "${!bodies[@]}"; do
        body="${bodies[$i]}"
        api POST "$LOGIN" "" -H 'Content-Type: application/json' --data-binary "$body"
        REQ="POST $LOGIN (malformed body #$i: ${body:0:80})"
        [[ "$STATUS" =~ ^4[0-9][0-9]$ ]] || fail "$REQ answered $STATUS: $BODY" || return 1
        [[ "$STATUS" == 400 || "$STATUS" == 401 ]] || fail "$REQ answered $STATUS: $BODY" || return 1
        expect_error "$STATUS" "$([[ $STATUS == 401 ]] && echo unauthenticated || echo invalid_request)" || return 1
    done
    # The strictly-invalid ones must be 400 (not a login attempt): U+0000, a
    # lone surrogate and a member named twice included (issue 16).
    for i in 0 1 2 3 4 5 6 7 8 9 10 11 13; do
        body="${bodies[$i]}"
        api POST "$LOGIN" "" -H 'Content-Type: application/json' --data-binary "$body"
        REQ="POST $LOGIN (malformed body #$i: ${body:0:80})"
        expect_error 400 invalid_request
    done
}

@test "U+0000, a lone surrogate or a member named twice in any JSON body is a 400 naming it, and changes nothing" {
    local acme alice before
    acme="$(demo_tenant_id acme)"
    alice="$(tenant_token "$(login alice@acme.example "$DEMO_PASSWORD")" "$acme")"
    api_as "$alice" GET /api/v1/tenants/current/settings
    expect_status 200
    before="$(jq -cS .settings <<<"$BODY")"
    local -a bodies=(
        '{"settings":{"branding":{"logo_url":"https://x.example/\u0000"}}}'
        '{"settings":{"branding":{"primary_color":"#000000"},"branding":{"logo_url":"https://x.example/a.png"}}}'
        '{"name":"\udc00 Acme"}'
    )
    local -a why=("U+0000" "twice" "surrogate")
    for i in "${!bodies[@]}"; do
        api_as "$alice" PUT /api/v1/tenants/current/settings "${bodies[$i]}"
        expect_error 400 invalid_request
        check_body '[.error.details[].problem] | any(contains($w))' --arg w "${why[$i]}"
    done
    api_as "$alice" GET /api/v1/tenants/current/settings
    [[ "$(jq -cS .settings <<<"$BODY")" == "$before" ]] || fail "the settings changed: $BODY"
    # A key's scope with a NUL is refused, not stored as "read".
    api_as "$alice" POST "/api/v1/tenants/$acme/api-keys" '{"name":"nul","scopes":["read\u0000"]}'
    expect_error 400 invalid_request
    # An event time with a trailing NUL is refused.
    api_as "$alice" POST /api/v1/usage/events \
        '{"events":[{"meter":"tokens","quantity":1,"idempotency_key":"nul-1","occurred_at":"2026-01-01T00:00:00Z\u0000"}]}'
    expect_error 400 invalid_request
}

@test "a query parameter given twice is a 400, not first-wins, before authentication" {
    local admin
    admin="$(admin_token)"
    api_as "$admin" GET "/api/v1/tenants?limit=5&limit=6"
    expect_error 400 invalid_request
    check_body '.error.message | test("more than once")'
    api_as "$admin" GET "/api/v1/tenants?page=1&q=acme&page=2"
    expect_error 400 invalid_request
    # Before authentication, like any malformed request.
    api GET "/api/v1/tenants/current/usage?a=1&a=1"
    expect_error 400 invalid_request
    # Once each is fine.
    api_as "$admin" GET "/api/v1/tenants?limit=5&page=1"
    expect_status 200
}

@test "nginx's own 405 (TRACE), 414 (request line too long) and 400 (a header too large) are JSON errors with X-Request-Id" {
    local long big
    long="/$(head -c 9000 /dev/zero | tr '\0' a)"
    big="$(head -c 9000 /dev/zero | tr '\0' b)"
    api TRACE / "" --http1.1
    expect_error 405 method_not_allowed
    [[ -n "$(header Allow)" ]] || fail "no Allow on nginx's 405"
    api GET "$long" "" --http1.1
    expect_error 414 invalid_request
    api GET /health "" --http1.1 -H "X-Big: $big"
    expect_error 400 invalid_request
    [[ "$(jq -r .error.request_id <<<"$BODY")" == "$(header X-Request-Id)" ]] || fail "request id: $BODY / $HEADERS"
}

@test "an unknown HTTP method is a 4xx JSON error, not a 5xx" {
    api BREW /api/v1/me
    [[ "$STATUS" == 400 || "$STATUS" == 405 || "$STATUS" == 501 ]] || fail "BREW answered $STATUS: $BODY"
    if [[ "$STATUS" == 405 ]]; then
        expect_error 405 method_not_allowed
    elif [[ "$STATUS" == 400 ]]; then
        expect_error 400 invalid_request
    fi
}

@test "every error carries exactly one X-Request-Id equal to the body's request_id" {
    # expect_error checks it; here across the statuses in one place, and the
    # ids must differ between requests.
    local ids=() id
    api GET /nope
    expect_error 404 not_found
    ids+=("$(header X-Request-Id)")
    api GET /api/v1/me
    expect_error 401 unauthenticated
    ids+=("$(header X-Request-Id)")
    api DELETE /api/v1/me
    expect_error 405 method_not_allowed
    ids+=("$(header X-Request-Id)")
    api POST "$LOGIN" "" -H 'Content-Type: text/plain' --data-binary x
    expect_error 415 unsupported_media_type
    ids+=("$(header X-Request-Id)")
    api POST "$LOGIN" 'nope'
    expect_error 400 invalid_request
    ids+=("$(header X-Request-Id)")
    json_of_size 70000 >"$BATS_TEST_TMPDIR/b.json"
    api POST "$LOGIN" "" -H 'Content-Type: application/json' --data-binary "@$BATS_TEST_TMPDIR/b.json"
    expect_error 413 payload_too_large
    ids+=("$(header X-Request-Id)")
    [[ "$(printf '%s\n' "${ids[@]}" | sort -u | wc -l)" == "${#ids[@]}" ]] || fail "request ids repeat: ${ids[*]}"
}
