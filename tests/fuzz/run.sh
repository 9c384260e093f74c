#!/bin/bash
# Runs each fuzzer for SECONDS on its corpus (seeded from the test binaries);
# fails on the first crash, leak, timeout or sanitizer report, whose input is
# left as FUZZ_DIR/NAME-crash-*.
#   tests/fuzz/run.sh SECONDS FUZZ_DIR NAME...
set -u
secs=$1 dir=$2
shift 2
for f in "$@"; do
	echo "== $f ($secs s)"
	log=$dir/$f.log
	# Leaks inside a library, not ours, listed in tests/fuzz/NAME.supp
	# (slow unwinding on malloc: the library's frames have no frame pointers).
	supp=$(dirname "$0")/$f.supp envs=()
	[ -f "$supp" ] && envs=("LSAN_OPTIONS=suppressions=$(realpath "$supp")" ASAN_OPTIONS=fast_unwind_on_malloc=0)
	env "${envs[@]}" "$dir/$f" -max_total_time="$secs" -timeout=10 -rss_limit_mb=4096 -max_len=4194304 \
		-artifact_prefix="$dir/$f-" -print_final_stats=1 "$dir/corpus/$f" > "$log" 2>&1
	rc=$?
	grep -E 'stat::number_of_executed_units|stat::peak_rss_mb' "$log"
	if [ "$rc" -ne 0 ]; then
		grep -E -A30 'ERROR|SUMMARY|Test unit written|DEDUP' "$log" | head -60
		echo "$f failed (rc $rc): $log" >&2
		exit 1
	fi
done
