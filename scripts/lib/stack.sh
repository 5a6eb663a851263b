# scripts/lib/stack.sh -- one whole stack (PostgreSQL, spawn-fcgi workers,
# nginx) in one state directory.  `scripts/dev up`, `scripts/dev test` and
# bench/run all start theirs with stack_configure + stack_up, so they run
# the very same thing on different ports and directories.
#
# State directory layout:
#   stack.env        the STACK_* settings of the running stack (sourced by
#                    down/status/bench --reuse and the _pg-* helpers)
#   pg/              PostgreSQL data          run/   sockets, pid files
#   log/             worker.log postgresql.log nginx-error.log nginx-access.log
#                    spawn-fcgi.log initdb.log
#   nginx/           rendered nginx.conf, conf.d/, temp dirs
#   tls/             self-signed cert.pem/key.pem
#   secret/jwt.key   when no TENANTRY_JWT_SECRET_FILE is given
#   mail/            messages "sent" through TENANTRY_SENDMAIL (mail-sink.sh)

# shellcheck shell=bash

_STACK_LIB="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source=scripts/lib/common.sh
source "$_STACK_LIB/common.sh"
# shellcheck source=scripts/lib/packages.sh
source "$_STACK_LIB/packages.sh"
# shellcheck source=scripts/lib/build.sh
source "$_STACK_LIB/build.sh"
# shellcheck source=scripts/lib/pg.sh
source "$_STACK_LIB/pg.sh"
# shellcheck source=scripts/lib/app.sh
source "$_STACK_LIB/app.sh"
# shellcheck source=scripts/lib/nginx.sh
source "$_STACK_LIB/nginx.sh"

# Settings saved in stack.env.
STACK_VARS=(
    STACK_NAME STACK_DIR STACK_HTTPS_PORT STACK_HTTP_PORT STACK_PG_PORT
    STACK_WORKERS STACK_NGINX_WORKERS STACK_KEEPCONN STACK_UPSTREAM_KEEPALIVE
    STACK_SOCKET STACK_WORKER_BIN STACK_CTL_BIN STACK_SECRET_FILE
    STACK_ADMIN_EMAIL STACK_ADMIN_PASSWORD STACK_PG_FAST STACK_SENDMAIL STACK_SEED
    PG_BIN
)

DEFAULT_ADMIN_EMAIL=admin@tenantry.local
DEFAULT_ADMIN_PASSWORD=tenantry-admin-dev

# stack_configure NAME DIR HTTPS_PORT HTTP_PORT PG_PORT: set the STACK_*
# variables; the rest comes from the environment:
#   TENANTRY_WORKERS (4)  TENANTRY_NGINX_WORKERS (auto)
#   TENANTRY_FASTCGI_KEEP_CONN (off)  TENANTRY_WORKER_BIN (./tenantry.fcgi)
#   TENANTRY_ADMIN_EMAIL / TENANTRY_ADMIN_PASSWORD  TENANTRY_SENDMAIL
stack_configure() {
    STACK_NAME="$1"
    mkdir -p "$2"
    STACK_DIR="$(cd "$2" && pwd -P)"
    STACK_HTTPS_PORT="$3"
    STACK_HTTP_PORT="$4"
    STACK_PG_PORT="$5"
    STACK_WORKERS="${TENANTRY_WORKERS:-4}"
    STACK_NGINX_WORKERS="${TENANTRY_NGINX_WORKERS:-auto}"
    STACK_KEEPCONN="${TENANTRY_FASTCGI_KEEP_CONN:-off}"
    STACK_UPSTREAM_KEEPALIVE="${TENANTRY_UPSTREAM_KEEPALIVE:-}"
    STACK_SOCKET="$STACK_DIR/run/tenantry.sock"
    STACK_WORKER_BIN="${TENANTRY_WORKER_BIN:-$TENANTRY_REPO/tenantry.fcgi}"
    [[ "$STACK_WORKER_BIN" == /* ]] || STACK_WORKER_BIN="$TENANTRY_REPO/$STACK_WORKER_BIN"
    STACK_CTL_BIN="$TENANTRY_REPO/tenantryctl"
    STACK_ADMIN_EMAIL="${TENANTRY_ADMIN_EMAIL:-$DEFAULT_ADMIN_EMAIL}"
    STACK_ADMIN_PASSWORD="${TENANTRY_ADMIN_PASSWORD:-$DEFAULT_ADMIN_PASSWORD}"
    STACK_SECRET_FILE="${STACK_SECRET_FILE:-}"
    STACK_PG_FAST="${STACK_PG_FAST:-0}"
    STACK_SENDMAIL="${TENANTRY_SENDMAIL:-$TENANTRY_REPO/scripts/lib/mail-sink.sh}"
    STACK_SEED="${STACK_SEED:-1}"
    PG_BIN="$(pg_bindir)"
    local p
    for p in "$STACK_HTTPS_PORT" "$STACK_HTTP_PORT" "$STACK_PG_PORT" "$STACK_WORKERS"; do
        [[ "$p" =~ ^[0-9]+$ ]] || die "not a number: '$p' (ports, TENANTRY_WORKERS)"
    done
    [[ "$STACK_KEEPCONN" == on || "$STACK_KEEPCONN" == off ]] ||
        die "TENANTRY_FASTCGI_KEEP_CONN must be on or off"
    ((STACK_WORKERS >= 1)) || die "TENANTRY_WORKERS must be >= 1"
}

stack_save_env() {
    local v
    {
        echo "# written by scripts/lib/stack.sh -- settings of the stack in this directory"
        for v in "${STACK_VARS[@]}"; do
            printf '%s=%q\n' "$v" "${!v-}"
        done
    } >"$STACK_DIR/stack.env.tmp"
    chmod 0600 "$STACK_DIR/stack.env.tmp"
    mv -f "$STACK_DIR/stack.env.tmp" "$STACK_DIR/stack.env"
}

# stack_load_env DIR: load a stack's saved settings (false if none).
stack_load_env() {
    local dir="$1"
    [[ -f "$dir/stack.env" ]] || return 1
    # shellcheck disable=SC1091
    source "$dir/stack.env"
}

# stack_stop: stop whatever this state dir's stack recorded, newest layer
# first.  Only recorded PIDs (and pg_ctl on this data dir) are touched.
stack_stop() {
    [[ -d "$STACK_DIR" ]] || return 0
    stop_recorded_file "$STACK_DIR/run/notify.pids" TERM 10
    nginx_stop
    pool_stop bare "$STACK_DIR/run/bare.sock"
    pool_stop tenantry "$STACK_SOCKET"
    pg_stop fast
}

# stack_health_code: HTTP status of GET /health through nginx.
stack_health_code() {
    curl -sk -o /dev/null -w '%{http_code}' --max-time 3 \
        "https://127.0.0.1:$STACK_HTTPS_PORT/health" 2>/dev/null || true
}

# stack_up: (re)start the whole stack in STACK_DIR.  Stops what a previous
# run recorded there first, so running it twice restarts cleanly.
stack_up() {
    local p code
    mkdir -p "$STACK_DIR"/{run,log,nginx,tls,mail}
    stack_stop
    for p in "$STACK_HTTPS_PORT" "$STACK_HTTP_PORT"; do
        ! port_in_use "$p" || die "port $p on 127.0.0.1 is already in use (set other ports)"
    done

    log "PostgreSQL ($(basename "$(dirname "$PG_BIN")")) in $STACK_DIR/pg, socket $STACK_DIR/run port $STACK_PG_PORT"
    pg_init
    pg_start
    pg_setup_roles
    secret_ensure
    stack_save_env

    app_prepare_db

    log "spawn-fcgi: $STACK_WORKERS x $(basename "$STACK_WORKER_BIN") on $STACK_SOCKET"
    pool_start tenantry "$STACK_WORKER_BIN" "$STACK_SOCKET" "$STACK_WORKERS"

    log "nginx on https://127.0.0.1:$STACK_HTTPS_PORT (http :$STACK_HTTP_PORT redirects)"
    tls_ensure "$STACK_DIR/tls"
    nginx_render "$STACK_KEEPCONN"
    nginx_start
    stack_save_env

    WAIT_TIMEOUT=15 wait_for test "$(stack_health_code)" = 200 || {
        code="$(stack_health_code)"
        show_log_tail "$STACK_DIR/log/worker.log" 15
        show_log_tail "$STACK_DIR/log/nginx-error.log" 10
        die "GET /health through nginx answers '$code', not 200"
    }
    ok "stack '$STACK_NAME' is up: /health 200"
}

# notify_start: `tenantryctl notify --follow` beside the stack (the dev
# stack's usage notifications reach its mail sink and webhooks), recorded in
# run/notify.pids so stack_stop ends it; its output goes to log/notify.log.
# env execs tenantryctl, so $! is the notifier itself.
notify_start() {
    local -a envv
    [[ -x "$STACK_CTL_BIN" ]] || return 0
    mapfile -t envv < <(app_env)
    log "tenantryctl notify --follow (log/notify.log)"
    nohup env -i "${envv[@]}" "$STACK_CTL_BIN" notify --follow \
        >>"$STACK_DIR/log/notify.log" 2>&1 </dev/null &
    pid_record "$!" >"$STACK_DIR/run/notify.pids" || warn "the notifier did not start (log/notify.log)"
}

# stack_status: one line per component; false if anything is down.
stack_status() {
    local good=0 n rec code
    if pg_running; then
        echo "postgresql  running   $STACK_DIR/pg (socket $STACK_DIR/run, port $STACK_PG_PORT)"
    else
        echo "postgresql  stopped"; good=1
    fi
    n="$(count_alive_records "$STACK_DIR/run/tenantry.pids")"
    echo "workers     $n/$STACK_WORKERS running   $(pool_pids tenantry | tr '\n' ' ')"
    ((n == STACK_WORKERS)) || good=1
    n="$(count_alive_records "$STACK_DIR/run/bare.pids")"
    ((n == 0)) || echo "bare_fcgi   $n running (bench pool)"
    n="$(count_alive_records "$STACK_DIR/run/notify.pids")"
    ((n == 0)) || echo "notify      running   (tenantryctl notify --follow)"
    if nginx_running; then
        rec="$(<"$STACK_DIR/run/nginx.rec")"
        echo "nginx       running   master PID ${rec%% *}"
    else
        echo "nginx       stopped"; good=1
    fi
    code="$(stack_health_code)"
    echo "health      GET https://127.0.0.1:$STACK_HTTPS_PORT/health -> ${code:-no answer}"
    [[ "$code" == 200 ]] || good=1
    return "$good"
}

# Note for callers: bash ignores `set -e` inside anything run from an
# `if`/`||`/`&&` context, including functions and subshells there.  To run
# stack_up (which relies on errexit and die) and still survive its failure,
# start it as a background job and test `wait`:
#     stack_up & pid=$!; if wait "$pid"; then ...; fi
