# scripts/lib/tap.sh -- turn each suite's output into "passed failed skipped"
# counts for `scripts/dev test`.

# shellcheck shell=bash

_strip_ansi() { sed -E 's/\x1b\[[0-9;]*[A-Za-z]//g' "$1"; }

# count_make_check LOG RC: automake's test-suite summary ("# PASS: N",
# "# FAIL: N", "# XPASS: N", "# ERROR: N", "# SKIP: N", "# XFAIL: N").
# XFAIL counts as passed, XPASS and ERROR as failed.  No summary at all
# (make stopped before the tests ran) is one failure.
count_make_check() {
    local log="$1" rc="$2" pass fail xpass err skip xfail
    local text
    text="$(_strip_ansi "$log")"
    _sum() { grep -E "^# $1: *[0-9]+" <<<"$text" | tail -n 1 | grep -oE '[0-9]+$' || echo 0; }
    if ! grep -qE '^# TOTAL: *[0-9]+' <<<"$text"; then
        echo "0 1 0 no-summary"
        return
    fi
    pass="$(_sum PASS)" fail="$(_sum FAIL)" xpass="$(_sum XPASS)"
    err="$(_sum ERROR)" skip="$(_sum SKIP)" xfail="$(_sum XFAIL)"
    fail=$((fail + xpass + err))
    # make check failed although every test passed (a build error in a
    # later target, say): count it as one failure.
    if ((rc != 0 && fail == 0)); then
        echo "$((pass + xfail)) 1 $skip make-failed"
        return
    fi
    echo "$((pass + xfail)) $fail $skip ok"
}

# count_tap LOG RC: bats --tap.  Top-level "ok"/"not ok" lines; "# skip"
# directives count as skipped; tests announced by the plan ("1..N") but
# never reported count as failed; a non-zero exit with nothing failed (the
# suite crashed or could not start) is one failure.
count_tap() {
    local log="$1" rc="$2" text plan okn notok skip ran missing=0
    text="$(_strip_ansi "$log")"
    okn="$(grep -cE '^ok [0-9]+' <<<"$text" || true)"
    notok="$(grep -cE '^not ok [0-9]+' <<<"$text" || true)"
    skip="$(grep -cE '^ok [0-9]+.*# ?(skip|SKIP)' <<<"$text" || true)"
    okn=$((okn - skip))
    plan="$(grep -oE '^1\.\.[0-9]+' <<<"$text" | head -n 1 | cut -d. -f3 || true)"
    ran=$((okn + notok + skip))
    if [[ -n "$plan" ]] && ((plan > ran)); then missing=$((plan - ran)); fi
    notok=$((notok + missing))
    if ((rc != 0 && notok == 0)); then
        echo "$okn 1 $skip exit-$rc"
        return
    fi
    if [[ -z "$plan" && $ran -eq 0 ]]; then
        echo "0 1 0 no-tap-output"
        return
    fi
    echo "$okn $notok $skip ok"
}

# count_node_tap LOG RC: node --test --test-reporter=tap.  Node nests each
# file's tests as indented subtests, so top-level ok lines are not tests;
# its closing summary ("# pass N", "# fail N", "# cancelled N",
# "# skipped N", "# todo N") counts the real ones.  Cancelled = failed.
count_node_tap() {
    local log="$1" rc="$2" text pass fail canc skip todo
    text="$(_strip_ansi "$log")"
    _nsum() { grep -E "^# $1 [0-9]+$" <<<"$text" | tail -n 1 | grep -oE '[0-9]+$' || echo 0; }
    if ! grep -qE '^# tests [0-9]+$' <<<"$text"; then
        echo "0 1 0 no-summary"
        return
    fi
    pass="$(_nsum pass)" fail="$(_nsum fail)" canc="$(_nsum cancelled)"
    skip="$(_nsum skipped)" todo="$(_nsum todo)"
    # The counters are exclusive: a skipped or todo test is not in "pass".
    fail=$((fail + canc))
    if ((rc != 0 && fail == 0)); then
        echo "$pass 1 $((skip + todo)) exit-$rc"
        return
    fi
    echo "$pass $fail $((skip + todo)) ok"
}
