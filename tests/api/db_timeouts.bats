#!/usr/bin/env bats
# db_timeouts.bats -- a slow or stalled database (issue 19, "slow statements
# fail cleanly"; SPEC §3 503, §7): a statement cancelled by statement_timeout
# (57014), a lock wait cancelled by lock_timeout (55P03) and a database
# stalled with SIGSTOP past the worker's round-trip deadline
# (TENANTRY_DB_DEADLINE_MS) each answer 503 unavailable with Retry-After,
# no worker dies, and the next request is served. The app role's timeouts
# are the ones `tenantryctl migrate` sets.

load helpers

LOCKER_APP=tenantry-test-locker
DEADLINE_MS="${TENANTRY_DB_DEADLINE_MS:-10000}"

setup_file() {
    export MIA TID T_OWNER
    MIA="$(login mia@acme.example "$DEMO_PASSWORD")"
    # A workspace of its own, so that renaming it touches no other test's data.
    new_user timeouts
    new_tenant timeouts "$NEW_EMAIL"
    TID="$NEW_TENANT_ID"
    T_OWNER="$(tenant_token "$(login "$NEW_EMAIL" "$NEW_PASSWORD")" "$TID")"
}

# tenantryctl migrate against the test database: owner for the migrations,
# the app role for its timeouts.
migrate() {
    (cd "$TENANTRY_REPO" && TENANTRY_DATABASE_URL="$TENANTRY_TEST_APP_DB_URL" \
        TENANTRY_MIGRATE_DATABASE_URL="$TENANTRY_TEST_OWNER_DB_URL" \
        TENANTRY_SQL_DIR="$TENANTRY_REPO/sql" ./tenantryctl migrate "$@")
}

role_config() {
    psql_super "SELECT coalesce(array_to_string(rolconfig, ' '), '') FROM pg_roles WHERE rolname = '$1'"
}

# lock_hold SQL: a superuser session (application_name $LOCKER_APP) opens a
# transaction, runs SQL (taking a lock) and keeps the transaction open for
# up to 30 s; returns once the lock is held. lock_release ends it.
lock_hold() {
    local i
    PGAPPNAME="$LOCKER_APP" psql "$(_super_url)" -X -q -At -v ON_ERROR_STOP=1 >/dev/null 2>&1 <<EOF &
BEGIN;
$1;
SELECT pg_sleep(30);
COMMIT;
EOF
    echo "$!" >"$BATS_FILE_TMPDIR/locker.pid"
    for i in $(seq 1 100); do
        [[ "$(psql_super "SELECT count(*) FROM pg_stat_activity WHERE application_name = '$LOCKER_APP'
            AND state = 'active' AND query LIKE 'SELECT pg_sleep%'")" == 1 ]] && return 0
        sleep 0.1
    done
    fail "the locking session did not get its lock within 10 s"
}

lock_release() {
    local pid
    psql_super "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
        WHERE application_name = '$LOCKER_APP'" >/dev/null 2>&1 || true
    if [[ -s "$BATS_FILE_TMPDIR/locker.pid" ]]; then
        pid="$(<"$BATS_FILE_TMPDIR/locker.pid")"
        wait "$pid" 2>/dev/null || true
        rm -f "$BATS_FILE_TMPDIR/locker.pid"
    fi
}

# The PIDs of THIS stack's PostgreSQL: its postmaster (postmaster.pid of the
# test cluster's data directory) first, then the postmaster's children.
pg_pids() {
    local pm
    pm="$(head -n 1 "$TENANTRY_TEST_STATE_DIR/pg/postmaster.pid")"
    [[ "$pm" =~ ^[0-9]+$ ]] || return 1
    echo "$pm"
    ps -o pid= --ppid "$pm" | tr -d ' '
}

pg_resume() {
    local f="$BATS_FILE_TMPDIR/stopped.pids" pid
    [[ -s "$f" ]] || return 0
    # Children first, then the postmaster (the first line).
    for pid in $(tac "$f"); do
        kill -CONT "$pid" 2>/dev/null || true
    done
    rm -f "$f"
}

# Log lines written since byte OFFSET that carry request id RID.
log_lines_of() {
    tail -c +$(($1 + 1)) "$TENANTRY_TEST_WORKER_LOG" | grep -F "\"$2\"" || true
}

# Every one of several requests (over the workers nginx hands them to) is 200.
expect_served() {
    local i
    for i in $(seq 1 8); do
        api_as "$MIA" GET /api/v1/me
        REQ="GET /api/v1/me after the timeout (#$i)"
        expect_status 200 || return 1
    done
}

teardown() {
    pg_resume
    lock_release
    if [[ -f "$BATS_FILE_TMPDIR/role_changed" ]]; then
        migrate >/dev/null || true
        eval "$TENANTRY_TEST_POOL_STOP" >/dev/null 2>&1 || true
        eval "$TENANTRY_TEST_POOL_START" >/dev/null 2>&1 || true
        rm -f "$BATS_FILE_TMPDIR/role_changed"
    fi
}

@test "tenantryctl migrate gave the app role its statement, lock and idle-in-transaction timeouts (scripts/dev included)" {
    local conf
    conf="$(role_config tenantry_app)"
    [[ " $conf " == *" statement_timeout=5000ms "* && " $conf " == *" lock_timeout=2000ms "* &&
        " $conf " == *" idle_in_transaction_session_timeout=30000ms "* ]] ||
        fail "tenantry_app's settings: '$conf'"

    # A bad value is refused before anything is changed.
    run migrate --lock-timeout-ms 0
    [[ "$status" == 2 && "$output" == *"lock timeout"* ]] || fail "--lock-timeout-ms 0: $status $output"
    run migrate --statement-timeout-ms 5s
    [[ "$status" == 2 ]] || fail "--statement-timeout-ms 5s: $status $output"
    [[ "$(role_config tenantry_app)" == "$conf" ]] || fail "a refused migrate changed the settings"

    # The owner (or a superuser) is not the app role: refused, left as it was.
    run env TENANTRY_DATABASE_URL="$TENANTRY_TEST_OWNER_DB_URL" \
        TENANTRY_MIGRATE_DATABASE_URL="$TENANTRY_TEST_OWNER_DB_URL" \
        TENANTRY_SQL_DIR="$TENANTRY_REPO/sql" "$TENANTRY_REPO/tenantryctl" migrate
    [[ "$status" == 1 && "$output" == *"app role"* ]] || fail "migrate with the owner as the app role: $status $output"
    [[ -z "$(role_config tenantry_owner)" ]] || fail "the owner got settings: $(role_config tenantry_owner)"

    # Values from the environment; a run with the defaults puts them back.
    TENANTRY_APP_LOCK_TIMEOUT_MS=2500 run migrate
    [[ "$status" == 0 && "$output" == *"lock_timeout 2500 ms"* ]] || fail "env value: $status $output"
    [[ " $(role_config tenantry_app) " == *" lock_timeout=2500ms "* ]] || fail "after env: $(role_config tenantry_app)"
    run migrate
    [[ "$status" == 0 ]] || fail "migrate: $output"
    [[ "$(role_config tenantry_app)" == "$conf" ]] || fail "defaults not restored: $(role_config tenantry_app)"
}

@test "a statement cancelled by statement_timeout (57014): 503 unavailable with Retry-After, for a read and inside a write's transaction; then served" {
    local before log_at rid
    # A statement timeout shorter than the lock timeout: a lock wait ends as
    # 57014. Sessions begun after this take it: restart the workers.
    touch "$BATS_FILE_TMPDIR/role_changed"
    run migrate --statement-timeout-ms 600 --lock-timeout-ms 20000
    [[ "$status" == 0 ]] || fail "migrate: $output"
    eval "$TENANTRY_TEST_POOL_STOP"
    eval "$TENANTRY_TEST_POOL_START"
    expect_served
    before="$(worker_ids)"

    # A read: the user's row cannot be read while a session holds the table.
    log_at="$(wc -c <"$TENANTRY_TEST_WORKER_LOG")"
    lock_hold "LOCK TABLE users IN ACCESS EXCLUSIVE MODE"
    api_as "$MIA" GET /api/v1/me
    expect_error 503 unavailable
    rid="$(header X-Request-Id)"
    lock_release
    [[ "$(log_lines_of "$log_at" "$rid")" == *57014* ]] ||
        fail "no 57014 logged for $rid:" "$(log_lines_of "$log_at" "$rid")"
    expect_served

    # A write: the UPDATE waits for the tenant's row inside the request's
    # transaction, which the cancel leaves aborted; the worker rolls it back.
    log_at="$(wc -c <"$TENANTRY_TEST_WORKER_LOG")"
    lock_hold "SELECT 1 FROM tenants WHERE id = '$TID' FOR UPDATE"
    api_as "$T_OWNER" PATCH "/api/v1/tenants/$TID" '{"name":"Timeouts renamed"}'
    expect_error 503 unavailable
    rid="$(header X-Request-Id)"
    lock_release
    [[ "$(log_lines_of "$log_at" "$rid")" == *57014* ]] ||
        fail "no 57014 logged for $rid:" "$(log_lines_of "$log_at" "$rid")"
    [[ "$(psql_super "SELECT name FROM tenants WHERE id = '$TID'")" != "Timeouts renamed" ]] ||
        fail "the cancelled write was committed"
    expect_served
    api_as "$T_OWNER" PATCH "/api/v1/tenants/$TID" '{"name":"Timeouts renamed"}'
    expect_status 200
    [[ "$(psql_super "SELECT name FROM tenants WHERE id = '$TID'")" == "Timeouts renamed" ]] ||
        fail "the write after the timeout was not committed"
    [[ "$(worker_ids)" == "$before" ]] || fail "workers changed" "before: $before" "after: $(worker_ids)"
}

@test "a lock wait cancelled by lock_timeout (55P03): 503 unavailable with Retry-After; the same workers serve the next requests" {
    local before log_at rid t
    before="$(worker_ids)"
    [[ -n "$before" ]] || fail "no tenantry.fcgi workers of this stack found"
    expect_served
    log_at="$(wc -c <"$TENANTRY_TEST_WORKER_LOG")"
    lock_hold "SELECT 1 FROM tenants WHERE id = '$TID' FOR UPDATE"
    t="$(date +%s%N)"
    api_as "$T_OWNER" PATCH "/api/v1/tenants/$TID" '{"name":"Timeouts locked"}'
    t=$((($(date +%s%N) - t) / 1000000))
    expect_error 503 unavailable
    rid="$(header X-Request-Id)"
    lock_release
    [[ "$(log_lines_of "$log_at" "$rid")" == *55P03* ]] ||
        fail "no 55P03 logged for $rid:" "$(log_lines_of "$log_at" "$rid")"
    # lock_timeout is 2 s: the wait was cut there, not at statement_timeout (5 s).
    ((t >= 1900 && t < 4500)) || fail "the 503 came after $t ms (lock_timeout 2000 ms)"
    [[ "$(psql_super "SELECT name FROM tenants WHERE id = '$TID'")" != "Timeouts locked" ]] ||
        fail "the cancelled write was committed"
    api_as "$T_OWNER" PATCH "/api/v1/tenants/$TID" '{"name":"Timeouts unlocked"}'
    expect_status 200
    expect_served
    [[ "$(worker_ids)" == "$before" ]] || fail "workers changed" "before: $before" "after: $(worker_ids)"
}

@test "PostgreSQL stalled (SIGSTOP) past the worker's deadline: 503 with Retry-After within the bound, the connection dropped; resumed: the next request is served" {
    local before log_at rid t pids lines
    before="$(worker_ids)"
    [[ -n "$before" ]] || fail "no tenantry.fcgi workers of this stack found"
    # Every worker connected and idle, its read counts flushed.
    expect_served
    sleep 0.5
    pids="$(pg_pids)" || fail "no postmaster.pid in $TENANTRY_TEST_STATE_DIR/pg"
    log_at="$(wc -c <"$TENANTRY_TEST_WORKER_LOG")"

    printf '%s\n' $pids >"$BATS_FILE_TMPDIR/stopped.pids"
    kill -STOP $pids
    t="$(date +%s%N)"
    CURL_MAX_TIME=40 api_as "$MIA" GET /api/v1/me
    t=$((($(date +%s%N) - t) / 1000000))
    expect_error 503 unavailable
    rid="$(header X-Request-Id)"
    # The worker's own answer at its deadline (nginx would wait 30 s, then 504).
    ((t >= DEADLINE_MS - 100 && t < DEADLINE_MS + 4000)) ||
        fail "the 503 came after $t ms (deadline $DEADLINE_MS ms)"
    pg_resume

    lines="$(log_lines_of "$log_at" "$rid")"
    [[ "$lines" == *"did not answer within $DEADLINE_MS ms"* ]] || fail "no deadline logged for $rid:" "$lines"
    # Resumed: the very next request is served (a new connection), then every one.
    api_as "$MIA" GET /api/v1/me
    REQ="GET /api/v1/me right after PostgreSQL resumed"
    expect_status 200
    expect_served
    [[ "$(worker_ids)" == "$before" ]] || fail "workers changed" "before: $before" "after: $(worker_ids)"
}
