#!/usr/bin/env bats
# health.bats -- GET /health and GET /ready (SPEC §3 Operations): plain,
# unauthenticated, /health without the database.

load helpers

@test "GET /health is 200 text 'ok' with an X-Request-Id" {
    api GET /health
    expect_status 200
    [[ "$(header Content-Type)" == text/plain* ]] || fail "Content-Type: $(header Content-Type)"
    [[ "$BODY" == ok ]] || fail "body: '$BODY'"
    [[ -n "$(header X-Request-Id)" ]] || fail "no X-Request-Id"
}

@test "GET /ready is 200 text 'ready' while the database is up" {
    api GET /ready
    expect_status 200
    [[ "$(header Content-Type)" == text/plain* ]] || fail "Content-Type: $(header Content-Type)"
    [[ "$BODY" == ready ]] || fail "body: '$BODY'"
}

@test "HEAD /health is 200" {
    api HEAD /health
    expect_status 200
    [[ -n "$(header X-Request-Id)" ]] || fail "no X-Request-Id"
}

@test "/health and /ready ignore credentials: a garbage or expired bearer is not a 401" {
    api GET /health "" -H 'Authorization: Bearer not.a.token'
    expect_status 200
    api GET /ready "" -H 'Authorization: Basic Zm9vOmJhcg=='
    expect_status 200
}

@test "POST /health is 405 with Allow naming GET" {
    api POST /health '{}'
    expect_error 405 method_not_allowed
    [[ "$(header Allow)" == *GET* ]] || fail "Allow: $(header Allow)"
    [[ "$(header Allow)" != *POST* ]] || fail "Allow names POST: $(header Allow)"
}

@test "every response gets its own X-Request-Id, and a client-sent one is not echoed raw" {
    local a b
    api GET /health
    a="$(header X-Request-Id)"
    api GET /health
    b="$(header X-Request-Id)"
    [[ -n "$a" && -n "$b" && "$a" != "$b" ]] || fail "request ids: '$a' '$b'"
    api GET /health "" -H 'X-Request-Id: evil<script>id with spaces'
    expect_status 200
    [[ "$(header_count X-Request-Id)" == 1 ]] || fail "X-Request-Id headers: $(header_count X-Request-Id)"
    [[ "$(header X-Request-Id)" =~ ^[A-Za-z0-9_-]{8,64}$ ]] || fail "X-Request-Id: '$(header X-Request-Id)'"
}
