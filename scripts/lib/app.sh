# scripts/lib/app.sh -- the application side of a stack: JWT secret, the
# environment the worker and tenantryctl get, migrate/admin/seed, and the
# spawn-fcgi worker pools.

# shellcheck shell=bash

# secret_ensure: set STACK_SECRET_FILE.  A given file (STACK_SECRET_FILE
# preset, e.g. from TENANTRY_JWT_SECRET_FILE) is checked, never replaced;
# otherwise <state>/secret/jwt.key is made once: 48 random bytes, base64,
# mode 0600.  (The worker uses the file's bytes minus one trailing newline.)
secret_ensure() {
    local f="${STACK_SECRET_FILE:-}"
    if [[ -n "$f" ]]; then
        [[ -r "$f" ]] || die "JWT secret file $f is not readable"
        (($(wc -c <"$f") >= 33)) || die "JWT secret file $f holds fewer than 32 bytes"
        STACK_SECRET_FILE="$(cd "$(dirname "$f")" && pwd -P)/$(basename "$f")"
        return 0
    fi
    f="$STACK_DIR/secret/jwt.key"
    if [[ ! -s "$f" ]]; then
        log "making the JWT secret $f"
        mkdir -p "$STACK_DIR/secret"
        chmod 0700 "$STACK_DIR/secret"
        (umask 077 && openssl rand -base64 48 >"$f.tmp") || die "openssl rand failed"
        mv -f "$f.tmp" "$f"
    fi
    chmod 0600 "$f"
    STACK_SECRET_FILE="$f"
}

# The environment of the workers and of tenantryctl, as NAME=VALUE lines.
# Built from nothing (env -i) so the caller's environment -- the admin
# password, test settings -- does not leak into long-running workers; the
# caller's other TENANTRY_* settings (documented in the README) pass through.
app_env() {
    local name
    printf '%s\n' \
        "PATH=/usr/local/bin:/usr/bin:/bin" \
        "LANG=C.UTF-8" \
        "HOME=${HOME:-/}"
    [[ -n "${TZ:-}" ]] && printf 'TZ=%s\n' "$TZ"
    while read -r name; do
        case "$name" in
            # set below, or settings of the scripts themselves
            TENANTRY_ADMIN_* | TENANTRY_TEST_* | TENANTRY_BENCH_* | TENANTRY_MIGRATE_DATABASE_URL | \
                TENANTRY_DATABASE_URL | TENANTRY_JWT_SECRET_FILE | TENANTRY_PUBLIC_URL | \
                TENANTRY_TEMPLATE_DIR | TENANTRY_SQL_DIR | TENANTRY_REPO | TENANTRY_SENDMAIL | \
                TENANTRY_MAIL_DIR | TENANTRY_HTTPS_PORT | TENANTRY_HTTP_PORT | TENANTRY_PG_PORT | \
                TENANTRY_WORKERS | TENANTRY_NGINX_WORKERS | TENANTRY_FASTCGI_KEEP_CONN | \
                TENANTRY_UPSTREAM_KEEPALIVE | TENANTRY_STATE_DIR | TENANTRY_SKIP_BUILD | \
                TENANTRY_WORKER_BIN | TENANTRY_MAKE_JOBS | TENANTRY_CONFIGURE_FLAGS) ;;
            TENANTRY_*) printf '%s=%s\n' "$name" "${!name}" ;;
        esac
    done < <(compgen -e)
    printf '%s\n' \
        "TENANTRY_DATABASE_URL=$(pg_conninfo tenantry_app)" \
        "TENANTRY_JWT_SECRET_FILE=$STACK_SECRET_FILE" \
        "TENANTRY_PUBLIC_URL=https://127.0.0.1:$STACK_HTTPS_PORT" \
        "TENANTRY_TEMPLATE_DIR=$TENANTRY_REPO/templates" \
        "TENANTRY_SQL_DIR=$TENANTRY_REPO/sql" \
        "TENANTRY_SENDMAIL=$STACK_SENDMAIL" \
        "TENANTRY_MAIL_DIR=$STACK_DIR/mail"
    # spawn-fcgi points a child's stderr at /dev/null; pool_start's wrapper
    # re-opens it on log/worker.log, and the worker's own log goes there too.
    [[ -n "${TENANTRY_LOG_FILE:-}" ]] || printf 'TENANTRY_LOG_FILE=%s\n' "$STACK_DIR/log/worker.log"
}

# app_exec CMD...: run CMD in the app environment.
app_exec() {
    local -a envv
    mapfile -t envv < <(app_env)
    env -i "${envv[@]}" "$@"
}

# ctl ARGS...: run tenantryctl in the app environment (stdin passed on).
ctl() {
    app_exec "$STACK_CTL_BIN" "$@"
}

# Is there a CLI to run?  Missing is fatal, except while developing the
# scripts with TENANTRY_SKIP_BUILD=1.
ctl_available() {
    [[ -x "$STACK_CTL_BIN" ]] && return 0
    if [[ "${TENANTRY_SKIP_BUILD:-0}" == 1 ]]; then
        warn "no $STACK_CTL_BIN: skipping migrate / create-user / seed-demo (TENANTRY_SKIP_BUILD=1)"
        return 1
    fi
    die "$STACK_CTL_BIN is missing (did the build fail?)"
}

# app_prepare_db: migrate (as the owner), the superadmin, the demo data.
app_prepare_db() {
    ctl_available || return 0
    log "tenantryctl migrate"
    app_exec env TENANTRY_MIGRATE_DATABASE_URL="$(pg_conninfo tenantry_owner)" \
        "$STACK_CTL_BIN" migrate || die "tenantryctl migrate failed"
    log "tenantryctl create-user $STACK_ADMIN_EMAIL (superadmin)"
    # No trailing newline on stdin: the password is exactly these bytes.
    printf '%s' "$STACK_ADMIN_PASSWORD" |
        ctl create-user --email "$STACK_ADMIN_EMAIL" --name "${STACK_ADMIN_NAME:-Tenantry Admin}" \
            --superadmin --password-stdin --exists-ok || die "tenantryctl create-user failed"
    if [[ "${STACK_SEED:-1}" == 1 ]]; then
        log "tenantryctl seed-demo"
        ctl seed-demo </dev/null || die "tenantryctl seed-demo failed"
    fi
}

# pool_start NAME BIN SOCKET COUNT: spawn-fcgi COUNT copies of BIN on
# SOCKET, cwd = repo, stdout+stderr appended to log/worker.log (NAME=
# tenantry) or log/NAME.log.  Records "PID STARTTIME" of every child in
# run/NAME.pids.
#
# The socket is mode 0600 and owned by whoever runs this, and nginx runs as
# that same user (as root: `user root;` in the rendered config), so no -U/-G
# is passed -- spawn-fcgi 1.6.4 refuses "-U root" ("I will not set uid to
# 0") and needs neither to give root's socket to root.  Production uses
# -u tenantry -U tenantry -G www-data -M 0660 (see nginx/tenantry.conf).
#
# spawn-fcgi -F N forks N children and writes each child's PID, one per
# line, to the -P file (checked against ps on spawn-fcgi 1.6.4); the
# children are then re-parented to init, so they are stopped by PID.
pool_start() {
    local name="$1" bin="$2" socket="$3" count="$4"
    local log="$STACK_DIR/log/$name.log" rawpids="$STACK_DIR/run/$name.spawned"
    local recs="$STACK_DIR/run/$name.pids" pid rec n=0
    [[ "$name" == tenantry ]] && log="$STACK_DIR/log/worker.log"
    [[ -x "$bin" ]] || die "worker binary $bin is missing"
    ((${#socket} < 100)) || die "socket path too long: $socket"
    stop_recorded_file "$recs"
    rm -f "$rawpids"
    touch "$log"
    # spawn-fcgi sends a child's stdout/stderr to /dev/null; the /bin/sh
    # wrapper re-points them at the log and execs the worker (same PID), so
    # crashes, sanitizer reports and stray prints are kept.  fd 0 stays the
    # listening socket spawn-fcgi handed over.
    # shellcheck disable=SC2016
    detached app_exec spawn-fcgi -s "$socket" -M 0600 -F "$count" -P "$rawpids" \
        -d "$TENANTRY_REPO" -- /bin/sh -c 'exec "$0" >>"$1" 2>&1' "$bin" "$log" \
        </dev/null >>"$STACK_DIR/log/spawn-fcgi.log" 2>&1 || {
        show_log_tail "$STACK_DIR/log/spawn-fcgi.log" 10
        show_log_tail "$log" 10
        die "spawn-fcgi could not start $name workers ($bin)"
    }
    : >"$recs"
    # spawn-fcgi ends the file without a newline after the last PID.
    while read -r pid || [[ -n "$pid" ]]; do
        [[ "$pid" =~ ^[0-9]+$ ]] || continue
        if rec="$(pid_record "$pid")"; then
            echo "$rec" >>"$recs"
            n=$((n + 1))
        fi
    done <"$rawpids"
    rm -f "$rawpids"
    # A worker that refuses to start (no secret, no database) exits at once.
    sleep 0.3
    if ((n != count)) || (($(count_alive_records "$recs") != count)); then
        show_log_tail "$log" 15
        stop_recorded_file "$recs"
        die "$name workers did not stay up ($(count_alive_records "$recs" 2>/dev/null || echo 0)/$count running)"
    fi
}

# pool_stop NAME [SOCKET]: stop the recorded workers, remove the socket.
pool_stop() {
    stop_recorded_file "$STACK_DIR/run/$1.pids" TERM 10
    [[ -z "${2:-}" ]] || rm -f "$2"
}

# pool_pids NAME: the PIDs of a pool's running workers, one per line.
pool_pids() {
    local rec
    [[ -f "$STACK_DIR/run/$1.pids" ]] || return 0
    while read -r rec; do
        record_alive "$rec" && echo "${rec%% *}"
    done <"$STACK_DIR/run/$1.pids"
}
