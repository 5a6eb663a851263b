#!/usr/bin/env bash
# run.sh: build the libFuzzer targets in a scratch copy of the tree and run each for N seconds.
#
#   tests/fuzz/run.sh [seconds] [target ...]
#
# seconds defaults to 60; targets default to every tests/fuzz/fuzz_<name>.c
# (name: query, cookie, path, router, jwt, json_body, tmpl, rfc3339,
# webhook_url, cidr, settings). Each target
# first replays the reproducers tests/fuzz/crashes/<name>-* (every one must
# run clean once its bug is fixed), then fuzzes under ASan+UBSan on a copy
# of tests/fuzz/corpus/<name>, with tests/fuzz/<name>.dict when there is
# one, so the tree is never written.
# The build happens in a copy because a VPATH build refuses a source tree
# that is configured in place, and the in-tree build must not be disturbed.
#
# Exit status: 0 when every target ran clean, 1 on any crash, leak, UB,
# timeout or OOM (the scratch directory with logs and reproducers is kept
# and printed), 2 when the build fails. Environment: CC (default clang),
# KEEP=1 keeps the scratch directory even after a clean run.
set -euo pipefail

secs=${1:-60}
shift || true
case $secs in
'' | *[!0-9]*) echo "usage: $0 [seconds] [target ...]" >&2; exit 2 ;;
esac

root=$(cd "$(dirname "$0")/../.." && pwd)
if [ $# -gt 0 ]; then
	targets=("$@")
else
	targets=()
	for f in "$root"/tests/fuzz/fuzz_*.c; do
		n=${f##*/fuzz_}
		targets+=("${n%.c}")
	done
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/tenantry-fuzz.XXXXXX")
mkdir -p "$work/src" "$work/logs"
echo "fuzz: scratch directory $work"

# ---- Build --------------------------------------------------------------
# var/ holds the dev stack's database and secrets: neither is needed here.
tar -C "$root" --exclude=./.git --exclude=./var -cf - . | tar -C "$work/src" -xf -
cd "$work/src"
make distclean >/dev/null 2>&1 || true
[ -x configure ] || autoreconf -fi >"$work/logs/autoreconf.log" 2>&1
if ! ./configure CC="${CC:-clang}" --enable-fuzz >"$work/logs/configure.log" 2>&1; then
	echo "fuzz: configure failed, see $work/logs/configure.log" >&2
	exit 2
fi
bins=()
for t in "${targets[@]}"; do
	bins+=("tests/fuzz/fuzz_$t")
done
if ! make -j"$(nproc 2>/dev/null || echo 2)" "${bins[@]}" >"$work/logs/build.log" 2>&1; then
	tail -30 "$work/logs/build.log" >&2
	echo "fuzz: build failed, see $work/logs/build.log" >&2
	exit 2
fi

# ---- Run ----------------------------------------------------------------
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

# Long enough to reach each parser's length limit (and a little past it).
max_len() {
	case $1 in
	query | cookie) echo 8300 ;;   # HTTP_QUERY_MAX, HTTP_COOKIE_MAX 8 KiB
	path | router) echo 2100 ;;    # HTTP_PATH_MAX 2048
	jwt) echo 4200 ;;              # JWT_MAX_LEN 4096
	rfc3339) echo 64 ;;            # 40 characters at most
	webhook_url) echo 2200 ;;      # WEBHOOK_URL_MAX 2048
	settings) echo 12000 ;;        # SETTINGS_MAX_BYTES 10 KiB
	*) echo 4096 ;;
	esac
}

found=0
printf '%-10s %7s %10s %8s %7s %7s  %s\n' target status execs exec/s cov corpus findings
for t in "${targets[@]}"; do
	corpus=$work/corpus/$t
	art=$work/artifacts/$t
	log=$work/logs/$t.log
	mkdir -p "$corpus" "$art"

	# Known reproducers: a fixed bug must stay fixed, an open one is reported.
	for r in "$root/tests/fuzz/crashes/$t"-*; do
		[ -f "$r" ] || continue
		if ! "./tests/fuzz/fuzz_$t" -runs=1 "$r" >"$work/logs/$t.replay.log" 2>&1; then
			found=1
			echo "$t: reproducer ${r#"$root"/} still fails:" >&2
			grep -m1 -E 'ERROR: |runtime error:|^fuzz_[a-z_]*: ' "$work/logs/$t.replay.log" |
			    sed 's/^/    /' >&2 || true
		fi
	done
	if [ -d "$root/tests/fuzz/corpus/$t" ]; then
		cp -R "$root/tests/fuzz/corpus/$t/." "$corpus/"
	fi
	dict=()
	[ -f "$root/tests/fuzz/$t.dict" ] && dict=(-dict="$root/tests/fuzz/$t.dict")
	status=0
	"./tests/fuzz/fuzz_$t" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
	    -max_len="$(max_len "$t")" -print_final_stats=1 -artifact_prefix="$art/" \
	    ${dict[@]+"${dict[@]}"} "$corpus" >"$log" 2>&1 || status=$?

	# A target that dies on its seed corpus prints no "cov:" line: no match is no value, not an exit.
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1 || true)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1 || true)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)
	files=$(find "$corpus" -type f | wc -l)
	findings=$(find "$art" -type f | wc -l)
	printf '%-10s %7s %10s %8s %7s %7s  %s\n' "$t" "$status" "${execs:--}" "${rate:--}" \
	    "${cov:--}" "$files" "$findings"
	if [ "$status" -ne 0 ] || [ "$findings" -ne 0 ]; then
		found=1
		grep -m1 -E 'ERROR: |runtime error:|^fuzz_[a-z_]*: ' "$log" | sed 's/^/    /' || true
		find "$art" -type f | sed 's/^/    reproducer: /'
		echo "    log: $log"
	fi
done

if [ "$found" -ne 0 ]; then
	echo "fuzz: FINDINGS; reproduce with: $work/src/tests/fuzz/fuzz_<target> <reproducer>" >&2
	exit 1
fi
if [ "${KEEP:-0}" = 1 ]; then
	echo "fuzz: clean; kept $work"
else
	rm -rf "$work"
	echo "fuzz: clean"
fi
