# scripts/lib/common.sh -- logging, privilege helpers and PID bookkeeping
# shared by scripts/dev, bench/run and .ci/run.  Sourced, never executed.
#
# PIDs are recorded as "PID STARTTIME" lines (STARTTIME = field 22 of
# /proc/PID/stat, clock ticks since boot).  A recorded process is only ever
# signalled while both still match, so a recycled PID is never hit.

# shellcheck shell=bash

# The repository root: this file lives in <repo>/scripts/lib/.
TENANTRY_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
export TENANTRY_REPO

if [[ -t 1 && -z "${NO_COLOR:-}" ]]; then
    _c_bold=$'\e[1m' _c_red=$'\e[31m' _c_yel=$'\e[33m' _c_grn=$'\e[32m' _c_off=$'\e[0m'
else
    _c_bold='' _c_red='' _c_yel='' _c_grn='' _c_off=''
fi

log()  { printf '%s==>%s %s\n' "$_c_bold" "$_c_off" "$*" >&2; }
ok()   { printf '%s ok%s %s\n' "$_c_grn" "$_c_off" "$*" >&2; }
warn() { printf '%swarning:%s %s\n' "$_c_yel" "$_c_off" "$*" >&2; }
die()  { printf '%serror:%s %s\n' "$_c_red" "$_c_off" "$*" >&2; exit 1; }

is_root() { [[ "$(id -u)" -eq 0 ]]; }

# Run a command as root: directly when we are root, else through sudo.
as_root() {
    if is_root; then "$@"; else sudo "$@"; fi
}

# The OS user that runs PostgreSQL: `postgres` when we are root (the server
# refuses to run as root), else ourselves.
pg_os_user() {
    if is_root; then echo postgres; else id -un; fi
}

# Run a command as the PostgreSQL OS user, from / (postgres may not be
# allowed into the caller's working directory).
as_pg_user() {
    if is_root; then
        (cd / && runuser -u postgres -- "$@")
    else
        (cd / && "$@")
    fi
}

# detached CMD...: run CMD with every file descriptor above 2 closed.  For
# anything that leaves a daemon behind (pg_ctl start, nginx, spawn-fcgi):
# a daemon that inherits, say, bats' fd 3 keeps the test runner waiting
# for EOF forever.
detached() {
    (
        local fd
        for fd in /proc/"$BASHPID"/fd/*; do
            fd="${fd##*/}"
            [[ "$fd" =~ ^[0-9]+$ ]] && ((fd > 2)) && eval "exec $fd>&-"
        done
        "$@"
    )
}

# Tail of a log file, indented, for error messages.
show_log_tail() {
    local f="$1" n="${2:-25}"
    [[ -f "$f" ]] || return 0
    printf '    --- last %s lines of %s ---\n' "$n" "$f" >&2
    tail -n "$n" "$f" | sed 's/^/    /' >&2
}

# ---------------------------------------------------------------------------
# PID bookkeeping
# ---------------------------------------------------------------------------

# proc_starttime PID -> start time in clock ticks, or nothing if gone.
proc_starttime() {
    local stat rest
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
    # Field 2 (comm) may contain spaces and parentheses: cut after the last ')'.
    rest="${stat##*) }"
    # rest starts at field 3 (state); starttime is field 22 -> 20th word here.
    # shellcheck disable=SC2086
    set -- $rest
    echo "${20}"
}

# proc_state PID -> one-letter state (R, S, Z, ...), or nothing if gone.
proc_state() {
    local stat rest
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
    rest="${stat##*) }"
    echo "${rest%% *}"
}

# pid_record PID -> "PID STARTTIME" (fails if the process is gone).
pid_record() {
    local st
    st="$(proc_starttime "$1")" || return 1
    [[ -n "$st" ]] || return 1
    echo "$1 $st"
}

# record_alive "PID STARTTIME": true while that very process runs (zombies
# count as gone).
record_alive() {
    local pid st now state
    read -r pid st <<<"$1"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    now="$(proc_starttime "$pid")" || return 1
    [[ "$now" == "$st" ]] || return 1
    state="$(proc_state "$pid")" || return 1
    [[ "$state" != Z && "$state" != X ]]
}

# stop_record "PID STARTTIME" [SIGNAL] [TIMEOUT_S]: signal the recorded
# process, wait for it to end, SIGKILL it after the timeout.
stop_record() {
    local rec="$1" sig="${2:-TERM}" timeout="${3:-10}" pid i
    record_alive "$rec" || return 0
    pid="${rec%% *}"
    kill "-$sig" "$pid" 2>/dev/null || return 0
    for ((i = 0; i < timeout * 10; i++)); do
        record_alive "$rec" || return 0
        sleep 0.1
    done
    warn "PID $pid did not stop after SIG$sig within ${timeout}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 20; i++)); do
        record_alive "$rec" || return 0
        sleep 0.1
    done
    warn "PID $pid is still there after SIGKILL"
    return 1
}

# stop_recorded_file FILE [SIGNAL] [TIMEOUT]: stop every "PID STARTTIME"
# record in FILE (all signalled first, then waited for), remove FILE.
stop_recorded_file() {
    local file="$1" sig="${2:-TERM}" timeout="${3:-10}" rec pid
    local -a recs=()
    [[ -f "$file" ]] || return 0
    while read -r rec || [[ -n "$rec" ]]; do
        [[ -n "$rec" ]] || continue
        recs+=("$rec")
    done <"$file"
    for rec in "${recs[@]}"; do
        record_alive "$rec" && { pid="${rec%% *}"; kill "-$sig" "$pid" 2>/dev/null || true; }
    done
    for rec in "${recs[@]}"; do
        stop_record "$rec" "$sig" "$timeout" || true
    done
    rm -f "$file"
}

# count_alive_records FILE -> number of recorded processes still running.
count_alive_records() {
    local file="$1" rec n=0
    [[ -f "$file" ]] || { echo 0; return 0; }
    while read -r rec; do
        [[ -n "$rec" ]] || continue
        record_alive "$rec" && n=$((n + 1))
    done <"$file"
    echo "$n"
}

# wait_for CMD... : retry a command for up to $WAIT_TIMEOUT (default 15) s.
wait_for() {
    local i limit=$(( ${WAIT_TIMEOUT:-15} * 10 ))
    for ((i = 0; i < limit; i++)); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

# Is a TCP port on 127.0.0.1 already taken by a listener?
port_in_use() {
    local port="$1"
    # ss prints a header line; anything after it is a listener on that port.
    if command -v ss >/dev/null 2>&1; then
        [[ "$(ss -Hltn "sport = :$port" 2>/dev/null | wc -l)" -gt 0 ]]
    else
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
    fi
}
