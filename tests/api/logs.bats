#!/usr/bin/env bats
# logs.bats -- the workers' log (TENANTRY_TEST_WORKER_LOG): one JSON object
# per line, an access line per request, and never a secret (SPEC §7).

load helpers

setup_file() {
    [[ -r "${TENANTRY_TEST_WORKER_LOG:-}" ]] || {
        echo "TENANTRY_TEST_WORKER_LOG is not a readable file" >&2
        return 1
    }
    # Where this file's own lines begin (the format test reads only those,
    # so it does not depend on what other files did before).
    export LOG_START
    LOG_START="$(wc -c <"$TENANTRY_TEST_WORKER_LOG")"
}

# access_line REQUEST_ID: the access line of that request (waits up to 3 s:
# it is written as the request finishes).
access_line() {
    local i line
    for i in $(seq 1 30); do
        line="$(grep -F "\"$1\"" "$TENANTRY_TEST_WORKER_LOG" |
            jq -c --arg rid "$1" 'select(.level == "access" and .request_id == $rid)' 2>/dev/null | head -1)"
        if [[ -n "$line" ]]; then
            printf '%s' "$line"
            return 0
        fi
        sleep 0.1
    done
    fail "no access line with request_id $1 in $TENANTRY_TEST_WORKER_LOG"
}

# expect_not_logged LABEL VALUE
expect_not_logged() {
    local n
    n="$(grep -cF -- "$2" "$TENANTRY_TEST_WORKER_LOG" || true)"
    [[ "$n" == 0 ]] || fail "the worker log holds $1 ($n lines): $(grep -F -- "$2" "$TENANTRY_TEST_WORKER_LOG" | head -3)"
}

@test "a login and a bearer request each get a JSON access line, and neither the password nor the token is logged" {
    local pw email rid_login rid_me tok line
    new_user logs
    email="$NEW_EMAIL"
    pw="$NEW_PASSWORD"

    api POST /api/v1/auth/login "$(jq -cn --arg e "$email" --arg p "$pw" '{email: $e, password: $p}')"
    expect_status 200
    rid_login="$(header X-Request-Id)"
    tok="$(jqb .access_token)"

    api_as "$tok" GET /api/v1/me
    expect_status 200
    rid_me="$(header X-Request-Id)"

    line="$(access_line "$rid_login")"
    jq -e --arg rid "$rid_login" '
        .request_id == $rid and .method == "POST" and .route == "/api/v1/auth/login"
        and .status == 200 and (.duration_ms | type == "number" and . >= 0)
        and .principal == "anonymous"' <<<"$line" >/dev/null || fail "login access line: $line"

    line="$(access_line "$rid_me")"
    jq -e --arg rid "$rid_me" '
        .request_id == $rid and .method == "GET" and .route == "/api/v1/me"
        and .status == 200 and (.duration_ms | type == "number" and . >= 0)
        and .principal == "identity_token"' <<<"$line" >/dev/null || fail "/me access line: $line"

    expect_not_logged "the password" "$pw"
    expect_not_logged "the token" "$tok"
    expect_not_logged "the token's signature" "$(cut -d. -f3 <<<"$tok")"
    expect_not_logged "the token's payload" "$(cut -d. -f2 <<<"$tok")"
    expect_not_logged "an Authorization value" "Bearer $tok"
}

@test "a tenant-scoped request logs the tenant and principal tenant_token" {
    local acme mia tok rid line
    acme="$(demo_tenant_id acme)"
    mia="$(login mia@acme.example "$DEMO_PASSWORD")"
    tok="$(tenant_token "$mia" "$acme")"
    api_as "$tok" GET /api/v1/me
    expect_status 200
    rid="$(header X-Request-Id)"
    line="$(access_line "$rid")"
    jq -e --arg t "$acme" '.tenant == $t and .principal == "tenant_token" and .status == 200' <<<"$line" >/dev/null ||
        fail "access line: $line"
    expect_not_logged "the tenant token" "$tok"
}

@test "failed logins and refused tokens log neither the password nor the token" {
    local secret tok forged rid line
    new_user logs-fail
    secret="Wrong-$(uniqsfx)-Password"
    api POST /api/v1/auth/login "$(jq -cn --arg e "$NEW_EMAIL" --arg p "$secret" '{email: $e, password: $p}')"
    expect_error 401 unauthenticated
    rid="$(header X-Request-Id)"
    line="$(access_line "$rid")"
    jq -e '.status == 401 and .route == "/api/v1/auth/login"' <<<"$line" >/dev/null || fail "access line: $line"
    expect_not_logged "a wrong password" "$secret"

    # A malformed body holding a password: the 400 logs no part of it.
    secret="Malformed-$(uniqsfx)-Password"
    api POST /api/v1/auth/login "{\"email\":\"$NEW_EMAIL\",\"password\":\"$secret\""
    expect_error 400 invalid_request
    access_line "$(header X-Request-Id)" >/dev/null
    expect_not_logged "a password from a malformed body" "$secret"

    # Expired and tampered tokens: the refusal reason may be logged, never the token.
    forged="$(forge_jwt "$(claims identity "$NEW_ID" | jq -c '.exp = 1000 | .iat = 900')")"
    api_as "$forged" GET /api/v1/me
    expect_error 401 unauthenticated
    access_line "$(header X-Request-Id)" >/dev/null
    expect_not_logged "a refused token" "$forged"
    expect_not_logged "a refused token's signature" "$(cut -d. -f3 <<<"$forged")"

    tok="garbage-$(uniqsfx)-bearer-value"
    api GET /api/v1/me "" -H "Authorization: Bearer $tok"
    expect_error 401 unauthenticated
    access_line "$(header X-Request-Id)" >/dev/null
    expect_not_logged "a garbage bearer value" "$tok"
    tok="Basic $(printf 'mia:%s' "$(uniqsfx)" | base64)"
    api GET /api/v1/me "" -H "Authorization: $tok"
    expect_error 401 unauthenticated
    access_line "$(header X-Request-Id)" >/dev/null
    expect_not_logged "a Basic credential" "${tok#Basic }"
}

@test "a secret in the query string is not logged, by the workers or by nginx" {
    local secret="Query-$(uniqsfx)-Secret" mia
    mia="$(login mia@acme.example "$DEMO_PASSWORD")"
    api_as "$mia" GET "/api/v1/me?access_token=$secret&password=$secret"
    access_line "$(header X-Request-Id)" >/dev/null
    expect_not_logged "a query-string secret" "$secret"
    # nginx's access line shows the path and "?...", not the values.
    sleep 0.3
    ! grep -qF -- "$secret" "$TENANTRY_TEST_STATE_DIR/log/nginx-access.log" ||
        fail "nginx's access log holds the query-string secret"
    grep -qF '"GET /api/v1/me?... HTTP/' "$TENANTRY_TEST_STATE_DIR/log/nginx-access.log" ||
        fail "nginx's access log has no line for GET /api/v1/me?..."
}

@test "an invitation link's token appears in neither the worker log nor nginx's access log; both show the route" {
    local acme tok alice rid line nginx_log="$TENANTRY_TEST_STATE_DIR/log/nginx-access.log"
    acme="$(demo_tenant_id acme)"
    alice="$(tenant_token "$(login alice@acme.example "$DEMO_PASSWORD")" "$acme")"
    api_as "$alice" POST "/api/v1/tenants/$acme/users/invite" \
        "$(jq -cn --arg e "log-inv-$(uniqsfx)@api-tests.example" '{email: $e, role: "admin"}')"
    expect_status 201
    tok="$(jq -r .token <<<"$BODY")"
    [[ "$tok" =~ ^[A-Za-z0-9_-]{22,}$ ]] || fail "no invitation token: $BODY"
    # The page, a form post without its CSRF token, and a longer path under it.
    api GET "/invite/$tok"
    expect_status 200
    rid="$(header X-Request-Id)"
    api POST "/invite/$tok?x=1" "" -H 'Content-Type: application/x-www-form-urlencoded' --data-binary 'name=x'
    api GET "/invite/$tok/more"
    access_line "$(header X-Request-Id)" >/dev/null
    line="$(access_line "$rid")"
    jq -e '.path == "/invite/{token}" and .route == "/invite/{token}"' <<<"$line" >/dev/null ||
        fail "the access line of GET /invite/<token>: $line"
    expect_not_logged "an invitation token" "$tok"
    # nginx writes its line as the request ends: give it a moment.
    sleep 0.3
    [[ -r "$nginx_log" ]] || fail "no nginx access log at $nginx_log"
    ! grep -qF -- "$tok" "$nginx_log" || fail "nginx's access log holds the token: $(grep -F -- "$tok" "$nginx_log" | head -3)"
    grep -qF '"GET /invite/{token} HTTP/' "$nginx_log" || fail "nginx's access log has no masked invitation line"
    grep -qF '"GET /invite/{token}/more HTTP/' "$nginx_log" || fail "nginx's access log has no masked longer path"
}

@test "the demo and admin passwords, and any JWT, never appear in the worker log" {
    # Every test file above has signed in by now or will; whatever ran before,
    # no line may hold a password or a token.
    login "$TENANTRY_TEST_ADMIN_EMAIL" "$TENANTRY_TEST_ADMIN_PASSWORD" >/dev/null
    access_line "$(header X-Request-Id)" >/dev/null
    expect_not_logged "the admin password" "$TENANTRY_TEST_ADMIN_PASSWORD"
    expect_not_logged "the demo password" "$DEMO_PASSWORD"
    # Every JWT this server issues starts with this header.
    expect_not_logged "a JWT" "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    expect_not_logged "a bearer credential" "Bearer ey"
}

@test "every line the workers wrote during this file is one JSON object" {
    local bad n
    api GET /health
    access_line "$(header X-Request-Id)" >/dev/null
    n="$(tail -c +$((LOG_START + 1)) "$TENANTRY_TEST_WORKER_LOG" | grep -c . || true)"
    ((n > 0)) || fail "no log lines since this file started"
    bad="$(tail -c +$((LOG_START + 1)) "$TENANTRY_TEST_WORKER_LOG" | jq -R -r '. as $l | select(length > 0)
        | try (fromjson | if type == "object" then empty else $l end) catch $l' | head -5)"
    [[ -z "$bad" ]] || fail "lines that are not JSON objects:" "$bad"
}
