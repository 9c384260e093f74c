#!/bin/bash
# Overhead of leakwatch on three benchmarks, side by side with the floor and an
# offcputime-style peer, in one run.
#
# For each workload, ROUNDS rounds (sched pipe: PIPE_ROUNDS, by default
# 2 x ROUNDS + 1, since its targets, 0.01 and 0.02, are well inside the
# round-to-round noise of a few %); each round runs the workload bare, under
# the floor tracer, under leakwatch host-wide, under leakwatch -p on an
# unrelated idle process and under bench/offcpu.bt (bpftrace), in an order
# that rotates by one every round, so that drift (other jobs on the machine)
# hits every tracer alike.  Each traced time is divided by the bare time of
# the same round; the table shows the median of these ratios over the rounds.
# Every tracer is started afresh for each run and the run starts once it is
# attached.  The time is the benchmark's own: "Total time" for sched pipe and
# messaging, the mean wake-up time for futex wake; futex wake's wall time
# (thread creation, wake-ups, exits) is a row of its own.
#
#   usage: bench/overhead.sh [BUILD_DIR]   (root; markdown on stdout)
#   env:   ROUNDS (5), PIPE_ROUNDS (2 x ROUNDS + 1), PIPE_LOOPS (200000),
#          MSG_GROUPS (4), MSG_LOOPS (150),
#          TRACERS ("bare floor lw lwp offcpu"), WORKLOADS ("pipe messaging futex"),
#          FUTEX_THREADS (300), FLOOR_SRC, BENCH_RESULTS (key=value file)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_setup
BUILD=$(resolve_build "${1:-build}")
LW=$BUILD/leakwatch
FLOOR=$(floor_bin)
ROUNDS=${ROUNDS:-5}
PIPE_ROUNDS=${PIPE_ROUNDS:-$((2 * ROUNDS + 1))}
PIPE_LOOPS=${PIPE_LOOPS:-200000}
MSG_GROUPS=${MSG_GROUPS:-4}
MSG_LOOPS=${MSG_LOOPS:-150}
FUTEX_THREADS=${FUTEX_THREADS:-300}
command -v bpftrace >/dev/null || die "bpftrace is missing: scripts/install-deps.sh installs it"
start_idle_target

read -ra TRACERS <<<"${TRACERS:-bare floor lw lwp offcpu}" # bare must be one
read -ra WORKLOADS <<<"${WORKLOADS:-pipe messaging futex}"
TRACED=()
for t in "${TRACERS[@]}"; do [ "$t" = bare ] || TRACED+=("$t"); done
declare -A CMD=(
	[pipe]="taskset -c 1 perf bench sched pipe -l $PIPE_LOOPS"
	[messaging]="perf bench sched messaging -g $MSG_GROUPS -l $MSG_LOOPS"
	[futex]="perf bench futex wake -s -t $FUTEX_THREADS"
)
DATA=$WORK/overhead.dat # workload round tracer own_s wall_s

# run_workload WL: runs it once; prints "own_s wall_s".
run_workload() {
	local out=$WORK/wl.out s e own
	s=$(now)
	# shellcheck disable=SC2086
	${CMD[$1]} >"$out" 2>&1 || { cat "$out" >&2; die "workload $1 failed"; }
	e=$(now)
	own=$(awk '/Total time:/ { t = $3 } /^Wokeup/ { t = $7 / 1000 } END { print t }' "$out")
	[ -n "$own" ] || { cat "$out" >&2; die "no time in the output of $1"; }
	awk -v o="$own" -v s="$s" -v e="$e" 'BEGIN { printf "%s %.6f\n", o, e - s }'
}

for wl in "${WORKLOADS[@]}"; do
	rounds=$ROUNDS
	[ "$wl" = pipe ] && rounds=$PIPE_ROUNDS
	for ((r = 0; r < rounds; r++)); do
		order=()
		for ((i = 0; i < ${#TRACERS[@]}; i++)); do
			order+=("${TRACERS[(i + r) % ${#TRACERS[@]}]}")
		done
		log "overhead: $wl round $((r + 1))/$rounds: ${order[*]}"
		for tr in "${order[@]}"; do
			start_tracer "$tr"
			t=$(run_workload "$wl")
			stop_tracer
			echo "$wl $r $tr $t" >>"$DATA"
		done
	done
done

# Ratios to the bare run of the same round: "workload metric tracer round ratio".
awk '
	{ own[$1, $2, $3] = $4; wall[$1, $2, $3] = $5; wl[$1] = 1; rd[$2] = 1; tr[$3] = 1 }
	END {
		for (w in wl) for (r in rd) for (t in tr) {
			if (t == "bare" || !((w, r, t) in own)) continue
			m = (w == "futex") ? "wake" : "total"
			printf "%s %s %s %s %.4f\n", w, m, t, r, own[w, r, t] / own[w, r, "bare"]
			if (w == "futex")
				printf "%s wall %s %s %.4f\n", w, t, r, wall[w, r, t] / wall[w, r, "bare"]
		}
	}' "$DATA" | sort -k1,1 -k2,2 -k3,3 -k4,4n >"$WORK/ratios"

med_ratio() { awk -v w="$1" -v m="$2" -v t="$3" '$1 == w && $2 == m && $3 == t { print $5 }' "$WORK/ratios" | median; }
med_bare() {
	awk -v w="$1" -v c="$2" '$1 == w && $3 == "bare" { print $c }' "$DATA" | median
}
rounds_of() {
	awk -v w="$1" -v m="$2" -v t="$3" '$1 == w && $2 == m && $3 == t { printf "%s%.3f", sep, $5; sep = " " }' "$WORK/ratios"
}

declare -A LABEL=(
	[pipe/total]="\`taskset -c 1 perf bench sched pipe -l $PIPE_LOOPS\` (Total time)"
	[messaging/total]="\`perf bench sched messaging -g $MSG_GROUPS -l $MSG_LOOPS\` (Total time)"
	[futex/wake]="\`perf bench futex wake -s -t $FUTEX_THREADS\` (mean wake-up time)"
	[futex/wall]="\`perf bench futex wake -s -t $FUTEX_THREADS\` (wall time)"
)
ROWS=()
for w in "${WORKLOADS[@]}"; do
	case $w in futex) ROWS+=(futex/wake futex/wall) ;; *) ROWS+=("$w/total") ;; esac
done
declare -A HEAD=([floor]="floor" [lw]="leakwatch host-wide" [lwp]="leakwatch -p other" [offcpu]="offcpu.bt (bpftrace)")
echo "Median over the rounds of (time under the tracer) / (bare time in the same round); lower is better, 1.00 = no cost."
echo "Rounds: sched pipe $PIPE_ROUNDS, the others $ROUNDS."
echo
printf '| workload | bare (median) |'
for t in "${TRACED[@]}"; do printf ' %s |' "${HEAD[$t]}"; done
printf '\n|---|---|'
for t in "${TRACED[@]}"; do printf -- '---|'; done
echo
for row in "${ROWS[@]}"; do
	w=${row%/*} m=${row#*/}
	if [ "$m" = wall ]; then col=5 unit=s; else col=4 unit=s; fi
	bare=$(med_bare "$w" "$col")
	[ "$m" = wake ] && bare=$(awk -v b="$bare" 'BEGIN { print b * 1000 }') unit=ms
	printf '| %s | %.3f %s |' "${LABEL[$row]}" "$bare" "$unit"
	for t in "${TRACED[@]}"; do
		printf ' %.3f |' "$(med_ratio "$w" "$m" "$t")"
	done
	echo
done
# Paired: (tracer's ratio - floor's ratio) in the same round, median over rounds.
pdiff() {
	awk -v w="$1" -v m="$2" -v t="$3" '$1 == w && $2 == m && $3 == t { r[$4] = $5 }
		$1 == w && $2 == m && $3 == "floor" { f[$4] = $5 }
		END { for (k in r) if (k in f) print r[k] - f[k] }' "$WORK/ratios" | median
}
if [[ " ${TRACED[*]} " == *" floor "* ]]; then
	echo
	echo "Paired with the floor: median over rounds of (ratio under the tracer - ratio under the floor), same round:"
	echo
	printf '| workload |'
	for t in "${TRACED[@]}"; do [ "$t" = floor ] || printf ' %s - floor |' "${HEAD[$t]}"; done
	printf '\n|---|'
	for t in "${TRACED[@]}"; do [ "$t" = floor ] || printf -- '---|'; done
	echo
	for row in "${ROWS[@]}"; do
		w=${row%/*} m=${row#*/}
		printf '| %s (%s) |' "$w" "$m"
		for t in "${TRACED[@]}"; do
			[ "$t" = floor ] || printf ' %+.3f |' "$(pdiff "$w" "$m" "$t")"
		done
		echo
	done
fi
echo
echo "Every round's ratio, in round order (the spread shows the noise):"
echo
echo "| workload | tracer | ratio per round |"
echo "|---|---|---|"
for row in "${ROWS[@]}"; do
	w=${row%/*} m=${row#*/}
	for t in "${TRACED[@]}"; do
		echo "| $w ($m) | $t | $(rounds_of "$w" "$m" "$t") |"
	done
done
echo
echo "Raw times (s), workload round tracer own wall:"
echo
echo '```'
cat "$DATA"
echo '```'

for row in "${ROWS[@]}"; do
	w=${row%/*} m=${row#*/}
	for t in "${TRACED[@]}"; do
		result "ratio_${w}_${m}_$t" "$(med_ratio "$w" "$m" "$t")"
		[ "$t" = floor ] || result "pdiff_${w}_${m}_$t" "$(pdiff "$w" "$m" "$t")"
	done
done
result overhead_rounds "$ROUNDS"
result pipe_rounds "$PIPE_ROUNDS"
result pipe_cmd "taskset -c 1 perf bench sched pipe -l $PIPE_LOOPS"
