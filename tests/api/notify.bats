#!/usr/bin/env bats
# notify.bats -- usage notifications end to end: an ingestion crosses a
# threshold, `tenantryctl notify` delivers it once by email (a sendmail
# command that appends to a file) and once by an HMAC-signed webhook to a
# local HTTPS receiver (tests/api/webhook-receiver.js on 127.0.0.1), retries
# a failed channel without resending the one that succeeded, and --follow
# wakes up on LISTEN/NOTIFY.

load helpers

setup_file() {
    export NT_DIR="$BATS_FILE_TMPDIR"
    cat >"$NT_DIR/sendmail.sh" <<EOF
#!/bin/sh
# One message per call: appended to mail.txt, with a separator line.
cat >>"$NT_DIR/mail.txt"
echo "=====END=====" >>"$NT_DIR/mail.txt"
EOF
    chmod +x "$NT_DIR/sendmail.sh"
}

# receiver_start [ARGS]: a webhook receiver on an ephemeral port; sets RX_PORT RX_PID RX_OUT.
receiver_start() {
    RX_OUT="$(_tmp)/hooks-$(uniqsfx).jsonl"
    : >"$RX_OUT"
    node "$TENANTRY_REPO/tests/api/webhook-receiver.js" --cert "$TENANTRY_TEST_STATE_DIR/tls/cert.pem" \
        --key "$TENANTRY_TEST_STATE_DIR/tls/key.pem" --out "$RX_OUT" "$@" >"$RX_OUT.port" 3>&- &
    RX_PID=$!
    for _ in $(seq 50); do
        RX_PORT="$(head -n 1 "$RX_OUT.port" 2>/dev/null)"
        [[ -n "$RX_PORT" ]] && return 0
        sleep 0.1
    done
    fail "the webhook receiver did not start"
}

teardown() {
    [[ -z "${RX_PID:-}" ]] || { kill "$RX_PID" 2>/dev/null; wait "$RX_PID" 2>/dev/null; } || true
    [[ -z "${FOLLOW_PID:-}" ]] || { kill "$FOLLOW_PID" 2>/dev/null; wait "$FOLLOW_PID" 2>/dev/null; } || true
}

# notify [ARGS]: tenantryctl notify against the test stack, trusting the test certificate.
# notify [ARGS]: tenantryctl notify against the test stack, trusting the test
# certificate; NOTIFY_ENV is the same as a command prefix.
NOTIFY_ENV=()
notify_env() {
    NOTIFY_ENV=(env -C "$TENANTRY_REPO" TENANTRY_DATABASE_URL="$TENANTRY_TEST_APP_DB_URL"
        TENANTRY_JWT_SECRET_FILE="$TENANTRY_TEST_SECRET_FILE" TENANTRY_SENDMAIL="$NT_DIR/sendmail.sh"
        TENANTRY_WEBHOOK_CA_FILE="$TENANTRY_TEST_STATE_DIR/tls/cert.pem" TENANTRY_WEBHOOK_ALLOW_PRIVATE=1)
}
notify() {
    notify_env
    "${NOTIFY_ENV[@]}" ./tenantryctl notify "$@"
}

mails_to() { grep -c "^To: .*$1" "$NT_DIR/mail.txt" 2>/dev/null || true; }

# A starter tenant with an owner and an admin, a tokens limit of 1000 and
# the webhook pointing at the receiver. Sets T_ID TT (owner's tenant token)
# T_OWNER T_ADMIN.
tenant_with_hook() {
    local ident
    new_user nto
    T_OWNER="$NEW_EMAIL"
    local owner_pw="$NEW_PASSWORD"
    new_user nta
    T_ADMIN="$NEW_EMAIL"
    new_tenant nt "$T_OWNER" starter
    T_ID="$NEW_TENANT_ID"
    add_member "$T_ID" "$T_ADMIN" admin
    api_as "$(admin_token)" PATCH "/api/v1/tenants/$T_ID" '{"limits":{"tokens":1000}}'
    expect_status 200
    ident="$(login "$T_OWNER" "$owner_pw")"
    TT="$(tenant_token "$ident" "$T_ID")"
    api_as "$TT" PUT /api/v1/tenants/current/settings \
        "{\"settings\":{\"notifications\":{\"webhook_url\":\"https://127.0.0.1:$1/hooks/usage?x=1\"}}}"
    expect_status 200
}

ingest() { # ingest TOKEN QTY KEY
    api_as "$1" POST /api/v1/usage/events "{\"events\":[{\"meter\":\"tokens\",\"quantity\":$2,\"idempotency_key\":\"$3\"}]}"
    expect_status 202
}

outbox() { # outbox TENANT SQL-COLUMNS -> rows of the tenant's outbox (the superuser bypasses RLS)
    psql_super "SELECT $2 FROM notification_outbox WHERE tenant_id = '$1' ORDER BY threshold"
}

@test "notify: a crossing is delivered once by webhook (valid signature) and once by email; a second pass sends nothing" {
    receiver_start
    tenant_with_hook "$RX_PORT"
    ingest "$TT" 850 "n1-$(uniqsfx)"
    [[ "$(outbox "$T_ID" "threshold")" == 80 ]] || fail "outbox: $(outbox "$T_ID" "threshold, used")"

    run notify
    [[ "$status" -eq 0 ]] || fail "notify: $output"
    [[ "$output" == *"1 notification handled"* ]] || fail "notify said: $output"
    [[ "$(wc -l <"$RX_OUT")" -eq 1 ]] || fail "webhook POSTs: $(cat "$RX_OUT")"

    # The signature is HMAC-SHA256 of the raw body keyed with the tenant's webhook secret.
    api_as "$TT" GET "/api/v1/tenants/$T_ID/webhook-secret"
    expect_status 200
    local key body sig want
    key="$(jqb .secret)"
    [[ "$key" == whsec_* ]] || fail "secret: $BODY"
    body="$(jq -r .body "$RX_OUT")"
    sig="$(jq -r '.headers["x-tenantry-signature"]' "$RX_OUT")"
    want="sha256=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$key" | awk '{print $NF}')"
    [[ "$sig" == "$want" ]] || fail "signature $sig, want $want"
    [[ "$(jq -r .path "$RX_OUT")" == "/hooks/usage?x=1" ]] || fail "path: $(jq -r .path "$RX_OUT")"
    jq -e --arg t "$T_ID" '.body | fromjson | .type == "usage.threshold_reached" and .tenant.id == $t
        and .meter == "tokens" and .threshold == 80 and .used == 850 and .limit == 1000' "$RX_OUT" >/dev/null ||
        fail "webhook body: $body"
    [[ "$(jq -r '.headers["x-tenantry-delivery"]' "$RX_OUT")" =~ ^[0-9]+$ ]] || fail "no delivery id"
    # A signature made with another tenant's key does not match.
    [[ "$sig" != "sha256=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "whsec_other" | awk '{print $NF}')" ]]

    # One email, to the owner and the admin, naming the meter and threshold.
    [[ "$(mails_to "$T_OWNER")" -eq 1 && "$(mails_to "$T_ADMIN")" -eq 1 ]] ||
        fail "mail: $(cat "$NT_DIR/mail.txt")"
    grep -q "^Subject: .*tokens at 80% of its limit" "$NT_DIR/mail.txt"

    [[ "$(outbox "$T_ID" "done_at IS NOT NULL, email_delivered_at IS NOT NULL, webhook_delivered_at IS NOT NULL, attempts")" == "t|t|t|1" ]] ||
        fail "outbox row: $(outbox "$T_ID" "done_at, email_delivered_at, webhook_delivered_at, attempts")"

    run notify
    [[ "$output" == *"0 notifications handled"* ]] || fail "second pass: $output"
    [[ "$(wc -l <"$RX_OUT")" -eq 1 && "$(mails_to "$T_OWNER")" -eq 1 ]] || fail "sent twice"
}

@test "notify: jumping to 100% sends 80, 90 and 100 once each, never again for that period" {
    receiver_start
    tenant_with_hook "$RX_PORT"
    ingest "$TT" 700 "j1-$(uniqsfx)"
    ingest "$TT" 390 "j2-$(uniqsfx)"          # 70% -> 109%: within the 10% grace
    ingest "$TT" 5 "j3-$(uniqsfx)"            # still over 100%: nothing new
    [[ "$(outbox "$T_ID" "threshold" | tr '\n' ' ')" == "80 90 100 " ]] || fail "outbox: $(outbox "$T_ID" threshold)"
    run notify
    [[ "$output" == *"3 notifications handled"* ]] || fail "notify: $output"
    [[ "$(jq -s 'map(.body | fromjson | .threshold) | sort | join(",")' "$RX_OUT")" == '"80,90,100"' ]] ||
        fail "webhooks: $(cat "$RX_OUT")"
    [[ "$(mails_to "$T_OWNER")" -eq 3 ]]
    run notify
    [[ "$(wc -l <"$RX_OUT")" -eq 3 ]]
}

@test "notify: a failed webhook is retried later without resending the email; the delivery id stays the same" {
    receiver_start --fail-first 1
    tenant_with_hook "$RX_PORT"
    ingest "$TT" 800 "r1-$(uniqsfx)"
    run notify
    [[ "$status" -eq 0 ]] || fail "$output"
    [[ "$(wc -l <"$RX_OUT")" -eq 1 ]] || fail "first attempt: $(cat "$RX_OUT")"
    [[ "$(mails_to "$T_OWNER")" -eq 1 ]]
    # Not done; the next attempt waits for the backoff (30 s after the first failure).
    [[ "$(outbox "$T_ID" "done_at IS NULL, email_delivered_at IS NOT NULL, webhook_delivered_at IS NULL, next_attempt_at > now() + interval '20 seconds', last_error LIKE '%500%'")" == "t|t|t|t|t" ]] ||
        fail "after a failure: $(outbox "$T_ID" "done_at, email_delivered_at, webhook_delivered_at, next_attempt_at, last_error")"
    run notify
    [[ "$output" == *"0 notifications handled"* ]] || fail "retried before its time: $output"

    # Time passes.
    psql_super "UPDATE notification_outbox SET next_attempt_at = now() WHERE tenant_id = '$T_ID'" >/dev/null
    run notify
    [[ "$output" == *"1 notification handled"* ]] || fail "retry: $output"
    [[ "$(wc -l <"$RX_OUT")" -eq 2 ]] || fail "retry POSTs: $(cat "$RX_OUT")"
    [[ "$(jq -r '.headers["x-tenantry-delivery"]' "$RX_OUT" | sort -u | wc -l)" -eq 1 ]]
    [[ "$(mails_to "$T_OWNER")" -eq 1 ]] || fail "the email went out twice"
    [[ "$(outbox "$T_ID" "done_at IS NOT NULL, attempts, last_error IS NULL")" == "t|2|t" ]] ||
        fail "after the retry: $(outbox "$T_ID" "done_at, attempts, last_error")"
}

@test "notify: nothing to send (email off, no webhook) marks the row done without sending" {
    local ident
    new_user nte
    new_tenant nte "$NEW_EMAIL" starter
    api_as "$(admin_token)" PATCH "/api/v1/tenants/$NEW_TENANT_ID" '{"limits":{"tokens":100}}'
    expect_status 200
    ident="$(login "$NEW_EMAIL" "$NEW_PASSWORD")"
    TT="$(tenant_token "$ident" "$NEW_TENANT_ID")"
    api_as "$TT" PUT /api/v1/tenants/current/settings '{"settings":{"notifications":{"email_enabled":false}}}'
    expect_status 200
    ingest "$TT" 95 "e1-$(uniqsfx)"
    run notify
    [[ "$output" == *"2 notifications handled"* ]] || fail "$output"
    [[ "$(mails_to "$NEW_EMAIL")" -eq 0 ]]
    [[ "$(outbox "$NEW_TENANT_ID" "done_at IS NOT NULL, email_delivered_at IS NULL" | sort -u)" == "t|t" ]]
}

@test "notify --follow: woken by LISTEN/NOTIFY, delivers within seconds; SIGTERM stops it" {
    receiver_start
    tenant_with_hook "$RX_PORT"
    notify_env   # env execs tenantryctl: $! is its PID; fd 3 is bats' own
    "${NOTIFY_ENV[@]}" ./tenantryctl notify --follow >"$(_tmp)/follow.log" 2>&1 3>&- &
    FOLLOW_PID=$!
    sleep 1
    ingest "$TT" 900 "f1-$(uniqsfx)"
    for _ in $(seq 50); do
        [[ "$(wc -l <"$RX_OUT")" -ge 2 ]] && break
        sleep 0.1
    done
    [[ "$(wc -l <"$RX_OUT")" -eq 2 ]] || fail "not delivered within 5 s: $(cat "$RX_OUT"; cat "$(_tmp)/follow.log")"
    kill -TERM "$FOLLOW_PID"
    for _ in $(seq 50); do kill -0 "$FOLLOW_PID" 2>/dev/null || break; sleep 0.1; done
    ! kill -0 "$FOLLOW_PID" 2>/dev/null || fail "notify --follow did not stop on SIGTERM"
    wait "$FOLLOW_PID" || fail "exit status $?"
    FOLLOW_PID=""
}

@test "notify: a webhook on a private address is refused unless allowed, and retried (never lost)" {
    receiver_start
    tenant_with_hook "$RX_PORT"
    ingest "$TT" 800 "p1-$(uniqsfx)"
    notify_env
    run "${NOTIFY_ENV[@]}" TENANTRY_WEBHOOK_ALLOW_PRIVATE=0 ./tenantryctl notify
    [[ "$status" -eq 0 ]] || fail "$output"
    [[ "$(wc -l <"$RX_OUT")" -eq 0 ]] || fail "posted to a private address"
    [[ "$(outbox "$T_ID" "done_at IS NULL, last_error LIKE '%not allowed%'")" == "t|t" ]] ||
        fail "$(outbox "$T_ID" "done_at, last_error, attempts") / notify said: $output"
    [[ "$output" != *"$RX_PORT"* ]] || fail "the webhook URL reached the log: $output"
}
