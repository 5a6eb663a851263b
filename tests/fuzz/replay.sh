#!/usr/bin/env bash
# replay.sh: every fuzz target's seed corpus and reproducers, once each, through the target's own checks (built with replay.c, no libFuzzer). TAP, for make check.
#
# The fuzzers themselves run in tests/fuzz/run.sh (clang, libFuzzer, minutes
# of new inputs); this keeps what they have already found true in every
# build: an input of tests/fuzz/corpus/<name>/ or tests/fuzz/crashes/<name>-*
# that breaks an invariant again fails make check.
set -uo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
names=(query cookie path router jwt json_body tmpl rfc3339 webhook_url cidr settings)
echo "1..${#names[@]}"
n=0 failed=0
for t in "${names[@]}"; do
    n=$((n + 1))
    bin="./tests/fuzz/replay_$t"
    inputs=("$repo/tests/fuzz/corpus/$t")
    for r in "$repo/tests/fuzz/crashes/$t"-*; do
        [[ -f "$r" ]] && inputs+=("$r")
    done
    if [[ ! -x "$bin" ]]; then
        echo "not ok $n - $t: $bin was not built"
        failed=$((failed + 1))
    elif out="$("$bin" "${inputs[@]}" 2>"$bin.log")"; then
        if [[ "$out" -ge 1 ]]; then
            echo "ok $n - $t: $out inputs"
        else
            echo "not ok $n - $t: no inputs"
            failed=$((failed + 1))
        fi
    else
        echo "not ok $n - $t: an input broke an invariant"
        grep -v '^replay: /' "$bin.log" | head -5 | sed 's/^/# /'
        grep '^replay: /' "$bin.log" | tail -1 | sed 's/^/# last input: /'
        failed=$((failed + 1))
    fi
done
exit $((failed > 0))
