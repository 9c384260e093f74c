#!/bin/bash
# The daemon's own CPU time and peak RSS, host-wide (`leakwatch -j -i 1s`):
# while the host idles for IDLE_S seconds, and while
# `taskset -c 1 perf bench sched pipe` runs.  CPU time is utime + stime from
# /proc/PID/stat (clock ticks; schedstat's ns alongside), over the wall time
# of the window, as % of one core.  The BPF programs' own time is not in it:
# it is charged to the threads that switch (see prog_cost.sh).
#
#   usage: bench/daemon_cost.sh [BUILD_DIR]   (root; markdown on stdout)
#   env:   IDLE_S (10), PIPE_LOOPS (200000), BENCH_RESULTS (key=value file)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_setup
BUILD=$(resolve_build "${1:-build}")
LW=$BUILD/leakwatch
IDLE_S=${IDLE_S:-10}
PIPE_LOOPS=${PIPE_LOOPS:-200000}

ctxt() { awk '/^ctxt/ { print $2 }' /proc/stat; }

# window NAME COMMAND...: runs COMMAND, prints "name wall_s ticks ns ctxt_per_s"
window() {
	local name=$1 t0 t1 n0 n1 c0 c1 s0 s1
	shift
	t0=$(cpu_ticks "$PID") n0=$(cpu_ns "$PID") c0=$(ctxt) s0=$(now)
	"$@" >/dev/null
	t1=$(cpu_ticks "$PID") n1=$(cpu_ns "$PID") c1=$(ctxt) s1=$(now)
	awk -v n="$name" -v a="$s0" -v b="$s1" -v t=$((t1 - t0)) -v ns=$((n1 - n0)) -v c=$((c1 - c0)) \
		'BEGIN { printf "%s %.3f %d %d %.0f\n", n, b - a, t, ns, c / (b - a) }'
}

log "daemon_cost: host-wide leakwatch, idle ${IDLE_S}s, then sched pipe"
LW_ERR=$WORK/lw.err
"$LW" -j -i 1s >"$WORK/lw.out" 2>"$LW_ERR" &
PID=$!
bg_track "$PID"
wait_for "$LW_ERR" 'leakwatch: watching' "$PID" 60 || die "leakwatch did not start: $(cat "$LW_ERR")"
# The first scans find every thread blocked for more than 10s on the host and
# unwind their stacks once: start-up, not steady state.
sleep 3
startup_ticks=$(cpu_ticks "$PID")
hwm_start=$(hwm_kb "$PID")
window idle sleep "$IDLE_S" >"$WORK/w"
hwm_idle=$(hwm_kb "$PID")
window pipe taskset -c 1 perf bench sched pipe -l "$PIPE_LOOPS" >>"$WORK/w"
hwm_pipe=$(hwm_kb "$PID")
threads=$(ls /proc/"$PID"/task | wc -l)
stop_pid "$PID"
summary=$(grep '"type":"summary"' "$WORK/lw.out" || echo '{}')

pct() { awk -v n="$1" -v c="$2" '$1 == n { v = (c == "ticks") ? $3 / '"$CLK_TCK"' : $4 / 1e9; printf "%.2f", 100 * v / $2 }' "$WORK/w"; }
col() { awk -v n="$1" -v c="$2" '$1 == n { print $c }' "$WORK/w"; }

echo "Host-wide \`leakwatch -j -i 1s > /dev/null\`, started 3 s before the first window"
echo "(start-up, with the first scan's stack unwinding: $startup_ticks ticks of ${CLK_TCK}/s)."
echo "The machine is shared: \"idle\" means no benchmark of ours, not an idle host (context switches/s shown)."
echo
echo "| window | wall s | CPU ticks | % of one core (ticks) | % of one core (schedstat ns) | host switches/s | VmHWM at end |"
echo "|---|---|---|---|---|---|---|"
printf '| idle %ss | %s | %s | %s | %s | %s | %s KiB |\n' "$IDLE_S" "$(col idle 2)" "$(col idle 3)" \
	"$(pct idle ticks)" "$(pct idle ns)" "$(col idle 5)" "$hwm_idle"
printf '| `taskset -c 1 perf bench sched pipe -l %s` | %s | %s | %s | %s | %s | %s KiB |\n' "$PIPE_LOOPS" \
	"$(col pipe 2)" "$(col pipe 3)" "$(pct pipe ticks)" "$(pct pipe ns)" "$(col pipe 5)" "$hwm_pipe"
echo
echo "Daemon threads: $threads; VmHWM 3 s after start: $hwm_start KiB."
echo "Summary line at stop: \`$summary\`"

result daemon_cpu_idle_pct "$(pct idle ticks)"
result daemon_cpu_idle_ns_pct "$(pct idle ns)"
result daemon_cpu_pipe_pct "$(pct pipe ticks)"
result daemon_cpu_pipe_ns_pct "$(pct pipe ns)"
result daemon_hwm_kb "$hwm_pipe"
