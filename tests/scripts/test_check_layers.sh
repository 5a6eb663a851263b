#!/usr/bin/env bash
# test_check_layers.sh: scripts/check-layers passes on this tree and fails, naming the file, on a
# copy with one bad include, an include cycle, an include that brings in a forbidden file, a
# file on no floor and a table that lists a higher floor. TAP, for make check.
set -uo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
check="$repo/scripts/check-layers"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
n=0 failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
    n=$((n + 1))
    failed=$((failed + 1))
    echo "not ok $n - $1"
    sed 's/^/# /' "$tmp/out"
}

# A fresh copy of the sources and the table in $tmp/tree.
fresh() {
    rm -rf "$tmp/tree"
    mkdir -p "$tmp/tree/docs"
    cp "$repo/docs/layers" "$tmp/tree/docs/"
    (cd "$repo" && find src -type f \( -name '*.c' -o -name '*.h' \) -print0 |
        xargs -0 cp --parents -t "$tmp/tree")
}

# Insert a line after line 1 (the purpose line) of a file of the copy.
add_line() { sed -i "1a $2" "$tmp/tree/$1"; }

# expect NAME RC PATTERN...: check-layers on the copy exits RC and says every PATTERN.
expect() {
    local name="$1" want="$2" rc p
    shift 2
    "$check" "$tmp/tree" >"$tmp/out" 2>&1
    rc=$?
    if ((rc != want)); then
        echo "# exit $rc, want $want" >>"$tmp/out"
        not_ok "$name"
        return
    fi
    for p in "$@"; do
        if ! grep -qF -- "$p" "$tmp/out"; then
            echo "# no \"$p\" in the output" >>"$tmp/out"
            not_ok "$name"
            return
        fi
    done
    ok "$name"
}

echo "1..8"

if "$check" "$repo" >"$tmp/out" 2>&1; then
    ok "this tree follows docs/layers"
else
    not_ok "this tree follows docs/layers"
fi

fresh
expect "an unchanged copy passes" 0 "no include cycle"

fresh
add_line src/http/response.c '#include "api/api.h"'
expect "the protocol floor including a handler header fails" 1 \
    'src/http/response.c:2: includes "api/api.h" (row api, a higher floor)' "http may include only"

fresh
add_line src/core/buf.h '#include "net/mail.h"'
expect "core including a sibling floor fails" 1 'src/core/buf.h:2: includes "net/mail.h"' "core may include nothing"

fresh
add_line src/http/request.h '#include "http/response.h"'
expect "an include cycle fails" 1 "include cycle: src/http/request.h -> src/http/response.h -> src/http/request.h"

fresh
add_line src/auth/password.h '#include "http/validate.h"'
expect "an allowed header that brings in a forbidden floor fails" 1 \
    'src/ctl/ctl.c:' '"auth/password.h", which brings in src/http/validate.h' "ctl may include only"

fresh
mkdir -p "$tmp/tree/src/extra"
echo '/* x.c: nowhere. */' >"$tmp/tree/src/extra/x.c"
expect "a file on no floor fails" 2 "src/extra/x.c is on no row"

fresh
sed -i 's/^core           :/core           : http/' "$tmp/tree/docs/layers"
expect "a row listing a higher row fails" 2 "core lists http (row http), which is not below it"

exit $((failed > 0))
