#!/usr/bin/env bats
# auth.bats -- POST /api/v1/auth/login and bearer-token verification
# (SPEC §2 tokens, §3 Auth and errors).

load helpers

LOGIN=/api/v1/auth/login
UUID_RE='^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
TS_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$'

setup_file() {
    # One user of our own for the failure cases (failures count per email:
    # never against the demo users other files sign in as).
    new_user auth
    export AUTH_EMAIL="$NEW_EMAIL" AUTH_PASSWORD="$NEW_PASSWORD" AUTH_ID="$NEW_ID"
}

login_body() {
    api POST "$LOGIN" "$(jq -cn --arg e "$1" --arg p "$2" '{email: $e, password: $p}')"
}

# ---- login -----------------------------------------------------------------------

@test "login: 200 with token, token_type Bearer, expires_in 900, user and tenants" {
    login_body mia@acme.example "$DEMO_PASSWORD"
    expect_status 200
    [[ "$(header Content-Type)" == application/json* ]] || fail "Content-Type: $(header Content-Type)"
    check_body '.token_type == "Bearer" and .expires_in == 900'
    check_body '.access_token | type == "string" and test("^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$")'
    check_body '.user | keys == ["created_at", "email", "id", "is_superadmin", "name"]'
    check_body '.user.email == "mia@acme.example" and .user.is_superadmin == false and (.user.name | type == "string")'
    check_body '.user.id | test($re)' --arg re "$UUID_RE"
    check_body '.user.created_at | test($re)' --arg re "$TS_RE"
    check_body '.tenants | type == "array" and length == 2'
    check_body 'all(.tenants[]; keys == ["id", "name", "role", "slug", "status", "tier"])'
    check_body '[.tenants[] | {slug, role, tier, status}] | sort_by(.slug) ==
        [{slug: "acme", role: "member", tier: "business", status: "active"},
         {slug: "initech", role: "viewer", tier: "free", status: "active"}]'
}

@test "login: the token is an HS256 identity token for that user, valid 900 s, usable on /me" {
    local tok uid now
    login_body alice@acme.example "$DEMO_PASSWORD"
    expect_status 200
    tok="$(jqb .access_token)"
    uid="$(jqb .user.id)"
    now="$(date +%s)"
    [[ "$(jwt_header "$tok" | jq -r .alg)" == HS256 ]] || fail "header: $(jwt_header "$tok")"
    jwt_payload "$tok" | jq -e --arg uid "$uid" --argjson now "$now" '
        .aud == "tenantry:identity" and .sub == $uid and (.iss | type == "string")
        and (.exp - .iat) == 900 and (.iat - $now | fabs) < 60 and (has("tenant_id") | not)' >/dev/null ||
        fail "payload: $(jwt_payload "$tok")"
    api_as "$tok" GET /api/v1/me
    expect_status 200
    check_body '.kind == "user" and .user.id == $uid and .user.email == "alice@acme.example" and .tenant == null' --arg uid "$uid"
    check_body '[.tenants[].slug] | sort == ["acme", "globex"]'
}

@test "login: a superadmin's user says is_superadmin true" {
    login_body "$TENANTRY_TEST_ADMIN_EMAIL" "$TENANTRY_TEST_ADMIN_PASSWORD"
    expect_status 200
    check_body '.user.is_superadmin == true and .user.email == $e' --arg e "$TENANTRY_TEST_ADMIN_EMAIL"
}

@test "login: the email is case-insensitive, the password is not" {
    login_body "${AUTH_EMAIL^^}" "$AUTH_PASSWORD"
    expect_status 200
    check_body '.user.id == $id' --arg id "$AUTH_ID"
    login_body "$AUTH_EMAIL" "${AUTH_PASSWORD^^}"
    expect_error 401 unauthenticated
}

@test "login: Content-Type application/json with a charset parameter is accepted" {
    api POST "$LOGIN" "" -H 'Content-Type: application/json; charset=utf-8' \
        --data-binary "$(jq -cn --arg e "$AUTH_EMAIL" --arg p "$AUTH_PASSWORD" '{email: $e, password: $p}')"
    expect_status 200
}

@test "login: a stale or garbage Authorization header does not stop a login" {
    api POST "$LOGIN" "$(jq -cn --arg e "$AUTH_EMAIL" --arg p "$AUTH_PASSWORD" '{email: $e, password: $p}')" \
        -H 'Authorization: Bearer garbage.garbage.garbage'
    expect_status 200
}

@test "login: unknown email and wrong password get the same 401 status, message and headers" {
    local wrong unknown
    login_body "$AUTH_EMAIL" "not-the-password"
    expect_error 401 unauthenticated
    [[ "$(jqb .error.message)" == "invalid email or password" ]] || fail "message: $(jqb .error.message)"
    wrong="$(jqb 'del(.error.request_id)' | jq -cS .)|$(header WWW-Authenticate)"
    check_body 'has("access_token") | not'

    login_body "nobody-$(uniqsfx)@api-tests.example" "not-the-password"
    expect_error 401 unauthenticated
    unknown="$(jqb 'del(.error.request_id)' | jq -cS .)|$(header WWW-Authenticate)"
    [[ "$wrong" == "$unknown" ]] || fail "wrong password: $wrong" "unknown email: $unknown"

    # A malformed email is only an unknown one: the same 401, not a 400 that
    # would tell well-formed addresses apart.
    login_body "not-an-email" "not-the-password"
    expect_error 401 unauthenticated
    [[ "$(jqb 'del(.error.request_id)' | jq -cS .)|$(header WWW-Authenticate)" == "$unknown" ]] ||
        fail "malformed email answered differently: $BODY"
}

@test "login: an unknown email costs about as much time as a wrong password" {
    # SPEC §2: the same Argon2id work either way. Loose bound (x0.5) so a busy
    # machine does not make it flaky; a skipped hash is ~40 ms vs ~1 ms.
    local i t wrong=() unknown=() mw mu
    for i in 1 2 3; do
        t="$(tcurl -o /dev/null -w '%{time_total}' -X POST -H 'Content-Type: application/json' \
            --data-binary "$(jq -cn --arg e "$AUTH_EMAIL" '{email: $e, password: "wrong-password"}')" \
            "$TENANTRY_TEST_URL$LOGIN")"
        wrong+=("$t")
        t="$(tcurl -o /dev/null -w '%{time_total}' -X POST -H 'Content-Type: application/json' \
            --data-binary "$(jq -cn --arg e "ghost-$(uniqsfx)@api-tests.example" '{email: $e, password: "wrong-password"}')" \
            "$TENANTRY_TEST_URL$LOGIN")"
        unknown+=("$t")
    done
    mw="$(printf '%s\n' "${wrong[@]}" | sort -n | sed -n 2p)"
    mu="$(printf '%s\n' "${unknown[@]}" | sort -n | sed -n 2p)"
    awk -v w="$mw" -v u="$mu" 'BEGIN { exit !(u >= w * 0.5) }' ||
        fail "median unknown-email login ${mu}s vs wrong-password ${mw}s (${unknown[*]} / ${wrong[*]})"
}

@test "login: malformed bodies are 400 invalid_request" {
    local body
    local -a bodies=(
        'not json'
        '[]'
        '["a@b.example", "pw"]'
        '"just a string"'
        '42'
        'null'
        '{}'
        '{"email":"a@b.example"}'
        '{"password":"pw"}'
        '{"email":1,"password":"pw"}'
        '{"email":"a@b.example","password":12345678}'
        '{"email":"a@b.example","password":null}'
        '{"email":"a@b.example","password":true}'
        '{"email":["a@b.example"],"password":"pw"}'
        '{"email":{"x":1},"password":"pw"}'
        '{"email":"a@b.example","password":"pw","extra":1}'
        '{"email":"a@b.example","password":"pw"} trailing'
        '{"email":"a@b.example","password":"pw"}{}'
        "{'email':'a@b.example','password':'pw'}"
        '{"email":"a@b.example","password":"pw",}'
        '{"email":"a@b.example" "password":"pw"}'
    )
    for body in "${bodies[@]}"; do
        api POST "$LOGIN" "" -H 'Content-Type: application/json' --data-binary "$body"
        REQ="POST $LOGIN $body"
        expect_error 400 invalid_request
    done
    # No body at all.
    api POST "$LOGIN" "" -H 'Content-Type: application/json'
    expect_error 400 invalid_request
}

@test "login: a field error names the field in details[{field,problem}]" {
    api POST "$LOGIN" '{"email":"a@b.example","password":12345678}'
    expect_error 400 invalid_request
    check_body '.error.details | type == "array" and length >= 1'
    check_body 'all(.error.details[]; (keys - ["field", "problem"]) == [] and (.field | type == "string") and (.problem | type == "string" and length > 0))'
    check_body 'any(.error.details[]; .field == "password")'
    api POST "$LOGIN" '{"password":"x"}'
    expect_error 400 invalid_request
    check_body 'any(.error.details[]; .field == "email")'
}

@test "login: no error echoes the password, and no response leaks a hash" {
    local secret="Echo-Check-$(uniqsfx)-Secret"
    login_body "$AUTH_EMAIL" "$secret"
    expect_error 401 unauthenticated
    [[ "$BODY$HEADERS" != *"$secret"* ]] || fail "401 echoes the password: $BODY"
    api POST "$LOGIN" "$(jq -cn --arg p "$secret" '{email: "a@b.example", password: $p, unknown: $p}')"
    expect_error 400 invalid_request
    [[ "$BODY$HEADERS" != *"$secret"* ]] || fail "400 echoes the password: $BODY"
    api POST "$LOGIN" "$(jq -cn --arg p "$secret" '{email: "a@b.example", password: [$p]}')"
    expect_error 400 invalid_request
    [[ "$BODY$HEADERS" != *"$secret"* ]] || fail "400 echoes the password: $BODY"
    api POST "$LOGIN" "{\"email\":\"a@b.example\",\"password\":\"$secret\"" # truncated JSON
    expect_error 400 invalid_request
    [[ "$BODY$HEADERS" != *"$secret"* ]] || fail "400 echoes the body: $BODY"
    login_body "$AUTH_EMAIL" "$AUTH_PASSWORD"
    expect_status 200
    [[ "$BODY" != *'$argon2'* && "$BODY" != *password* ]] || fail "login body leaks a hash or password field: $BODY"
}

@test "login: GET is 405 with Allow: POST" {
    api GET "$LOGIN"
    expect_error 405 method_not_allowed
    [[ "$(header Allow)" == *POST* ]] || fail "Allow: $(header Allow)"
}

# ---- bearer tokens -----------------------------------------------------------------

@test "token: no Authorization header is 401 with WWW-Authenticate: Bearer" {
    api GET /api/v1/me
    expect_error 401 unauthenticated
}

@test "token: a non-Bearer scheme, an empty bearer and garbage are 401" {
    local h
    for h in 'Basic YWxpY2U6ZGVtby1wYXNzd29yZA==' 'Bearer' 'Bearer ' 'Bearer abc' 'Bearer a.b.c' \
        'Token abc.def.ghi' 'Bearer ....' 'Bearer eyJhbGciOiJIUzI1NiJ9.e30'; do
        api GET /api/v1/me "" -H "Authorization: $h"
        REQ="GET /api/v1/me with Authorization: $h"
        expect_error 401 unauthenticated
    done
}

@test "token: a forged token with the right claims and key is accepted (the forger works)" {
    # Guards the refusals below: they fail for the reason they name.
    local tok
    tok="$(forge_jwt "$(claims identity "$AUTH_ID")")"
    api_as "$tok" GET /api/v1/me
    expect_status 200
    check_body '.user.id == $id' --arg id "$AUTH_ID"
    # The scheme name is case-insensitive (RFC 7235).
    api GET /api/v1/me "" -H "Authorization: bearer $tok"
    expect_status 200
}

@test "token: expired (exp 10 min ago) is 401" {
    local now
    now="$(date +%s)"
    api_as "$(forge_jwt "$(claims identity "$AUTH_ID" | jq -c --argjson n "$now" '.iat = $n - 1500 | .exp = $n - 600')")" GET /api/v1/me
    expect_error 401 unauthenticated
}

@test "token: 30 s of clock skew is allowed on exp and iat, no more" {
    local now
    now="$(date +%s)"
    api_as "$(forge_jwt "$(claims identity "$AUTH_ID" | jq -c --argjson n "$now" '.iat = $n - 900 | .exp = $n - 10')")" GET /api/v1/me
    expect_status 200
    api_as "$(forge_jwt "$(claims identity "$AUTH_ID" | jq -c --argjson n "$now" '.iat = $n - 900 | .exp = $n - 120')")" GET /api/v1/me
    expect_error 401 unauthenticated
    api_as "$(forge_jwt "$(claims identity "$AUTH_ID" | jq -c --argjson n "$now" '.iat = $n + 10')")" GET /api/v1/me
    expect_status 200
    api_as "$(forge_jwt "$(claims identity "$AUTH_ID" | jq -c --argjson n "$now" '.iat = $n + 300 | .exp = $n + 900')")" GET /api/v1/me
    expect_error 401 unauthenticated
    api_as "$(forge_jwt "$(claims identity "$AUTH_ID" | jq -c --argjson n "$now" '.nbf = $n + 300')")" GET /api/v1/me
    expect_error 401 unauthenticated
}

@test "token: alg none (no signature) is 401" {
    local p tok
    p="$(claims identity "$AUTH_ID")"
    api_as "$(forge_jwt "$p" none)" GET /api/v1/me
    expect_error 401 unauthenticated
    # "none" with the HS256 signature still attached, and other spellings.
    tok="$(forge_jwt "$p")"
    api_as "$(forge_jwt "$p" none | cut -d. -f1-2).$(cut -d. -f3 <<<"$tok")" GET /api/v1/me
    expect_error 401 unauthenticated
    api_as "$(forge_jwt "$p" None)" GET /api/v1/me
    expect_error 401 unauthenticated
    api_as "$(forge_jwt "$p" NONE | cut -d. -f1-2)." GET /api/v1/me
    expect_error 401 unauthenticated
    # HS256 header with the signature stripped.
    api_as "$(cut -d. -f1-2 <<<"$tok")." GET /api/v1/me
    expect_error 401 unauthenticated
}

@test "token: HS512, HS384, RS256-by-HMAC and a lower-case hs256 header are 401" {
    local p alg
    p="$(claims identity "$AUTH_ID")"
    for alg in HS512 HS384 RS256 ES256 hs256; do
        api_as "$(forge_jwt "$p" "$alg")" GET /api/v1/me
        REQ="GET /api/v1/me with an $alg token"
        expect_error 401 unauthenticated
    done
}

@test "token: wrong aud, missing aud, wrong iss, missing iss are 401" {
    local p edit
    p="$(claims identity "$AUTH_ID")"
    for edit in '.aud = "tenantry:other"' '.aud = "tenantry"' '.aud = ["tenantry:identity"]' 'del(.aud)' \
        '.iss = "someone-else"' '.iss = (.iss + "x")' 'del(.iss)' '.iss = null'; do
        api_as "$(forge_jwt "$(jq -c "$edit" <<<"$p")")" GET /api/v1/me
        REQ="GET /api/v1/me with claims edited by $edit"
        expect_error 401 unauthenticated
    done
}

@test "token: exp or iat that is a string, a float, missing or null is 401" {
    local p edit
    p="$(claims identity "$AUTH_ID")"
    for edit in '.exp |= tostring' '.iat |= tostring' '.exp = .exp + 0.5' 'del(.exp)' 'del(.iat)' \
        '.exp = null' '.exp = true' '.nbf = "0"'; do
        api_as "$(forge_jwt "$(jq -c "$edit" <<<"$p")")" GET /api/v1/me
        REQ="GET /api/v1/me with claims edited by $edit"
        expect_error 401 unauthenticated
    done
}

@test "token: a tampered payload or signature is 401" {
    local tok h p s other
    tok="$(login "$AUTH_EMAIL" "$AUTH_PASSWORD")"
    h="$(cut -d. -f1 <<<"$tok")"
    s="$(cut -d. -f3 <<<"$tok")"
    # Payload changed (someone else's sub), signature kept.
    other="$(jwt_payload "$tok" | jq -c '.sub = "00000000-0000-4000-8000-000000000001"' | tr -d '\n' | b64url)"
    api_as "$h.$other.$s" GET /api/v1/me
    expect_error 401 unauthenticated
    # Expiry extended, signature kept.
    other="$(jwt_payload "$tok" | jq -c '.exp = .exp + 86400' | tr -d '\n' | b64url)"
    api_as "$h.$other.$s" GET /api/v1/me
    expect_error 401 unauthenticated
    # Signature changed in its first character (the last one may only carry padding bits).
    local first="${s:0:1}" repl=A
    [[ "$first" == A ]] && repl=B
    api_as "$h.$(cut -d. -f2 <<<"$tok").$repl${s:1}" GET /api/v1/me
    expect_error 401 unauthenticated
    # Signed with another key.
    api_as "$h.$(cut -d. -f2 <<<"$tok").$(printf '%s' "$h.$(cut -d. -f2 <<<"$tok")" |
        openssl dgst -sha256 -mac HMAC -macopt key:not-the-secret -binary | b64url)" GET /api/v1/me
    expect_error 401 unauthenticated
    # The untouched token still works.
    api_as "$tok" GET /api/v1/me
    expect_status 200
}

@test "token: a sub that is not a UUID, or a user that does not exist, is 401" {
    api_as "$(forge_jwt "$(claims identity "$AUTH_ID" | jq -c '.sub = "not-a-uuid"')")" GET /api/v1/me
    expect_error 401 unauthenticated
    api_as "$(forge_jwt "$(claims identity "$AUTH_ID" | jq -c 'del(.sub)')")" GET /api/v1/me
    expect_error 401 unauthenticated
    api_as "$(forge_jwt "$(claims identity "$(cat /proc/sys/kernel/random/uuid)")")" GET /api/v1/me
    expect_error 401 unauthenticated
}

@test "token: a token never answers 401 with the token or its claims in the body" {
    local tok
    tok="$(forge_jwt "$(claims identity "$AUTH_ID" | jq -c '.iss = "leak-check-issuer"')")"
    api_as "$tok" GET /api/v1/me
    expect_error 401 unauthenticated
    [[ "$BODY$HEADERS" != *"$tok"* && "$BODY" != *leak-check-issuer* && "$BODY" != *"$AUTH_ID"* ]] ||
        fail "401 echoes the token or its claims: $BODY"
}
