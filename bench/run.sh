#!/bin/bash
# `make bench`: every benchmark of issue 4 in one run, written to
# BENCHMARKS.md next to the targets.
#   1. overhead.sh     sched pipe, sched messaging, futex wake: bare, floor,
#                      leakwatch host-wide, leakwatch -p other, offcpu.bt
#   2. prog_cost.sh    ns per run of each BPF program (bpf_stats) vs the floor
#   3. daemon_cost.sh  the daemon's CPU time and peak RSS, idle and under load
#   4. scale.sh        10,000 blocked threads in one process
#   5. storm.sh        fork/exit storm: every record accounted, no stale state
#   6. go_scan.sh      goroutine scan cost at 1,000-300,000 parked goroutines,
#                      beside the thread scan (issue 9)
#   7. go_latency.sh   a Go HTTP server with 100,000 parked goroutines: latency
#                      and throughput bare, watched, under pprof's goroutine
#                      dump (issue 9)
#   8. symbolize.sh    10,000 threads stuck at 8 sites (inlined waits, no frame
#                      pointers): the first report's unwind+symbolize time and
#                      CPU, then CPU per tick, leakwatch before issue 10
#                      (BENCH_BEFORE) against this build, side by side (issue 10)
# Each part runs alone too (see its header).  The numbers are only reported:
# nothing here fails because a target is missed.  bench/analysis.md, if there,
# is appended (the explanation of missed targets, written by hand).
#
#   usage: bench/run.sh [BUILD_DIR] [OUT_MD]   (root; default build, BENCHMARKS.md)
#   env:   ROUNDS (5), PIPE_ROUNDS (2 x ROUNDS + 1) and the knobs of each part
#          (see each script's header); FLOOR_SRC (../shared/bench/floor);
#          BENCH_PARTS ("1 2 3 4 5 6 7 8": the others are "not run"; give an
#          OUT_MD then, BENCHMARKS.md is the full run's); BENCH_BEFORE (part 8's
#          "before": a git revision, built in BUILD/bench/lw-SHA; default the
#          parent of the commit that added user/frame.h, issue 10's first)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_setup
BUILD=$(resolve_build "${1:-build}")
OUT_MD=${2:-$REPO_DIR/BENCHMARKS.md}
export ROUNDS=${ROUNDS:-5}
export PIPE_ROUNDS=${PIPE_ROUNDS:-$((2 * ROUNDS + 1))}
export PIPE_LOOPS=${PIPE_LOOPS:-200000}
export MSG_GROUPS=${MSG_GROUPS:-4} MSG_LOOPS=${MSG_LOOPS:-150} FUTEX_THREADS=${FUTEX_THREADS:-300}
export IDLE_S=${IDLE_S:-10} SCALE_THREADS=${SCALE_THREADS:-10000} SCALE_DURATION=${SCALE_DURATION:-8s}
export STORM_PROCS=${STORM_PROCS:-4} STORM_THREADS=${STORM_THREADS:-5000}
export GOSCAN_GOROUTINES=${GOSCAN_GOROUTINES:-1000 10000 100000 300000} GOSCAN_THREADS=${GOSCAN_THREADS:-1000 10000}
export GOSCAN_WINDOW=${GOSCAN_WINDOW:-8}
export LAT_GOROUTINES=${LAT_GOROUTINES:-100000} LAT_ROUNDS=${LAT_ROUNDS:-3} LAT_OPEN_S=${LAT_OPEN_S:-6} LAT_CLOSED_S=${LAT_CLOSED_S:-4}
export SYM_THREADS=${SYM_THREADS:-10000} SYM_SITES=${SYM_SITES:-8} SYM_TICKS=${SYM_TICKS:-20} SYM_ROUNDS=${SYM_ROUNDS:-$ROUNDS}
BENCH_PARTS=${BENCH_PARTS:-1 2 3 4 5 6 7 8}
export FLOOR_SRC=${FLOOR_SRC:-$REPO_DIR/../shared/bench/floor}
export BENCH_RESULTS=$WORK/results
: >"$BENCH_RESULTS"
# Build the helpers of the parts to run once, here, so that a missing piece
# fails early.
wants() { # PART...: one of them is to run
	local n
	for n; do grep -qw "$n" <<<"$BENCH_PARTS" && return 0; done
	return 1
}
if wants 1 2; then floor_bin >/dev/null; fi
if wants 2 5; then storm_bin >/dev/null; fi
if wants 6 7; then gobench_bin >/dev/null; fi
if wants 8; then stuck_bin >/dev/null; fi
if wants 1 && ! command -v bpftrace >/dev/null; then
	die "bpftrace is missing: scripts/install-deps.sh installs it"
fi

# What is measured: the tree as make just built it.
commit=$(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$REPO_DIR" status --porcelain -- bpf user include 2>/dev/null |
	awk '{ split($NF, p, "/"); print p[1] "/" }' | sort -u | paste -sd' ' -)
[ -n "$dirty" ] && commit="$commit + uncommitted changes in $dirty"
start=$(date +%s)
date_utc=$(date -u '+%Y-%m-%d %H:%M UTC')
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
others=$(bpftool -j prog show | jq '[.[] | select(.type == "tracing")] | length')
FAILED=()
part() { # N SCRIPT TITLE
	local n=$1 script=$2 title=$3 s e
	if ! wants "$n"; then
		echo "Not run (BENCH_PARTS=\"$BENCH_PARTS\")." >"$WORK/$n.md"
		return 0
	fi
	s=$(date +%s)
	log "== part $n: $title"
	if "$BENCH_DIR/$script" "$BUILD" >"$WORK/$n.md" 2>"$WORK/$n.log"; then
		e=$(date +%s)
		echo "($script, $((e - s)) s)" >>"$WORK/$n.md"
	else
		FAILED+=("$n")
		{
			echo "**This part failed** (\`bench/$script\`); its log ends with:"
			echo
			echo '```'
			tail -20 "$WORK/$n.log"
			echo '```'
		} >>"$WORK/$n.md"
	fi
	grep '^\[bench' "$WORK/$n.log" | tail -3 >&2 || true
}
part 1 overhead.sh "overhead, $ROUNDS alternating rounds ($PIPE_ROUNDS for sched pipe)"
part 2 prog_cost.sh "cost per BPF program run"
part 3 daemon_cost.sh "daemon CPU and RSS"
part 4 scale.sh "$SCALE_THREADS blocked threads"
part 5 storm.sh "fork/exit storm"
part 6 go_scan.sh "goroutine scan: $GOSCAN_GOROUTINES goroutines, $GOSCAN_THREADS threads"
part 7 go_latency.sh "Go HTTP server with $LAT_GOROUTINES parked goroutines, $LAT_ROUNDS rotating rounds"
part 8 symbolize.sh "$SYM_THREADS stuck threads, before issue 10 and now, $SYM_ROUNDS alternating rounds"
elapsed=$(($(date +%s) - start))

# ---- targets
declare -A R
while IFS='=' read -r k v; do R[$k]=$v; done <"$BENCH_RESULTS"
v() { echo "${R[$1]:-}"; }
# verdict EXPR: "met" or "not met" (awk expression over the values); "n/a" when a value is missing.
verdict() {
	local expr=$1
	shift
	local a
	for a in "$@"; do
		case $a in '' | nan | n/a) echo "n/a" && return ;; esac
	done
	awk -v a="${1:-}" -v b="${2:-}" -v c="${3:-}" "BEGIN { print ($expr) ? \"met\" : \"**not met**\" }"
}
fmt() { case ${1:-} in '' | nan | n/a) echo "n/a" ;; *) printf "%.${2:-3}f" "$1" ;; esac; }
sfmt() { case ${1:-} in '' | nan | n/a) echo "n/a" ;; *) printf "%+.3f" "$1" ;; esac; }
diff_() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.3f", a - b }'; }
x_() { awk -v a="$1" -v b="$2" 'BEGIN { if (a !~ /^[0-9.]+$/ || b + 0 == 0) print "n/a"; else printf "%.2fx", a / b }'; }

pf=$(v ratio_pipe_total_floor) pl=$(v ratio_pipe_total_lw) pp=$(v ratio_pipe_total_lwp)
ref=$(v prog_floor_ref_ns)
{
	echo "| target | measured | met? |"
	echo "|---|---|---|"
	echo "| sched pipe ratio, leakwatch host-wide, at most floor + 0.02 | $(fmt "$pl") vs floor $(fmt "$pf") ($(diff_ "$pl" "$pf"); paired per round: $(sfmt "$(v pdiff_pipe_total_lw)")) | $(verdict 'a - b <= 0.02' "$pl" "$pf") |"
	echo "| sched pipe ratio, leakwatch -p other process, within 0.01 of the floor | $(fmt "$pp") vs floor $(fmt "$pf") ($(diff_ "$pp" "$pf"); paired per round: $(sfmt "$(v pdiff_pipe_total_lwp)")) | $(verdict 'a - b <= 0.01' "$pp" "$pf") |"
	for prow in on_switch_pipe on_fork_fork on_exit_fork scan_tasks_steady scan_tasks_start; do
		c=$(v "prog_${prow}_ns")
		case $prow in
		on_switch_pipe) what="on_switch (sched_switch), per switch" ;;
		on_fork_fork) what="on_fork (sched_process_fork), per task created" ;;
		on_exit_fork) what="on_exit (sched_process_exit), per task exited" ;;
		scan_tasks_steady) what="scan_tasks (iter/task), per task scanned, steady state" ;;
		scan_tasks_start) what="scan_tasks (iter/task), per task scanned, first 2 s (takes stacks)" ;;
		esac
		echo "| BPF $what, host-wide, at most 1.5x the floor's ($(fmt "$ref" 0) ns) | $(fmt "$c" 0) ns ($(x_ "$c" "$ref")) | $(verdict 'a <= 1.5 * b' "$c" "$ref") |"
	done
	c=$(v scale_iter_ns_task)
	echo "| BPF scan_tasks per task visited with $(v scale_threads) blocked threads (section 4, bpf_stats), at most 1.5x the floor's | $(fmt "$c" 0) ns ($(x_ "$c" "$ref")) | $(verdict 'a <= 1.5 * b' "$c" "$ref") |"
	c=$(v prog_p_on_switch_pipe_ns)
	echo "| BPF on_switch with -p other, at most 1.5x the floor's | $(fmt "$c" 0) ns ($(x_ "$c" "$ref")) | $(verdict 'a <= 1.5 * b' "$c" "$ref") |"
	c=$(v daemon_cpu_idle_pct)
	echo "| daemon CPU, host-wide, idle: under 1% of a core | $(fmt "$c" 2)% (schedstat: $(fmt "$(v daemon_cpu_idle_ns_pct)" 2)%) | $(verdict 'a < 1' "$c") |"
	c=$(v daemon_cpu_pipe_pct)
	echo "| daemon CPU, host-wide, during sched pipe: under 5% | $(fmt "$c" 2)% (schedstat: $(fmt "$(v daemon_cpu_pipe_ns_pct)" 2)%) | $(verdict 'a < 5' "$c") |"
	c=$(v scale_hwm_kb)
	echo "| RSS with $(v scale_threads) stuck threads: under 50 MiB | $(awk -v k="$c" 'BEGIN { printf "%.1f MiB", k / 1024 }') VmHWM | $(verdict 'a < 50 * 1024' "$c") |"
	c=$(v scale_scan_ms)
	echo "| scan of $(v scale_threads) threads: under 100 ms | median $(fmt "$c" 1) ms, max $(fmt "$(v scale_scan_max_ms)" 1) ms (the scan that found all stuck, with stack unwinding); daemon CPU $(fmt "$(v scale_cpu_ms_per_interval)" 1) ms per interval | $(verdict 'a < 100' "$c") |"
	echo "| every loss accounted: records seen = delivered + counted drops | storm: $(v storm_run_seen) of $(v storm_run_expected) expected; reader stopped: $(v storm_stopped_seen) of $(v storm_run_expected) ($(v storm_stopped_ringbuf) counted drops); no stale state: $(v storm_stale_ok) | $(verdict 'a == "yes" && b == "yes"' "$(v storm_run_accounted)" "$(v storm_stopped_accounted)") |"
} >"$WORK/targets.md"

ratio_() { case ${1:-} in '' | nan | n/a) echo "n/a" ;; *) printf "%.2f" "$1" ;; esac; }
{
	echo "| target | measured | met? |"
	echo "|---|---|---|"
	c=$(v gos_goroutines_100000_tick_ms) cpu=$(v gos_goroutines_100000_cpu_ms_per_s)
	echo "| 100,000 parked goroutines scanned in under 100 ms of daemon time | goroutine scan (go_watch_scan) median $(fmt "$c" 1) ms (the read of the gs alone: $(fmt "$(v gos_goroutines_100000_scan_ms)" 1) ms, $(awk -v b="$(v gos_goroutines_100000_bytes)" 'BEGIN { if (b == "") print "n/a"; else printf "%.1f MB", b / 1e6 }') read per scan); daemon CPU $(fmt "$cpu" 1) ms per s at -i 1s (everything it does) | $(verdict 'a < 100' "$c") |"
	c=$(v gos_goroutines_300000_tick_ms)
	echo "| 300,000 parked goroutines (reported, no target) | goroutine scan (go_watch_scan) median $(fmt "$c" 1) ms; daemon CPU $(fmt "$(v gos_goroutines_300000_cpu_ms_per_s)" 1) ms per s; VmHWM $(awk -v k="$(v gos_goroutines_300000_hwm_kb)" 'BEGIN { if (k == "") print "n/a"; else printf "%.1f MiB", k / 1024 }') | - |"
	echo "| the same at 10,000: goroutine scan vs thread scan of 10,000 blocked threads (reported) | goroutines $(fmt "$(v gos_goroutines_10000_tick_ms)" 2) ms, threads $(fmt "$(v gos_threads_10000_thread_scan_ms)" 2) ms per scan; daemon CPU $(fmt "$(v gos_goroutines_10000_cpu_ms_per_s)" 1) vs $(fmt "$(v gos_threads_10000_cpu_ms_per_s)" 1) ms per s | - |"
	c=$(v gol_lw_p99_ratio)
	echo "| watched server (100,000 goroutines, open loop at $(v gol_rate) req/s): p99 within 10% of bare | p99 $(ratio_ "$c")x bare ($(fmt "$(v gol_lw_p99_ms)" 3) vs $(fmt "$(v gol_bare_p99_ms)" 3) ms); p999 $(ratio_ "$(v gol_lw_p999_ratio)")x | $(verdict 'a <= 1.10' "$c") |"
	c=$(v gol_lw_closed_rps_ratio)
	echo "| watched server: throughput within 5% of bare (closed loop: the capacity left; open loop: achieved) | closed $(ratio_ "$c")x bare ($(fmt "$(v gol_lw_closed_rps)" 0) vs $(fmt "$(v gol_bare_closed_rps)" 0) req/s); open $(ratio_ "$(v gol_lw_open_rps_ratio)")x | $(verdict 'a >= 0.95 && b >= 0.95' "$c" "$(v gol_lw_open_rps_ratio)") |"
	echo "| ... far ahead of pprof's: goroutine?debug=1 / debug=2 each second (reported) | p99 $(ratio_ "$(v gol_pprof1_p99_ratio)")x / $(ratio_ "$(v gol_pprof2_p99_ratio)")x bare; closed-loop throughput $(ratio_ "$(v gol_pprof1_closed_rps_ratio)")x / $(ratio_ "$(v gol_pprof2_closed_rps_ratio)")x bare | - |"
} >"$WORK/targets9.md"

# Issue 10 asks to show the cost, no number: the first report is reported; the
# steady state must not grow (sites are symbolized once): within 10%, the
# noise of this machine, paired by round.
{
	echo "| target | measured | met? |"
	echo "|---|---|---|"
	echo "| first report of $(v sym_threads) stuck threads at $(v sym_sites) sites: the scan that unwinds and symbolizes them, before issue 10 ($(v sym_before)) and now (reported) | $(fmt "$(v sym_before_first_scan_ms)" 1) ms before, $(fmt "$(v sym_after_first_scan_ms)" 1) ms now ($(ratio_ "$(v sym_ratio_first_scan_ms)")x); launch to all reported $(fmt "$(v sym_before_launch_all_ms)" 0) / $(fmt "$(v sym_after_launch_all_ms)" 0) ms; sites that name their inlined wait with file:line: $(v sym_before_sites_inline_named) / $(v sym_after_sites_inline_named) of $(v sym_sites) | - |"
	echo "| ... its CPU, from the \"watching\" banner to its end; and from launch to all reported (reported) | $(fmt "$(v sym_before_ns_first_scan_ms)" 1) ms before, $(fmt "$(v sym_after_ns_first_scan_ms)" 1) ms now ($(ratio_ "$(v sym_ratio_ns_first_scan_ms)")x); from launch $(fmt "$(v sym_before_cpu_all_ms)" 0) / $(fmt "$(v sym_after_cpu_all_ms)" 0) ms | - |"
	c=$(v sym_after_hwm_kb)
	echo "| RSS with $(v sym_threads) stuck threads, symbolized: under 50 MiB (issue 4's bound) | $(awk -v k="$c" 'BEGIN { printf "%.1f MiB", k / 1024 }') now, $(awk -v k="$(v sym_before_hwm_kb)" 'BEGIN { printf "%.1f MiB", k / 1024 }') before (VmHWM) | $(verdict 'a < 50 * 1024' "$c") |"
	c=$(v sym_ratio_ns_tick_ms)
	echo "| steady state: CPU per 1 s tick with $(v sym_threads) stuck threads, now within 10% of before issue 10 (symbolization off the scan path) | $(fmt "$(v sym_after_ns_tick_ms)" 2) ms now, $(fmt "$(v sym_before_ns_tick_ms)" 2) ms before ($(ratio_ "$c")x); now, first / second half of the ticks: $(fmt "$(v sym_after_ns_tick_first_half_ms)" 2) / $(fmt "$(v sym_after_ns_tick_second_half_ms)" 2) ms | $(verdict 'a <= 1.10' "$c") |"
} >"$WORK/targets10.md"

{
	echo "# leakwatch benchmarks"
	echo
	echo "Written by \`make bench\` (bench/run.sh) on $date_utc, in $((elapsed / 60)) min $((elapsed % 60)) s;"
	echo "leakwatch at $commit.  Regenerate with \`make bench\` (root)."
	echo "These are reports, not tests: nothing fails on a missed target."
	echo
	echo "## Machine"
	echo
	echo "| | |"
	echo "|---|---|"
	echo "| CPUs | $(nproc) ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)) |"
	echo "| memory | $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) |"
	echo "| kernel | $(uname -r) |"
	echo "| virtualization | $(systemd-detect-virt 2>/dev/null || echo unknown) |"
	echo "| tools | $(perf --version), bpftrace $(bpftrace --version | awk '{ print $2 }'), $(bpftool version | head -1) |"
	echo "| load at start | $load_start (other jobs share the machine: tests of other engineers) |"
	echo "| tracing BPF programs loaded by others at start | $others |"
	echo
	echo "Absolute times drift 10-15% on these machines and other jobs run meanwhile: every ratio"
	echo "is taken against the bare run of the same round, and the order of the runs rotates."
	echo
	echo "## Targets (issue 4)"
	echo
	cat "$WORK/targets.md"
	echo
	echo "## Targets: Goroutines (issue 9)"
	echo
	cat "$WORK/targets9.md"
	echo
	echo "## Targets: Stacks in every language (issue 10)"
	echo
	cat "$WORK/targets10.md"
	echo
	echo "## 1. Overhead on benchmarks"
	echo
	cat "$WORK/1.md"
	echo
	echo "## 2. Cost per BPF program run"
	echo
	cat "$WORK/2.md"
	echo
	echo "## 3. Daemon CPU time and RSS"
	echo
	cat "$WORK/3.md"
	echo
	echo "## 4. Scale: $(v scale_threads) threads blocked in one process"
	echo
	cat "$WORK/4.md"
	echo
	echo "## 5. Fork/exit storm"
	echo
	cat "$WORK/5.md"
	echo
	echo "## 6. Goroutine scan cost, beside the thread scan (issue 9)"
	echo
	cat "$WORK/6.md"
	echo
	echo "## 7. The target's cost: a Go HTTP server with $LAT_GOROUTINES parked goroutines (issue 9)"
	echo
	cat "$WORK/7.md"
	echo
	echo "## 8. Symbolization: $SYM_THREADS stuck threads, before issue 10 and now (issue 10)"
	echo
	cat "$WORK/8.md"
	echo
	echo "## Commands"
	echo
	echo '```'
	echo "make bench    # = make all && bench/run.sh build; as root"
	echo "# environment: ROUNDS=$ROUNDS PIPE_ROUNDS=$PIPE_ROUNDS PIPE_LOOPS=$PIPE_LOOPS MSG_GROUPS=$MSG_GROUPS MSG_LOOPS=$MSG_LOOPS"
	echo "#   FUTEX_THREADS=$FUTEX_THREADS IDLE_S=$IDLE_S SCALE_THREADS=$SCALE_THREADS SCALE_DURATION=$SCALE_DURATION"
	echo "#   STORM_PROCS=$STORM_PROCS STORM_THREADS=$STORM_THREADS FLOOR_SRC=../shared/bench/floor"
	echo "# 1. workloads, each bare and under each tracer, order rotating per round:"
	echo "taskset -c 1 perf bench sched pipe -l $PIPE_LOOPS"
	echo "perf bench sched messaging -g $MSG_GROUPS -l $MSG_LOOPS"
	echo "perf bench futex wake -s -t $FUTEX_THREADS"
	echo "#    tracers:"
	echo "../shared/bench/floor/build.sh build/bench/floor && build/bench/floor/floor"
	echo "build/leakwatch -j -i 1s > /dev/null"
	echo "build/leakwatch -j -i 1s -p \$(pid of an idle 'sleep 100000') > /dev/null"
	echo "bpftrace bench/offcpu.bt    # in a private mount namespace with tracefs mounted"
	echo "# 2. sysctl kernel.bpf_stats_enabled=1; per tracer: bpftool -j prog show (its programs: /proc/PID/fdinfo)"
	echo "#    around taskset -c 1 perf bench sched pipe -l $PIPE_LOOPS and build/bench/storm --procs 2 --threads 1000"
	echo "# 3. build/leakwatch -j -i 1s; /proc/PID/stat utime+stime, /proc/PID/status VmHWM: idle ${IDLE_S}s, then sched pipe"
	echo "# 4. build/fixtures/blocker cond --threads $SCALE_THREADS [--start-after 600000, then SIGUSR1]"
	echo "build/leakwatch -p PID -t 1s -i 1s -j -d $SCALE_DURATION -v --metrics 127.0.0.1:PORT"
	echo "# 5. build/leakwatch -j -i 1s -t 1s   # host-wide, meanwhile:"
	echo "build/leakwatch -j -i 500ms -t 1m -- build/bench/storm --procs $STORM_PROCS --threads $STORM_THREADS --linger 3000"
	echo "# 6. GOSCAN_GOROUTINES=\"$GOSCAN_GOROUTINES\" GOSCAN_THREADS=\"$GOSCAN_THREADS\" GOSCAN_WINDOW=$GOSCAN_WINDOW"
	echo "build/bench/gobench park -n N    # (bench/go) or: build/fixtures/blocker cond --threads N"
	echo "build/leakwatch -p PID -t 1s -i 1s -j -v --metrics 127.0.0.1:PORT   # until all stuck, then GOSCAN_WINDOW s"
	echo "# 7. LAT_GOROUTINES=$LAT_GOROUTINES LAT_ROUNDS=$LAT_ROUNDS LAT_OPEN_S=$LAT_OPEN_S LAT_CLOSED_S=$LAT_CLOSED_S"
	echo "taskset -c 1 build/bench/gobench park -n $LAT_GOROUTINES -http 127.0.0.1:0"
	echo "taskset -c 0 build/bench/gobench load -addr ADDR -rate RATE -dur ${LAT_OPEN_S}s -conns 64   # then -dur ${LAT_CLOSED_S}s -conns 8 (closed loop)"
	echo "#    beside: nothing | build/leakwatch -p PID -i 1s -t 1s -j | build/bench/gobench poll -url http://ADDR/debug/pprof/goroutine?debug=1 (or 2) -every 1s"
	echo "# 8. SYM_THREADS=$SYM_THREADS SYM_SITES=$SYM_SITES SYM_TICKS=$SYM_TICKS SYM_ROUNDS=$SYM_ROUNDS BENCH_BEFORE=${BENCH_BEFORE:-(parent of the commit adding user/frame.h)}"
	echo "build/bench/stuck --threads $SYM_THREADS --sites $SYM_SITES    # bench/stuck.c, -O2 -g -fomit-frame-pointer"
	echo "LW -p PID -t 1s -i 1s -j --metrics 127.0.0.1:PORT   # LW: build/bench/lw-SHA/build/leakwatch, then build/leakwatch, alternating"
	echo '```'
	if [ -f "$BENCH_DIR/analysis.md" ]; then
		echo
		cat "$BENCH_DIR/analysis.md"
	fi
} >"$OUT_MD"
log "wrote $OUT_MD ($((elapsed / 60)) min $((elapsed % 60)) s)"
cat "$WORK/targets.md" "$WORK/targets9.md" "$WORK/targets10.md"
if [ ${#FAILED[@]} -gt 0 ]; then
	die "parts that failed: ${FAILED[*]} (see $OUT_MD)"
fi
