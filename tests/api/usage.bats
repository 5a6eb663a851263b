#!/usr/bin/env bats
# usage.bats -- usage metering (SPEC §3 "API keys, activity, usage", §4):
# POST /api/v1/usage/events (counters add, gauges set, idempotency, limits
# with grace, threshold outbox rows, validation, who may report), the reads
# (current usage, limits, quotas, stats), the users limit on invitations,
# and the billing routes (/admin/billing/..., SPEC §3 "Billing").
#
# Every test that ingests works on a fresh tenant of its own (fresh_tenant),
# so the tests are independent of the demo data and of each other.

load helpers

EVENTS=/api/v1/usage/events
USAGE=/api/v1/tenants/current/usage
LIMITS=/api/v1/tenants/current/limits
METERS='["api_calls","conversations","devices","storage_mb","teams","telemetry_points","tokens","users"]'

setup_file() {
    # A shared tenant with one user per role, for the access tests (they
    # change no usage).
    new_user us-owner
    export R_OWNER_EMAIL="$NEW_EMAIL" R_OWNER_PW="$NEW_PASSWORD"
    new_tenant us-roles "$R_OWNER_EMAIL" business
    export R_ID="$NEW_TENANT_ID"
    local role R tok
    for role in admin member viewer; do
        R="${role^^}"
        new_user "us-$role"
        add_member "$R_ID" "$NEW_EMAIL" "$role"
        export "R_${R}_EMAIL=$NEW_EMAIL" "R_${R}_PW=$NEW_PASSWORD"
    done
}

# ---- helpers ------------------------------------------------------------------

# fresh_tenant [TIER]: a new tenant with a new owner. Sets F_ID, F_OWNER_EMAIL,
# F_IDTOK (the owner's identity token) and F_TOKEN (tenant-scoped).
fresh_tenant() {
    new_user us-f || return 1
    F_OWNER_EMAIL="$NEW_EMAIL"
    new_tenant us "$NEW_EMAIL" "${1:-business}" || return 1
    F_ID="$NEW_TENANT_ID"
    F_IDTOK="$(login "$F_OWNER_EMAIL" "$NEW_PASSWORD")" || return 1
    F_TOKEN="$(tenant_token "$F_IDTOK" "$F_ID")" || return 1
}

# set_limits TENANT_ID JSON: limit overrides as the superadmin.
set_limits() {
    api_as "$(admin_token)" PATCH "/api/v1/tenants/$1" "{\"limits\":$2}"
    expect_status 200
}

# ev METER QUANTITY KEY [OCCURRED_AT]: one event as JSON (QUANTITY raw JSON).
ev() {
    jq -cn --arg m "$1" --argjson q "$2" --arg k "$3" --arg t "${4:-}" \
        '{meter: $m, quantity: $q, idempotency_key: $k} + (if $t == "" then {} else {occurred_at: $t} end)'
}

# batch EVENT_JSON...: {"events":[...]}
batch() {
    printf '%s\n' "$@" | jq -cs '{events: .}'
}

# ingest [-H 'Name: value'] TOKEN EVENT_JSON...: POST the events with that token.
ingest() {
    local -a h=()
    if [[ "$1" == -H ]]; then
        h=(-H "$2")
        shift 2
    fi
    local tok="$1"
    shift
    api_as "$tok" POST "$EVENTS" "$(batch "$@")" "${h[@]}"
}

# used METER [TOKEN]: the meter's used value now, from GET current/usage.
used() {
    api_as "${2:-$F_TOKEN}" GET "$USAGE"
    [[ "$STATUS" == 200 ]] || fail "GET $USAGE: $STATUS $BODY" || return 1
    jqb --arg m "$1" '.meters[$m].used'
}

# all_used [TOKEN]: every meter's used value, as compact JSON.
all_used() {
    api_as "${1:-$F_TOKEN}" GET "$USAGE"
    [[ "$STATUS" == 200 ]] || fail "GET $USAGE: $STATUS $BODY" || return 1
    jqb -c '.meters | map_values(.used)'
}

# db_state TENANT_ID: raw events, rollups, period totals, gauges and outbox rows.
db_state() {
    psql_super "SELECT (SELECT count(*) FROM usage_events WHERE tenant_id = '$1'),
        (SELECT coalesce(sum(quantity), 0) FROM usage_daily WHERE tenant_id = '$1' AND meter <> 'users'),
        (SELECT coalesce(sum(quantity), 0) FROM usage_periods WHERE tenant_id = '$1'),
        (SELECT coalesce(string_agg(meter || '=' || value, ',' ORDER BY meter), '') FROM usage_gauges WHERE tenant_id = '$1'),
        (SELECT count(*) FROM notification_outbox WHERE tenant_id = '$1');"
}

# events_with_keys TENANT_ID KEY...: how many raw events carry these keys.
events_with_keys() {
    local tid="$1" list
    shift
    list="$(printf "'%s'," "$@")"
    psql_super "SELECT count(*) FROM usage_events WHERE tenant_id = '$tid' AND idempotency_key IN (${list%,});"
}

# outbox TENANT_ID METER: the thresholds written for the meter, space-separated.
outbox() {
    psql_super "SELECT coalesce(string_agg(threshold::text, ' ' ORDER BY threshold), '')
        FROM notification_outbox WHERE tenant_id = '$1' AND meter = '$2';"
}

# at SECONDS_AGO: an RFC 3339 UTC timestamp (negative: in the future).
at() {
    date -u -d "@$(($(date +%s) - $1))" +%Y-%m-%dT%H:%M:%SZ
}

expect_accepted() {
    expect_status 202 || return 1
    check_body 'keys == ["accepted","duplicates"]' || return 1
    check_body '.accepted == ($a | tonumber) and .duplicates == ($d | tonumber)' --arg a "$1" --arg d "$2"
}

# ---- ingestion ------------------------------------------------------------------

@test "ingest: counters add, gauges set, in one call and across calls; 202 {accepted, duplicates}" {
    fresh_tenant
    local k
    k="$(uniqsfx)"
    ingest "$F_TOKEN" "$(ev tokens 100 "a-$k")" "$(ev tokens 50 "b-$k")" \
        "$(ev api_calls 3 "c-$k")" "$(ev teams 4 "d-$k")" "$(ev storage_mb 250 "e-$k")" \
        "$(ev telemetry_points 0 "f-$k")"
    expect_accepted 6 0
    ingest "$F_TOKEN" "$(ev tokens 25 "g-$k")" "$(ev api_calls 4 "h-$k")" "$(ev teams 2 "i-$k")" \
        "$(ev storage_mb 300 "j-$k")" "$(ev devices 7 "l-$k")"
    expect_accepted 5 0
    api_as "$F_TOKEN" GET "$USAGE"
    expect_status 200
    check_body '.tokens_used == 175 and .api_calls_today == 7 and .teams_count == 2 and .storage_used_mb == 300'
    check_body '.meters.tokens.used == 175 and .meters.api_calls.used == 7 and .meters.teams.used == 2
        and .meters.storage_mb.used == 300 and .meters.devices.used == 7 and .meters.telemetry_points.used == 0
        and .meters.conversations.used == 0 and .meters.users.used == 1'
    # The raw events and the rollups agree.
    [[ "$(psql_super "SELECT count(*) FROM usage_events WHERE tenant_id = '$F_ID';")" == 11 ]]
    [[ "$(psql_super "SELECT quantity FROM usage_periods WHERE tenant_id = '$F_ID' AND meter = 'tokens';")" == 175 ]]
}

@test "ingest: a gauge keeps the latest occurred_at; an older, late event changes nothing" {
    fresh_tenant
    local k
    k="$(uniqsfx)"
    ingest "$F_TOKEN" "$(ev teams 5 "t1-$k" "$(at 7200)")"
    expect_accepted 1 0
    [[ "$(used teams)" == 5 ]]
    # Reported later, observed earlier: accepted (a new key) but not the value.
    ingest "$F_TOKEN" "$(ev teams 9 "t2-$k" "$(at 10800)")"
    expect_accepted 1 0
    [[ "$(used teams)" == 5 ]] || fail "an older observation replaced the gauge: teams = $(used teams)"
    # Newer: wins.
    ingest "$F_TOKEN" "$(ev teams 3 "t3-$k" "$(at 3600)")"
    expect_accepted 1 0
    [[ "$(used teams)" == 3 ]]
    # Within one call the order of the array does not matter, occurred_at does.
    ingest "$F_TOKEN" "$(ev devices 8 "d1-$k" "$(at 60)")" "$(ev devices 2 "d2-$k" "$(at 600)")"
    expect_accepted 2 0
    [[ "$(used devices)" == 8 ]] || fail "devices = $(used devices), want 8 (the later observation)"
    # A gauge is set, not added: the same value twice stays that value.
    ingest "$F_TOKEN" "$(ev devices 8 "d3-$k")"
    expect_accepted 1 0
    [[ "$(used devices)" == 8 ]]
}

@test "ingest: a key repeated in one call or a later call counts once (the first occurrence) and is a duplicate" {
    fresh_tenant
    local k
    k="$(uniqsfx)"
    ingest "$F_TOKEN" "$(ev tokens 10 "dup-$k")" "$(ev tokens 99 "dup-$k")" "$(ev tokens 1 "one-$k")"
    expect_accepted 2 1
    [[ "$(used tokens)" == 11 ]] || fail "tokens = $(used tokens), want 11 (10 + 1, the repeat not counted)"
    # The same keys again, with other quantities: nothing counted.
    ingest "$F_TOKEN" "$(ev tokens 500 "dup-$k")" "$(ev tokens 500 "one-$k")"
    expect_accepted 0 2
    [[ "$(used tokens)" == 11 ]]
    # A key is a key, whatever the meter: a gauge event under a used key is a duplicate too.
    ingest "$F_TOKEN" "$(ev teams 3 "dup-$k")" "$(ev teams 4 "new-$k")"
    expect_accepted 1 1
    [[ "$(used teams)" == 4 ]]
    [[ "$(psql_super "SELECT count(*) FROM usage_events WHERE tenant_id = '$F_ID';")" == 3 ]]
    # Keys belong to their tenant: another tenant may use the same key.
    local other="$F_TOKEN"
    fresh_tenant
    ingest "$F_TOKEN" "$(ev tokens 7 "dup-$k")"
    expect_accepted 1 0
    [[ "$(used tokens)" == 7 ]]
    [[ "$(used tokens "$other")" == 11 ]]
}

@test "ingest: 10 concurrent clients replaying one batch of 20 events count it exactly once" {
    fresh_tenant
    local k d i pids=() acc=0 dup=0 s
    k="$(uniqsfx)"
    d="$BATS_TEST_TMPDIR"
    jq -cn --arg k "$k" '{events: [range(1; 21) | {meter: "tokens", quantity: ., idempotency_key: "cc-\($k)-\(.)"}]}' >"$d/batch.json"
    for i in $(seq 1 10); do
        tcurl -X POST -H "Authorization: Bearer $F_TOKEN" -H 'Content-Type: application/json' \
            --data-binary "@$d/batch.json" -o "$d/body.$i" -w '%{http_code}' \
            "$TENANTRY_TEST_URL$EVENTS" >"$d/status.$i" 2>"$d/err.$i" &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i" || true; done
    for i in $(seq 1 10); do
        s="$(cat "$d/status.$i")"
        [[ "$s" == 202 ]] || fail "client $i: status $s, body $(cat "$d/body.$i") $(cat "$d/err.$i")"
        acc=$((acc + $(jq -r .accepted "$d/body.$i")))
        dup=$((dup + $(jq -r .duplicates "$d/body.$i")))
    done
    [[ "$acc" == 20 && "$dup" == 180 ]] || fail "sum of accepted = $acc (want 20), duplicates = $dup (want 180)"
    # 1 + 2 + ... + 20 = 210, once.
    [[ "$(used tokens)" == 210 ]] || fail "tokens = $(used tokens), want 210"
    [[ "$(psql_super "SELECT count(*) || '/' || sum(quantity) FROM usage_events WHERE tenant_id = '$F_ID';")" == 20/210 ]]
    [[ "$(psql_super "SELECT sum(quantity) FROM usage_daily WHERE tenant_id = '$F_ID' AND meter = 'tokens';")" == 210 ]]
}

@test "ingest: 10 concurrent distinct batches against one limit: exactly the ones that fit are accepted" {
    fresh_tenant
    set_limits "$F_ID" '{"tokens":1000}'
    # Cap 1100: seven batches of 150 (1050) fit, the eighth would make 1200.
    local k d i pids=() ok=0 refused=0 s
    k="$(uniqsfx)"
    d="$BATS_TEST_TMPDIR"
    for i in $(seq 1 10); do
        batch "$(ev tokens 100 "p-$k-$i-a")" "$(ev tokens 50 "p-$k-$i-b")" >"$d/batch.$i"
        tcurl -X POST -H "Authorization: Bearer $F_TOKEN" -H 'Content-Type: application/json' \
            --data-binary "@$d/batch.$i" -o "$d/body.$i" -w '%{http_code}' \
            "$TENANTRY_TEST_URL$EVENTS" >"$d/status.$i" 2>"$d/err.$i" &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i" || true; done
    for i in $(seq 1 10); do
        s="$(cat "$d/status.$i")"
        case "$s" in
            202) ok=$((ok + 1)) ;;
            429) refused=$((refused + 1))
                 [[ "$(jq -r .error.code "$d/body.$i")" == usage_limit_exceeded ]] ||
                     fail "client $i: $(cat "$d/body.$i")" ;;
            *) fail "client $i: status $s, body $(cat "$d/body.$i") $(cat "$d/err.$i")" ;;
        esac
    done
    [[ "$ok" == 7 && "$refused" == 3 ]] || fail "accepted $ok, refused $refused; want 7 and 3"
    [[ "$(used tokens)" == 1050 ]] || fail "tokens = $(used tokens), want 1050"
    [[ "$(psql_super "SELECT count(*) FROM usage_events WHERE tenant_id = '$F_ID';")" == 14 ]]
}

# ---- limits and grace ---------------------------------------------------------------

@test "over limit: a call past limit + grace is 429 naming the meter and counts nothing, not even its valid events" {
    fresh_tenant
    set_limits "$F_ID" '{"tokens":1000}'
    local k before state
    k="$(uniqsfx)"
    ingest "$F_TOKEN" "$(ev tokens 600 "base-$k")"
    expect_accepted 1 0
    before="$(all_used)"
    state="$(db_state "$F_ID")"
    # 600 + 501 = 1101 > 1000 + 10 %: refused whole, with the valid events beside it.
    ingest "$F_TOKEN" "$(ev api_calls 5 "x1-$k")" "$(ev devices 3 "x2-$k")" "$(ev tokens 501 "x3-$k")" \
        "$(ev telemetry_points 9 "x4-$k")"
    expect_error 429 usage_limit_exceeded
    check_body '.error.details[0].meter == "tokens"'
    check_body '.error.message | test("tokens")'
    [[ "$(all_used)" == "$before" ]] || fail "usage changed by a refused call: $before -> $(all_used)"
    [[ "$(db_state "$F_ID")" == "$state" ]] || fail "database changed by a refused call: $state -> $(db_state "$F_ID")"
    [[ "$(events_with_keys "$F_ID" "x1-$k" "x2-$k" "x3-$k" "x4-$k")" == 0 ]]
    # The refused call's keys were not recorded: they are new keys later.
    ingest "$F_TOKEN" "$(ev api_calls 5 "x1-$k")"
    expect_accepted 1 0
    [[ "$(used api_calls)" == 5 ]]
}

@test "over limit: exactly limit + grace is accepted, one more is refused; a zero quantity at the cap is fine" {
    fresh_tenant
    set_limits "$F_ID" '{"tokens":1000,"teams":10}'
    local k
    k="$(uniqsfx)"
    ingest "$F_TOKEN" "$(ev tokens 600 "a-$k")"
    expect_accepted 1 0
    # 600 + 500 = 1100 = 1000 + floor(1000 * 10 / 100).
    ingest "$F_TOKEN" "$(ev tokens 300 "b-$k")" "$(ev tokens 200 "c-$k")"
    expect_accepted 2 0
    [[ "$(used tokens)" == 1100 ]]
    ingest "$F_TOKEN" "$(ev tokens 1 "d-$k")"
    expect_error 429 usage_limit_exceeded
    check_body '.error.details[0].meter == "tokens"'
    [[ "$(used tokens)" == 1100 ]]
    ingest "$F_TOKEN" "$(ev tokens 0 "e-$k")"
    expect_accepted 1 0
    api_as "$F_TOKEN" GET "$USAGE"
    check_body '.meters.tokens.used == 1100 and .meters.tokens.limit == 1000 and .meters.tokens.percentage == 110'
    # A gauge: 10 + 1 (floor of 10 % of 10) = 11 is the cap.
    ingest "$F_TOKEN" "$(ev teams 11 "f-$k")"
    expect_accepted 1 0
    ingest "$F_TOKEN" "$(ev teams 12 "g-$k")"
    expect_error 429 usage_limit_exceeded
    check_body '.error.details[0].meter == "teams"'
    check_body '.error.message | test("teams")'
    [[ "$(used teams)" == 11 ]]
    # Several events of one meter in a call count together against the cap.
    fresh_tenant
    set_limits "$F_ID" '{"tokens":100}'
    ingest "$F_TOKEN" "$(ev tokens 60 "h-$k")" "$(ev tokens 51 "i-$k")"
    expect_error 429 usage_limit_exceeded
    [[ "$(used tokens)" == 0 ]]
    ingest "$F_TOKEN" "$(ev tokens 60 "h-$k")" "$(ev tokens 50 "i-$k")"
    expect_accepted 2 0
    [[ "$(used tokens)" == 110 ]]
}

@test "over limit: unlimited meters (no tier limit, -1 override, enterprise) take any quantity up to 10^15" {
    fresh_tenant
    local k
    k="$(uniqsfx)"
    # Business has no api_calls limit.
    ingest "$F_TOKEN" "$(ev api_calls 1000000000000000 "a-$k")"
    expect_accepted 1 0
    # -1: unlimited tokens although the tier has a limit.
    set_limits "$F_ID" '{"tokens":-1}'
    ingest "$F_TOKEN" "$(ev tokens 50000000 "b-$k")"
    expect_accepted 1 0
    # null: back to the tier's 10,000,000: the next increase is refused.
    set_limits "$F_ID" '{"tokens":null}'
    ingest "$F_TOKEN" "$(ev tokens 1 "c-$k")"
    expect_error 429 usage_limit_exceeded
    fresh_tenant enterprise
    ingest "$F_TOKEN" "$(ev tokens 1000000000000000 "d-$k")" "$(ev teams 1000000 "e-$k")"
    expect_accepted 2 0
    [[ "$(used tokens)" == 1000000000000000 ]]
}

@test "thresholds: 70 % -> 110 % writes exactly three outbox rows (80, 90, 100); a refused call and later calls write none" {
    fresh_tenant
    set_limits "$F_ID" '{"tokens":1000}'
    local k month_start
    k="$(uniqsfx)"
    month_start="$(date -u +%Y-%m-01)"
    ingest "$F_TOKEN" "$(ev tokens 700 "a-$k")"
    expect_accepted 1 0
    [[ "$(outbox "$F_ID" tokens)" == "" ]] || fail "70 % wrote outbox rows: $(outbox "$F_ID" tokens)"
    # 700 -> 1200 is refused: no rows, though it would cross all three.
    ingest "$F_TOKEN" "$(ev tokens 500 "b-$k")"
    expect_error 429 usage_limit_exceeded
    [[ "$(psql_super "SELECT count(*) FROM notification_outbox WHERE tenant_id = '$F_ID';")" == 0 ]] ||
        fail "a refused call wrote outbox rows"
    # 700 -> 1100: 80, 90 and 100 in one call, one row each.
    ingest "$F_TOKEN" "$(ev tokens 400 "c-$k")"
    expect_accepted 1 0
    [[ "$(outbox "$F_ID" tokens)" == "80 90 100" ]] || fail "outbox rows: '$(outbox "$F_ID" tokens)', want '80 90 100'"
    [[ "$(psql_super "SELECT string_agg(DISTINCT period_start::text || ' ' || used || ' ' || max_value, ',')
        FROM notification_outbox WHERE tenant_id = '$F_ID' AND meter = 'tokens';")" == "$month_start 1100 1000" ]]
    # At the cap: refused, zero-quantity and raised-limit crossings add nothing this period.
    ingest "$F_TOKEN" "$(ev tokens 5 "d-$k")"
    expect_error 429 usage_limit_exceeded
    ingest "$F_TOKEN" "$(ev tokens 0 "e-$k")"
    expect_accepted 1 0
    set_limits "$F_ID" '{"tokens":2000}'
    # 1100 -> 1900 crosses 80 % and 90 % of 2000 again: already notified this period.
    ingest "$F_TOKEN" "$(ev tokens 800 "f-$k")"
    expect_accepted 1 0
    [[ "$(psql_super "SELECT count(*) FROM notification_outbox WHERE tenant_id = '$F_ID';")" == 3 ]] ||
        fail "outbox rows after more crossings: $(outbox "$F_ID" tokens)"
}

@test "thresholds: a gauge crossing twice in a period is notified once; small steps write one row per threshold" {
    fresh_tenant
    set_limits "$F_ID" '{"teams":10,"tokens":1000}'
    local k
    k="$(uniqsfx)"
    ingest "$F_TOKEN" "$(ev teams 7 "a-$k")"
    expect_accepted 1 0
    [[ "$(outbox "$F_ID" teams)" == "" ]]
    ingest "$F_TOKEN" "$(ev teams 11 "b-$k")"
    expect_accepted 1 0
    [[ "$(outbox "$F_ID" teams)" == "80 90 100" ]] || fail "teams outbox: '$(outbox "$F_ID" teams)'"
    ingest "$F_TOKEN" "$(ev teams 5 "c-$k")"
    expect_accepted 1 0
    ingest "$F_TOKEN" "$(ev teams 11 "d-$k")"
    expect_accepted 1 0
    [[ "$(psql_super "SELECT count(*) FROM notification_outbox WHERE tenant_id = '$F_ID' AND meter = 'teams';")" == 3 ]] ||
        fail "a second crossing wrote more rows: $(outbox "$F_ID" teams)"
    # A counter in small steps: 799 none, 800 the 80 row, 899 nothing new, 900 the 90, 1000 the 100.
    ingest "$F_TOKEN" "$(ev tokens 799 "e-$k")"
    [[ "$(outbox "$F_ID" tokens)" == "" ]]
    ingest "$F_TOKEN" "$(ev tokens 1 "f-$k")"
    [[ "$(outbox "$F_ID" tokens)" == "80" ]] || fail "at 800: '$(outbox "$F_ID" tokens)'"
    ingest "$F_TOKEN" "$(ev tokens 99 "g-$k")"
    [[ "$(outbox "$F_ID" tokens)" == "80" ]]
    ingest "$F_TOKEN" "$(ev tokens 1 "h-$k")"
    [[ "$(outbox "$F_ID" tokens)" == "80 90" ]]
    ingest "$F_TOKEN" "$(ev tokens 100 "i-$k")"
    expect_accepted 1 0
    [[ "$(outbox "$F_ID" tokens)" == "80 90 100" ]]
}

# ---- validation -----------------------------------------------------------------------

# reject FIELD BATCH_JSON: 400 invalid_request with a details entry for FIELD,
# and neither the usage nor the database changes. Uses V_BEFORE / V_STATE.
reject() {
    local field="$1" body="$2"
    api_as "$F_TOKEN" POST "$EVENTS" "$body"
    expect_error 400 invalid_request || return 1
    check_body 'any(.error.details[]; .field == $f and (.problem | type == "string" and length > 0))' --arg f "$field" ||
        return 1
    [[ "$(all_used)" == "$V_BEFORE" ]] || fail "usage changed after a refused batch: $body" || return 1
    [[ "$(db_state "$F_ID")" == "$V_STATE" ]] || fail "database changed after a refused batch: $body"
}

validation_setup() {
    fresh_tenant
    VK="$(uniqsfx)"
    ingest "$F_TOKEN" "$(ev tokens 10 "seed-$VK")" "$(ev teams 2 "seed2-$VK")"
    expect_accepted 2 0
    V_BEFORE="$(all_used)"
    V_STATE="$(db_state "$F_ID")"
    # A valid event that rides along with each bad one, and must not be counted.
    GOOD="$(ev tokens 5 "good-$VK")"
}

@test "validation: meter unknown, missing, not a string, or users (counted from memberships)" {
    validation_setup
    reject 'events[1].meter' "$(batch "$GOOD" "$(ev bananas 1 "m1-$VK")")"
    reject 'events[0].meter' "$(batch "$(ev users 3 "m2-$VK")" "$GOOD")"
    reject 'events[1].meter' "$(batch "$GOOD" '{"quantity":1,"idempotency_key":"m3"}')"
    reject 'events[1].meter' "$(batch "$GOOD" '{"meter":5,"quantity":1,"idempotency_key":"m4"}')"
    reject 'events[1].meter' "$(batch "$GOOD" '{"meter":"Tokens","quantity":1,"idempotency_key":"m5"}')"
}

@test "validation: quantity must be a JSON integer from 0 to 10^15" {
    validation_setup
    reject 'events[1].quantity' "$(batch "$GOOD" "$(ev tokens -1 "q1-$VK")")"
    reject 'events[1].quantity' "$(batch "$GOOD" "$(ev tokens 1.5 "q2-$VK")")"
    reject 'events[1].quantity' "$(batch "$GOOD" "$(ev tokens '"5"' "q3-$VK")")"
    reject 'events[1].quantity' "$(batch "$GOOD" "$(ev api_calls 1000000000000001 "q4-$VK")")"
    reject 'events[1].quantity' "$(batch "$GOOD" "$(ev tokens null "q5-$VK")")"
    reject 'events[1].quantity' "$(batch "$GOOD" "$(ev tokens true "q6-$VK")")"
    reject 'events[1].quantity' "$(batch "$GOOD" "{\"meter\":\"tokens\",\"idempotency_key\":\"q7-$VK\"}")"
    reject 'events[1].quantity' "$(batch "$GOOD" "{\"meter\":\"api_calls\",\"quantity\":99999999999999999999,\"idempotency_key\":\"q8-$VK\"}")"
    # The bounds themselves are fine.
    ingest "$F_TOKEN" "$(ev api_calls 1000000000000000 "q9-$VK")" "$(ev tokens 0 "q10-$VK")"
    expect_accepted 2 0
}

@test "validation: idempotency_key required, 1-200 characters, a string without control characters" {
    validation_setup
    local k200 k201
    k200="$(printf 'k%.0s' {1..200})"
    k201="$(printf 'k%.0s' {1..201})"
    reject 'events[1].idempotency_key' "$(batch "$GOOD" '{"meter":"tokens","quantity":1}')"
    reject 'events[1].idempotency_key' "$(batch "$GOOD" "$(ev tokens 1 "")")"
    reject 'events[1].idempotency_key' "$(batch "$GOOD" "$(ev tokens 1 "$k201")")"
    reject 'events[1].idempotency_key' "$(batch "$GOOD" '{"meter":"tokens","quantity":1,"idempotency_key":42}')"
    reject 'events[1].idempotency_key' "$(batch "$GOOD" '{"meter":"tokens","quantity":1,"idempotency_key":null}')"
    reject 'events[1].idempotency_key' "$(batch "$GOOD" '{"meter":"tokens","quantity":1,"idempotency_key":"bad\nkey"}')"
    ingest "$F_TOKEN" "$(ev tokens 1 "$k200")"
    expect_accepted 1 0
}

@test "validation: occurred_at RFC 3339, at most 35 days in the past and 5 minutes in the future" {
    validation_setup
    reject 'events[1].occurred_at' "$(batch "$GOOD" "$(ev tokens 1 "o1-$VK" "$(date -u +%Y-%m-%d)")")"
    reject 'events[1].occurred_at' "$(batch "$GOOD" "$(ev tokens 1 "o2-$VK" "yesterday")")"
    reject 'events[1].occurred_at' "$(batch "$GOOD" "$(ev tokens 1 "o3-$VK" "$(date -u +'%Y-%m-%d %H:%M:%S')")")"
    reject 'events[1].occurred_at' "$(batch "$GOOD" "$(ev tokens 1 "o4-$VK" "$(date -u +%Y-%m-%dT%H:%M:%S)")")"
    reject 'events[1].occurred_at' "$(batch "$GOOD" "$(ev tokens 1 "o5-$VK" "2026-02-30T10:00:00Z")")"
    reject 'events[1].occurred_at' "$(batch "$GOOD" "{\"meter\":\"tokens\",\"quantity\":1,\"idempotency_key\":\"o6-$VK\",\"occurred_at\":1700000000}")"
    reject 'events[1].occurred_at' "$(batch "$GOOD" "$(ev tokens 1 "o7-$VK" "$(at $((36 * 86400)))")")"
    reject 'events[1].occurred_at' "$(batch "$GOOD" "$(ev tokens 1 "o8-$VK" "$(at -600)")")"
    reject 'events[1].occurred_at' "$(batch "$GOOD" "$(ev tokens 1 "o9-$VK" "2001-01-01T00:00:00Z")")"
    # Inside the window, with an offset or fractional seconds: accepted.
    ingest "$F_TOKEN" "$(ev api_calls 1 "o10-$VK" "$(at $((34 * 86400)))")" "$(ev api_calls 1 "o11-$VK" "$(at -120)")" \
        "$(ev api_calls 1 "o12-$VK" "$(date -u +%Y-%m-%dT%H:%M:%S.123456Z)")" \
        "$(ev api_calls 1 "o13-$VK" "$(date -u +%Y-%m-%dT%H:%M:%S+00:00)")"
    expect_accepted 4 0
}

@test "validation: unknown fields, events not an array of 1..1000, several bad events each named" {
    validation_setup
    reject 'events[1].color' "$(batch "$GOOD" "{\"meter\":\"tokens\",\"quantity\":1,\"idempotency_key\":\"f1-$VK\",\"color\":\"red\"}")"
    reject 'events' '{"events":[]}'
    reject 'events' '{"events":{"meter":"tokens","quantity":1,"idempotency_key":"x"}}'
    reject 'events' '{"events":null}'
    reject 'events' '{}'
    reject 'extra' "{\"events\":[$GOOD],\"extra\":1}"
    reject 'events' "$(jq -cn '{events: [range(0; 1001) | {meter: "api_calls", quantity: 1, idempotency_key: "\(.)"}]}')"
    # Every bad event is reported.
    api_as "$F_TOKEN" POST "$EVENTS" "$(batch "$GOOD" "$(ev nope 1 "f2-$VK")" "$(ev tokens -5 "f3-$VK")" "$(ev tokens 1 "")")"
    expect_error 400 invalid_request
    check_body '[.error.details[].field] as $f | ($f | index("events[1].meter")) != null
        and ($f | index("events[2].quantity")) != null and ($f | index("events[3].idempotency_key")) != null
        and ($f | index("events[0].meter")) == null'
    [[ "$(all_used)" == "$V_BEFORE" ]]
    # 1000 events is the maximum, and accepted.
    api_as "$F_TOKEN" POST "$EVENTS" "$(jq -cn --arg k "$VK" '{events: [range(0; 1000) | {meter: "api_calls", quantity: 1, idempotency_key: "\(.)"}]}')"
    expect_accepted 1000 0
    [[ "$(used api_calls)" == 1000 ]]
}

# ---- who may report ------------------------------------------------------------------------

@test "who may ingest: owner and admin (tenant token, or identity + X-Tenant-ID), superadmin; member and viewer 403; no auth 401; no context 400" {
    local k tok idtok
    k="$(uniqsfx)"
    idtok="$(login "$R_OWNER_EMAIL" "$R_OWNER_PW")"
    tok="$(tenant_token "$idtok" "$R_ID")"
    ingest "$tok" "$(ev telemetry_points 0 "w1-$k")"
    expect_accepted 1 0
    ingest -H "X-Tenant-ID: $R_ID" "$idtok" "$(ev telemetry_points 0 "w2-$k")"
    expect_accepted 1 0
    idtok="$(login "$R_ADMIN_EMAIL" "$R_ADMIN_PW")"
    ingest "$(tenant_token "$idtok" "$R_ID")" "$(ev telemetry_points 0 "w3-$k")"
    expect_accepted 1 0
    ingest -H "X-Tenant-ID: $R_ID" "$idtok" "$(ev telemetry_points 0 "w4-$k")"
    expect_accepted 1 0
    ingest -H "X-Tenant-ID: $R_ID" "$(admin_token)" "$(ev telemetry_points 0 "w5-$k")"
    expect_accepted 1 0
    # Below admin: 403, and the key is not spent.
    local role email pw
    for role in MEMBER VIEWER; do
        email="R_${role}_EMAIL" pw="R_${role}_PW"
        idtok="$(login "${!email}" "${!pw}")"
        ingest "$(tenant_token "$idtok" "$R_ID")" "$(ev telemetry_points 0 "w6-$k")"
        expect_error 403 permission_denied
        ingest -H "X-Tenant-ID: $R_ID" "$idtok" "$(ev telemetry_points 0 "w6-$k")"
        expect_error 403 permission_denied
    done
    api POST "$EVENTS" "$(batch "$(ev telemetry_points 0 "w6-$k")")"
    expect_error 401 unauthenticated
    # An identity token alone names no tenant (owner and superadmin alike).
    ingest "$(login "$R_OWNER_EMAIL" "$R_OWNER_PW")" "$(ev telemetry_points 0 "w6-$k")"
    expect_error 400 tenant_context_required
    ingest "$(admin_token)" "$(ev telemetry_points 0 "w6-$k")"
    expect_error 400 tenant_context_required
    [[ "$(events_with_keys "$R_ID" "w6-$k")" == 0 ]]
    [[ "$(events_with_keys "$R_ID" "w1-$k" "w2-$k" "w3-$k" "w4-$k" "w5-$k")" == 5 ]]
}

@test "ingest is tenant-scoped: a tenant token with another tenant's X-Tenant-ID is 403, and nothing lands in either" {
    fresh_tenant
    local a_tok="$F_TOKEN" a_id="$F_ID" k
    k="$(uniqsfx)"
    fresh_tenant
    ingest -H "X-Tenant-ID: $F_ID" "$a_tok" "$(ev tokens 5 "s1-$k")"
    expect_status 403
    check_body '.error.code == "tenant_mismatch" or .error.code == "permission_denied"'
    # Owner of A with an identity token naming B (not theirs): 403.
    local idtok
    idtok="$(login "$R_OWNER_EMAIL" "$R_OWNER_PW")"
    ingest -H "X-Tenant-ID: $F_ID" "$idtok" "$(ev tokens 5 "s1-$k")"
    expect_error 403 permission_denied
    [[ "$(used tokens)" == 0 && "$(used tokens "$a_tok")" == 0 ]]
    [[ "$(psql_super "SELECT count(*) FROM usage_events WHERE tenant_id IN ('$a_id', '$F_ID');")" == 0 ]]
}

# ---- reads -------------------------------------------------------------------------------------

@test "GET current/usage: every field and meter, limits with overrides, null when unlimited" {
    fresh_tenant
    set_limits "$F_ID" '{"tokens":1000,"teams":-1,"api_calls":40}'
    local k today month_start month_end
    k="$(uniqsfx)"
    today="$(date -u +%Y-%m-%d)"
    month_start="$(date -u +%Y-%m-01)"
    month_end="$(date -u -d "$month_start +1 month -1 day" +%Y-%m-%d)"
    ingest "$F_TOKEN" "$(ev tokens 333 "a-$k")" "$(ev teams 6 "b-$k")" "$(ev api_calls 10 "c-$k")" \
        "$(ev storage_mb 12 "d-$k")" "$(ev conversations 5 "e-$k")"
    expect_accepted 5 0
    api_as "$F_TOKEN" GET "$USAGE"
    expect_status 200
    check_body 'keys == (["tenant_id","users_count","users_limit","teams_count","teams_limit","conversations_count",
        "conversations_limit","tokens_used","tokens_limit","storage_used_mb","api_calls_today","meters"] | sort)'
    check_body '.tenant_id == $t' --arg t "$F_ID"
    check_body '.users_count == 1 and .users_limit == 100 and .teams_count == 6 and .teams_limit == null
        and .conversations_count == 5 and .conversations_limit == 5000 and .tokens_used == 333
        and .tokens_limit == 1000 and .storage_used_mb == 12 and .api_calls_today == 10'
    check_body "(.meters | keys) == $METERS"
    check_body '[.meters[] | keys == ["kind","limit","percentage","period","period_end","period_start","unit","used"]] | all'
    check_body '.meters.tokens == {kind: "counter", used: 333, limit: 1000, percentage: 33.3, period: "month",
        period_start: $ms, period_end: $me, unit: "tokens"}' --arg ms "$month_start" --arg me "$month_end"
    check_body '.meters.api_calls == {kind: "counter", used: 10, limit: 40, percentage: 25, period: "day",
        period_start: $d, period_end: $d, unit: "calls"}' --arg d "$today"
    check_body '.meters.teams == {kind: "gauge", used: 6, limit: null, percentage: null, period: "current",
        period_start: null, period_end: null, unit: "teams"}'
    check_body '.meters.users.kind == "gauge" and .meters.users.used == 1 and .meters.users.limit == 100 and .meters.users.percentage == 1'
    check_body '.meters.storage_mb.limit == null and .meters.storage_mb.percentage == null and .meters.storage_mb.unit == "MB"'
    check_body '.meters.conversations.percentage == 0.1'
    check_body '.meters.telemetry_points == {kind: "counter", used: 0, limit: null, percentage: null, period: "day",
        period_start: $d, period_end: $d, unit: "points"}' --arg d "$today"
    # users counts memberships.
    new_user us-extra
    add_member "$F_ID" "$NEW_EMAIL" member
    api_as "$F_TOKEN" GET "$USAGE"
    check_body '.users_count == 2 and .meters.users.used == 2'
}

@test "GET current/usage: a tier's limit changed or dropped in the catalog shows on every worker's next reads" {
    # Reads use the worker's cached meter catalog (src/api/usage.c); a change
    # of tier_limits or tiers NOTIFYs "catalog" (sql/005_cache.sql), which
    # drops it with every cached answer. A tier of this test's own.
    local k tier rank i
    k="$(uniqsfx)"
    tier="us_cat_$k"
    rank="$(psql_owner "SELECT coalesce(max(rank), 0) + 1 FROM tiers")"
    psql_owner "INSERT INTO tiers (name, display_name, price_plan, rank, grace_percent, features)
        SELECT '$tier', 'Catalog $k', price_plan, $rank, 10, features FROM tiers WHERE name = 'business';
        INSERT INTO tier_limits (tier, meter, max_value) SELECT '$tier', meter, max_value
            FROM tier_limits WHERE tier = 'business';
        INSERT INTO tier_rate_limits (tier, class, max_requests, window_seconds)
            SELECT '$tier', class, max_requests, window_seconds FROM tier_rate_limits WHERE tier = 'business'" >/dev/null
    fresh_tenant
    [[ "$(psql_super "UPDATE tenants SET tier = '$tier' WHERE id = '$F_ID' RETURNING tier")" == "$tier" ]]
    sleep 0.3
    # Every worker reads the usage (and so the catalog) more than once.
    for i in $(seq 12); do
        api_as "$F_TOKEN" GET "$USAGE"
        expect_status 200
        check_body '.meters.teams.limit == 50 and .teams_limit == 50'
    done
    [[ "$(psql_owner "UPDATE tier_limits SET max_value = 7 WHERE tier = '$tier' AND meter = 'teams' RETURNING max_value")" == 7 ]]
    sleep 0.3
    for i in $(seq 12); do
        api_as "$F_TOKEN" GET "$USAGE"
        expect_status 200
        check_body '.meters.teams.limit == 7 and .teams_limit == 7'
    done
    # A limit the tier drops is unlimited at once too.
    psql_owner "DELETE FROM tier_limits WHERE tier = '$tier' AND meter = 'teams'" >/dev/null
    sleep 0.3
    for i in $(seq 12); do
        api_as "$F_TOKEN" GET "$USAGE"
        check_body '.meters.teams.limit == null and .teams_limit == null'
    done
}

@test "GET current/usage: any member reads it; identity + X-Tenant-ID works; no context 400; no auth 401" {
    local role email pw idtok
    for role in OWNER ADMIN MEMBER VIEWER; do
        email="R_${role}_EMAIL" pw="R_${role}_PW"
        idtok="$(login "${!email}" "${!pw}")"
        api_as "$(tenant_token "$idtok" "$R_ID")" GET "$USAGE"
        expect_status 200
        check_body '.tenant_id == $t and (.meters | length) == 8' --arg t "$R_ID"
        api_as "$idtok" GET "$USAGE" "" -H "X-Tenant-ID: $R_ID"
        expect_status 200
        api_as "$idtok" GET "$LIMITS" "" -H "X-Tenant-ID: $R_ID"
        expect_status 200
        api_as "$idtok" GET "/api/v1/tenants/$R_ID/quotas"
        expect_status 200
    done
    api_as "$idtok" GET "$USAGE"
    expect_error 400 tenant_context_required
    api_as "$idtok" GET "$LIMITS"
    expect_error 400 tenant_context_required
    api GET "$USAGE"
    expect_error 401 unauthenticated
    api GET "/api/v1/tenants/$R_ID/quotas"
    expect_error 401 unauthenticated
    # A non-member: 403.
    fresh_tenant
    api_as "$F_IDTOK" GET "/api/v1/tenants/$R_ID/quotas"
    expect_error 403 permission_denied
    api_as "$F_IDTOK" GET "$USAGE" "" -H "X-Tenant-ID: $R_ID"
    expect_error 403 permission_denied
}

@test "GET current/limits: tier, grace, tier limits, overrides applied, features; enterprise unlimited" {
    fresh_tenant
    set_limits "$F_ID" '{"tokens":1000,"teams":-1,"devices":3}'
    api_as "$F_TOKEN" GET "$LIMITS"
    expect_status 200
    check_body 'keys == ["api_access","features","grace_percent","limits","overrides","tenant_id","tier","tier_limits"]'
    check_body '.tenant_id == $t and .tier == "business" and .grace_percent == 10 and .api_access == true' --arg t "$F_ID"
    check_body '.tier_limits == {conversations: 5000, teams: 50, tokens: 10000000, users: 100}'
    check_body '.overrides == {devices: 3, teams: null, tokens: 1000}'
    check_body '.limits.tokens == 1000 and .limits.teams == null and .limits.devices == 3
        and .limits.users == 100 and .limits.conversations == 5000'
    check_body '.features == ["all"]'
    # Removing an override (null) restores the tier's limit.
    set_limits "$F_ID" '{"tokens":null}'
    api_as "$F_TOKEN" GET "$LIMITS"
    check_body '.limits.tokens == 10000000 and (.overrides | has("tokens") | not)'
    api_as "$F_TOKEN" GET "$USAGE"
    check_body '.tokens_limit == 10000000 and .meters.devices.limit == 3 and .teams_limit == null'
    # Free: the SPEC §4 table.
    fresh_tenant free
    api_as "$F_TOKEN" GET "$LIMITS"
    expect_status 200
    check_body '.tier == "free" and .grace_percent == 10 and .limits.users == 5 and .limits.teams == 2
        and .limits.conversations == 50 and .limits.tokens == 100000 and .overrides == {}
        and (.features | sort) == ["basic_chat","team_collaboration"] and .api_access == false'
    # Enterprise: no limit at all.
    fresh_tenant enterprise
    api_as "$F_TOKEN" GET "$LIMITS"
    check_body '.tier == "enterprise" and ([.limits[]] | all(. == null)) and (.features | index("sla")) != null'
    api_as "$F_TOKEN" GET "$USAGE"
    check_body '.users_limit == null and .teams_limit == null and .conversations_limit == null and .tokens_limit == null'
    check_body '[.meters[] | .limit == null and .percentage == null] | all'
}

@test "GET tenants/{id}/quotas and /stats: per meter {used, limit, percentage, period, unit}" {
    fresh_tenant
    set_limits "$F_ID" '{"tokens":1000}'
    local k
    k="$(uniqsfx)"
    ingest "$F_TOKEN" "$(ev tokens 250 "a-$k")" "$(ev teams 5 "b-$k")" "$(ev api_calls 9 "c-$k")"
    expect_accepted 3 0
    api_as "$F_TOKEN" GET "/api/v1/tenants/$F_ID/quotas"
    expect_status 200
    check_body 'keys == ["quotas","tenant_id"] and .tenant_id == $t' --arg t "$F_ID"
    check_body "(.quotas | keys) == $METERS"
    check_body '[.quotas[] | keys == ["limit","percentage","period","unit","used"]] | all'
    check_body '.quotas.tokens == {used: 250, limit: 1000, percentage: 25, period: "month", unit: "tokens"}'
    check_body '.quotas.teams == {used: 5, limit: 50, percentage: 10, period: "current", unit: "teams"}'
    check_body '.quotas.api_calls == {used: 9, limit: null, percentage: null, period: "day", unit: "calls"}'
    check_body '.quotas.users.used == 1 and .quotas.users.limit == 100'
    api_as "$F_TOKEN" GET "/api/v1/tenants/$F_ID/stats"
    expect_status 200
    check_body '(.usage | keys) == '"$METERS"
    check_body '.usage.tokens == {used: 250, limit: 1000, percentage: 25, period: "month", unit: "tokens"}'
    check_body '.usage.teams.used == 5 and .usage.api_calls.used == 9 and .members == 1'
    # The superadmin (identity token, the path names the tenant) reads the same.
    api_as "$(admin_token)" GET "/api/v1/tenants/$F_ID/quotas"
    expect_status 200
    check_body '.quotas.tokens.used == 250'
}

# ---- the users limit on invitations ----------------------------------------------------------

@test "invite past the users limit (members + pending + 1 > limit + grace) is 429 and creates nothing" {
    fresh_tenant
    set_limits "$F_ID" '{"users":2}'
    local u first second
    u="$(uniqsfx)"
    first="inv1-$u@api-tests.example"
    second="inv2-$u@api-tests.example"
    # 1 member + 0 pending + 1 = 2 <= 2 (+ floor(2 * 10 %) = 0).
    api_as "$F_TOKEN" POST "/api/v1/tenants/$F_ID/users/invite" "{\"email\":\"$first\",\"role\":\"member\"}"
    expect_status 201
    local inv_id
    inv_id="$(jqb .invitation.id)"
    # 1 member + 1 pending + 1 = 3 > 2.
    api_as "$F_TOKEN" POST "/api/v1/tenants/$F_ID/users/invite" "{\"email\":\"$second\",\"role\":\"viewer\"}"
    expect_error 429 usage_limit_exceeded
    [[ "$(psql_super "SELECT count(*) FROM invitations WHERE tenant_id = '$F_ID';")" == 1 ]]
    [[ "$(psql_super "SELECT count(*) FROM invitations WHERE email = '$second';")" == 0 ]]
    if [[ -n "${TENANTRY_TEST_MAIL_DIR:-}" ]]; then
        ! grep -qlsF -- "$second" "$TENANTRY_TEST_MAIL_DIR"/* || fail "a refused invitation sent mail to $second"
    fi
    # Re-inviting the pending address does not count it twice.
    api_as "$F_TOKEN" POST "/api/v1/tenants/$F_ID/users/invite" "{\"email\":\"$first\",\"role\":\"member\"}"
    expect_status 201
    inv_id="$(jqb .invitation.id)"
    # Freeing the seat (revoking the invitation) lets the second one in.
    api_as "$F_TOKEN" DELETE "/api/v1/tenants/$F_ID/invitations/$inv_id"
    [[ "$STATUS" == 204 || "$STATUS" == 200 ]] || fail "revoke: $STATUS $BODY"
    api_as "$F_TOKEN" POST "/api/v1/tenants/$F_ID/users/invite" "{\"email\":\"$second\",\"role\":\"viewer\"}"
    expect_status 201
    # Grace on a larger limit: 10 + 1 seats. 1 member + 10 pending = 11, the 11th pending is refused.
    fresh_tenant
    set_limits "$F_ID" '{"users":10}'
    local i
    for i in $(seq 1 10); do
        api_as "$F_TOKEN" POST "/api/v1/tenants/$F_ID/users/invite" "{\"email\":\"g$i-$u@api-tests.example\",\"role\":\"member\"}"
        expect_status 201
    done
    api_as "$F_TOKEN" POST "/api/v1/tenants/$F_ID/users/invite" "{\"email\":\"g11-$u@api-tests.example\",\"role\":\"member\"}"
    expect_error 429 usage_limit_exceeded
    [[ "$(psql_super "SELECT count(*) FROM invitations WHERE tenant_id = '$F_ID';")" == 10 ]]
}

# ---- billing (SPEC §3 "Billing") ------------------------------------------------------------

# days_in MONTH (YYYY-MM)
days_in() {
    date -u -d "$1-01 +1 month -1 day" +%d | sed 's/^0//'
}

# billing_routes TENANT_ID: the three per-tenant billing routes.
billing_routes() {
    printf '%s\n' "/admin/billing/tenants/$1/usage" "/admin/billing/tenants/$1/quota" "/admin/billing/tenants/$1"
}

@test "billing access: superadmin any tenant; owner/admin with a tenant token or X-Tenant-ID; identity alone 403; another tenant 403; member/viewer 403; no auth 401" {
    fresh_tenant    # tenant B, with its own owner
    local b_id="$F_ID" b_tok="$F_TOKEN" path role email pw idtok tok
    local sa
    sa="$(admin_token)"
    while read -r path; do
        api_as "$sa" GET "$path"
        expect_status 200
        check_body '.tenant_id == $t' --arg t "$R_ID"
        api_as "$sa" GET "$path" "" -H "X-Tenant-ID: $R_ID"
        expect_status 200
        for role in OWNER ADMIN; do
            email="R_${role}_EMAIL" pw="R_${role}_PW"
            idtok="$(login "${!email}" "${!pw}")"
            tok="$(tenant_token "$idtok" "$R_ID")"
            api_as "$tok" GET "$path"
            expect_status 200
            check_body '.tenant_id == $t' --arg t "$R_ID"
            api_as "$idtok" GET "$path" "" -H "X-Tenant-ID: $R_ID"
            expect_status 200
            # The path alone is no context: an identity token means "superadmin required".
            api_as "$idtok" GET "$path"
            expect_error 403 permission_denied
            # Their token for tenant R asking for tenant B.
            api_as "$tok" GET "${path/$R_ID/$b_id}"
            expect_status 403
            check_body '.error.code == "permission_denied" or .error.code == "tenant_mismatch"'
            api_as "$idtok" GET "${path/$R_ID/$b_id}" "" -H "X-Tenant-ID: $b_id"
            expect_error 403 permission_denied
            api_as "$idtok" GET "${path/$R_ID/$b_id}" "" -H "X-Tenant-ID: $R_ID"
            expect_status 403
        done
        # B's owner asking for R.
        api_as "$b_tok" GET "$path"
        expect_status 403
        check_body '.error.code == "permission_denied" or .error.code == "tenant_mismatch"'
        for role in MEMBER VIEWER; do
            email="R_${role}_EMAIL" pw="R_${role}_PW"
            idtok="$(login "${!email}" "${!pw}")"
            api_as "$(tenant_token "$idtok" "$R_ID")" GET "$path"
            expect_error 403 permission_denied
            api_as "$idtok" GET "$path" "" -H "X-Tenant-ID: $R_ID"
            expect_error 403 permission_denied
            api_as "$idtok" GET "$path"
            expect_error 403 permission_denied
        done
        api GET "$path"
        expect_error 401 unauthenticated
    done < <(billing_routes "$R_ID")
}

@test "billing: a malformed month is 400; the superadmin gets 404 for an unknown tenant, others 403; a malformed id 400" {
    local idtok tok m path ghost
    idtok="$(login "$R_OWNER_EMAIL" "$R_OWNER_PW")"
    tok="$(tenant_token "$idtok" "$R_ID")"
    for m in 2026-13 2026-1 abc 1969-12 2026-00 2026-01-01 202601; do
        for path in "/admin/billing/tenants/$R_ID/usage" "/admin/billing/tenants/$R_ID/quota" \
            "/admin/billing/tenants/$R_ID"; do
            api_as "$(admin_token)" GET "$path?month=$m"
            expect_error 400 invalid_request
            api_as "$tok" GET "$path?month=$m"
            expect_error 400 invalid_request
        done
        api_as "$tok" GET "/admin/billing/me/usage?month=$m"
        expect_error 400 invalid_request
    done
    # 1970-01 is the first month there is.
    api_as "$(admin_token)" GET "/admin/billing/tenants/$R_ID/usage?month=1970-01"
    expect_status 200
    ghost="$(cat /proc/sys/kernel/random/uuid)"
    while read -r path; do
        api_as "$(admin_token)" GET "$path"
        expect_error 404 tenant_not_found
        api_as "$idtok" GET "$path" "" -H "X-Tenant-ID: $ghost"
        expect_error 403 permission_denied
    done < <(billing_routes "$ghost")
    api_as "$(admin_token)" GET "/admin/billing/tenants/not-a-uuid/usage"
    expect_error 400 invalid_request
}

@test "billing usage: one daily entry per day of the month, counters' totals are the sum of their days, gauges carry, future days 0" {
    fresh_tenant
    local k M D1 T1 D2 T2 n today
    k="$(uniqsfx)"
    today="$(date -u +%Y-%m-%d)"
    if [[ "$(date -u +%d)" != 01 ]]; then
        M="$(date -u +%Y-%m)"
        D1="$M-01" T1="$M-01T12:00:00Z" D2="$today" T2="$(at 0)"
        # The first of the month at noon is in the past from the 2nd on.
        [[ "$today" != "$D1" ]]
    else
        M="$(date -u -d "$today -1 day" +%Y-%m)"
        D1="$M-01" T1="$M-01T12:00:00Z"
        D2="$(date -u -d "$today -1 day" +%Y-%m-%d)" T2="${D2}T12:00:00Z"
    fi
    n="$(days_in "$M")"
    ingest "$F_TOKEN" "$(ev tokens 100 "a-$k" "$T1")" "$(ev tokens 250 "b-$k" "$T2")" "$(ev tokens 7 "c-$k" "$T2")" \
        "$(ev api_calls 4 "d-$k" "$T1")" "$(ev api_calls 9 "e-$k" "$T2")" \
        "$(ev devices 3 "f-$k" "$T1")" "$(ev devices 5 "g-$k" "$T2")"
    expect_accepted 7 0
    api_as "$F_TOKEN" GET "/admin/billing/tenants/$F_ID/usage?month=$M"
    expect_status 200
    check_body 'keys == ["meters","month","tenant_id"] and .month == $m and .tenant_id == $t' --arg m "$M" --arg t "$F_ID"
    check_body "(.meters | keys) == $METERS"
    check_body '[.meters[] | keys == ["daily","kind","limit","period","total","unit"]] | all'
    # Every meter: n days, in order, from the 1st.
    check_body '[.meters[] | (.daily | length) == ($n | tonumber)
        and ([.daily[].date] == [range(1; ($n | tonumber) + 1) | "\($m)-\(if . < 10 then "0" else "" end)\(.)"])] | all' \
        --arg n "$n" --arg m "$M"
    # Counters: total == the sum of the days.
    check_body '[.meters[] | select(.kind == "counter") | .total == ([.daily[].quantity] | add)] | all'
    check_body '.meters.tokens.kind == "counter" and .meters.tokens.unit == "tokens" and .meters.tokens.period == "month"
        and .meters.tokens.limit == 10000000 and .meters.tokens.total == 357'
    check_body '[.meters.tokens.daily[] | select(.date == $d1) | .quantity] == [100]
        and [.meters.tokens.daily[] | select(.date == $d2) | .quantity] == [257]
        and ([.meters.tokens.daily[] | select(.date != $d1 and .date != $d2) | .quantity] | all(. == 0))' \
        --arg d1 "$D1" --arg d2 "$D2"
    check_body '.meters.api_calls.total == 13 and .meters.api_calls.limit == null and .meters.api_calls.unit == "calls"
        and [.meters.api_calls.daily[] | select(.date == $d1) | .quantity] == [4]
        and [.meters.api_calls.daily[] | select(.date == $d2) | .quantity] == [9]' --arg d1 "$D1" --arg d2 "$D2"
    # A gauge: its value on the day reported, carried until the next report; its total is the peak.
    check_body '.meters.devices.kind == "gauge" and .meters.devices.total == 5
        and [.meters.devices.daily[] | select(.date == $d1) | .quantity] == [3]
        and [.meters.devices.daily[] | select(.date == $d2) | .quantity] == [5]
        and ([.meters.devices.daily[] | select(.date > $d1 and .date < $d2) | .quantity] | all(. == 3))' \
        --arg d1 "$D1" --arg d2 "$D2"
    # Future days are 0, for every meter.
    check_body '[.meters[].daily[] | select(.date > $t) | .quantity] | all(. == 0)' --arg t "$today"
    # The quota of that month: a monthly counter's total, a daily counter's busiest day, a gauge's peak.
    api_as "$F_TOKEN" GET "/admin/billing/tenants/$F_ID/quota?month=$M"
    expect_status 200
    check_body 'keys == ["month","quotas","tenant_id"] and .month == $m' --arg m "$M"
    check_body "(.quotas | keys) == $METERS"
    check_body '.quotas.tokens == {used: 357, limit: 10000000, percentage: 0, period: "month", unit: "tokens"}'
    check_body '.quotas.api_calls.used == 9 and .quotas.devices.used == 5'
    # me/usage is the same for the caller's context tenant.
    local want
    api_as "$F_TOKEN" GET "/admin/billing/tenants/$F_ID/usage?month=$M"
    want="$(jqb -c .meters)"
    api_as "$F_TOKEN" GET "/admin/billing/me/usage?month=$M"
    expect_status 200
    check_body '.tenant_id == $t and .month == $m and (.meters | tojson) == $w' --arg t "$F_ID" --arg m "$M" --arg w "$want"
}

@test "billing usage: past and future months have every calendar day and zeros (2024-02 has 29, 2023-02 28, 2100-02 28)" {
    fresh_tenant
    local k m n
    k="$(uniqsfx)"
    ingest "$F_TOKEN" "$(ev tokens 42 "a-$k")" "$(ev teams 3 "b-$k")"
    expect_accepted 2 0
    for m in 2024-02:29 2023-02:28 2024-04:30 2024-01:31 2100-02:28 2000-02:29; do
        n="${m#*:}" m="${m%:*}"
        api_as "$F_TOKEN" GET "/admin/billing/tenants/$F_ID/usage?month=$m"
        expect_status 200
        check_body '.month == $m and ([.meters[] | (.daily | length) == ($n | tonumber)] | all)' --arg m "$m" --arg n "$n"
        check_body '.meters.tokens.daily[0].date == "\($m)-01" and .meters.tokens.daily[-1].date == "\($m)-\($n)"' \
            --arg m "$m" --arg n "$n"
        check_body '[.meters[] | .total == 0 and ([.daily[].quantity] | all(. == 0))] | all'
    done
    # No month: the current UTC month.
    api_as "$F_TOKEN" GET "/admin/billing/tenants/$F_ID/usage"
    expect_status 200
    check_body '.month == $m and (.meters.tokens.daily | length) == ($n | tonumber) and .meters.tokens.total == 42
        and .meters.teams.total == 3' --arg m "$(date -u +%Y-%m)" --arg n "$(days_in "$(date -u +%Y-%m)")"
    api_as "$F_TOKEN" GET "/admin/billing/tenants/$F_ID/quota?month=2024-02"
    expect_status 200
    check_body '.month == "2024-02" and ([.quotas[] | .used == 0] | all) and .quotas.tokens.limit == 10000000'
}

@test "billing tenant: name, slug, status, tier, price plan, the month's period, grace, limits with overrides, features" {
    fresh_tenant
    set_limits "$F_ID" '{"tokens":1234}'
    local slug="$NEW_TENANT_SLUG"
    api_as "$F_TOKEN" GET "/admin/billing/tenants/$F_ID?month=2024-02"
    expect_status 200
    check_body 'keys == ["features","grace_percent","limits","name","period","price_plan","slug","status","tenant_id","tier","tier_name"]'
    check_body '.tenant_id == $t and .slug == $s and .name == ("API test " + $s) and .status == "active"
        and .tier == "business" and .tier_name == "Business" and .price_plan == "business-monthly"
        and .grace_percent == 10 and .features == ["all"]' --arg t "$F_ID" --arg s "$slug"
    check_body '.period == {month: "2024-02", start: "2024-02-01", end: "2024-02-29"}'
    check_body '.limits.tokens == 1234 and .limits.users == 100'
    local M
    M="$(date -u +%Y-%m)"
    api_as "$(admin_token)" GET "/admin/billing/tenants/$F_ID"
    expect_status 200
    check_body '.period.month == $m and .period.start == "\($m)-01" and .period.end == "\($m)-\($n)"' \
        --arg m "$M" --arg n "$(days_in "$M")"
}

@test "billing me/usage: the caller's context tenant; no context 400; member 403; no auth 401" {
    local idtok tok
    idtok="$(login "$R_ADMIN_EMAIL" "$R_ADMIN_PW")"
    tok="$(tenant_token "$idtok" "$R_ID")"
    api_as "$tok" GET /admin/billing/me/usage
    expect_status 200
    check_body '.tenant_id == $t and .month == $m and (.meters | length) == 8' --arg t "$R_ID" --arg m "$(date -u +%Y-%m)"
    api_as "$idtok" GET /admin/billing/me/usage "" -H "X-Tenant-ID: $R_ID"
    expect_status 200
    api_as "$(admin_token)" GET /admin/billing/me/usage "" -H "X-Tenant-ID: $R_ID"
    expect_status 200
    check_body '.tenant_id == $t' --arg t "$R_ID"
    api_as "$idtok" GET /admin/billing/me/usage
    expect_error 400 tenant_context_required
    api_as "$(admin_token)" GET /admin/billing/me/usage
    expect_error 400 tenant_context_required
    idtok="$(login "$R_MEMBER_EMAIL" "$R_MEMBER_PW")"
    api_as "$(tenant_token "$idtok" "$R_ID")" GET /admin/billing/me/usage
    expect_error 403 permission_denied
    api GET /admin/billing/me/usage
    expect_error 401 unauthenticated
}

@test "billing stays readable for a suspended tenant; its usage routes and ingestion do not" {
    fresh_tenant
    local k
    k="$(uniqsfx)"
    ingest "$F_TOKEN" "$(ev tokens 10 "a-$k")"
    expect_accepted 1 0
    api_as "$(admin_token)" PATCH "/api/v1/tenants/$F_ID" '{"status":"suspended"}'
    expect_status 200
    local path
    for path in "/admin/billing/tenants/$F_ID/usage" "/admin/billing/tenants/$F_ID/quota" \
        "/admin/billing/tenants/$F_ID" /admin/billing/me/usage; do
        api_as "$F_TOKEN" GET "$path"
        expect_status 200
        api_as "$F_IDTOK" GET "$path" "" -H "X-Tenant-ID: $F_ID"
        expect_status 200
    done
    api_as "$F_TOKEN" GET "/admin/billing/tenants/$F_ID"
    check_body '.status == "suspended"'
    api_as "$F_TOKEN" GET "/admin/billing/tenants/$F_ID/usage"
    check_body '.meters.tokens.total == 10'
    ingest "$F_TOKEN" "$(ev tokens 10 "b-$k")"
    expect_error 403 tenant_suspended
    api_as "$F_TOKEN" GET "$USAGE"
    expect_error 403 tenant_suspended
    [[ "$(events_with_keys "$F_ID" "b-$k")" == 0 ]]
}
