#!/bin/bash
# Goroutine scan cost, side by side with the thread scan: a Go program with N
# parked goroutines (`gobench park -n N`: a quarter each in chan receive,
# select, sync.Mutex.Lock and time.Sleep, 5 frames deep) for N in
# GOSCAN_GOROUTINES (1,000 10,000 100,000 300,000), and `blocker cond
# --threads N` for N in GOSCAN_THREADS (1,000 10,000: 100,000 threads in one
# process is not something this 2-CPU host can hold), each watched alone by
#   leakwatch -p PID -t 1s -i 1s -j -v --metrics 127.0.0.1:PORT
# Start-up: from its launch until its own gauge (leakwatch_goroutines_stuck,
# leakwatch_stuck_threads) counts all N stuck: the tick that finds them reads
# each one's stack once and reports it; its duration is reported too.  Then,
# 1 s later, a window of GOSCAN_WINDOW s (8), the steady state of a watch:
#   - time per scan: the daemon's own gauges, scraped every 0.25 s from a
#     loop of their own (successive distinct values: one per scan):
#     leakwatch_goroutine_scan_last_seconds{pid} (one read of the process's
#     gs: go_process_scan), leakwatch_goroutine_scan_duration_seconds (the
#     tick's whole goroutine part: scans, stacks read, the tracker's pass) and
#     leakwatch_scan_duration_seconds (the iter/task thread scan and its pass);
#   - bytes read per goroutine scan and stacks read per scan: deltas of
#     leakwatch_goroutine_scan_bytes_total, _stacks_read_total over
#     leakwatch_goroutine_scans_total, in the window;
#   - the daemon's CPU per second (schedstat of all its threads: an upper
#     bound of what a scan costs, everything else it does included);
#   - how often the goroutines were read (leakwatch_goroutine_scan_interval_seconds:
#     the daemon stretches it for a process with very many goroutines);
#   - goroutines counted (sample) against the program's NumGoroutine;
#   - peak RSS (VmHWM).
#
#   usage: bench/go_scan.sh [BUILD_DIR]   (root; markdown on stdout)
#   env:   GOSCAN_GOROUTINES ("1000 10000 100000 300000"), GOSCAN_THREADS
#          ("1000 10000"), GOSCAN_WINDOW (8), GOSCAN_STUCK_TIMEOUT (120), GO, BENCH_RESULTS
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_setup
BUILD=$(resolve_build "${1:-build}")
LW=$BUILD/leakwatch
GOB=$(gobench_bin)
BLOCKER=$BUILD/fixtures/blocker
[ -x "$BLOCKER" ] || die "no $BLOCKER: run make first"
GNS=${GOSCAN_GOROUTINES:-1000 10000 100000 300000}
TNS=${GOSCAN_THREADS:-1000 10000}
WINDOW=${GOSCAN_WINDOW:-8}
STUCK_TIMEOUT=${GOSCAN_STUCK_TIMEOUT:-120}
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
NOTES=()

# Room for the threads (as scale.sh): pid_max, threads-max, map count.
tmax=0
for n in $TNS; do [ "$n" -gt "$tmax" ] && tmax=$n; done
need=$(($(awk '{ split($4, a, "/"); print a[2] }' /proc/loadavg) + tmax + 2000))
[ "$(sysctl -n kernel.pid_max)" -lt "$need" ] && set_sysctl kernel.pid_max "$need"
[ "$(sysctl -n kernel.threads-max)" -lt "$need" ] && set_sysctl kernel.threads-max "$need"
[ "$(sysctl -n vm.max_map_count)" -lt $((2 * tmax + 1000)) ] && set_sysctl vm.max_map_count $((2 * tmax + 1000))
ulimit -u "$(ulimit -H -u)" 2>/dev/null || true

# The scan metrics worth keeping from a scrape (names as the daemon gives them).
SCRAPE_RE='^leakwatch_(scan_duration_seconds|stuck_threads|goroutines_stuck|go[a-z_]*(scan|bytes|read)[a-z_]*)[ {]'

# watch KIND N: start the target, watch it, append one JSON line to runs.jsonl.
watch() {
	local kind=$1 n=$2 tpid port out=$WORK/lw.out err=$WORK/lw.err scrapes=$WORK/scrapes spid
	local n0 n1 t0 t1 hwm=0 h ng=null i t_ready t_start t_lw t_all gauge_re startup_tick
	: >"$WORK/target.out"
	t_start=$(now)
	if [ "$kind" = goroutines ]; then
		"$GOB" park -n "$n" -exit-after 600s >"$WORK/target.out" 2>"$WORK/target.err" &
		tpid=$!
		bg_track "$tpid"
		wait_for "$WORK/target.out" '^ready' "$tpid" 120 || die "gobench park -n $n: $(cat "$WORK/target.err")"
		ng=$(awk '$1 == "goroutines" { print $2 }' "$WORK/target.out")
	else
		"$BLOCKER" cond --threads "$n" --exit-after 600 >"$WORK/target.out" 2>"$WORK/target.err" &
		tpid=$!
		bg_track "$tpid"
		for ((i = 0; i < 1200; i++)); do
			[ "$(grep -c '^tid' "$WORK/target.out" || true)" -ge "$n" ] && break
			mine "$tpid" || die "blocker --threads $n: $(cat "$WORK/target.err")"
			sleep 0.05
		done
	fi
	t_ready=$(now)
	port=$((20000 + ($$ + n) % 20000))
	: >"$scrapes"
	t_lw=$(now)
	"$LW" -p "$tpid" -t 1s -i 1s -j -v --metrics "127.0.0.1:$port" >"$out" 2>"$err" &
	LPID=$!
	bg_track "$LPID"
	wait_for "$err" 'leakwatch: watching' "$LPID" 60 || die "leakwatch did not start: $(tail -3 "$err")"
	(while :; do
		curl -s --max-time 2 "http://127.0.0.1:$port/metrics" 2>/dev/null |
			awk -v t="$(now)" -v re="$SCRAPE_RE" '$0 ~ re { print t, $1, $2 }' >>"$scrapes" || true
		sleep 0.25
	done) &
	spid=$!
	bg_track "$spid"
	# Start-up: until the daemon's own gauge counts them all stuck (the
	# tick that found them, read their stacks and reported them is over).
	[ "$kind" = goroutines ] && gauge_re='^leakwatch_goroutines_stuck[{]' || gauge_re='^leakwatch_stuck_threads[{]'
	t_all=
	for ((i = 0; i < STUCK_TIMEOUT * 4; i++)); do
		mine "$LPID" || die "leakwatch died: $(tail -3 "$err")"
		if awk -v re="$gauge_re" -v n="$n" '$2 ~ re && $3 >= n { f = 1 } END { exit !f }' "$scrapes"; then
			t_all=$(now)
			break
		fi
		h=$(hwm_kb "$LPID" || true)
		[ -n "$h" ] && [ "$h" -gt "$hwm" ] && hwm=$h
		sleep 0.25
	done
	[ -n "$t_all" ] || NOTES+=("$n $kind: not all stuck after ${STUCK_TIMEOUT} s: measured anyway")
	t_all=${t_all:-$(now)}
	sleep 1
	n0=$(cpu_ns "$LPID") t0=$(now)
	for ((i = 0; i < WINDOW * 4; i++)); do
		h=$(hwm_kb "$LPID" || true)
		[ -n "$h" ] && [ "$h" -gt "$hwm" ] && hwm=$h
		sleep 0.25
	done
	n1=$(cpu_ns "$LPID") t1=$(now)
	stop_pid "$LPID"
	stop_pid "$spid" 2 TERM
	stop_pid "$tpid" 5 TERM
	# The start-up's longest tick: the gauges before the window.
	startup_tick=$(awk -v t0="$t0" '$1 < t0 && $2 ~ /^leakwatch_scan_duration_seconds/ && $3 > m { m = $3 } END { printf "%.3f", m }' "$scrapes")

	# Per metric series (name with labels): successive distinct values after
	# the settle time; counters as (last - first) per scan.
	awk -v t0="$t0" '$1 >= t0 && $3 != prev[$2] { prev[$2] = $3; print $2, $3 }' "$scrapes" >"$WORK/series"
	# The goroutine scans' durations: the gauge at each scrape where the
	# scan counter moved (a tick that read no goroutines sets it too).
	awk -v t0="$t0" 'function flush() { if (sc != "" && psc != "" && sc > psc && d != "") print d
			if (sc != "") psc = sc; sc = d = "" }
		$1 < t0 { next } $1 != cur { flush(); cur = $1 }
		$2 ~ /^leakwatch_goroutine_scans_total/ { sc = $3 }
		$2 ~ /^leakwatch_goroutine_scan_duration_seconds/ { d = $3 }
		END { flush() }' "$scrapes" >"$WORK/gscans"
	jq -n -c --arg kind "$kind" --argjson n "$n" --argjson ng "$ng" \
		--argjson cpu_ms_per_s "$(awk -v a="$n0" -v b="$n1" -v s="$t0" -v e="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e6 / (e - s) }')" \
		--argjson hwm "$hwm" \
		--argjson start_s "$(awk -v a="$t_start" -v b="$t_ready" 'BEGIN { printf "%.2f", b - a }')" \
		--argjson all_stuck_s "$(awk -v a="$t_lw" -v b="$t_all" 'BEGIN { printf "%.2f", b - a }')" \
		--argjson startup_tick_s "$startup_tick" \
		--slurpfile samples <(jq -c 'select(.type == "sample")' "$out") \
		--slurpfile summary <(jq -c 'select(.type == "summary")' "$out") \
		--argjson stuck "$(grep -c '"type":"stuck"' "$out" || true)" \
		--arg series "$(cat "$WORK/series")" \
		--arg gscans "$(cat "$WORK/gscans")" \
		'{ kind: $kind, n: $n, numgoroutine: $ng, target_start_s: $start_s, cpu_ms_per_s: $cpu_ms_per_s,
		   all_stuck_s: $all_stuck_s, startup_tick_s: $startup_tick_s,
		   gscans: ($gscans | split("\n") | map(select(length > 0) | tonumber)),
		   hwm_kb: $hwm, stuck: $stuck, last_sample: ($samples | last), summary: ($summary | last),
		   series: ($series | split("\n") | map(select(length > 0) | split(" ")
			| { key: .[0], v: (.[1] | tonumber) }) | group_by(.key)
			| map({ key: .[0].key, value: map(.v) }) | from_entries) }' >>"$WORK/runs.jsonl"
	log "go_scan: $kind $n: daemon $(jq -r .cpu_ms_per_s <(tail -1 "$WORK/runs.jsonl")) ms CPU per s, VmHWM $hwm KiB"
}

: >"$WORK/runs.jsonl"
for n in $GNS; do
	log "go_scan: $n parked goroutines"
	watch goroutines "$n"
done
for n in $TNS; do
	log "go_scan: $n blocked threads"
	watch threads "$n"
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# col KIND N JQ: one value of one run.
col() { jq -r --arg k "$1" --argjson n "$2" "select(.kind == \$k and .n == \$n) | $3 // empty" "$WORK/runs.jsonl"; }
# series KIND N REGEX: the values of the gauges whose name matches, one per line.
series() { jq -r --arg k "$1" --argjson n "$2" --arg re "$3" \
	'select(.kind == $k and .n == $n) | .series | to_entries[] | select(.key | test($re)) | .value[]' "$WORK/runs.jsonl"; }
ms() { awk '{ printf "%.2f\n", $1 * 1000 }'; }
smax() { sort -g | tail -1; }
f() { case ${1:-} in '' | nan) echo "n/a" ;; *) printf "%.${2:-1}f" "$1" ;; esac; }
# counter_per_scan KIND N REGEX: the counter's delta over the scans' delta in the window.
counter_per_scan() {
	local c s
	c=$(series "$1" "$2" "$3" | awk 'NR == 1 { f = $1 } { l = $1 } END { if (NR > 0) print l - f }')
	s=$(series "$1" "$2" '^leakwatch_goroutine_scans_total' | awk 'NR == 1 { f = $1 } { l = $1 } END { if (NR > 0) print l - f }')
	if [ -n "$c" ] && [ -n "$s" ] && [ "$s" -gt 0 ]; then
		awk -v c="$c" -v s="$s" 'BEGIN { printf "%.0f", c / s }'
	fi
}
# gauge KIND N REGEX: "median (max)" in ms of a scan gauge's values;
# gauge_med: the median alone.
# gauge KIND N REGEX: "median (max)" in ms of a scan gauge's values;
# gauge_med: the median alone.  REGEX "gscans": the goroutine scans.
gvals() {
	if [ "$3" = gscans ]; then
		jq -r --arg k "$1" --argjson n "$2" 'select(.kind == $k and .n == $n) | .gscans[]' "$WORK/runs.jsonl"
	else
		series "$@"
	fi
}
gauge() {
	local v
	v=$(gvals "$@" | ms)
	if [ -n "$v" ]; then
		echo "$(f "$(median <<<"$v")" 2) ($(f "$(smax <<<"$v")" 2))"
	else
		echo "n/a"
	fi
}
gauge_med() {
	local v
	v=$(gvals "$@" | ms)
	if [ -n "$v" ]; then median <<<"$v"; fi
}

echo "Each target alone, watched by \`leakwatch -p PID -t 1s -i 1s -j -v --metrics 127.0.0.1:PORT\`: start-up until"
echo "its own gauge counts all N stuck (their stacks read once, all reported), then a window of ${WINDOW} s, 1 s later."
echo "Goroutines: \`gobench park -n N\` (bench/go, $("$GOB" version)); threads: \`blocker cond --threads N\`."
echo "Load average at start $load_start, at end $load_end (other helpers' builds and tests share the 2 CPUs)."
for n in "${NOTES[@]}"; do echo "Note: $n."; done
echo
echo "Steady state (the window): a goroutine scan is go_watch_scan (leakwatch_goroutine_scan_duration_seconds: read the gs,"
echo "feed the tracker, stacks of new waits), its read of the gs alone is leakwatch_goroutine_scan_last_seconds; the whole tick"
echo "(leakwatch_scan_duration_seconds) is the thread scan, the goroutine scan and the tracker's pass: for blocked threads, the thread scan."
echo
echo "| target | goroutine scan, median ms (max) | its read of the gs, median ms (max) | whole tick, median ms (max) | goroutine scans in the window | bytes read per goroutine scan | stacks read per scan | goroutines read every | daemon CPU, ms per s | VmHWM MiB | counted (last sample) vs the program's |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for kind in goroutines threads; do
	[ "$kind" = goroutines ] && ns=$GNS || ns=$TNS
	for n in $ns; do
		g1=$(gauge "$kind" "$n" '^leakwatch_goroutine_scan_last_seconds')
		g1med=$(gauge_med "$kind" "$n" '^leakwatch_goroutine_scan_last_seconds')
		g2=$(gauge "$kind" "$n" gscans)
		g2med=$(gauge_med "$kind" "$n" gscans)
		t1=$(gauge "$kind" "$n" '^leakwatch_scan_duration_seconds')
		t1med=$(gauge_med "$kind" "$n" '^leakwatch_scan_duration_seconds')
		scans=$(series "$kind" "$n" '^leakwatch_goroutine_scans_total' | awk 'NR == 1 { f = $1 } { l = $1 } END { print (NR > 0) ? l - f : "n/a" }')
		bytes=$(counter_per_scan "$kind" "$n" '^leakwatch_goroutine_scan_bytes_total')
		stacks=$(counter_per_scan "$kind" "$n" '^leakwatch_goroutine_stacks_read_total')
		every=$(series "$kind" "$n" '^leakwatch_goroutine_scan_interval_seconds' | tail -1)
		if [ "$kind" = goroutines ]; then
			counted="$(f "$(col "$kind" "$n" '.last_sample.goroutines')" 0) vs $(f "$(col "$kind" "$n" .numgoroutine)" 0)"
		else
			counted="$(f "$(col "$kind" "$n" '.last_sample.stuck')" 0) stuck threads vs $n"
		fi
		[ -n "$every" ] && every="$(f "$every" 1) s" || every=n/a
		echo "| $n $kind | $g2 | $g1 | $t1 | $scans | $(f "$bytes" 0) | $(f "$stacks" 0) | $every | $(f "$(col "$kind" "$n" .cpu_ms_per_s)" 1) | $(f "$(col "$kind" "$n" '.hwm_kb / 1024')" 1) | $counted |"
		echo "$n $kind|$(col "$kind" "$n" .all_stuck_s)|$(f "$(col "$kind" "$n" '.startup_tick_s * 1000')" 0)|$(col "$kind" "$n" .stuck)" >>"$WORK/startup"
		result "gos_${kind}_${n}_scan_ms" "$g1med"
		result "gos_${kind}_${n}_tick_ms" "$g2med"
		result "gos_${kind}_${n}_thread_scan_ms" "$t1med"
		result "gos_${kind}_${n}_bytes" "$bytes"
		result "gos_${kind}_${n}_cpu_ms_per_s" "$(col "$kind" "$n" .cpu_ms_per_s)"
		result "gos_${kind}_${n}_hwm_kb" "$(col "$kind" "$n" .hwm_kb)"
		result "gos_${kind}_${n}_startup_tick_ms" "$(col "$kind" "$n" '.startup_tick_s * 1000')"
	done
done
echo
echo "Start-up:"
echo
echo "| target | leakwatch launched -> all counted stuck | longest tick before the window (finds them stuck, reads their stacks, reports them) | \`stuck\` records |"
echo "|---|---|---|---|"
awk -F'|' '{ printf "| %s | %s s | %s ms | %s |\n", $1, $2, $3, $4 }' "$WORK/startup"
echo
echo "Metrics the daemon exposed about its scans (the names this table reads):"
echo "\`$(jq -r '.series | keys[]' "$WORK/runs.jsonl" | sed 's/{.*//' | sort -u | paste -sd' ' -)\`."
echo "Last summary of each run:"
echo
echo '```'
jq -c '{ kind, n, summary }' "$WORK/runs.jsonl"
echo '```'
