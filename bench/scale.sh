#!/bin/bash
# Scale: SCALE_THREADS threads (10,000) blocked in one process
# (`blocker cond`: all in pthread_cond_wait on one condition variable), watched
# with
#   leakwatch -p PID -t 1s -i 1s -j -d SCALE_DURATION -v --metrics 127.0.0.1:PORT
# in two scenarios:
#   before  the threads were blocked before leakwatch started (for more than
#           the threshold): their wait began at least at attach, at least
#           rq->clock_task - se.exec_start ago (a lower bound);
#   after   leakwatch is attached first, then the process starts its threads
#           (blocker --start-after, released by SIGUSR1): every wait is stamped
#           exactly, and thread creation sends SCALE_THREADS records through
#           the ring buffer.
# Measured from outside:
#   - when all SCALE_THREADS `stuck` lines are on leakwatch's stdout (polled
#     every 50 ms), from launch, and ("after") from the moment the last thread
#     was blocked (its `tid` line): that is threshold + up to one interval +
#     the daemon's processing;
#   - scan time: the daemon's own leakwatch_scan_duration_seconds gauge (the
#     read of the iter/task scan + the tracker's pass over its records),
#     scraped every 0.25 s from a separate loop; the longest one (the scan that
#     found them stuck, which also unwinds every newly stuck thread's stack)
#     and the median of those after all were reported;
#   - the daemon's CPU time per interval after all were reported (utime+stime
#     delta / intervals): an upper bound of a scan's cost;
#   - peak RSS (VmHWM);
#   - the iterator's own BPF time per task and per scan (bpf_stats), after all
#     were reported.
# Checks pid_max, kernel.threads-max, vm.max_map_count first and raises them if
# they are short (restored at exit); if the process still cannot make that
# many threads, takes 90% of what it could make and says so.
#
#   usage: bench/scale.sh [BUILD_DIR]   (root; markdown on stdout)
#   env:   SCALE_THREADS (10000), SCALE_DURATION (8s), BENCH_RESULTS
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_setup
BUILD=$(resolve_build "${1:-build}")
LW=$BUILD/leakwatch
BLOCKER=$BUILD/fixtures/blocker
[ -x "$BLOCKER" ] || die "no $BLOCKER: run make first"
N=${SCALE_THREADS:-10000}
DURATION=${SCALE_DURATION:-8s}
NOTES=()

raise_task_limits "$N"
# The iterator's own cost per task (run_time_ns / run_cnt), next to the daemon's.
set_sysctl kernel.bpf_stats_enabled 1

tid_count() { grep -c '^tid' "$WORK/blocker.out" || true; }

# start_blocker N [--start-after MS]: sets BPID.
start_blocker() {
	local n=$1
	shift
	: >"$WORK/blocker.out"
	"$BLOCKER" cond --threads "$n" --exit-after 600 "$@" >"$WORK/blocker.out" 2>"$WORK/blocker.err" &
	BPID=$!
	bg_track "$BPID"
}

# wait_threads N: until N tid lines (then sets T_MADE); fails if blocker died.
wait_threads() {
	local i made
	for ((i = 0; i < 1200; i++)); do
		made=$(tid_count)
		if [ "$made" -ge "$1" ]; then
			T_MADE=$(now)
			return 0
		fi
		mine "$BPID" || break
		sleep 0.05
	done
	MADE=$(tid_count)
	return 1
}

# Can the process make N threads?  If not, take 90% of what it made.
log "scale: can one process make $N threads?"
start_blocker "$N"
if ! wait_threads "$N"; then
	NOTES+=("blocker could make only $MADE of $N threads ($(cat "$WORK/blocker.err")): measured with $((MADE * 9 / 10))")
	N=$((MADE * 9 / 10))
fi
stop_pid "$BPID" 5 TERM

# scenario NAME: one leakwatch run; appends "NAME key value" lines to $WORK/res.
scenario() {
	local name=$1 port metrics='' out=$WORK/$1.out err=$WORK/$1.err scrapes=$WORK/$1.scrapes
	local t_launch t_banner='' t_all='' t_blocked='' ticks_all='' ticks_last='' t_last='' hwm=0 h tk t rc spid i
	local st_first='' st_last='' st host_tasks=''
	if [ "$name" = before ]; then
		start_blocker "$N"
		wait_threads "$N" || die "blocker died: $(cat "$WORK/blocker.err")"
		# Until every thread sleeps, then past the 1 s threshold.
		for ((i = 0; i < 100; i++)); do
			[ "$(grep -l '^State:.*S (sleeping)' /proc/"$BPID"/task/*/status 2>/dev/null | wc -l)" -ge "$N" ] && break
			sleep 0.1
		done
		sleep 1.5
	else
		start_blocker "$N" --start-after 600000
		wait_for "$WORK/blocker.out" '^pid' "$BPID" 10 || die "blocker did not start"
	fi
	if "$LW" --help 2>&1 | grep -q -- '--metrics'; then
		port=$((20000 + ($$ + ${#name}) % 20000))
		metrics="--metrics 127.0.0.1:$port"
	fi
	: >"$scrapes"
	t_launch=$(now)
	# shellcheck disable=SC2086
	"$LW" -p "$BPID" -t 1s -i 1s -j -d "$DURATION" -v $metrics >"$out" 2>"$err" &
	LPID=$!
	bg_track "$LPID"
	wait_for "$err" 'leakwatch: watching' "$LPID" 30 || die "leakwatch did not start: $(tail -3 "$err")"
	t_banner=$(now)
	if [ -n "$metrics" ]; then
		# The gauge, from a loop of its own: a scrape waits while the daemon scans.
		(while :; do
			curl -s --max-time 2 "http://127.0.0.1:$port/metrics" 2>/dev/null |
				awk -v t="$(now)" '/^leakwatch_scan_duration_seconds / { print t, $2 }' >>"$scrapes" || true
			sleep 0.25
		done) &
		spid=$!
		bg_track "$spid"
	fi
	if [ "$name" = after ]; then
		sleep 1
		kill -USR1 "$BPID"
		wait_threads "$N" || die "blocker died: $(cat "$WORK/blocker.err")"
		t_blocked=$T_MADE
	fi
	while mine "$LPID"; do
		t=$(now)
		if [ -z "$t_all" ]; then
			if [ "$(grep -c '"type":"stuck"' "$out" || true)" -ge "$N" ]; then
				t_all=$t ticks_all=$(cpu_ticks "$LPID" || true)
				# iter/task visits every task of the host (it skips non-targets).
				host_tasks=$(awk '{ split($4, a, "/"); print a[2] }' /proc/loadavg)
			else
				sleep 0.05
				continue
			fi
		fi
		tk=$(cpu_ticks "$LPID" || true)
		[ -n "$tk" ] && ticks_last=$tk t_last=$t
		# scan_tasks' counters, from one interval after all were reported.
		if awk -v a="$t" -v b="$t_all" 'BEGIN { exit !(a - b > 1.2) }'; then
			st=$(prog_stats "$LPID" 2>/dev/null | awk '$2 == "scan_tasks" { print $3, $4 }' || true)
			if [ -n "$st" ]; then
				[ -z "$st_first" ] && st_first=$st
				st_last=$st
			fi
		fi
		h=$(hwm_kb "$LPID" || true)
		[ -n "$h" ] && [ "$h" -gt "$hwm" ] && hwm=$h
		sleep 0.25
	done
	wait "$LPID" && rc=0 || rc=$?
	bg_untrack "$LPID"
	[ -n "$metrics" ] && stop_pid "$spid" 2 TERM
	stop_pid "$BPID" 5 TERM
	[ "$rc" -le 1 ] || die "leakwatch failed ($rc): $(tail -3 "$err")"

	sec() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "") print "n/a"; else printf "%.2f", a - b }'; }
	{
		echo "$name stuck $(jq -r 'select(.type == "stuck") | .tid' "$out" | sort -u | wc -l)"
		echo "$name launch_banner $(sec "$t_banner" "$t_launch")"
		echo "$name launch_all $(sec "$t_all" "$t_launch")"
		echo "$name banner_all $(sec "$t_all" "$t_banner")"
		echo "$name blocked_all $(sec "$t_all" "$t_blocked")"
		# Scan durations: successive distinct gauge values.
		awk '$2 != prev { print $2 * 1000; prev = $2 }' "$scrapes" | sort -g | awk 'END { printf "'"$name"' scan_max %.1f\n", $1 }'
		# After all were reported: the gauge is set after the scan's records
		# are out, so the first new value after t_all is the scan that
		# reported them; the later ones are steady state.
		awk -v t="${t_all:-9e99}" '$2 != prev { prev = $2; if ($1 > t && seen++) print $2 * 1000 }' "$scrapes" >"$WORK/later"
		echo "$name scan_med $(median <"$WORK/later" | awk '{ printf "%.1f", $1 }')"
		echo "$name scan_n $(wc -l <"$WORK/later")"
		echo "$name scan_later_max $(sort -g "$WORK/later" | awk 'END { printf "%.1f", $1 }')"
		awk -v t="${ticks_last:-}" -v t0="${ticks_all:-}" -v s="${t_last:-}" -v s0="${t_all:-}" -v n="$name" \
			'BEGIN { v = (t == "" || s - s0 < 1) ? "n/a" : sprintf("%.1f", (t - t0) * 1000 / '"$CLK_TCK"' / (s - s0))
				printf "%s cpu_per_interval %s\n", n, v }'
		echo "$name hwm_kb $hwm"
		# BPF time of the iterator: per task, and per scan of all the threads.
		awk -v f="$st_first" -v l="$st_last" -v n="$name" -v tasks="$host_tasks" 'BEGIN {
			split(f, a, " "); split(l, b, " ")
			if (f == "" || b[2] - a[2] < 1) { print n, "iter_ns_task n/a"; print n, "iter_ms_scan n/a"; exit }
			ns = (b[1] - a[1]) / (b[2] - a[2])
			printf "%s iter_ns_task %.0f\n%s iter_ms_scan %.2f\n", n, ns, n, ns * tasks / 1e6 }'
		echo "$name summary $(jq -c 'select(.type == "summary") | {events, dropped, drops}' "$out")"
	} >>"$WORK/res"
}

log "scale: $N threads blocked before leakwatch starts"
scenario before
log "scale: $N threads blocked after leakwatch started"
scenario after

get() { awk -v n="$1" -v k="$2" '$1 == n && $2 == k { $1 = $2 = ""; sub(/^ +/, ""); print }' "$WORK/res"; }
echo "\`blocker cond --threads $N\`, then \`leakwatch -p PID -t 1s -i 1s -j -d $DURATION -v --metrics 127.0.0.1:PORT\`."
echo "before: the threads were blocked (for more than 1.5 s) when leakwatch started;"
echo "after: leakwatch was attached first, then the process started its $N threads."
for n in "${NOTES[@]}"; do echo "Note: $n."; done
echo
echo "| measure | before | after |"
echo "|---|---|---|"
row() { echo "| $1 | $(get before "$2")$3 | $(get after "$2")$3 |"; }
row "distinct threads reported stuck (of $N)" stuck ""
row "launch -> \"watching\" on stderr" launch_banner " s"
row "launch -> all $N \`stuck\` records on stdout (polled every 50 ms)" launch_all " s"
row "\"watching\" -> all $N \`stuck\` records" banner_all " s"
row "last thread blocked (its \`tid\` line) -> all $N \`stuck\` records (threshold 1 s + up to one 1 s interval + processing)" blocked_all " s"
row "longest scan seen (leakwatch_scan_duration_seconds): the one that found them stuck and unwound their stacks" scan_max " ms"
row "scans after all were reported: median" scan_med " ms"
row "scans after all were reported: max" scan_later_max " ms"
row "scans after all were reported: how many" scan_n ""
row "daemon CPU per 1 s interval after all were reported (utime+stime: upper bound of a scan)" cpu_per_interval " ms"
row "BPF iterator (scan_tasks) per task visited, after all were reported (bpf_stats; it visits every task of the host and skips non-targets)" iter_ns_task " ns"
row "BPF iterator time per scan (ns per task x tasks on the host): the kernel BPF part of a scan" iter_ms_scan " ms"
row "daemon peak RSS (VmHWM)" hwm_kb " KiB"
row "summary" summary ""

worst() { awk -v a="$(get before "$1")" -v b="$(get after "$1")" 'BEGIN { print (a + 0 > b + 0) ? a : b }'; }
result scale_threads "$N"
result scale_stuck_before "$(get before stuck)"
result scale_stuck_after "$(get after stuck)"
result scale_hwm_kb "$(worst hwm_kb)"
result scale_scan_ms "$(worst scan_med)"
result scale_scan_max_ms "$(worst scan_max)"
result scale_cpu_ms_per_interval "$(worst cpu_per_interval)"
result scale_iter_ms_scan "$(worst iter_ms_scan)"
result scale_iter_ns_task "$(worst iter_ns_task)"
result scale_all_stuck_before_s "$(get before launch_all)"
result scale_all_stuck_after_s "$(get after blocked_all)"
