# scripts/lib/pg.sh -- a private PostgreSQL cluster inside a state directory:
# initdb, start/stop with pg_ctl, roles and database.  No system service.
#
# Layout (STACK_DIR from stack_configure):
#   pg/                   data directory (owned by the PostgreSQL OS user, 0700)
#   run/                  its unix socket (.s.PGSQL.<port>); also the FastCGI
#                         socket and the pid records
#   log/postgresql.log    server log (pg_ctl -l)
# The server listens on no TCP address (listen_addresses = ''); the socket
# directory is private (0700), so `local all all trust` in pg_hba is safe.

# shellcheck shell=bash

# pg_bindir: the newest installed /usr/lib/postgresql/<major>/bin with initdb.
pg_bindir() {
    local d best="" v bestv=0
    for d in /usr/lib/postgresql/*/bin; do
        [[ -x "$d/initdb" ]] || continue
        v="$(basename "$(dirname "$d")")"
        [[ "$v" =~ ^[0-9]+$ ]] || continue
        if ((v > bestv)); then best="$d" bestv="$v"; fi
    done
    [[ -n "$best" ]] || die "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin"
    echo "$best"
}

pg_paths() {
    PG_BIN="${PG_BIN:-$(pg_bindir)}"
    PGDATA_DIR="$STACK_DIR/pg"
    PG_RUN="$STACK_DIR/run"
    PG_LOG="$STACK_DIR/log/postgresql.log"
}

# libpq conninfo value quoting: single quotes when needed.
conninfo_value() {
    local v="$1"
    if [[ "$v" =~ ^[A-Za-z0-9_./:@-]+$ ]]; then
        printf '%s' "$v"
    else
        v="${v//\\/\\\\}"
        v="${v//\'/\\\'}"
        printf "'%s'" "$v"
    fi
}

# pg_conninfo USER [DB]
pg_conninfo() {
    printf 'host=%s port=%s dbname=%s user=%s' \
        "$(conninfo_value "$STACK_DIR/run")" "$STACK_PG_PORT" "${2:-tenantry}" "$1"
}

# The PostgreSQL OS user must be able to reach the state directory.  When
# we are root, the state dir may sit under a directory it cannot enter
# (e.g. /root): give such ancestors o+x (enter, not list) and say so.
pg_make_traversable() {
    local d="$STACK_DIR"
    is_root || return 0
    local -a chain=()
    while [[ "$d" != / ]]; do
        chain=("$d" "${chain[@]}")
        d="$(dirname "$d")"
    done
    for d in "${chain[@]}"; do
        if ! runuser -u postgres -- test -x "$d" 2>/dev/null; then
            warn "giving $d o+x so the postgres OS user can reach $STACK_DIR"
            chmod o+x "$d"
        fi
    done
}

# pg_prepare_dirs: data, socket and log locations with the right owners.
pg_prepare_dirs() {
    pg_paths
    mkdir -p "$PGDATA_DIR" "$PG_RUN" "$STACK_DIR/log"
    touch "$PG_LOG"
    chmod 0700 "$PGDATA_DIR" "$PG_RUN"
    if is_root; then
        id postgres >/dev/null 2>&1 || die "no postgres OS user (is the postgresql package installed?)"
        chown postgres:postgres "$PGDATA_DIR" "$PG_RUN" "$PG_LOG"
        pg_make_traversable
        runuser -u postgres -- test -w "$PG_RUN" ||
            die "the postgres OS user cannot write $PG_RUN"
    fi
    # Unix socket paths are limited to 107 bytes.
    local sock="$PG_RUN/.s.PGSQL.$STACK_PG_PORT"
    ((${#sock} < 100)) || die "state dir path too long for unix sockets: $sock (set TENANTRY_STATE_DIR to a shorter path)"
}

# pg_init: initdb once (superuser postgres, trust on the private socket).
pg_init() {
    pg_prepare_dirs
    if [[ -f "$PGDATA_DIR/PG_VERSION" ]]; then
        local have want
        have="$(<"$PGDATA_DIR/PG_VERSION")"
        want="$(basename "$(dirname "$PG_BIN")")"
        [[ "$have" == "$want" ]] ||
            die "$PGDATA_DIR is a PostgreSQL $have cluster but the newest server is $want: remove it (scripts/dev down; rm -rf $PGDATA_DIR)"
        return 0
    fi
    log "initdb $PGDATA_DIR"
    as_pg_user "$PG_BIN/initdb" -D "$PGDATA_DIR" -U postgres --auth=trust \
        --encoding=UTF8 --locale=C.UTF-8 --no-instructions >"$STACK_DIR/log/initdb.log" 2>&1 || {
        show_log_tail "$STACK_DIR/log/initdb.log"
        die "initdb failed"
    }
    printf '%s\n' "# written by scripts/lib/pg.sh: unix socket only, in a private directory" \
        "local all all trust" | pg_write_file "$PGDATA_DIR/pg_hba.conf"
    printf '\n%s\n' "include_if_exists = 'tenantry.conf'" | pg_write_file "$PGDATA_DIR/postgresql.conf" -a
}

# pg_write_file PATH [-a]: stdin to PATH (appended with -a), written as the
# PostgreSQL OS user so ownership inside the data dir stays right.
pg_write_file() {
    local path="$1"
    shift
    as_pg_user tee "$@" "$path" >/dev/null
}

# pg_write_conf: the per-start settings (port and socket may change between
# runs), in <data>/tenantry.conf included from postgresql.conf.
pg_write_conf() {
    local fast="${STACK_PG_FAST:-0}" conf
    conf="# written by scripts/lib/pg.sh at every start -- do not edit
listen_addresses = ''
port = $STACK_PG_PORT
unix_socket_directories = '$PG_RUN'
unix_socket_permissions = 0700
max_connections = 100
log_line_prefix = '%m [%p] %q%u@%d '
log_min_messages = warning
log_min_error_statement = error
"
    if [[ "$fast" == 1 ]]; then
        # Throw-away clusters (test, bench): durability is not wanted.
        conf+="fsync = off
synchronous_commit = off
full_page_writes = off
"
    fi
    printf '%s' "$conf" | pg_write_file "$PGDATA_DIR/tenantry.conf"
}

pg_running() {
    pg_paths
    [[ -f "$PGDATA_DIR/PG_VERSION" ]] || return 1
    as_pg_user "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1
}

# pg_start: start (if not running) and wait until it accepts connections.
pg_start() {
    pg_prepare_dirs
    if pg_running; then
        return 0
    fi
    pg_write_conf
    detached as_pg_user "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$PG_LOG" -w -t 60 start >/dev/null </dev/null || {
        show_log_tail "$PG_LOG"
        die "PostgreSQL did not start (port $STACK_PG_PORT)"
    }
}

# pg_stop [MODE]: pg_ctl stop (fast by default; immediate simulates a crash).
pg_stop() {
    local mode="${1:-fast}"
    pg_paths
    pg_running || return 0
    as_pg_user "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m "$mode" -w -t 60 stop >/dev/null ||
        warn "pg_ctl stop failed for $PGDATA_DIR"
}

# pg_psql USER [DB] [psql args...]: psql over the private socket.
pg_psql() {
    local user="$1" db="${2:-tenantry}"
    shift 2
    pg_paths
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_RUN" -p "$STACK_PG_PORT" -U "$user" -d "$db" "$@"
}

# pg_setup_roles: tenantry_owner (owns the schema; migrations), tenantry_app
# (what the workers use: owns nothing, cannot bypass RLS), database tenantry.
# Its timeouts are not set here: tenantryctl migrate sets them (README).
# Idempotent.
pg_setup_roles() {
    pg_psql postgres postgres <<'SQL' || die "could not create the tenantry roles and database"
SELECT 'CREATE ROLE tenantry_owner LOGIN'
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tenantry_owner')\gexec
SELECT 'CREATE ROLE tenantry_app LOGIN'
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tenantry_app')\gexec
ALTER ROLE tenantry_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
ALTER ROLE tenantry_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
-- The app role's statement, lock and idle-in-transaction timeouts are set
-- by `tenantryctl migrate` (app_prepare_db), as in production.
SELECT 'CREATE DATABASE tenantry OWNER tenantry_owner ENCODING ''UTF8'' TEMPLATE template0'
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'tenantry')\gexec
ALTER DATABASE tenantry OWNER TO tenantry_owner;
SQL
}
