#!/usr/bin/env bats
# users.bats -- POST /api/v1/users: superadmins create accounts (SPEC §3).

load helpers

USERS=/api/v1/users
UUID_RE='^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
TS_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$'

setup_file() {
    export ADMIN ALICE ACME
    ADMIN="$(admin_token)"
    ALICE="$(login alice@acme.example "$DEMO_PASSWORD")"
    ACME="$(demo_tenant_id acme)"
}

email() {
    printf '%s-%s@api-tests.example' "$1" "$(uniqsfx)"
}

user_body() {
    jq -cn --arg e "$1" --arg n "${2:-Test User}" --arg p "${3:-a-good-password-1}" '{email: $e, name: $n, password: $p}'
}

@test "create: 201 with the user, which can then sign in" {
    local e pw="Pw-$(uniqsfx)-secret" id
    e="$(email create)"
    api_as "$ADMIN" POST "$USERS" "$(user_body "$e" "Created User" "$pw")"
    expect_status 201
    [[ "$(header Content-Type)" == application/json* ]] || fail "Content-Type: $(header Content-Type)"
    check_body 'keys == ["created_at", "email", "id", "is_superadmin", "name"]'
    check_body '.email == $e and .name == "Created User" and .is_superadmin == false' --arg e "$e"
    check_body '.id | test($re)' --arg re "$UUID_RE"
    check_body '.created_at | test($re)' --arg re "$TS_RE"
    [[ "$BODY" != *"$pw"* && "$BODY" != *'$argon2'* ]] || fail "the answer carries the password or its hash: $BODY"
    id="$(jqb .id)"
    login "$e" "$pw" >/dev/null
    check_body '.user.id == $id and .user.is_superadmin == false and .tenants == []' --arg id "$id"
}

@test "create: the password is stored as an Argon2id PHC string, never in clear" {
    local e pw="Pw-$(uniqsfx)-stored" id row phc
    e="$(email hash)"
    id="$(create_user "$e" "Hash Check" "$pw")"
    row="$(psql_owner "SELECT row_to_json(u)::text FROM users u WHERE id = '$id';")"
    [[ -n "$row" ]] || fail "user $id not found in the database"
    [[ "$row" != *"$pw"* ]] || fail "the users row holds the clear password"
    phc="$(grep -Eo '\$argon2id\$v=19\$m=[0-9]+,t=[0-9]+,p=[0-9]+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+' <<<"$row")" ||
        fail "no Argon2id PHC string in the users row: $row"
    # OWASP's minimum (SPEC §2): m >= 19456 KiB, t >= 2.
    [[ "$phc" =~ m=([0-9]+),t=([0-9]+) ]]
    ((BASH_REMATCH[1] >= 19456 && BASH_REMATCH[2] >= 2)) || fail "weak Argon2id parameters: $phc"
}

@test "create: is_superadmin true makes a superadmin who can create users" {
    local e pw="Pw-$(uniqsfx)-super" tok
    e="$(email super)"
    api_as "$ADMIN" POST "$USERS" "$(jq -cn --arg e "$e" --arg p "$pw" '{email: $e, name: "Second Admin", password: $p, is_superadmin: true}')"
    expect_status 201
    check_body '.is_superadmin == true'
    login "$e" "$pw" >/dev/null
    check_body '.user.is_superadmin == true'
    tok="$(jqb .access_token)"
    api_as "$tok" POST "$USERS" "$(user_body "$(email by-second-admin)")"
    expect_status 201
}

@test "create: a duplicate email is 409 conflict, whatever its case" {
    local e
    e="$(email dup)"
    api_as "$ADMIN" POST "$USERS" "$(user_body "$e")"
    expect_status 201
    api_as "$ADMIN" POST "$USERS" "$(user_body "$e" "Another Name" "another-password-1")"
    expect_error 409 conflict
    api_as "$ADMIN" POST "$USERS" "$(user_body "${e^^}")"
    expect_error 409 conflict
    api_as "$ADMIN" POST "$USERS" "$(user_body "alice@ACME.example")"
    expect_error 409 conflict
}

@test "create: a mixed-case email names the same account at sign-in" {
    local e pw="Pw-$(uniqsfx)-case"
    e="$(email MiXeD)"
    api_as "$ADMIN" POST "$USERS" "$(user_body "$e" "Case User" "$pw")"
    expect_status 201
    login "${e,,}" "$pw" >/dev/null
    login "${e^^}" "$pw" >/dev/null
}

@test "create: bad, missing, unknown and mistyped fields are 400 with details naming them" {
    local e body field
    e="$(email bad)"
    # field|body
    local -a cases=(
        "email|$(jq -cn '{name: "N", password: "a-good-password-1"}')"
        "password|$(jq -cn --arg e "$e" '{email: $e, name: "N"}')"
        "name|$(jq -cn --arg e "$e" '{email: $e, password: "a-good-password-1"}')"
        "email|$(jq -cn '{email: "not-an-email", name: "N", password: "a-good-password-1"}')"
        "email|$(jq -cn '{email: "two@@at.example", name: "N", password: "a-good-password-1"}')"
        "email|$(jq -cn '{email: 42, name: "N", password: "a-good-password-1"}')"
        "email|$(jq -cn '{email: null, name: "N", password: "a-good-password-1"}')"
        "name|$(jq -cn --arg e "$e" '{email: $e, name: 7, password: "a-good-password-1"}')"
        "name|$(jq -cn --arg e "$e" '{email: $e, name: "", password: "a-good-password-1"}')"
        "name|$(jq -cn --arg e "$e" '{email: $e, name: ["N"], password: "a-good-password-1"}')"
        "password|$(jq -cn --arg e "$e" '{email: $e, name: "N", password: 12345678901}')"
        "password|$(jq -cn --arg e "$e" '{email: $e, name: "N", password: ""}')"
        "is_superadmin|$(jq -cn --arg e "$e" '{email: $e, name: "N", password: "a-good-password-1", is_superadmin: "true"}')"
        "is_superadmin|$(jq -cn --arg e "$e" '{email: $e, name: "N", password: "a-good-password-1", is_superadmin: 1}')"
        "role|$(jq -cn --arg e "$e" '{email: $e, name: "N", password: "a-good-password-1", role: "owner"}')"
        "id|$(jq -cn --arg e "$e" '{email: $e, name: "N", password: "a-good-password-1", id: "00000000-0000-4000-8000-000000000000"}')"
    )
    for c in "${cases[@]}"; do
        field="${c%%|*}"
        body="${c#*|}"
        api_as "$ADMIN" POST "$USERS" "$body"
        REQ="POST $USERS $body"
        expect_error 400 invalid_request
        check_body '.error.details | type == "array" and length >= 1' || return 1
        check_body 'all(.error.details[]; (keys - ["field", "problem"]) == [] and (.field | type == "string") and (.problem | type == "string" and length > 0))' || return 1
        check_body 'any(.error.details[]; .field == $f)' --arg f "$field" || return 1
    done
    # Nothing of the refused requests was created: the email is still free.
    api_as "$ADMIN" POST "$USERS" "$(user_body "$e")"
    expect_status 201
}

@test "create: a body that is not one JSON object is 400" {
    local body
    for body in 'not json' '[]' 'null' '"x"' '{"email":"a@b.example",' ; do
        api_as "$ADMIN" POST "$USERS" "" -H 'Content-Type: application/json' --data-binary "$body"
        REQ="POST $USERS $body"
        expect_error 400 invalid_request
    done
}

@test "create: a 400 or 409 never echoes the password" {
    local secret="Echo-$(uniqsfx)-NotEchoed" e
    e="$(email echo)"
    api_as "$ADMIN" POST "$USERS" "$(jq -cn --arg e "$e" --arg p "$secret" '{email: $e, name: "", password: $p}')"
    expect_error 400 invalid_request
    [[ "$BODY" != *"$secret"* ]] || fail "400 echoes the password: $BODY"
    api_as "$ADMIN" POST "$USERS" "$(jq -cn --arg p "$secret" '{email: "alice@acme.example", name: "X", password: $p}')"
    expect_error 409 conflict
    [[ "$BODY" != *"$secret"* ]] || fail "409 echoes the password: $BODY"
}

@test "create: a non-superadmin is 403, with an identity or a tenant token" {
    local e
    e="$(email nope)"
    api_as "$ALICE" POST "$USERS" "$(user_body "$e")"
    expect_error 403 permission_denied
    api_as "$(tenant_token "$ALICE" "$ACME")" POST "$USERS" "$(user_body "$e")"
    expect_error 403 permission_denied
    # A forged is_superadmin claim changes nothing: the flag is read from the database.
    api_as "$(forge_jwt "$(claims identity "$(jwt_payload "$ALICE" | jq -r .sub)" | jq -c '.is_superadmin = true | .role = "superadmin"')")" \
        POST "$USERS" "$(user_body "$e")"
    expect_error 403 permission_denied
    # And nothing was created.
    api_as "$ADMIN" POST "$USERS" "$(user_body "$e")"
    expect_status 201
}

@test "create: a superadmin demoted in the database loses the right on the next request" {
    local e pw="Pw-$(uniqsfx)-demoted" id tok
    e="$(email demoted)"
    id="$(create_user "$e" "Soon Demoted" "$pw" true)"
    tok="$(login "$e" "$pw")"
    api_as "$tok" POST "$USERS" "$(user_body "$(email by-demoted-1)")"
    expect_status 201
    psql_owner "UPDATE users SET is_superadmin = false WHERE id = '$id';"
    api_as "$tok" POST "$USERS" "$(user_body "$(email by-demoted-2)")"
    expect_error 403 permission_denied
}

@test "create: no token is 401, a bad token is 401" {
    api POST "$USERS" "$(user_body "$(email anon)")"
    expect_error 401 unauthenticated
    api POST "$USERS" "$(user_body "$(email anon)")" -H 'Authorization: Bearer x.y.z'
    expect_error 401 unauthenticated
}

@test "create: a non-JSON content type is 415, GET is 405" {
    api_as "$ADMIN" POST "$USERS" "" -H 'Content-Type: text/plain' --data-binary "$(user_body "$(email ct)")"
    expect_error 415 unsupported_media_type
    api_as "$ADMIN" POST "$USERS" "" --data-urlencode "email=$(email form)"
    expect_error 415 unsupported_media_type
    api_as "$ADMIN" GET "$USERS"
    expect_error 405 method_not_allowed
    [[ "$(header Allow)" == *POST* ]] || fail "Allow: $(header Allow)"
}
