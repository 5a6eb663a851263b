# scripts/lib/build.sh -- in-tree autotools build of tenantry.fcgi,
# tenantryctl and bench/bare_fcgi.

# shellcheck shell=bash

# build_tree: autoreconf only when `configure` is missing or older than
# configure.ac, ./configure only when there is no Makefile (after that the
# generated Makefile re-runs automake/config.status itself), then make -j2.
#
# TENANTRY_SKIP_BUILD=1 skips all of it -- only for working on the scripts
# themselves before the C tree builds; never set it in CI.
build_tree() {
    local jobs="${TENANTRY_MAKE_JOBS:-2}"
    if [[ "${TENANTRY_SKIP_BUILD:-0}" == 1 ]]; then
        warn "TENANTRY_SKIP_BUILD=1: not building (script development only)"
        return 0
    fi
    # Every step checked explicitly: callers may run this where bash
    # ignores `set -e`.
    cd "$TENANTRY_REPO" || die "no repo at $TENANTRY_REPO"
    [[ -f configure.ac ]] || die "configure.ac is missing: nothing to build"
    if [[ ! -x configure || configure.ac -nt configure ]]; then
        log "autoreconf -fi"
        autoreconf -fi || die "autoreconf failed"
    fi
    if [[ ! -f Makefile ]]; then
        log "./configure ${TENANTRY_CONFIGURE_FLAGS:-}"
        # shellcheck disable=SC2086
        ./configure ${TENANTRY_CONFIGURE_FLAGS:-} || die "./configure failed (see config.log)"
    fi
    log "make -j$jobs"
    make -j"$jobs" || die "make failed"
    [[ -x tenantry.fcgi ]] || die "the build did not produce ./tenantry.fcgi"
    [[ -x tenantryctl ]] || die "the build did not produce ./tenantryctl"
    cd - >/dev/null || true
}

# build_bare_fcgi: make sure bench/bare_fcgi exists and is newer than its
# source; through the Makefile when it knows the target, else plain gcc.
build_bare_fcgi() {
    local src="$TENANTRY_REPO/bench/bare_fcgi.c" bin="$TENANTRY_REPO/bench/bare_fcgi"
    [[ -x "$bin" && ! "$src" -nt "$bin" ]] && return 0
    if [[ -f "$TENANTRY_REPO/Makefile" ]] &&
        make -C "$TENANTRY_REPO" -n bench/bare_fcgi >/dev/null 2>&1; then
        make -C "$TENANTRY_REPO" bench/bare_fcgi
    else
        gcc -O2 -Wall -Wextra -o "$bin" "$src" -lfcgi
    fi
    [[ -x "$bin" ]] || die "could not build bench/bare_fcgi"
}
