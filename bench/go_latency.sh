#!/bin/bash
# The target's own cost: a Go HTTP server on loopback with LAT_GOROUTINES
# (100,000) parked goroutines (`gobench park -http`: a quarter each in chan
# receive, select, sync.Mutex.Lock and time.Sleep, 5 frames deep), pinned to
# CPU LAT_SERVER_CPU (1), under load from `gobench load` pinned to the other
# (LAT_LOAD_CPU, 0), in LAT_ROUNDS rotating rounds of four variants of the
# same server process:
#   bare    nothing else
#   lw      watched: leakwatch -p PID -i 1s -t LAT_THRESHOLD -j > /dev/null,
#           the load starting LAT_LW_SETTLE s (1) after its sample counted all
#           parked goroutines stuck (their stacks read once: the window is the
#           steady state of a long watch, not its start-up, timed apart)
#   pprof1  a poller fetching /debug/pprof/goroutine?debug=1 once a second
#           (start to start; the next at once when one took longer)
#   pprof2  the same with debug=2 (every goroutine's stack)
# Each variant, each round: an open-loop phase (LAT_OPEN_S s at a fixed rate:
# latency p50/p99/p999 of every request, from its scheduled time, so queueing
# behind a stalled server counts, as in wrk2), then a closed-loop phase
# (LAT_CLOSED_S s, LAT_CLOSED_CONNS connections back to back: the throughput
# the server still has).  Both after 1 s of unmeasured warm-up.  The rate is
# calibrated once on the bare server to load it at ~50% of its CPU, at most
# half its closed-loop capacity (LAT_RATE overrides).  Ratios are against bare of the same round, median over
# rounds.  leakwatch and the poller are not pinned: on 2 CPUs they share
# them with the server and the load, as a daemon on a small host would.
# Every process of the benchmark (server, load, leakwatch, poller) runs at
# nice LAT_NICE (-5): other jobs on a shared host then take less of these
# CPUs, and the benchmark's own processes weigh the same among themselves.
#
#   usage: bench/go_latency.sh [BUILD_DIR]   (root; markdown on stdout)
#   env:   LAT_GOROUTINES (100000), LAT_ROUNDS (3), LAT_OPEN_S (6), LAT_CLOSED_S (4),
#          LAT_OPEN_CONNS (64), LAT_CLOSED_CONNS (8), LAT_RATE (calibrated),
#          LAT_THRESHOLD (1s), LAT_LW_SETTLE (1), LAT_SERVER_CPU (1), LAT_LOAD_CPU (0),
#          LAT_NICE (-5), GO, BENCH_RESULTS
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_setup
BUILD=$(resolve_build "${1:-build}")
LW=$BUILD/leakwatch
GOB=$(gobench_bin)
N=${LAT_GOROUTINES:-100000}
ROUNDS=${LAT_ROUNDS:-3}
OPEN_S=${LAT_OPEN_S:-6}
CLOSED_S=${LAT_CLOSED_S:-4}
OPEN_CONNS=${LAT_OPEN_CONNS:-64}
CLOSED_CONNS=${LAT_CLOSED_CONNS:-8}
THRESHOLD=${LAT_THRESHOLD:-1s}
LW_SETTLE=${LAT_LW_SETTLE:-1}
NICE=${LAT_NICE:--5}
SCPU=${LAT_SERVER_CPU:-1}
LCPU=${LAT_LOAD_CPU:-0}
VARIANTS=(bare lw pprof1 pprof2)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

log "go_latency: server with $N parked goroutines on CPU $SCPU"
taskset -c "$SCPU" nice -n "$NICE" "$GOB" park -n "$N" -http 127.0.0.1:0 -exit-after 3600s \
	>"$WORK/server.out" 2>"$WORK/server.err" &
SPID=$!
bg_track "$SPID"
wait_for "$WORK/server.out" '^ready' "$SPID" 120 || die "server did not start: $(cat "$WORK/server.err")"
ADDR=$(awk '$1 == "addr" { print $2 }' "$WORK/server.out")
server_goroutines=$(awk '$1 == "goroutines" { print $2 }' "$WORK/server.out")
server_rss=$(awk '/^VmRSS:/ { print $2 }' /proc/"$SPID"/status)

# load OUT MODE_ARGS...: one run of the generator on its CPU, JSON to OUT.
load() {
	local out=$1
	shift
	taskset -c "$LCPU" nice -n "$NICE" "$GOB" load -addr "$ADDR" "$@" >"$out" 2>>"$WORK/load.err" ||
		die "load generator failed: $(tail -3 "$WORK/load.err")"
}

# Warm-up, then the calibration: closed-loop capacity, then server CPU at a trial rate.
load "$WORK/warm.json" -dur 2s -conns "$CLOSED_CONNS"
load "$WORK/cal_closed.json" -dur 3s -conns "$CLOSED_CONNS"
# The better of the two: another job's burst only ever lowers it.
cap_rps=$(jq -s -r 'map(.throughput) | max' "$WORK/warm.json" "$WORK/cal_closed.json")
if [ -n "${LAT_RATE:-}" ]; then
	RATE=$LAT_RATE
	rate_note="LAT_RATE=$RATE (given)"
else
	trial=$(awk -v c="$cap_rps" 'BEGIN { printf "%d", c * 0.25 }')
	n0=$(cpu_ns "$SPID")
	t0=$(now)
	load "$WORK/cal_open.json" -rate "$trial" -dur 3s -conns "$OPEN_CONNS"
	n1=$(cpu_ns "$SPID")
	t1=$(now)
	trial_pct=$(awk -v a="$n0" -v b="$n1" -v s="$t0" -v e="$t1" 'BEGIN { printf "%.1f", 100 * (b - a) / 1e9 / (e - s) }')
	# Linear in the rate to 50%, at most half the closed-loop capacity: on a
	# shared host a stall of the server's CPU (another job) is drained at
	# (capacity - rate), and one long drain would be the whole p99.
	RATE=$(awk -v t="$trial" -v p="$trial_pct" -v c="$cap_rps" \
		'BEGIN { r = (p > 0) ? t * 50 / p : t; if (r > 0.5 * c) r = 0.5 * c; printf "%d", r }')
	rate_note="calibrated: bare closed-loop capacity $(printf '%.0f' "$cap_rps") req/s; at $trial req/s the server used $trial_pct% of its CPU; $RATE req/s (~50%, at most half the capacity)"
fi
log "go_latency: open loop at $RATE req/s ($rate_note)"

: >"$WORK/runs.jsonl"
# start_variant NAME: sets VPID (empty for bare).
start_variant() {
	VPID=
	: >"$WORK/v.out"
	: >"$WORK/v.err"
	case $1 in
	bare) return 0 ;;
	lw)
		nice -n "$NICE" "$LW" -p "$SPID" -i 1s -t "$THRESHOLD" -j >"$WORK/v.out" 2>"$WORK/v.err" &
		VPID=$!
		bg_track "$VPID"
		wait_for "$WORK/v.err" 'leakwatch: watching' "$VPID" 60 || die "leakwatch did not start: $(tail -3 "$WORK/v.err")"
		# Past the start-up: until its sample counts them all stuck (the
		# tick that reads their stacks once is over), then LW_SETTLE s.
		local i t0=$(now) got=0
		for ((i = 0; i < 480; i++)); do
			got=$(tail -c 100000 "$WORK/v.out" | grep '"type":"sample"' | tail -1 | jq -r '.goroutines_stuck // 0' 2>/dev/null || echo 0)
			[ "${got:-0}" -ge "$N" ] && break
			mine "$VPID" || die "leakwatch died: $(tail -3 "$WORK/v.err")"
			sleep 0.25
		done
		LW_STARTUP=$(awk -v a="$t0" -v b="$(now)" -v g="$got" 'BEGIN { printf "%.1f s (%d stuck)", b - a, g }')
		sleep "$LW_SETTLE"
		;;
	pprof1 | pprof2)
		nice -n "$NICE" "$GOB" poll -url "http://$ADDR/debug/pprof/goroutine?debug=${1#pprof}" -every 1s \
			>"$WORK/v.out" 2>"$WORK/v.err" &
		VPID=$!
		bg_track "$VPID"
		sleep 0.5
		;;
	esac
}

# quiet: until the server idles (under 5% of a CPU over 0.5 s; at most 30 s):
# a goroutine dump the poller gave up on still runs to its end in the server.
quiet() {
	local i a b
	for ((i = 0; i < 60; i++)); do
		a=$(cpu_ns "$SPID")
		sleep 0.5
		b=$(cpu_ns "$SPID")
		[ $((b - a)) -lt 25000000 ] && return 0
	done
	log "go_latency: the server did not idle in 30 s"
}

# run ROUND VARIANT: one variant's two phases; one JSON line to runs.jsonl.
run() {
	local r=$1 v=$2 n0 n1 t0 t1 d0 d1 extra='{}'
	start_variant "$v"
	[ -n "$VPID" ] && d0=$(cpu_ns "$VPID")
	n0=$(cpu_ns "$SPID") t0=$(now)
	load "$WORK/open.json" -rate "$RATE" -dur "${OPEN_S}s" -conns "$OPEN_CONNS"
	n1=$(cpu_ns "$SPID") t1=$(now)
	load "$WORK/closed.json" -dur "${CLOSED_S}s" -conns "$CLOSED_CONNS"
	if [ -n "$VPID" ]; then
		d1=$(cpu_ns "$VPID")
		extra=$(jq -n --argjson ns "$((d1 - d0))" --arg s "$(awk -v a="$t0" -v b="$(now)" 'BEGIN { print b - a }')" \
			'{ agent_cpu_pct: (100 * $ns / 1e9 / ($s | tonumber)) }')
		if [ "$v" = lw ]; then
			extra=$(jq -c --argjson h "$(hwm_kb "$VPID")" --arg st "$LW_STARTUP" '. + { lw_hwm_kb: $h, lw_startup: $st }' <<<"$extra")
			stop_pid "$VPID"
			extra=$(jq -c --argjson s "$(jq -c 'select(.type == "summary")' "$WORK/v.out" | tail -1 | grep . || echo null)" \
				--argjson stuck "$(grep -c '"type":"stuck"' "$WORK/v.out" || true)" \
				'. + { lw_summary: $s, lw_stuck: $stuck }' <<<"$extra")
		else
			stop_pid "$VPID" 10 TERM
			extra=$(jq -c --argjson p "$(tail -1 "$WORK/v.out" | grep . || echo null)" '. + { poll: $p }' <<<"$extra")
		fi
	fi
	quiet
	jq -c -n --argjson r "$r" --arg v "$v" --slurpfile o "$WORK/open.json" --slurpfile c "$WORK/closed.json" \
		--argjson e "$extra" \
		--arg cpu "$(awk -v a="$n0" -v b="$n1" -v s="$t0" -v e="$t1" 'BEGIN { printf "%.1f", 100 * (b - a) / 1e9 / (e - s) }')" \
		'{ round: $r, variant: $v, open: $o[0], closed: $c[0], server_cpu_pct: ($cpu | tonumber) } + $e' \
		>>"$WORK/runs.jsonl"
	log "go_latency: round $r $v: open p99 $(jq .p99_ms "$WORK/open.json") ms, closed $(jq .throughput "$WORK/closed.json") req/s"
}

quiet
for ((r = 0; r < ROUNDS; r++)); do
	for ((i = 0; i < ${#VARIANTS[@]}; i++)); do
		run "$r" "${VARIANTS[(i + r) % ${#VARIANTS[@]}]}"
	done
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# med VARIANT JQ_EXPR: median over rounds; ratio VARIANT JQ_EXPR: median over
# rounds of (VARIANT / bare of the same round).
med() { jq -r --arg v "$1" "select(.variant == \$v) | $2 // empty" "$WORK/runs.jsonl" | median; }
ratio() {
	jq -r -s --arg v "$1" "group_by(.round)[] | (map(select(.variant == \$v))[0] | $2) as \$a
		| (map(select(.variant == \"bare\"))[0] | $2) as \$b
		| if \$a == null or \$b == null or \$b == 0 then empty else \$a / \$b end" "$WORK/runs.jsonl" | median
}
f() { case ${1:-} in '' | nan) echo "n/a" ;; *) printf "%.${2:-2}f" "$1" ;; esac; }
name() {
	case $1 in
	bare) echo "bare" ;;
	lw) echo "watched: \`leakwatch -p PID -i 1s -t $THRESHOLD\`" ;;
	pprof1) echo "pprof goroutine?debug=1 each second" ;;
	pprof2) echo "pprof goroutine?debug=2 each second" ;;
	esac
}

echo "\`taskset -c $SCPU gobench park -n $N -http 127.0.0.1:0\` (bench/go: $("$GOB" version),"
echo "NumGoroutine $server_goroutines, RSS $((server_rss / 1024)) MiB), load from \`taskset -c $LCPU gobench load\`:"
echo "open loop at $RATE req/s for $OPEN_S s ($OPEN_CONNS connections at most in flight; $rate_note),"
echo "then closed loop, $CLOSED_CONNS connections, $CLOSED_S s; each after 1 s of warm-up.  $ROUNDS rounds, order rotating;"
echo "server, load, leakwatch and poller at nice $NICE."
echo "Load average at start $load_start, at end $load_end (other helpers' builds and tests share the 2 CPUs)."
echo
echo "Medians over the rounds:"
echo
echo "| variant | open loop p50 ms | p99 ms | p999 ms | max ms | achieved req/s | late | server CPU % | closed loop req/s | closed p99 ms | agent CPU % |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for v in "${VARIANTS[@]}"; do
	echo "| $(name "$v") | $(f "$(med "$v" .open.p50_ms)" 3) | $(f "$(med "$v" .open.p99_ms)" 3) | $(f "$(med "$v" .open.p999_ms)" 2) | $(f "$(med "$v" .open.max_ms)" 1) | $(f "$(med "$v" .open.throughput)" 0) | $(f "$(med "$v" .open.late)" 0) | $(f "$(med "$v" .server_cpu_pct)" 1) | $(f "$(med "$v" .closed.throughput)" 0) | $(f "$(med "$v" .closed.p99_ms)" 3) | $(f "$(med "$v" .agent_cpu_pct)" 1) |"
done
echo
echo "Ratios against bare of the same round (median over rounds; 1.00 = no cost):"
echo
echo "| variant | open p50 | open p99 | open p999 | open achieved req/s | closed-loop req/s (capacity) |"
echo "|---|---|---|---|---|---|"
for v in lw pprof1 pprof2; do
	echo "| $(name "$v") | $(f "$(ratio "$v" .open.p50_ms)") | $(f "$(ratio "$v" .open.p99_ms)") | $(f "$(ratio "$v" .open.p999_ms)") | $(f "$(ratio "$v" .open.throughput)" 3) | $(f "$(ratio "$v" .closed.throughput)" 3) |"
done
echo
echo "pprof fetches (median over rounds): debug=1 $(f "$(med pprof1 .poll.median_ms)" 0) ms each, $(f "$(med pprof1 .poll.bytes_per_fetch)" 0) bytes;"
echo "debug=2 $(f "$(med pprof2 .poll.median_ms)" 0) ms each, $(f "$(med pprof2 .poll.bytes_per_fetch)" 0) bytes (Go caps the debug=2 dump at 64 MiB)."
echo "leakwatch during the windows (agent CPU % above): $(f "$(med lw .agent_cpu_pct)" 1)% of a core, VmHWM $(f "$(med lw .lw_hwm_kb)" 0) KiB, \`stuck\` records per run $(f "$(med lw .lw_stuck)" 0);"
echo "Its start-up (launch to all counted stuck), each round: $(jq -r 'select(.variant == "lw") | .lw_startup' "$WORK/runs.jsonl" | paste -sd';' - | sed 's/;/; /g').  "
echo "Its last summary: \`$(jq -c 'select(.variant == "lw") | .lw_summary' "$WORK/runs.jsonl" | tail -1)\`."
echo "Generator: pacer lateness (its own, median of runs' max) $(f "$(jq -r '.open.pacer_lag_ms' "$WORK/runs.jsonl" | median)" 1) ms;"
echo "its CPU per open-loop run $(f "$(jq -r '.open.cpu_s' "$WORK/runs.jsonl" | median)" 2) s for $((OPEN_S + 1)) s."
echo
echo "Every run (JSON, one per line):"
echo
echo '```'
jq -c '{ round, variant, p50: .open.p50_ms, p99: .open.p99_ms, p999: .open.p999_ms, open_rps: .open.throughput,
	late: .open.late, closed_rps: .closed.throughput, server_cpu_pct, agent_cpu_pct }' "$WORK/runs.jsonl"
echo '```'

result gol_goroutines "$N"
result gol_rate "$RATE"
for v in bare lw pprof1 pprof2; do
	result "gol_${v}_p99_ms" "$(med "$v" .open.p99_ms)"
	result "gol_${v}_p999_ms" "$(med "$v" .open.p999_ms)"
	result "gol_${v}_closed_rps" "$(med "$v" .closed.throughput)"
done
for v in lw pprof1 pprof2; do
	result "gol_${v}_p99_ratio" "$(ratio "$v" .open.p99_ms)"
	result "gol_${v}_p999_ratio" "$(ratio "$v" .open.p999_ms)"
	result "gol_${v}_open_rps_ratio" "$(ratio "$v" .open.throughput)"
	result "gol_${v}_closed_rps_ratio" "$(ratio "$v" .closed.throughput)"
done
