#!/usr/bin/env bats
# db_outage.bats -- PostgreSQL goes away mid-run (SPEC §3 503, §7): the API
# answers 503 unavailable with Retry-After, /ready 503, /health 200, no worker
# dies; when PostgreSQL is back the same workers reconnect by themselves.

load helpers

setup_file() {
    export MIA MIA_T ACME ADMIN
    ADMIN="$(admin_token)"
    MIA="$(login mia@acme.example "$DEMO_PASSWORD")"
    ACME="$(demo_tenant_id acme)"
    MIA_T="$(tenant_token "$MIA" "$ACME")"
}

# Whatever a test did, PostgreSQL is running again afterwards, for the files
# that follow.
pg_back_up() {
    local i
    eval "$TENANTRY_TEST_PG_START" >/dev/null 2>&1 || eval "$TENANTRY_TEST_PG_START" || true
    for i in $(seq 1 60); do
        [[ "$(tcurl -o /dev/null -w '%{http_code}' "$TENANTRY_TEST_URL/ready" 2>/dev/null)" == 200 ]] && return 0
        sleep 0.5
    done
    echo "PostgreSQL or /ready did not come back within 30 s" >&2
    return 1
}

# Whatever a test did, the workers run again afterwards too.
pool_back_up() {
    [[ -S "$TENANTRY_TEST_STATE_DIR/run/tenantry.sock" ]] || eval "$TENANTRY_TEST_POOL_START" >/dev/null 2>&1 || true
}

teardown() {
    pool_back_up
    pg_back_up
}

teardown_file() {
    pg_back_up
}

# Several requests, so that every worker (nginx hands them out) is exercised.
expect_all_503() {
    local i t
    for i in $(seq 1 8); do
        t="$(date +%s%N)"
        CURL_MAX_TIME=20 api_as "$MIA" GET /api/v1/me
        t=$((($(date +%s%N) - t) / 1000000))
        REQ="GET /api/v1/me with PostgreSQL down (#$i)"
        expect_error 503 unavailable || return 1
        ((t < 10000)) || fail "$REQ took ${t} ms" || return 1
    done
}

# Poll up to 10 s for /api/v1/me 200, then every one of several requests is 200.
expect_recovery() {
    local i deadline
    deadline=$(($(date +%s) + 10))
    while :; do
        api_as "$MIA" GET /api/v1/me
        [[ "$STATUS" == 200 ]] && break
        (($(date +%s) < deadline)) || fail "/api/v1/me still $STATUS 10 s after PostgreSQL came back: $BODY" || return 1
        sleep 0.25
    done
    for i in $(seq 1 12); do
        api_as "$MIA" GET /api/v1/me
        REQ="GET /api/v1/me after recovery (#$i)"
        expect_status 200 || return 1
    done
}

@test "PostgreSQL stopped: 503 unavailable with Retry-After, /ready 503, /health 200; back: 200 within 10 s, same workers" {
    local before during after log_at bad
    log_at="$(wc -c <"$TENANTRY_TEST_WORKER_LOG")"
    before="$(worker_ids)"
    [[ -n "$before" ]] || fail "no tenantry.fcgi workers of this stack found"
    api_as "$MIA" GET /api/v1/me
    expect_status 200

    eval "$TENANTRY_TEST_PG_STOP"

    expect_all_503
    # A tenant token and the other routes: 503 too, never a 401/403/500.
    api_as "$MIA_T" GET /api/v1/me
    expect_error 503 unavailable
    api POST /api/v1/auth/login "$(jq -cn --arg p "$DEMO_PASSWORD" '{email: "mia@acme.example", password: $p}')"
    expect_error 503 unavailable
    api POST /api/v1/auth/login '{"email":"nobody@api-tests.example","password":"whatever-it-is"}'
    expect_error 503 unavailable
    api_as "$MIA" POST /api/v1/auth/tenant-token "$(jq -cn --arg t "$ACME" '{tenant_id: $t}')"
    expect_error 503 unavailable
    api_as "$ADMIN" POST /api/v1/users '{"email":"outage@api-tests.example","name":"Outage","password":"outage-password-1"}'
    expect_error 503 unavailable
    # Errors found before the database is asked stay what they are.
    api GET /api/v1/me
    expect_error 401 unauthenticated

    api GET /ready
    expect_status 503
    [[ "$(header Retry-After)" =~ ^[0-9]+$ ]] || fail "/ready 503 without Retry-After"
    api GET /health
    expect_status 200
    [[ "$BODY" == ok ]] || fail "/health body: $BODY"

    during="$(worker_ids)"
    [[ "$during" == "$before" ]] || fail "workers changed while PostgreSQL was down" "before: $before" "during: $during"

    eval "$TENANTRY_TEST_PG_START"
    expect_recovery
    api GET /ready
    expect_status 200
    login mia@acme.example "$DEMO_PASSWORD" >/dev/null

    after="$(worker_ids)"
    [[ "$after" == "$before" ]] || fail "workers were restarted" "before: $before" "after: $after"
    bad="$(non_json_log_lines_since "$log_at")"
    [[ -z "$bad" ]] || fail "the worker log got lines that are not JSON during the outage:" "$bad"
}

# Lines appended to the worker log since byte OFFSET that are not JSON objects.
non_json_log_lines_since() {
    tail -c +$(($1 + 1)) "$TENANTRY_TEST_WORKER_LOG" | jq -R -r '. as $l | select(length > 0)
        | try (fromjson | if type == "object" then empty else $l end) catch $l' | head -5
}

@test "PostgreSQL crashed (immediate stop): 503, then the same workers reconnect" {
    local before after
    before="$(worker_ids)"
    [[ -n "$before" ]] || fail "no tenantry.fcgi workers of this stack found"
    api_as "$MIA" GET /api/v1/me
    expect_status 200

    eval "$TENANTRY_TEST_PG_STOP immediate"

    expect_all_503
    api GET /health
    expect_status 200

    eval "$TENANTRY_TEST_PG_START"
    expect_recovery
    after="$(worker_ids)"
    [[ "$after" == "$before" ]] || fail "workers were restarted" "before: $before" "after: $after"
}

@test "PostgreSQL crashed: what the workers log about it is still one JSON object per line" {
    # The server's shutdown WARNING reaches libpq as a notice; it must go
    # through the worker's logger, not raw to stderr (= the log file).
    local log_at bad i
    log_at="$(wc -c <"$TENANTRY_TEST_WORKER_LOG")"
    for i in $(seq 1 8); do
        api_as "$MIA" GET /api/v1/me
        expect_status 200
    done
    eval "$TENANTRY_TEST_PG_STOP immediate"
    expect_all_503
    eval "$TENANTRY_TEST_PG_START"
    expect_recovery
    bad="$(non_json_log_lines_since "$log_at")"
    [[ -z "$bad" ]] || fail "the worker log got lines that are not JSON objects:" "$bad"
}

@test "PostgreSQL restarted between two requests: the next request is served (no 503 once it is up)" {
    # The connection each worker holds is dead after a restart; the worker
    # notices on use. Reads are retried on a fresh connection, so with the
    # database up again no client sees an error.
    local i
    for i in $(seq 1 8); do
        api_as "$MIA" GET /api/v1/me
        expect_status 200
    done
    eval "$TENANTRY_TEST_PG_STOP"
    eval "$TENANTRY_TEST_PG_START"
    for i in $(seq 1 12); do
        api_as "$MIA" GET /api/v1/me
        REQ="GET /api/v1/me #$i after a PostgreSQL restart"
        expect_status 200
    done
}

@test "dashboard pages while PostgreSQL is down: a 503 HTML page (the session kept), then the page again" {
    local jar csrf i
    jar="$(_tmp)/jar_outage"
    # Sign mia in through the form, as a browser would.
    api GET /login "" -c "$jar" -b "$jar"
    expect_status 200
    csrf="$(grep -o 'name="csrf_token" value="[^"]*"' <<<"$BODY" | head -1 | sed -E 's/.*value="([^"]*)"/\1/')"
    [[ -n "$csrf" ]] || fail "no csrf_token on /login"
    api POST /login "" -c "$jar" -b "$jar" --data-urlencode "csrf_token=$csrf" \
        --data-urlencode "email=mia@acme.example" --data-urlencode "password=$DEMO_PASSWORD"
    expect_status 303
    api GET /w/acme "" -b "$jar"
    expect_status 200

    eval "$TENANTRY_TEST_PG_STOP"
    for i in 1 2 3 4; do
        CURL_MAX_TIME=20 api GET /w/acme "" -b "$jar"
        REQ="GET /w/acme with PostgreSQL down (#$i)"
        expect_status 503
        [[ "$(header Content-Type)" == "text/html; charset=utf-8" ]] || fail "$REQ: not an HTML page: $(header Content-Type)"
        [[ -n "$(header Retry-After)" ]] || fail "$REQ: no Retry-After"
        grep -q "Temporarily unavailable" <<<"$BODY" || fail "$REQ: the page does not say so" "$BODY"
        # The session is not thrown away for an outage: no cookie is cleared.
        [[ -z "$(header Set-Cookie | grep '__Host-tenantry=;')" ]] || fail "$REQ cleared the session cookie"
    done

    eval "$TENANTRY_TEST_PG_START"
    for i in $(seq 1 40); do
        api GET /w/acme "" -b "$jar"
        [[ "$STATUS" == 200 ]] && break
        sleep 0.25
    done
    expect_status 200
    grep -q "Acme" <<<"$BODY" || fail "the overview after recovery lacks the workspace" "$BODY"
}

@test "no worker running: nginx answers a JSON 503 for the API and a 503 page for the dashboard, both with X-Request-Id and Retry-After; back: 200" {
    eval "$TENANTRY_TEST_POOL_STOP"
    api_as "$MIA_T" GET /api/v1/me
    expect_error 503 unavailable
    [[ "$(header Retry-After)" =~ ^[0-9]+$ ]] || fail "no Retry-After on the API's 503"
    [[ -n "$(header X-Request-Id)" && "$(jq -r .error.request_id <<<"$BODY")" == "$(header X-Request-Id)" ]] ||
        fail "the 503's request id: header '$(header X-Request-Id)', body $BODY"
    # A dashboard page (what the worker would render as HTML) gets a page.
    api GET /dashboard "" -H 'Accept: text/html,application/xhtml+xml'
    [[ "$STATUS" == 503 ]] || fail "GET /dashboard with no worker: $STATUS"
    [[ "$(header Content-Type)" == text/html* ]] || fail "the dashboard's 503 is $(header Content-Type): $BODY"
    [[ "$BODY" == *"<title>Back in a moment"* && "$BODY" == *"$(header X-Request-Id)"* ]] ||
        fail "the 503 page: $BODY"
    [[ "$(header Retry-After)" =~ ^[0-9]+$ && "$(header Content-Security-Policy)" == *"default-src"* ]] ||
        fail "the 503 page's headers: $HEADERS"
    # The API under an HTML Accept stays JSON, as the worker answers it.
    api GET /api/v1/me "" -H 'Accept: text/html'
    expect_error 503 unavailable
    eval "$TENANTRY_TEST_POOL_START"
    api_as "$MIA_T" GET /api/v1/me
    expect_status 200
}

