#!/bin/bash
# Cost per run of each leakwatch BPF program next to the floor's
# (../shared/bench/floor: tp_btf + one task-storage stamp), measured with
# kernel.bpf_stats_enabled=1 (run_time_ns / run_cnt from `bpftool prog show`).
#
# Three tracers, one at a time, in an order that rotates every round, ROUNDS
# rounds: the floor, leakwatch host-wide, leakwatch -p on an idle process that
# nobody else watches.  Each tracer's programs are the ones whose fds it holds
# (/proc/PID/fdinfo), so programs that other jobs load meanwhile do not count.
# Each run has two phases, counted apart (the counters are read before and
# after each):
#   pipe  `taskset -c 1 perf bench sched pipe`: sched_switch, the hot path
#   fork  bench/storm.c, 2 processes x 1000 threads created and joined:
#         sched_process_fork / sched_process_exit
# and, for the iterator, which runs once per task per scan (every -i 1s):
#   start   the first 2 s after attach: host-wide, the first scan finds every
#           thread blocked for more than 10 s stuck and takes its kernel stack
#   steady  from then to the end
# Prints the median ns per run of each (tracer, program, phase).
#
#   usage: bench/prog_cost.sh [BUILD_DIR] [ROUNDS]   (root; markdown on stdout)
#   env:   PIPE_LOOPS (200000), FLOOR_SRC, BENCH_RESULTS (key=value file)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_setup
BUILD=$(resolve_build "${1:-build}")
ROUNDS=${2:-${ROUNDS:-5}}
LW=$BUILD/leakwatch
FLOOR=$(floor_bin)
STORM=$(storm_bin)
PIPE_LOOPS=${PIPE_LOOPS:-200000}
start_idle_target
set_sysctl kernel.bpf_stats_enabled 1

# delta TRACER PHASE BEFORE AFTER: "tracer phase name ns_per_run runs"
delta() {
	awk -v tr="$1" -v ph="$2" 'NR == FNR { t[$1] = $3; c[$1] = $4; next }
		{ dc = $4 - c[$1]; if (dc > 0) printf "%s %s %s %.1f %d\n", tr, ph, $2, ($3 - t[$1]) / dc, dc }' "$3" "$4"
}

COSTS=$WORK/costs
# irq_work interrupts so far, all CPUs: a ring-buffer wakeup is one.
iwi() { awk '$1 == "IWI:" { for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i } END { print s + 0 }' /proc/interrupts; }
TRACERS=(floor lw lwp)
for ((r = 0; r < ROUNDS; r++)); do
	for ((i = 0; i < ${#TRACERS[@]}; i++)); do
		tr=${TRACERS[(i + r) % ${#TRACERS[@]}]}
		log "prog_cost: round $((r + 1))/$ROUNDS: $tr"
		SETTLE_S=0 start_tracer "$tr"
		prog_stats "$TRACER_PID" >"$WORK/s0"
		sleep 2
		prog_stats "$TRACER_PID" >"$WORK/s1"
		taskset -c 1 perf bench sched pipe -l "$PIPE_LOOPS" >/dev/null
		prog_stats "$TRACER_PID" >"$WORK/s2"
		i0=$(iwi)
		"$STORM" --procs 2 --threads 1000 --linger 0 >/dev/null
		i1=$(iwi)
		prog_stats "$TRACER_PID" >"$WORK/s3"
		echo "$tr $((i1 - i0))" >>"$WORK/iwi"
		stop_tracer
		delta "$tr" pipe "$WORK/s1" "$WORK/s2" >>"$COSTS"
		delta "$tr" fork "$WORK/s2" "$WORK/s3" >>"$COSTS"
		delta "$tr" start "$WORK/s0" "$WORK/s1" | grep ' scan_tasks ' >>"$COSTS" || true
		delta "$tr" steady "$WORK/s1" "$WORK/s3" | grep ' scan_tasks ' >>"$COSTS" || true
	done
done

# med TRACER PHASE PROG [COL]: median ns per run (COL 4) or runs (COL 5).
med() { awk -v t="$1" -v p="$2" -v n="$3" -v c="${4:-4}" '$1 == t && $2 == p && $3 == n { print $c }' "$COSTS" | median; }

ref=$(med floor pipe on_switch)
fmt() { [ "$1" = nan ] && echo "-" || printf '%.0f' "$1"; }
echo "Median over $ROUNDS rounds of ns per run (run_time_ns / run_cnt, kernel.bpf_stats_enabled=1);"
echo "runs = median run_cnt in that phase.  Reference: the floor's on_switch during sched pipe, $(fmt "$ref") ns."
echo
echo "| program | phase | floor ns/run | leakwatch host-wide ns/run (runs) | x floor | leakwatch -p other ns/run (runs) | x floor |"
echo "|---|---|---|---|---|---|---|"
for row in on_switch/pipe on_switch/fork on_fork/fork on_exit/fork scan_tasks/start scan_tasks/steady; do
	p=${row%/*} ph=${row#*/}
	f=$(med floor "$ph" "$p")
	printf '| %s | %s | %s |' "$p" "$ph" "$(fmt "$f")"
	for t in lw lwp; do
		v=$(med "$t" "$ph" "$p")
		n=$(med "$t" "$ph" "$p" 5)
		if [ "$v" = nan ]; then
			printf ' - | - |'
		else
			printf ' %s (%s) | %.2f |' "$(fmt "$v")" "$(fmt "$n")" "$(awk -v a="$v" -v b="$ref" 'BEGIN { print a / b }')"
		fi
		[ "$t" = lw ] && result "prog_${p}_${ph}_ns" "$v"
		[ "$t" = lwp ] && result "prog_p_${p}_${ph}_ns" "$v"
	done
	echo
	[ "$p" = on_switch ] && result "prog_floor_${p}_${ph}_ns" "$f"
done
iw() { awk -v t="$1" '$1 == t { print $2 }' "$WORK/iwi" | median; }
echo
echo "irq_work interrupts (IWI in /proc/interrupts) during the fork phase (2 x 1000 threads), median:"
echo "floor $(iw floor), leakwatch host-wide $(iw lw), leakwatch -p other $(iw lwp).  A forced ring-buffer"
echo "wakeup is one; so is a refill or free of the BPF memory allocator behind task storage (the floor"
echo "makes those too); they count every CPU and every source, other jobs' tracers included."
echo
echo "Every run (tracer phase program ns/run runs):"
echo
echo '```'
sort -k1,1 -k2,2 -k3,3 "$COSTS"
echo '```'
result prog_floor_ref_ns "$ref"
result prog_iwi_fork_lw "$(iw lw)"
