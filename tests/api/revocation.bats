#!/usr/bin/env bats
# revocation.bats -- the revocation bound under load (SPEC §2 "the bound this
# must meet", issue 11): a removed member, a revoked key, an ended session, a
# suspended tenant and a lowered role are refused by every worker within
# 100 ms of the change, measured while 20 concurrent clients read.
#
# The load and the changes come from one node process (revocation-load.js),
# so the time a change's answer arrived and the start of every request are
# read on the same monotonic clock. Per change: a fresh enterprise workspace
# (no rate limits to get in the way) with an owner, an admin and a member; the
# reads are the member's tenant token on /api/v1/tenants/current/usage, a read
# API key on /api/v1/tenants/current, the admin's dashboard session on
# /w/{slug}/billing (answered from the worker's cache: the session, its
# context and the page's totals and charts) and on the overview /w/{slug}
# (not cached), and the admin's tenant token on /admin/billing/me/usage.
# The dashboard session is shut out by sign-out, by the admin's removal from
# the workspace, by a lowered role and, on the overview, by the suspension
# (billing stays readable for a suspended workspace, SPEC §2).
# 16 clients read what the change shuts out, 4 read the rest (controls that
# must keep working). Asserted: for every client, the reads answered before
# the change was sent succeeded (so the test can fail); no request started
# more than 100 ms after the change's answer arrived succeeded; every answer
# after the change is a success or exactly the contract's refusal; every
# client got that refusal; the controls never failed; the load reached every
# worker. The second test does it all again, each change made right after
# the workers' LISTEN connections were terminated (a worker that lost its
# listening connection must read through until it listens again).
#
# Printed (fd 3, so CI logs carry them): per change the propagation (start of
# the last successful request - arrival of the change's answer) and the spread
# of each client's first refusal (its arrival - the change's answer); per
# round p50/p99/max of change -> first refusal over all changes and clients.
# Times are relative to the change's answer, so they may be negative: the
# change commits before its answer reaches the driver, and a read answered
# in between already sees it.
#
# Run alone:  TENANTRY_TEST_API_PATH=tests/api/revocation.bats scripts/dev test --api

load helpers

CLIENTS=20
WARM_MS=600     # load before the change
AFTER_MS=2200   # load after it
BOUND_MS=100
HTML_ACCEPT='text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'
SESSION_COOKIE='__Host-tenantry'
DROP_SQL="SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'tenantry.fcgi listen'"

setup_file() {
    export ADMIN
    ADMIN="$(admin_token)"
}

# ---- fixtures -------------------------------------------------------------------

urlencode() { jq -rn --arg s "$1" '$s | @uri'; }

# cookie JAR NAME: the cookie's value in a curl jar ("" when absent).
cookie() {
    [[ -f "$1" ]] || return 0
    awk -F'\t' -v n="$2" 'NF >= 7 && $6 == n { v = $7 } END { printf "%s", v }' "$1"
}

scrape_csrf() {
    grep -o 'name="csrf_token" value="[^"]*"' <<<"$BODY" | head -1 | sed -E 's/.*value="([^"]*)"/\1/'
}

# sign_in EMAIL PASSWORD: the dashboard's form, as dashboard.bats does it
# (GET /login for the pre-session cookie and its csrf_token, POST /login,
# then the session's own CSRF token from /dashboard). Sets SID and CSRF.
sign_in() {
    local j
    j="$(_tmp)/jar_$(uniqsfx)"
    api GET /login "" -b "$j" -c "$j" -H "Accept: $HTML_ACCEPT"
    expect_status 200 || return 1
    CSRF="$(scrape_csrf)"
    [[ -n "$CSRF" ]] || fail "no csrf_token in the sign-in form" || return 1
    api POST /login "" -b "$j" -c "$j" -H "Accept: $HTML_ACCEPT" --data-urlencode "csrf_token=$CSRF" \
        --data-urlencode "email=$1" --data-urlencode "password=$2"
    expect_status 303 || return 1
    SID="$(cookie "$j" "$SESSION_COOKIE")"
    [[ "$SID" =~ ^[0-9A-Za-z]{32}$ ]] || fail "sign-in of $1 left no session cookie" "headers:" "$HEADERS" || return 1
    api GET /dashboard "" -b "$j" -c "$j" -H "Accept: $HTML_ACCEPT"
    expect_status 200 || return 1
    CSRF="$(scrape_csrf)"
    [[ -n "$CSRF" ]] || fail "no csrf_token on /dashboard" || return 1
}

# fixture: a fresh enterprise workspace with an owner, an admin and a member,
# their tenant tokens, a read API key (made by the admin) and the admin's
# dashboard session. Sets T_ID T_SLUG O_TT A_ID A_TT M_ID M_TT KEY KEY_ID SID CSRF.
fixture() {
    local o_email o_pw a_email a_pw m_email m_pw
    new_user rv-owner || return 1
    o_email="$NEW_EMAIL" o_pw="$NEW_PASSWORD"
    new_user rv-admin || return 1
    a_email="$NEW_EMAIL" a_pw="$NEW_PASSWORD" A_ID="$NEW_ID"
    new_user rv-member || return 1
    m_email="$NEW_EMAIL" m_pw="$NEW_PASSWORD" M_ID="$NEW_ID"
    new_tenant rv "$o_email" enterprise || return 1
    T_ID="$NEW_TENANT_ID" T_SLUG="$NEW_TENANT_SLUG"
    add_member "$T_ID" "$a_email" admin || return 1
    add_member "$T_ID" "$m_email" member || return 1
    O_TT="$(tenant_token "$(login "$o_email" "$o_pw")" "$T_ID")" || return 1
    A_TT="$(tenant_token "$(login "$a_email" "$a_pw")" "$T_ID")" || return 1
    M_TT="$(tenant_token "$(login "$m_email" "$m_pw")" "$T_ID")" || return 1
    api_as "$A_TT" POST "/api/v1/tenants/$T_ID/api-keys" '{"name":"revocation reader","scopes":["read"]}'
    expect_status 201 || return 1
    KEY="$(jqb .key)" KEY_ID="$(jqb .id)"
    sign_in "$a_email" "$a_pw" || return 1
}

# reads_json: the four reads of the current fixture, each answering 200.
reads_json() {
    jq -cn --arg m "$M_TT" --arg k "$KEY" --arg a "$A_TT" --arg sid "$SID" --arg slug "$T_SLUG" \
        --arg html "$HTML_ACCEPT" --arg c "$SESSION_COOKIE" '{
        jwt:     {method: "GET", path: "/api/v1/tenants/current/usage", ok: 200,
                  headers: {Authorization: ("Bearer " + $m)}},
        key:     {method: "GET", path: "/api/v1/tenants/current", ok: 200,
                  headers: {Authorization: ("Bearer " + $k)}},
        page:    {method: "GET", path: ("/w/" + $slug + "/billing"), ok: 200,
                  headers: {Cookie: ($c + "=" + $sid), Accept: $html}},
        overview: {method: "GET", path: ("/w/" + $slug), ok: 200,
                  headers: {Cookie: ($c + "=" + $sid), Accept: $html}},
        billing: {method: "GET", path: "/admin/billing/me/usage", ok: 200,
                  headers: {Authorization: ("Bearer " + $a)}}}'
}

# phase NAME DROP: a fresh fixture and the change NAME, as one plan entry
# (printed). The refusals are the contract's: SPEC §2/§3/§6.
phase() {
    local name="$1" drop="$2" change affected
    fixture || return 1
    case "$name" in
        member_removed)
            # A removed member's tenant token names a tenant they no longer belong to.
            change="$(jq -cn --arg p "/api/v1/tenants/$T_ID/users/$M_ID" --arg t "$A_TT" \
                '{method: "DELETE", path: $p, expect: 204, headers: {Authorization: ("Bearer " + $t)}}')"
            affected='{"jwt": {"status": 403, "code": "permission_denied"}}' ;;
        key_revoked)
            change="$(jq -cn --arg p "/api/v1/tenants/$T_ID/api-keys/$KEY_ID" --arg t "$A_TT" \
                '{method: "DELETE", path: $p, expect: 204, headers: {Authorization: ("Bearer " + $t)}}')"
            affected='{"key": {"status": 401, "code": "unauthenticated"}}' ;;
        session_ended)
            # Sign-out: POST /logout with the session's CSRF token, 303 to /login;
            # a page asked with the ended session's cookie redirects to sign in.
            change="$(jq -cn --arg sid "$SID" --arg c "$SESSION_COOKIE" --arg html "$HTML_ACCEPT" \
                --arg body "csrf_token=$(urlencode "$CSRF")" \
                '{method: "POST", path: "/logout", expect: 303, body: $body,
                  headers: {Cookie: ($c + "=" + $sid), Accept: $html,
                            "Content-Type": "application/x-www-form-urlencoded"}}')"
            affected='{"page": {"status": 303, "location_prefix": "/login"},
                       "overview": {"status": 303, "location_prefix": "/login"}}' ;;
        admin_removed)
            # The owner removes the admin: their dashboard session and tenant
            # token no longer reach the workspace (a page says so with a 403 page).
            change="$(jq -cn --arg p "/api/v1/tenants/$T_ID/users/$A_ID" --arg t "$O_TT" \
                '{method: "DELETE", path: $p, expect: 204, headers: {Authorization: ("Bearer " + $t)}}')"
            affected='{"page": {"status": 403, "html": true}, "overview": {"status": 403, "html": true},
                       "billing": {"status": 403, "code": "permission_denied"}}' ;;
        tenant_suspended)
            # Suspended: the API refuses the tenant's principals, billing stays
            # readable (read-only billing: the page and /admin/billing are controls).
            change="$(jq -cn --arg p "/api/v1/tenants/$T_ID" --arg t "$ADMIN" \
                '{method: "PATCH", path: $p, expect: 200, body: "{\"status\":\"suspended\"}",
                  headers: {Authorization: ("Bearer " + $t), "Content-Type": "application/json"}}')"
            affected='{"jwt": {"status": 403, "code": "tenant_suspended"},
                       "key": {"status": 403, "code": "tenant_suspended"},
                       "overview": {"status": 403, "html": true}}' ;;
        role_lowered)
            # The owner lowers the admin to viewer: billing needs admin.
            change="$(jq -cn --arg p "/api/v1/tenants/$T_ID/users/$A_ID/role" --arg t "$O_TT" \
                '{method: "PATCH", path: $p, expect: 200, body: "{\"role\":\"viewer\"}",
                  headers: {Authorization: ("Bearer " + $t), "Content-Type": "application/json"}}')"
            affected='{"billing": {"status": 403, "code": "permission_denied"},
                       "page": {"status": 403, "html": true}}' ;;
        *) fail "no phase $name"; return 1 ;;
    esac
    jq -cn --arg n "$name" --argjson d "$drop" --argjson r "$(reads_json)" --argjson c "$change" \
        --argjson a "$affected" '{name: $n, drop: $d, reads: $r, change: $c, affected: $a, controls: 4}'
}

# ---- workers --------------------------------------------------------------------

# worker_cpu: "PID TICKS" (utime + stime) of each of this stack's workers.
worker_cpu() {
    local p rec="$TENANTRY_TEST_STATE_DIR/run/tenantry.pids"
    [[ -s "$rec" ]] || fail "no worker PID record at $rec" || return 1
    for p in $(awk '{ print $1 }' "$rec"); do
        [[ -r "/proc/$p/stat" ]] || continue
        # Fields after the ") " that ends the command name: utime is the 12th, stime the 13th.
        printf '%s %s\n' "$p" "$(sed -E 's/^.*\) //' "/proc/$p/stat" | awk '{ print $12 + $13 }')"
    done
}

# ---- the run --------------------------------------------------------------------

# run_round DROP LABEL: fixtures for the six changes, the load, the checks.
run_round() {
    local drop="$1" label="$2" d phases="" n i out cpu0 cpu1 problems
    local -a names=(member_removed key_revoked session_ended admin_removed tenant_suspended role_lowered) pids=()
    d="$(_tmp)"
    # The six fixtures are made side by side (each job with its own scratch
    # directory for api()'s files and its own uniqsfx sequence).
    for i in "${!names[@]}"; do
        n="${names[$i]}"
        mkdir -p "$d/fx-$n"
        (BATS_TEST_TMPDIR="$d/fx-$n" _SEQ=$((i * 1000)) phase "$n" "$drop" >"$d/$n.json" 2>"$d/$n.err") &
        pids+=($!)
    done
    for i in "${!names[@]}"; do
        n="${names[$i]}"
        wait "${pids[$i]}" || fail "fixture for $n failed:" "$(cat "$d/$n.err")" || return 1
        phases+="${phases:+,}$(cat "$d/$n.json")"
    done
    jq -n --arg url "$TENANTRY_TEST_URL" --arg ca "${TENANTRY_TEST_CA_FILE:-}" \
        --argjson clients "$CLIENTS" --argjson warm "$WARM_MS" --argjson after "$AFTER_MS" \
        --argjson bound "$BOUND_MS" --arg drop 'psql_super "$REVOCATION_DROP_SQL"' \
        --argjson phases "[$phases]" \
        '{url: $url, ca: $ca, clients: $clients, warm_ms: $warm, after_ms: $after,
          bound_ms: $bound, drop_cmd: $drop, phases: $phases}' >"$d/plan.json"

    # The driver runs the drop through psql_super of helpers.bash.
    export -f psql_super _psql _super_url
    export REVOCATION_DROP_SQL="$DROP_SQL"
    cpu0="$(worker_cpu)" || return 1
    timeout 50 node "$BATS_TEST_DIRNAME/revocation-load.js" "$d/plan.json" "$d/out.json" ||
        fail "the load driver failed (rc $?)" || return 1
    cpu1="$(worker_cpu)" || return 1
    out="$d/out.json"

    # The figures first, so that a failing run shows them too.
    echo "# $label: $CLIENTS clients (keep-alive), per change $WARM_MS ms of load before and $AFTER_MS ms after" >&3
    jq -r --argjson b "$BOUND_MS" '.phases[] |
        "#   \(.name): \(.change.method) \(.change.path | sub("[0-9a-f-]{36}"; "{id}"; "g")) -> \(.change.status) in \(.change.ms) ms"
        + (if .drop then "; \(.drop.terminated) LISTEN connection(s) terminated (\(.drop.ms) ms) just before" else "" end)
        + "; propagation (last success started - change) \(.propagation) ms"
        + "; first refusal per client p50 \([.reads[] | select(.affected) | .first_refused[]] | sort | .[(length / 2 | floor)]) ms"
        + " / max \([.reads[] | select(.affected) | .first_refused[]] | max) ms"
        + "; \(.requests) requests, \(.rps)/s"' "$out" >&3
    jq -r --arg l "$label" '"# \($l): change -> first refused answer over all changes and clients (n=\(.first_refused.n)): p50 \(.first_refused.p50) ms, p99 \(.first_refused.p99) ms, max \(.first_refused.max) ms"' \
        "$out" >&3
    echo "# $label: worker CPU ticks during the round: $(join -j1 <(sort <<<"$cpu0") <(sort <<<"$cpu1") |
        awk '{ printf "%s%s:+%d", (NR > 1 ? ", " : ""), $1, $3 - $2 }')" >&3

    # The checks. Each problem is one line.
    problems="$(jq -r --argjson b "$BOUND_MS" --argjson clients "$CLIENTS" '.phases[] | . as $ph |
        (if .change.status != .change.expect then
            "\(.name): the change answered \(.change.status) \(.change.code // "") \(.change.err // ""), not \(.change.expect)" else empty end),
        (if .drop and .drop.err then "\(.name): the LISTEN drop failed: \(.drop.err)" else empty end),
        (if .name == "session_ended" and ((.change.location // "") | startswith("/login") | not) then
            "\(.name): sign-out redirected to \(.change.location), not /login" else empty end),
        (.reads | to_entries[] | .key as $r | .value as $s |
            (if $s.clients == 0 then "\($ph.name)/\($r): no client read it" else empty end),
            (if $s.clients_before_ok != $s.clients then
                "\($ph.name)/\($r): only \($s.clients_before_ok) of \($s.clients) clients read it successfully before the change" else empty end),
            (if $s.before_bad > 0 then "\($ph.name)/\($r): \($s.before_bad) reads answered before the change was sent did not succeed" else empty end),
            (if $s.after_other > 0 then
                (if $s.affected then "\($ph.name)/\($r): \($s.after_other) answers after the change were neither a success nor \($s.expect | tojson)"
                 else "\($ph.name)/\($r) (control): \($s.after_other) reads after the change did not succeed" end) else empty end),
            (if $s.affected then
                (if $s.late_ok > 0 then
                    "\($ph.name)/\($r): \($s.late_ok) requests started more than \($b) ms after the change succeeded (the last one started \($s.last_ok_start) ms after it)" else empty end),
                (if $s.clients_beyond != $s.clients then
                    "\($ph.name)/\($r): only \($s.clients_beyond) of \($s.clients) clients sent a request more than \($b) ms after the change (too little load to tell)" else empty end),
                (if $s.clients_refused != $s.clients then
                    "\($ph.name)/\($r): only \($s.clients_refused) of \($s.clients) clients got the refusal \($s.expect | tojson)" else empty end)
             else empty end),
            ($s.samples[] | "    \($ph.name)/\($r) e.g.: \(tojson)"))' "$out")"
    [[ -z "$problems" ]] || fail "$problems" || return 1

    # The load reached every worker of the stack.
    local idle
    idle="$(join -j1 <(sort <<<"$cpu0") <(sort <<<"$cpu1") | awk '$3 - $2 < 5 { print $1 }')"
    [[ "$(wc -l <<<"$cpu1")" -ge 1 && -z "$idle" ]] ||
        fail "workers that served (almost) nothing during the load: $idle" "before: $cpu0" "after: $cpu1" || return 1
}

@test "revocation under load: removed member, revoked key, ended session, removed admin, suspended tenant, lowered role refused within 100 ms by every worker" {
    run_round false "revocation"
}

@test "revocation under load right after the workers' LISTEN connections are terminated: the same bound" {
    run_round true "after a LISTEN drop"
}
