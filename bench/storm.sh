#!/bin/bash
# Fork/exit storm: bench/storm.c makes STORM_PROCS processes of STORM_THREADS
# threads each (created and joined 50 at a time), as fast as it can, while two
# leakwatch instances watch:
#   host   `leakwatch -j -i 1s -t 1s` (host-wide), started first;
#   run    `leakwatch -j -i 500ms -t 1m -- storm ...` (watches the storm and
#          its children only, so its records are exactly the storm's).
# Then, from their summaries and records:
#   - every loss accounted: the storm makes P + P*T tasks; with a target set
#     (`run`), each sends one record when created and one when it exits (+1
#     for the storm's own exit, watched from its start), so events +
#     drops.ringbuf must equal 2 * (P + P*T) + 1 exactly.  Host-wide, records
#     go only for the exits of processes that a scan may have seen (born
#     before the latest scan began; the scan sees threads and new processes),
#     and the rest of the host adds its own: no exact count, none may be lost;
#   - no stale state: after the storm the parent lingers 3 s with one thread;
#     the last `sample` of it (run: every interval; host: it is stuck in
#     nanosleep after 1 s) must count the threads /proc/self/status counts;
#     every child process must have an `exit` record and no `sample` after it.
#
#   usage: bench/storm.sh [BUILD_DIR]   (root; markdown on stdout)
#   env:   STORM_PROCS (4), STORM_THREADS (5000), BENCH_RESULTS
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_setup
BUILD=$(resolve_build "${1:-build}")
LW=$BUILD/leakwatch
STORM=$(storm_bin)
P=${STORM_PROCS:-4}
T=${STORM_THREADS:-5000}
TASKS=$((P + P * T))

log "storm: $P processes x $T threads under host-wide and run-mode leakwatch"
"$LW" -j -i 1s -t 1s >"$WORK/host.out" 2>"$WORK/host.err" &
HPID=$!
bg_track "$HPID"
wait_for "$WORK/host.err" 'leakwatch: watching' "$HPID" 60 || die "leakwatch did not start: $(cat "$WORK/host.err")"
sleep 3 # its first scans: every thread of the host blocked for 1 s is stuck

# run_storm NAME [stop]: storm under `leakwatch -- storm` (stdout NAME.out,
# the storm's own output NAME.storm); with stop, the daemon is stopped
# (SIGSTOP) from the storm's first line to its "done" line, so that the ring
# buffer fills and records are lost: they must be counted.
run_storm() {
	local name=$1 stop=${2:-} rpid i
	export STORM_OUT=$WORK/$name.storm
	: >"$STORM_OUT"
	"$LW" -j -i 500ms -t 1m -- /bin/sh -c 'exec "$0" "$@" >"$STORM_OUT"' \
		"$STORM" --procs "$P" --threads "$T" --linger 3000 >"$WORK/$name.out" 2>"$WORK/$name.err" &
	rpid=$!
	bg_track "$rpid"
	if [ -n "$stop" ]; then
		wait_for "$STORM_OUT" '^pid' "$rpid" 30 || die "the storm did not start"
		kill -STOP "$rpid"
		for ((i = 0; i < 600; i++)); do
			grep -q '^done' "$STORM_OUT" && break
			sleep 0.1
		done
		kill -CONT "$rpid"
	fi
	wait "$rpid" && RC=0 || RC=$?
	bg_untrack "$rpid"
	[ "$RC" -eq 0 ] || log "storm: run-mode leakwatch exited $RC: $(tail -3 "$WORK/$name.err")"
}
t0=$(now)
run_storm run
t1=$(now)
sleep 1.5
stop_pid "$HPID"
log "storm: again, with the run-mode daemon stopped (SIGSTOP) during the storm"
run_storm stopped stop

STORM_OUT=$WORK/run.storm
spid=$(awk '$1 == "pid" { print $2 }' "$STORM_OUT")
awk '$1 == "child" { print $2 }' "$STORM_OUT" >"$WORK/children"
storm_ms=$(awk '$1 == "done" { print $7 }' "$STORM_OUT")
threads_now=$(awk '$1 == "threads_now" { print $2 }' "$STORM_OUT")
[ -n "$spid" ] && [ -n "$storm_ms" ] || die "storm did not finish: $(cat "$STORM_OUT" "$WORK/run.err")"

# check NAME STORM: "events ringbuf dropped drops_json last_threads exits late_samples"
check() {
	local f=$WORK/$1.out p
	p=$(awk '$1 == "pid" { print $2 }' "$WORK/$2.storm")
	awk '$1 == "child" { print $2 }' "$WORK/$2.storm" >"$WORK/children"
	jq -r --argjson p "$p" --rawfile kids "$WORK/children" '
		($kids | split("\n") | map(select(length > 0) | tonumber)) as $k
		| [inputs] as $all | $all[] | select(.type == "summary")
		| [.events, .drops.ringbuf, .dropped, (.drops | tojson),
		   ([$all[] | select(.type == "sample" and .pid == $p) | .threads] | last // "none"),
		   ([$all[] | select(.type == "exit" and (.pid as $x | $k | index([$x]))) | .pid] | unique | length),
		   (([$all[] | select(.type == "exit") | {key: (.pid | tostring), value: .ts}] | from_entries) as $ex
		    | [$all[] | select(.type == "sample") | select((.pid | tostring) as $x | $ex[$x] != null and .ts > $ex[$x])]
		    | length)
		  ] | map(tostring) | join(" ")' -n "$f" 2>/dev/null || echo "? ? ? ? ? ? ?"
}
read -r r_ev r_rb r_dr r_drops r_thr r_exits r_late <<<"$(check run run)"
read -r h_ev h_rb h_dr h_drops h_thr h_exits h_late <<<"$(check host run)"
read -r s_ev s_rb s_dr s_drops s_thr s_exits s_late <<<"$(check stopped stopped)"
# shellcheck disable=SC2034 # used in the ok '...' strings below
s_now=$(awk '$1 == "threads_now" { print $2 }' "$WORK/stopped.storm")
r_seen=$((r_ev + r_rb))
h_seen=$((h_ev + h_rb))
s_seen=$((s_ev + s_rb))
r_exp=$((2 * TASKS + 1))
h_exp=0 # host-wide: drops.ringbuf, not a count (see the top)
ok() { if eval "$1"; then echo yes; else echo NO; fi; }
r_acc=$(ok '[ "$r_seen" -eq "$r_exp" ]')
s_acc=$(ok '[ "$s_seen" -eq "$r_exp" ]')
h_acc=$(ok '[ "$h_rb" -eq "$h_exp" ]')
r_stale=$(ok '[ "$r_thr" = "$threads_now" ] && [ "$r_exits" -eq "$P" ] && [ "$r_late" -eq 0 ]')
s_stale=$(ok '[ "$s_thr" = "$s_now" ] && [ "$s_exits" -eq "$P" ] && [ "$s_late" -eq 0 ]')
h_stale=$(ok '[ "$h_thr" = "$threads_now" ] && [ "$h_late" -eq 0 ]')
rate=$(awk -v n="$TASKS" -v ms="$storm_ms" 'BEGIN { printf "%.0f", n / (ms / 1000) }')

echo "\`storm --procs $P --threads $T\`: $TASKS tasks created and exited in $storm_ms ms ($rate tasks/s),"
echo "watched by \`leakwatch -j -i 1s -t 1s\` (host-wide) and \`leakwatch -j -i 500ms -t 1m -- storm ...\` (run)."
echo "Then the same storm again under run mode, with the daemon stopped (SIGSTOP) from the storm's start"
echo "to its end, so that the ring buffer overflows (reader stopped)."
echo "After the storm the parent lingers 3 s with $threads_now thread(s) (/proc/self/status)."
echo
echo "| check | run (storm only) | run, reader stopped | host-wide |"
echo "|---|---|---|---|"
echo "| records expected for the storm | $r_exp (2 x $TASKS + parent exit) | $r_exp | no exact count: records only for exits of processes a scan may have seen, the rest of the host adds its own; none lost |"
echo "| events (delivered) | $r_ev | $s_ev | $h_ev |"
echo "| drops.ringbuf (counted) | $r_rb | $s_rb | $h_rb |"
echo "| events + drops.ringbuf | $r_seen | $s_seen | $h_seen |"
echo "| every record accounted | $r_acc | $s_acc | $h_acc |"
echo "| dropped (all causes) | $r_dr | $s_dr | $h_dr |"
echo "| drops by cause | \`$r_drops\` | \`$s_drops\` | \`$h_drops\` |"
echo "| last sample of the parent: threads (/proc: $threads_now) | $r_thr | $s_thr | $h_thr |"
echo "| child processes with an \`exit\` record (of $P) | $r_exits | $s_exits | $h_exits (host-wide: only processes it reported) |"
echo "| samples of a process after its \`exit\` | $r_late | $s_late | $h_late |"
echo "| no stale state | $r_stale | $s_stale | $h_stale |"
echo
echo "Wall time of the first storm under run mode: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s."

result storm_tasks "$TASKS"
result storm_run_expected "$r_exp"
result storm_run_seen "$r_seen"
result storm_run_ringbuf "$r_rb"
result storm_run_dropped "$r_dr"
result storm_run_accounted "$r_acc"
result storm_stopped_seen "$s_seen"
result storm_stopped_ringbuf "$s_rb"
result storm_stopped_accounted "$s_acc"
result storm_host_accounted "$h_acc"
result storm_host_seen "$h_seen"
result storm_host_dropped "$h_dr"
result storm_stale_ok "$r_stale/$s_stale/$h_stale"
