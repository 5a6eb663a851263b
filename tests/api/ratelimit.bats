#!/usr/bin/env bats
# ratelimit.bats -- rate limits (SPEC §5 "Rate limits", §3 429): one class per
# tenant request (read, write, settings_read, settings_write, usage), the
# seeded per-tier limits, RateLimit-Limit / -Remaining / -Reset, 429
# rate_limited with Retry-After, exactly the limit admitted under concurrency,
# refused requests not counted, exempt tiers; and the login lockout per
# (email, client address) and per address.
#
# Small limits come from tiers made for the test (tiers are rows: see
# mktier). Every test uses tenants and users of its own. The settings_write
# limit of 10 an hour is covered by settings.bats and not repeated here.

load helpers

CURRENT=/api/v1/tenants/current
SETTINGS=/api/v1/tenants/current/settings
EVENTS=/api/v1/usage/events

teardown() {
    # Login failures made by this test: gone, so that the per-address count
    # (127.0.0.1 for every suite) does not build up across tests and files.
    if ((${#LOCK_EMAILS[@]})); then
        local e list=""
        for e in "${LOCK_EMAILS[@]}"; do list+="${list:+,}'${e,,}'"; done
        psql_super "DELETE FROM login_failures WHERE lower(trim(email)) IN ($list)" >/dev/null || true
    fi
}

LOCK_EMAILS=()

# ---- helpers ------------------------------------------------------------------

# mktier READ WRITE USAGE SETTINGS_READ SETTINGS_WRITE [EXEMPT]: a tier with these
# limits (per 60 s; settings_write per 3600 s) and every feature; prints its name.
mktier() {
    local name="rl$(uniqsfx)" rank=$(((RANDOM << 15 | RANDOM) + 100000))
    psql_owner "BEGIN;
        INSERT INTO tiers (name, display_name, price_plan, rank, grace_percent, features, rate_exempt)
        VALUES ('$name', 'RL test $name', 'rl-test', $rank, 10, '{all}', ${6:-false});
        INSERT INTO tier_rate_limits (tier, class, max_requests, window_seconds) VALUES
            ('$name', 'read', $1, 60), ('$name', 'write', $2, 60), ('$name', 'usage', $3, 60),
            ('$name', 'settings_read', $4, 60), ('$name', 'settings_write', $5, 3600);
        COMMIT;" >/dev/null || return 1
    printf '%s' "$name"
}

# fresh TIER: a new tenant of TIER with a new owner. Sets F_ID F_EMAIL F_PW
# F_IDTOK (identity) F_TOKEN (tenant-scoped).
fresh() {
    new_user rl-owner || return 1
    F_EMAIL="$NEW_EMAIL" F_PW="$NEW_PASSWORD"
    new_tenant rl "$F_EMAIL" "$1" || return 1
    F_ID="$NEW_TENANT_ID"
    F_IDTOK="$(login "$F_EMAIL" "$F_PW")" || return 1
    F_TOKEN="$(tenant_token "$F_IDTOK" "$F_ID")" || return 1
}

# key TOKEN TENANT_ID SCOPES_JSON: prints a new API key.
key() {
    api_as "$1" POST "/api/v1/tenants/$2/api-keys" "$(jq -cn --argjson s "$3" '{name: "rl", scopes: $s}')"
    [[ "$STATUS" == 201 ]] || fail "create key: $STATUS $BODY" || return 1
    jqb .key
}

# rl LIMIT REMAINING [WINDOW]: the RateLimit-* headers of the last response.
rl() {
    local l r s w="${3:-60}"
    l="$(header RateLimit-Limit)" r="$(header RateLimit-Remaining)" s="$(header RateLimit-Reset)"
    [[ "$l" == "$1" && "$r" == "$2" ]] ||
        fail "$REQ ($STATUS): expected RateLimit-Limit $1 / Remaining $2, got '$l' / '$r'" "headers:" "$HEADERS" || return 1
    [[ "$s" =~ ^[0-9]+$ ]] && ((s >= 1 && s <= w)) ||
        fail "$REQ: RateLimit-Reset '$s' is not in 1..$w" || return 1
}

no_rl() {
    [[ -z "$(header RateLimit-Limit)$(header RateLimit-Remaining)$(header RateLimit-Reset)" ]] ||
        fail "$REQ ($STATUS): RateLimit-* headers on an unlimited request" "headers:" "$HEADERS"
}

# limited: 429 rate_limited, Retry-After 1..WINDOW, RateLimit-Remaining 0.
limited() {
    local w="${1:-60}" ra
    expect_error 429 rate_limited || return 1
    ra="$(header Retry-After)"
    [[ "$ra" =~ ^[0-9]+$ ]] && ((ra >= 1 && ra <= w)) || fail "$REQ: Retry-After '$ra' is not in 1..$w" || return 1
    [[ "$(header RateLimit-Remaining)" == 0 ]] || fail "$REQ: 429 with RateLimit-Remaining '$(header RateLimit-Remaining)'"
}

# window_room SECONDS: wait for the next minute when fewer than SECONDS remain in this one
# (the 60 s windows are aligned on the clock).
window_room() {
    local left=$((60 - $(date +%s) % 60))
    if ((left < $1)); then sleep $((left + 1)); fi
}

# hits TENANT_ID CLASS: requests counted in the current windows of the class (database).
hits() {
    psql_super "SELECT coalesce(sum(hits), 0) FROM rate_counters WHERE tenant_id = '$1' AND class = '$2'"
}

# burst DIR CLIENTS READS: CLIENTS parallel clients make READS reads of
# $CURRENT each with $F_TOKEN; each answer is a line "status limit remaining
# retry-after" (a missing header is "-") in DIR/r.<client>. Fails if the
# burst straddled a minute boundary (its counts would mean nothing).
burst() {
    local dir="$1" clients="$2" reads="$3" start c
    local -a tls=(-k)
    [[ -z "${TENANTRY_TEST_CA_FILE:-}" || ! -r "${TENANTRY_TEST_CA_FILE:-}" ]] || tls=(--cacert "$TENANTRY_TEST_CA_FILE")
    mkdir -p "$dir"
    start=$(($(date +%s) / 60))
    for c in $(seq 1 "$clients"); do
        (
            for i in $(seq 1 "$reads"); do
                code="$(curl --silent --max-time 30 "${tls[@]}" -o /dev/null -D "$dir/h.$c" -w '%{http_code}' \
                    -H "Authorization: Bearer $F_TOKEN" "$TENANTRY_TEST_URL$CURRENT")" || code=000
                tr -d '\r' <"$dir/h.$c" | awk -v code="$code" -F': *' '
                    tolower($1) == "ratelimit-limit" { l = $2 } tolower($1) == "ratelimit-remaining" { m = $2 }
                    tolower($1) == "retry-after" { a = $2 }
                    END { print code, (l == "" ? "-" : l), (m == "" ? "-" : m), (a == "" ? "-" : a) }' >>"$dir/r.$c"
            done
        ) &
    done
    wait
    [ "$start" -eq $(($(date +%s) / 60)) ] || fail "the burst straddled a minute boundary: the counts below are not meaningful"
}

one_event() {
    jq -cn --arg k "rl-$(uniqsfx)" '{events: [{meter: "api_calls", quantity: 1, idempotency_key: $k}]}'
}

# ---- the classes and their headers ------------------------------------------------

@test "seeded tiers: RateLimit-Limit per class (free 300/60/120/100/10, starter 1000/300/600/100/10, business 5000/1000/3000/100/10); enterprise has no RateLimit headers" {
    local tier read write usage sread swrite
    while read -r tier read write usage sread swrite; do
        fresh "$tier"
        api_as "$F_TOKEN" GET "$CURRENT"
        expect_status 200
        rl "$read" $((read - 1))
        api_as "$F_TOKEN" GET "$SETTINGS"
        expect_status 200
        rl "$sread" $((sread - 1))
        api_as "$F_TOKEN" PATCH "/api/v1/tenants/$F_ID" '{"name":"Renamed for the rate test"}'
        expect_status 200
        rl "$write" $((write - 1))
        api_as "$F_TOKEN" POST "$EVENTS" "$(one_event)"
        expect_status 202
        rl "$usage" $((usage - 1))
        api_as "$F_TOKEN" PUT "$SETTINGS" '{"settings":{"branding":{"primary_color":"#333333"}}}'
        expect_status 200
        rl "$swrite" $((swrite - 1)) 3600
    done <<'EOF'
free 300 60 120 100 10
starter 1000 300 600 100 10
business 5000 1000 3000 100 10
EOF
    fresh enterprise
    api_as "$F_TOKEN" GET "$CURRENT"
    expect_status 200
    no_rl
    api_as "$F_TOKEN" GET "$SETTINGS"
    expect_status 200
    no_rl
    api_as "$F_TOKEN" PATCH "/api/v1/tenants/$F_ID" '{"name":"Renamed for the rate test"}'
    expect_status 200
    no_rl
    api_as "$F_TOKEN" POST "$EVENTS" "$(one_event)"
    expect_status 202
    no_rl
    api_as "$F_TOKEN" PUT "$SETTINGS" '{"settings":{"branding":{"primary_color":"#333333"}}}'
    expect_status 200
    no_rl
    # Nothing counted for it either.
    [ "$(psql_super "SELECT count(*) FROM rate_counters WHERE tenant_id = '$F_ID'")" = 0 ]
}

@test "sequential: RateLimit-Remaining goes down by one per request; then 429 rate_limited with Retry-After, which does not consume" {
    local tier
    tier="$(mktier 5 100 100 100 10)"
    fresh "$tier"
    window_room 12
    local i
    for i in 1 2 3 4 5; do
        api_as "$F_TOKEN" GET "$CURRENT"
        expect_status 200
        rl 5 $((5 - i))
    done
    # The reset is the end of the clock-aligned window.
    local reset now_left
    reset="$(header RateLimit-Reset)" now_left=$((60 - $(date +%s) % 60))
    ((reset >= now_left - 2 && reset <= now_left + 2)) || fail "RateLimit-Reset $reset, the window ends in $now_left s"

    for i in 1 2 3; do
        api_as "$F_TOKEN" GET "$CURRENT"
        limited 60
        [ "$(header RateLimit-Limit)" = 5 ]
    done
    # The refused requests took nothing: exactly the limit is counted.
    [ "$(hits "$F_ID" read)" = 5 ] || fail "rate_counters: $(hits "$F_ID" read) hits, expected 5"
    # Every read of the tenant is refused, whatever the route or credential.
    api_as "$F_TOKEN" GET "/api/v1/tenants/$F_ID/users"
    limited 60
    api_as "$F_IDTOK" GET "$CURRENT" "" -H "X-Tenant-ID: $F_ID"
    limited 60
    # Other classes are not affected.
    api_as "$F_TOKEN" GET "$SETTINGS"
    expect_status 200
    api_as "$F_TOKEN" PATCH "/api/v1/tenants/$F_ID" '{"name":"Still writable"}'
    expect_status 200
    # The next window starts afresh (moved back in the database: the window is "over").
    psql_super "UPDATE rate_counters SET window_start = window_start - interval '1 minute' WHERE tenant_id = '$F_ID'" >/dev/null
    api_as "$F_TOKEN" GET "$CURRENT"
    expect_status 200
    rl 5 4
}

@test "classes are counted apart, and every credential of the tenant (tenant token, identity + X-Tenant-ID, API key) shares its counters" {
    local tier key ukey
    tier="$(mktier 6 4 3 5 3)"
    fresh "$tier"
    window_room 12
    key="$(key "$F_TOKEN" "$F_ID" '["read","write"]')"
    ukey="$(key "$F_TOKEN" "$F_ID" '["usage:write"]')"
    # (creating the two keys: two writes)
    api_as "$F_TOKEN" GET "$CURRENT"
    rl 6 5
    api_as "$F_IDTOK" GET "$CURRENT" "" -H "X-Tenant-ID: $F_ID"
    expect_status 200
    rl 6 4
    api_as "$key" GET "$CURRENT"
    expect_status 200
    rl 6 3
    api_as "$F_TOKEN" GET "$SETTINGS"
    expect_status 200
    rl 5 4
    api_as "$key" GET "$SETTINGS"
    expect_status 200
    rl 5 3
    api_as "$F_TOKEN" GET "/api/v1/tenants/$F_ID/users"
    expect_status 200
    rl 6 2
    api_as "$key" PATCH "/api/v1/tenants/$F_ID" '{"name":"Write class"}'
    expect_status 200
    rl 4 1
    api_as "$key" PUT "$SETTINGS" '{"settings":{"branding":{"primary_color":"#444444"}}}'
    expect_status 200
    rl 3 2 3600
    api_as "$ukey" POST "$EVENTS" "$(one_event)"
    expect_status 202
    rl 3 2
    api_as "$F_TOKEN" POST "$EVENTS" "$(one_event)"
    expect_status 202
    rl 3 1
    # The sign-in step (tenant-token) is not tenant traffic.
    api_as "$F_IDTOK" POST /api/v1/auth/tenant-token "{\"tenant_id\":\"$F_ID\"}"
    expect_status 200
    no_rl
    # The last write, then the write class is used up for every credential.
    api_as "$F_TOKEN" PATCH "/api/v1/tenants/$F_ID" '{"name":"Write class 2"}'
    expect_status 200
    rl 4 0
    api_as "$key" PATCH "/api/v1/tenants/$F_ID" '{"name":"Write class 3"}'
    limited 60
    api_as "$F_TOKEN" DELETE "/api/v1/tenants/$F_ID/users/$(cat /proc/sys/kernel/random/uuid)"
    limited 60
    # The reads still have 2.
    api_as "$key" GET "$CURRENT"
    expect_status 200
    rl 6 1
}

@test "a refused write (4xx: invalid body, forbidden, 429) is not counted: its transaction is rolled back" {
    local tier viewer_tok
    tier="$(mktier 100 3 3 100 10)"
    fresh "$tier"
    new_user rl-viewer
    add_member "$F_ID" "$NEW_EMAIL" viewer
    viewer_tok="$(tenant_token "$(login "$NEW_EMAIL" "$NEW_PASSWORD")" "$F_ID")"
    window_room 12

    api_as "$F_TOKEN" PATCH "/api/v1/tenants/$F_ID" '{"name":"Counted once"}'
    expect_status 200
    rl 3 2
    # Invalid bodies, a viewer's attempt, a superadmin-only field: none counts.
    api_as "$F_TOKEN" PATCH "/api/v1/tenants/$F_ID" '{"name":"x"}'
    expect_error 400 invalid_request
    api_as "$F_TOKEN" PATCH "/api/v1/tenants/$F_ID" '{"bogus":1}'
    expect_error 400 invalid_request
    api_as "$F_TOKEN" PATCH "/api/v1/tenants/$F_ID" '{"tier":"enterprise"}'
    expect_error 403 permission_denied
    api_as "$viewer_tok" PATCH "/api/v1/tenants/$F_ID" '{"name":"By a viewer"}'
    expect_error 403 permission_denied
    [ "$(hits "$F_ID" write)" = 1 ] || fail "write hits after refused writes: $(hits "$F_ID" write), expected 1"
    api_as "$F_TOKEN" PATCH "/api/v1/tenants/$F_ID" '{"name":"Counted twice"}'
    expect_status 200
    rl 3 1

    # The usage class the same: a batch refused as invalid is not counted.
    api_as "$F_TOKEN" POST "$EVENTS" "$(one_event)"
    expect_status 202
    rl 3 2
    api_as "$F_TOKEN" POST "$EVENTS" '{"events":[{"meter":"api_calls","quantity":-1,"idempotency_key":"neg"}]}'
    expect_error 400 invalid_request
    api_as "$F_TOKEN" POST "$EVENTS" '{"events":[{"meter":"no_such_meter","quantity":1,"idempotency_key":"nm"}]}'
    [[ "$STATUS" == 4* ]] || fail "unknown meter: $STATUS"
    api_as "$F_TOKEN" POST "$EVENTS" "$(one_event)"
    expect_status 202
    rl 3 1
    api_as "$F_TOKEN" POST "$EVENTS" "$(one_event)"
    expect_status 202
    rl 3 0
    api_as "$F_TOKEN" POST "$EVENTS" "$(one_event)"
    limited 60
    [ "$(hits "$F_ID" usage)" = 3 ] || fail "usage hits: $(hits "$F_ID" usage), expected 3"
}

@test "requests that authenticate into no tenant (outsider, revoked key, another tenant's key) do not spend the tenant's allowance" {
    local tier key rkey rkey_id okey other
    tier="$(mktier 4 100 100 100 10)"
    fresh "$tier"
    key="$(key "$F_TOKEN" "$F_ID" '["read"]')"
    api_as "$F_TOKEN" POST "/api/v1/tenants/$F_ID/api-keys" '{"name":"revoked","scopes":["read"]}'
    rkey="$(jqb .key)" rkey_id="$(jqb .id)"
    api_as "$F_TOKEN" DELETE "/api/v1/tenants/$F_ID/api-keys/$rkey_id"
    expect_status 204
    new_user rl-outsider
    other="$(login "$NEW_EMAIL" "$NEW_PASSWORD")"
    new_tenant rl-other "$NEW_EMAIL" business
    okey="$(key "$(tenant_token "$other" "$NEW_TENANT_ID")" "$NEW_TENANT_ID" '["read"]')"
    window_room 12

    local i
    for i in 1 2 3 4 5; do
        api_as "$other" GET "/api/v1/tenants/$F_ID"
        expect_error 403 permission_denied
        api_as "$other" GET "$CURRENT" "" -H "X-Tenant-ID: $F_ID"
        expect_error 403 permission_denied
        api_as "$rkey" GET "$CURRENT"
        expect_error 401 unauthenticated
        api_as "$okey" GET "/api/v1/tenants/$F_ID"
        expect_error 403 tenant_mismatch
    done
    [ "$(hits "$F_ID" read)" = 0 ] || fail "$(hits "$F_ID" read) reads counted for requests that were not the tenant's"
    api_as "$key" GET "$CURRENT"
    expect_status 200
    rl 4 3
}

@test "a rate_exempt tier is never limited and carries no RateLimit headers, whatever its rows say; -1 is unlimited for that class only" {
    local tier i
    tier="$(mktier 2 2 2 2 2 true)"
    fresh "$tier"
    for i in 1 2 3 4 5; do
        api_as "$F_TOKEN" GET "$CURRENT"
        expect_status 200
        no_rl
        api_as "$F_TOKEN" PATCH "/api/v1/tenants/$F_ID" "{\"name\":\"Exempt $i\"}"
        expect_status 200
        no_rl
    done

    tier="$(mktier -1 2 -1 -1 -1)"
    fresh "$tier"
    window_room 10
    for i in 1 2 3 4 5; do
        api_as "$F_TOKEN" GET "$CURRENT"
        expect_status 200
        no_rl
    done
    api_as "$F_TOKEN" PATCH "/api/v1/tenants/$F_ID" '{"name":"Limited write 1"}'
    expect_status 200
    rl 2 1
    api_as "$F_TOKEN" PUT "$SETTINGS" '{"settings":{"branding":{"primary_color":"#555555"}}}'
    expect_status 200
    no_rl
}

# From 200 a window up, reads are counted by each worker and flushed in
# batches (SPEC §5; docs/decisions.md): a window admits at least its limit
# and at most limit + workers x batch - 1, the batch being 1 % of the limit
# (here 10), and every header stays within that bound.
@test "batched reads: 20 clients x 60 reads over every worker against a limit of 1000/min admit 1000 .. 1000 + workers x 10 - 1; headers consistent; all counted" {
    local tier
    tier="$(mktier 1000 100 100 100 10)"
    fresh "$tier"
    local dir
    dir="$(_tmp)/batched"
    window_room 25
    burst "$dir" 20 60

    local workers="${TENANTRY_TEST_WORKERS:?}" max ok limited_n other bad
    max=$((1000 + workers * 10 - 1))
    ok="$(cat "$dir"/r.* | awk '$1 == 200' | wc -l)"
    limited_n="$(cat "$dir"/r.* | awk '$1 == 429' | wc -l)"
    other="$(cat "$dir"/r.* | awk '$1 != 200 && $1 != 429' | wc -l)"
    echo "# batched: $ok x 200, $limited_n x 429 ($workers workers: at most $max admitted)" >&3
    [ "$other" -eq 0 ] || fail "$other responses were neither 200 nor 429"
    (( ok >= 1000 && ok <= max )) || fail "expected 1000..$max x 200, got $ok"
    # Headers: the limit always; remaining in 0..limit-1 on a success, 0 on a refusal.
    bad="$(cat "$dir"/r.* | awk '$2 != 1000 || ($1 == 200 && !($3 >= 0 && $3 < 1000)) ||
        ($1 == 429 && ($3 != 0 || !($4 > 0 && $4 <= 60)))' | wc -l)"
    [ "$bad" -eq 0 ] || fail "$bad responses with inconsistent RateLimit-* / Retry-After: $(cat "$dir"/r.* | awk '$2 != 1000 || ($1 == 429 && $3 != 0)' | head -3)"
    # Every admitted read reaches the shared count within the flush interval.
    sleep 0.5
    [ "$(hits "$F_ID" read)" = "$ok" ] || fail "rate_counters: $(hits "$F_ID" read) hits, expected $ok"
    # Later reads: a worker that had not flushed since may still admit a few,
    # within the same bound; then every worker refuses.
    local extra=0 i
    for i in $(seq 1 60); do
        api_as "$F_TOKEN" GET "$CURRENT"
        [ "$STATUS" != 200 ] || extra=$((extra + 1))
    done
    (( ok + extra <= max )) || fail "$ok + $extra admitted, more than $max"
    for i in 1 2 3 4 5; do
        api_as "$F_TOKEN" GET "$CURRENT"
        limited 60
    done
}

@test "concurrency: 20 clients x 10 reads against a limit of 100/min: exactly 100 succeed and 100 are 429 with Retry-After" {
    local tier
    tier="$(mktier 100 100 100 100 10)"
    fresh "$tier"
    local dir
    dir="$(_tmp)/burst"
    window_room 15
    burst "$dir" 20 10

    local ok limited_n other bad_ra
    ok="$(cat "$dir"/r.* | awk '$1 == 200' | wc -l)"
    limited_n="$(cat "$dir"/r.* | awk '$1 == 429' | wc -l)"
    other="$(cat "$dir"/r.* | awk '$1 != 200 && $1 != 429' | wc -l)"
    bad_ra="$(cat "$dir"/r.* | awk '$1 == 429 && !($4 ~ /^[0-9]+$/ && $4 > 0 && $4 <= 60)' | wc -l)"
    echo "# burst: $ok x 200, $limited_n x 429, $other other, $bad_ra 429s without a good Retry-After" >&3
    [ "$other" -eq 0 ] || fail "$other responses were neither 200 nor 429: $(cat "$dir"/r.* | awk '$1 != 200 && $1 != 429' | sort | uniq -c)"
    [ "$ok" -eq 100 ] || fail "expected exactly 100 x 200, got $ok (and $limited_n x 429)"
    [ "$limited_n" -eq 100 ] || fail "expected exactly 100 x 429, got $limited_n"
    [ "$bad_ra" -eq 0 ] || fail "$bad_ra 429 responses without Retry-After in 1..60"
    [ "$(hits "$F_ID" read)" = 100 ] || fail "rate_counters: $(hits "$F_ID" read) hits, expected 100"
    # And the window stays closed.
    api_as "$F_TOKEN" GET "$CURRENT"
    limited 60
}

# ---- login lockout -----------------------------------------------------------------

# try EMAIL PASSWORD: one login attempt (STATUS, BODY, HEADERS).
try() {
    api POST /api/v1/auth/login "$(jq -cn --arg e "$1" --arg p "$2" '{email: $e, password: $p}')"
}

# fail_n N EMAIL: N wrong-password attempts, each 401.
fail_n() {
    local i
    for i in $(seq 1 "$1"); do
        try "$2" "wrong-password-$i"
        expect_error 401 unauthenticated || return 1
    done
}

# login_locked: 429 rate_limited with Retry-After 1..900.
login_locked() {
    local ra
    expect_error 429 rate_limited || return 1
    ra="$(header Retry-After)"
    [[ "$ra" =~ ^[0-9]+$ ]] && ((ra >= 1 && ra <= 900)) || fail "$REQ: Retry-After '$ra' is not in 1..900"
}

# The 15-minute window is counted in minute buckets: do not cross a minute's end mid-test.
@test "login: after 10 failures for (email, address) the 11th attempt, even with the right password, is 429 with Retry-After; the case of the email does not matter" {
    window_room 8
    new_user lk-a
    LOCK_EMAILS+=("$NEW_EMAIL")
    local email="$NEW_EMAIL" pw="$NEW_PASSWORD"
    fail_n 10 "$email"
    try "$email" "$pw"
    login_locked
    local ra
    ra="$(header Retry-After)"
    ((ra >= 780)) || fail "Retry-After $ra: the failures are seconds old, the window is 15 minutes"
    try "$email" "wrong again"
    login_locked
    try "${email^^}" "$pw"
    login_locked
    try "  $email " "$pw"
    [[ "$STATUS" == 429 || "$STATUS" == 401 ]] || fail "padded email: $STATUS $BODY"
    # The lockout returns no token and sets no cookie.
    [[ "$(jqb '.access_token // empty')" == "" ]]
    [[ -z "$(header Set-Cookie)" ]]
}

@test "login: an unknown email is locked the same way: the same statuses, codes and messages as for an existing one" {
    window_room 8
    new_user lk-known
    local known="$NEW_EMAIL" pw="$NEW_PASSWORD"
    local unknown="lk-nobody-$(uniqsfx)@api-tests.example"
    LOCK_EMAILS+=("$known" "$unknown")

    try "$known" "wrong"
    expect_error 401 unauthenticated
    local known_401
    known_401="$(jqb -c '.error | del(.request_id)')"
    try "$unknown" "wrong"
    expect_error 401 unauthenticated
    [ "$(jqb -c '.error | del(.request_id)')" = "$known_401" ] ||
        fail "401 differs: known $known_401, unknown $(jqb -c '.error | del(.request_id)')"

    fail_n 9 "$known"
    fail_n 9 "$unknown"
    try "$known" "$pw"
    login_locked
    local known_429
    known_429="$(jqb -c '.error | del(.request_id)')"
    try "$unknown" "anything"
    login_locked
    [ "$(jqb -c '.error | del(.request_id)')" = "$known_429" ] ||
        fail "429 differs: known $known_429, unknown $(jqb -c '.error | del(.request_id)')"
}

@test "login: another email from the same address is not locked; a success before the lockout clears the pair's count" {
    window_room 10
    new_user lk-b1
    local e1="$NEW_EMAIL" p1="$NEW_PASSWORD"
    new_user lk-b2
    local e2="$NEW_EMAIL" p2="$NEW_PASSWORD"
    LOCK_EMAILS+=("$e1" "$e2")

    fail_n 10 "$e1"
    try "$e1" "$p1"
    login_locked
    # e2 from the same address: unaffected, failures answer 401, the right password 200.
    try "$e2" "wrong"
    expect_error 401 unauthenticated
    try "$e2" "$p2"
    expect_status 200

    # e2: 9 failures, a success, then 10 more failures are all 401 (the count restarted)...
    fail_n 9 "$e2"
    try "$e2" "$p2"
    expect_status 200
    fail_n 10 "$e2"
    # ...and only now is the pair locked.
    try "$e2" "$p2"
    login_locked
}

@test "login: the lockout ends when the failures leave the 15-minute window" {
    window_room 8
    new_user lk-c
    local email="$NEW_EMAIL" pw="$NEW_PASSWORD"
    LOCK_EMAILS+=("$email")
    fail_n 10 "$email"
    try "$email" "$pw"
    login_locked
    # 14 minutes on: still locked.
    psql_super "UPDATE login_failures SET window_start = window_start - interval '14 minutes' WHERE email = '${email,,}'" >/dev/null
    try "$email" "$pw"
    login_locked
    local ra
    ra="$(header Retry-After)"
    ((ra <= 120)) || fail "Retry-After $ra with the failures 14 minutes old"
    # 16 minutes on: the window is empty.
    psql_super "UPDATE login_failures SET window_start = window_start - interval '2 minutes' WHERE email = '${email,,}'" >/dev/null
    try "$email" "$pw"
    expect_status 200
    check_body '.user.email == $e' --arg e "${email,,}"
    # And it starts counting afresh: one failure is a 401, not a 429.
    try "$email" "wrong"
    expect_error 401 unauthenticated
}

@test "login: an address over 100 failures in 15 minutes still signs in an account that never failed from it; a pair that failed once is locked" {
    # Counted in minute buckets that leave the window at minute boundaries:
    # stay inside one minute so the count read below stays true.
    window_room 10
    new_user lk-d1
    local e1="$NEW_EMAIL" p1="$NEW_PASSWORD"
    new_user lk-d3
    local e3="$NEW_EMAIL" p3="$NEW_PASSWORD"
    local seed="lk-seed-$(uniqsfx)@api-tests.example" unknown="lk-unknown-$(uniqsfx)@api-tests.example"
    LOCK_EMAILS+=("$e1" "$e3" "$seed" "$unknown")
    local addr n
    addr="$(psql_super "SELECT client_addr FROM login_failures WHERE client_addr IN ('127.0.0.1', '::ffff:127.0.0.1') LIMIT 1")"
    [[ -n "$addr" ]] || addr=127.0.0.1
    # 99 failures for the address (whatever other suites left), then a real one.
    n="$(psql_super "SELECT coalesce(sum(failures), 0) FROM login_failures WHERE client_addr = '$addr'
        AND window_start > now() - interval '15 minutes'")"
    ((n <= 99)) || fail "the address already has $n failures in the window"
    psql_super "INSERT INTO login_failures (email, client_addr, window_start, failures)
        VALUES ('$seed', '$addr', date_trunc('minute', now()), $((99 - n)))" >/dev/null
    # 99: below the cap, one failure of a pair is only counted...
    try "$e3" "wrong"
    expect_error 401 unauthenticated
    # ...and makes 100: the address is at its cap from now on.
    [[ "$(psql_super "SELECT sum(failures) FROM login_failures WHERE client_addr = '$addr'
        AND window_start > now() - interval '15 minutes'")" -ge 100 ]]
    # An account that never failed from the address: its right password works, again and again.
    try "$e1" "$p1"
    expect_status 200
    try "$e1" "$p1"
    expect_status 200
    # A pair with a failure in the window is refused before its password, the right one included.
    try "$e3" "$p3"
    login_locked
    # A clean pair gets one guess: a wrong password counts, then the pair is locked too.
    try "$unknown" "whatever"
    expect_error 401 unauthenticated
    try "$unknown" "whatever"
    login_locked
    try "$e1" "wrong"
    expect_error 401 unauthenticated
    try "$e1" "$p1"
    login_locked
    # The seeded failures gone, the address is under its cap: e3 signs in again.
    psql_super "DELETE FROM login_failures WHERE email = '$seed'" >/dev/null
    try "$e3" "$p3"
    expect_status 200
}
