#!/bin/bash
# Symbolization: what readable stacks cost (issue 10).  SYM_THREADS threads
# (10,000) blocked forever at SYM_SITES (8) wait sites in one process
# (bench/stuck.c: -O2 -g, no frame pointers, each site's wait through two
# inlined functions), watched with
#   leakwatch -p PID -t 1s -i 1s -j --metrics 127.0.0.1:PORT
# by two builds side by side, in one run:
#   before  leakwatch built from BENCH_BEFORE (default: the commit before
#           issue 10, the parent of the commit that added user/frame.h), in
#           BUILD/bench/lw-SHA (git archive + make, once per commit);
#   after   BUILD/leakwatch, the tree as make built it; or, with BENCH_AFTER,
#           that revision, built as "before" is (two commits compared).
# SYM_ROUNDS rounds (ROUNDS, 5), each one run of each build, the order
# alternating; first one uncounted run of each (SYM_WARMUP=1: caches, the
# debuginfo files in the page cache).  The same process serves every run: its
# threads were blocked for over 1.5 s when the first one starts, so the first
# scan of each run finds them all stuck and unwinds all of them, and symbolizes
# each site's stack once.
# Measured in each run, from leakwatch's own records as they come out (a
# filter reads its stdout and stderr through FIFOs and reads /proc/PID/stat,
# /proc/PID/schedstat and /proc/uptime at each record that matters):
#   (a) first report: the first scan, from the "watching" banner (printed
#       just before it, after the BPF load) to its end (its `sample` record):
#       leakwatch's CPU (utime+stime of /proc/PID/stat, and schedstat's ns:
#       the daemon is one thread), its duration (leakwatch_scan_duration_
#       seconds, scraped right after), how many threads it reported; then
#       launch -> all SYM_THREADS `stuck` records out (their `site` records
#       come before them): wall time (/proc/uptime, 10 ms), CPU, scans (a
#       thread whose blocked-since bound is under the threshold at attach
#       comes a scan later);
#   (b) steady state: CPU per scan tick over the SYM_TICKS (20) ticks after
#       that scan (between its `sample` record and the one SYM_TICKS later),
#       and per half of them (it must not grow: sites are symbolized once);
#       the last scan's duration; peak RSS (VmHWM).
# The floor tracer (../shared/bench/floor) does not apply here: it stamps
# context switches and never scans, unwinds or symbolizes.
#
#   usage: bench/symbolize.sh [BUILD_DIR]   (root; markdown on stdout)
#   env:   SYM_THREADS (10000), SYM_SITES (8), SYM_ROUNDS (ROUNDS, 5),
#          SYM_TICKS (20), SYM_WARMUP (1), BENCH_BEFORE and BENCH_AFTER (git
#          revisions),
#          BENCH_RESULTS
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_setup
BUILD=$(resolve_build "${1:-build}")
N=${SYM_THREADS:-10000}
K=${SYM_SITES:-8}
ROUNDS=${SYM_ROUNDS:-${ROUNDS:-5}}
TICKS=${SYM_TICKS:-20}
WARMUP=${SYM_WARMUP:-1}
NOTES=()
STUCK=$(stuck_bin)

# "before": the commit before issue 10's first one, unless told.
if [ -z "${BENCH_BEFORE:-}" ]; then
	first=$(git -C "$REPO_DIR" log --diff-filter=A --format=%H -- user/frame.h | tail -1)
	[ -n "$first" ] || die "no commit adds user/frame.h here: set BENCH_BEFORE"
	BENCH_BEFORE=$(git -C "$REPO_DIR" rev-parse --short "$first^")
fi
declare -A LWS=([before]=$(lw_at "$BENCH_BEFORE") [after]=$BUILD/leakwatch)
[ -n "${BENCH_AFTER:-}" ] && LWS[after]=$(lw_at "$BENCH_AFTER")
desc() { git -C "$REPO_DIR" log -1 --format='%h (%cs) %s' "$1" | awk '{ print (length($0) > 80 ? substr($0, 1, 77) "..." : $0) }'; }
before_desc=$(desc "$BENCH_BEFORE")
if [ -n "${BENCH_AFTER:-}" ]; then
	after_desc="$(desc "$BENCH_AFTER") (BENCH_AFTER=$BENCH_AFTER)"
else
	after_desc=$(desc HEAD)
	[ -n "$(git -C "$REPO_DIR" status --porcelain -- bpf user include 2>/dev/null)" ] &&
		after_desc="$after_desc, + uncommitted changes"
fi

raise_task_limits "$N"

# The target: started once, every thread blocked for good.
: >"$WORK/stuck.out"
"$STUCK" --threads "$N" --sites "$K" --exit-after 7200 >"$WORK/stuck.out" 2>"$WORK/stuck.err" &
SPID=$!
bg_track "$SPID"
wait_for "$WORK/stuck.out" '^ready' "$SPID" 120 || die "stuck did not start its threads: $(cat "$WORK/stuck.err")"
SITES=$(awk '/^ready/ { print $5 }' "$WORK/stuck.out")
for ((i = 0; i < 300; i++)); do
	asleep=$(cat /proc/"$SPID"/task/*/stat 2>/dev/null | awk '{ sub(/.*\) /, "") } $1 == "S" { n++ } END { print n + 0 }')
	[ "$asleep" -ge "$N" ] && break
	sleep 0.1
done
[ "$asleep" -ge "$N" ] || die "only $asleep of $N threads asleep"
sleep 1.5 # past the 1 s threshold, from the first run on

# The filter on leakwatch's stdout: copies it to OUT; writes to EV, at once,
#   scan1 UPTIME TICKS NS STUCK SITES at the first `sample` record: the end
#                                     of the first scan
#   all UPTIME TICKS NS SCANS SITES   when the Nth `stuck` record is out
#   sample K UPTIME TICKS NS          at the Kth `sample` record from then on
# (the first: the end of the scan that reported them).  Both filters append
# (>>) to EV.
cat >"$WORK/stdout.awk" <<'EOF'
# cpu(): "UPTIME TICKS NS" now, of leakwatch (utime+stime, schedstat).
function cpu(   s, f, a, b, u) {
	f = "/proc/" pid "/stat"; s = ""; getline s < f; close(f)
	sub(/.*\) /, "", s); split(s, a, " ")
	f = "/proc/" pid "/schedstat"; s = ""; getline s < f; close(f); split(s, b, " ")
	f = "/proc/uptime"; s = ""; getline s < f; close(f); split(s, u, " ")
	return u[1] " " (a[12] + a[13]) " " b[1]
}
{ print > out }
index($0, "\"type\":\"site\"") { sites++ }
index($0, "\"type\":\"sample\"") {
	if (!scan1) { scan1 = 1; print "scan1", cpu(), stuck + 0, sites + 0 >> ev; fflush(ev) }
	if (done) { print "sample", ++k, cpu() >> ev; fflush(ev) } else scans++
}
!done && index($0, "\"type\":\"stuck\"") && ++stuck >= n {
	done = 1; print "all", cpu(), scans + 1, sites >> ev; fflush(ev)
}
EOF
# ... and on its stderr: "banner UPTIME TICKS NS" at "leakwatch: watching".
sed -n '/^# cpu()/,/^}/p' "$WORK/stdout.awk" >"$WORK/stderr.awk"
cat >>"$WORK/stderr.awk" <<'EOF'
{ print > out; fflush(out) }
!seen && /^leakwatch: watching/ { seen = 1; print "banner", cpu() >> ev; fflush(ev) }
EOF

# mawk reads a pipe until its buffer is full: -W interactive, a line at a time.
LINE_AWK=(awk)
awk -W version 2>&1 | grep -q mawk && LINE_AWK=(awk -W interactive)
ev_count() { awk -v w="$2" '$1 == w { n++ } END { print n + 0 }' "$1" 2>/dev/null; }
scrape() { # PORT METRIC
	curl -s --max-time 5 "http://127.0.0.1:$1/metrics" 2>/dev/null | awk -v m="$2" '$1 == m { print $2 }'
}

# inline_named OUT: how many `site` records of OUT name their inlined wait
# (chan_recv, lock_wait, ...) with its file:line: what "after" is to do.
inline_named() {
	jq -r 'select(.type == "site") | [.stack[] | select(test("^(chan_recv|lock_wait|read_reply|backoff|wait_event)\\b.*[(]([^)]*/)?stuck[.]c:[0-9]+[)]"))] | length' "$1" |
		awk '$1 > 0 { n++ } END { print n + 0 }'
}

# run_one VARIANT ROUND TICKS FILE: one leakwatch run; appends a JSON line to
# $WORK/FILE (runs, or warmup: not counted).
run_one() {
	local name=$1 round=$2 ticks=$3 lw=${LWS[$1]} d=$WORK/run-$1-$2 port up0 lpid a1 a2 i
	local first_scan='' last_scan='' hwm threads rc
	mkdir -p "$d"
	mkfifo "$d/out.fifo" "$d/err.fifo"
	: >"$d/ev"
	port=$(free_port)
	read -r up0 _ </proc/uptime
	"$lw" -p "$SPID" -t 1s -i 1s -j --metrics "127.0.0.1:$port" >"$d/out.fifo" 2>"$d/err.fifo" &
	lpid=$!
	bg_track "$lpid"
	"${LINE_AWK[@]}" -v pid="$lpid" -v n="$N" -v ev="$d/ev" -v out="$d/out" -f "$WORK/stdout.awk" <"$d/out.fifo" &
	a1=$!
	bg_track "$a1"
	"${LINE_AWK[@]}" -v pid="$lpid" -v ev="$d/ev" -v out="$d/err" -f "$WORK/stderr.awk" <"$d/err.fifo" &
	a2=$!
	bg_track "$a2"
	for ((i = 0; i < 1200; i++)); do
		grep -q '^scan1' "$d/ev" && break
		mine "$lpid" || die "$name: leakwatch exited: $(tail -3 "$d/err")"
		sleep 0.02
	done
	# The gauge of the first scan: the next is a second away.
	first_scan=$(scrape "$port" leakwatch_scan_duration_seconds)
	for ((i = 0; i < 1200; i++)); do
		grep -q '^all' "$d/ev" && break
		mine "$lpid" || die "$name: leakwatch exited: $(tail -3 "$d/err")"
		sleep 0.05
	done
	grep -q '^all' "$d/ev" || die "$name: not all $N stuck within 60 s ($(grep -c '"type":"stuck"' "$d/out" || true))"
	for ((i = 0; i < (ticks + 30) * 10; i++)); do
		[ "$(ev_count "$d/ev" sample)" -gt "$ticks" ] && break
		mine "$lpid" || die "$name: leakwatch exited: $(tail -3 "$d/err")"
		sleep 0.1
	done
	[ "$(ev_count "$d/ev" sample)" -gt "$ticks" ] || die "$name: fewer than $ticks ticks in $((ticks + 30)) s"
	last_scan=$(scrape "$port" leakwatch_scan_duration_seconds)
	curl -s --max-time 5 "http://127.0.0.1:$port/metrics" >"$d/metrics" 2>/dev/null || true
	hwm=$(hwm_kb "$lpid")
	threads=$(awk '/^Threads:/ { print $2 }' "/proc/$lpid/status")
	stop_pid "$lpid"
	rc=0
	wait "$a1" || rc=$?
	wait "$a2" || true
	bg_untrack "$a1"
	bg_untrack "$a2"
	[ "$rc" -eq 0 ] || die "$name: the output filter failed ($rc)"
	awk -v name="$name" -v round="$round" -v ticks="$ticks" -v up0="$up0" -v hz="$CLK_TCK" \
		-v first_scan="${first_scan:-nan}" -v last_scan="${last_scan:-nan}" -v hwm="$hwm" \
		-v threads="$threads" -v stuck="$(grep -c '"type":"stuck"' "$d/out")" -v inl="$(inline_named "$d/out")" '
		$1 == "banner" { bu = $2; bt = $3; bn = $4 }
		$1 == "scan1" { ft = $3; fn = $4; fstuck = $5 }
		$1 == "all" { au = $2; at = $3; an = $4; scans = $5; sites = $6 }
		$1 == "sample" { su[$2] = $3; st[$2] = $4; sn[$2] = $5 }
		function tms(a, b) { return (a - b) * 1000 / hz }
		function nms(a, b) { return (a - b) / 1e6 }
		END {
			h = int(ticks / 2) + 1; e = ticks + 1
			printf "{\"variant\":\"%s\",\"round\":%d,\"stuck\":%d,\"sites\":%d,\"sites_inline_named\":%d,\"scans\":%d,\"scan1_stuck\":%d,", name, round, stuck, sites, inl, scans, fstuck
			printf "\"launch_all_ms\":%.0f,\"banner_all_ms\":%.0f,\"first_scan_ms\":%s,", (au - up0) * 1000, (au - bu) * 1000, (first_scan == "nan") ? "null" : sprintf("%.1f", first_scan * 1000)
			printf "\"cpu_start_ms\":%.0f,\"cpu_all_ms\":%.0f,\"cpu_first_scan_ms\":%.0f,", tms(bt, 0), tms(at, 0), tms(ft, bt)
			printf "\"ns_start_ms\":%.1f,\"ns_all_ms\":%.1f,\"ns_first_scan_ms\":%.1f,", nms(bn, 0), nms(an, 0), nms(fn, bn)
			printf "\"steady_ticks\":%d,\"steady_s\":%.2f,", ticks, su[e] - su[1]
			printf "\"cpu_tick_ms\":%.2f,\"ns_tick_ms\":%.2f,", tms(st[e], st[1]) / ticks, nms(sn[e], sn[1]) / ticks
			printf "\"ns_once_ms\":%.1f,", nms(fn, bn) - nms(sn[e], sn[1]) / ticks
			printf "\"ns_tick_first_half_ms\":%.2f,\"ns_tick_second_half_ms\":%.2f,", nms(sn[h], sn[1]) / (h - 1), nms(sn[e], sn[h]) / (e - h)
			printf "\"last_scan_ms\":%s,\"hwm_kb\":%d,\"threads\":%d}\n", (last_scan == "nan") ? "null" : sprintf("%.1f", last_scan * 1000), hwm, threads
		}' "$d/ev" >>"$WORK/$4"
	jq -cn 'first(inputs | select(.type == "site") | .stack)' "$d/out" >"$WORK/stack-$name"
	jq -r 'select(.type == "site") | .where // empty' "$d/out" | paste -sd';' - | sed 's/;/; /g' >"$WORK/where-$name"
	grep -v '^#' "$d/metrics" | grep -E '^leakwatch_(symbol_|frames_symbolized|perf_map)' >"$WORK/metrics-$name" || true
	rm -f "$d/out.fifo" "$d/err.fifo"
}

if [ "$WARMUP" -gt 0 ]; then
	for v in before after; do
		log "symbolize: warm-up run of $v"
		run_one "$v" -1 2 warmup
	done
fi
for ((r = 0; r < ROUNDS; r++)); do
	if ((r % 2 == 0)); then order="before after"; else order="after before"; fi
	for v in $order; do
		log "symbolize: round $r, $v"
		run_one "$v" "$r" "$TICKS" runs
	done
done
stop_pid "$SPID" 5 TERM

# ---- the report
RUNS=$WORK/runs
med() { # VARIANT FIELD
	jq -r --arg v "$1" "select(.variant == \$v) | .$2 // empty" "$RUNS" | median
}
# pair FIELD: the median over rounds of after / before (same round).
pair() {
	jq -rs --arg f "$1" 'group_by(.round)[] | map({(.variant): .[$f]}) | add
		| select(.before != null and .after != null and .before > 0) | .after / .before' "$RUNS" | median
}
fm() { case $1 in '' | nan | null) echo "n/a" ;; *) printf "%.${2:-1}f" "$1" ;; esac; }
row() { # TITLE FIELD DIGITS UNIT
	echo "| $1 | $(fm "$(med before "$2")" "$3")$4 | $(fm "$(med after "$2")" "$3")$4 | $(fm "$(pair "$2")" 2)x |"
}

echo "\`bench/stuck --threads $N --sites $K\` (every thread blocked for good at one of $SITES sites, each"
echo "through two inlined functions; built -O2 -g without frame pointers), then, per run,"
echo "\`leakwatch -p PID -t 1s -i 1s -j --metrics 127.0.0.1:PORT\` until all $N are reported and $TICKS ticks"
echo "more, stopped with SIGINT.  Rounds: $ROUNDS, the two builds alternating (after one uncounted run each);"
echo "medians of the rounds, and the median of after/before paired by round.  Other jobs share the 2 CPUs:"
echo "wall times include waits for a CPU, the CPU rows are the cost."
echo
echo "- before: $before_desc (BENCH_BEFORE=$BENCH_BEFORE)"
echo "- after: $after_desc"
echo "- The floor tracer does not apply: it never scans, unwinds or symbolizes."
for n in "${NOTES[@]}"; do echo "- Note: $n."; done
echo
echo "| measure | before | after | after/before |"
echo "|---|---|---|---|"
row "first scan (it unwinds every stuck thread and symbolizes each new site): its duration (leakwatch_scan_duration_seconds)" first_scan_ms 1 " ms"
row "first scan: leakwatch CPU, \"watching\" banner (printed just before it) -> its end (utime+stime)" cpu_first_scan_ms 0 " ms"
row "first scan: the same from schedstat (ns)" ns_first_scan_ms 1 " ms"
row "first scan: threads it reported stuck (of $N)" scan1_stuck 0 ""
row "all $N \`stuck\` records out: wall time from launch" launch_all_ms 0 " ms"
row "all out: wall time from the banner (10 ms steps)" banner_all_ms 0 " ms"
row "all out: leakwatch CPU from launch (utime+stime)" cpu_all_ms 0 " ms"
row "... of which before the banner (start-up: BPF load and attach)" cpu_start_ms 0 " ms"
row "all out: leakwatch CPU from launch, schedstat" ns_all_ms 1 " ms"
row "all out: scans it took" scans 0 ""
row "sites reported (\`site\` records)" sites 0 ""
row "... whose stack names the inlined wait with its file:line (stuck.c)" sites_inline_named 0 ""
row "first scan: its one-time CPU, less a steady tick's (schedstat): unwinding $N stacks, symbolizing the sites, $N records" ns_once_ms 1 " ms"
row "steady state: CPU per 1 s tick over $TICKS ticks (utime+stime)" cpu_tick_ms 2 " ms"
row "steady state: CPU per tick, schedstat" ns_tick_ms 2 " ms"
row "steady state: CPU per tick, schedstat, first half of the ticks" ns_tick_first_half_ms 2 " ms"
row "steady state: CPU per tick, schedstat, second half" ns_tick_second_half_ms 2 " ms"
row "steady state: the last scan (leakwatch_scan_duration_seconds)" last_scan_ms 1 " ms"
row "peak RSS (VmHWM)" hwm_kb 0 " KiB"
echo
for v in before after; do
	echo "A site's stack as the $v build reported it: \`$(cat "$WORK/stack-$v")\`"
	echo
	grep -q . "$WORK/where-$v" && echo "Its sites' names (where): $(cat "$WORK/where-$v")" && echo
done
if [ -s "$WORK/metrics-after" ]; then
	echo "Symbolization metrics of the after build, at the end of its last run:"
	echo
	echo '```'
	cat "$WORK/metrics-after"
	echo '```'
	echo
fi
echo "Every run (JSON, one per line; cpu_* from /proc/PID/stat in ${CLK_TCK} Hz ticks, ns_* from schedstat):"
echo
echo '```'
cat "$RUNS"
echo '```'

for v in before after; do
	for f in launch_all_ms first_scan_ms cpu_all_ms cpu_first_scan_ms ns_first_scan_ms ns_once_ms cpu_tick_ms \
		ns_tick_ms ns_tick_first_half_ms ns_tick_second_half_ms hwm_kb stuck sites sites_inline_named scans \
		scan1_stuck; do
		result "sym_${v}_$f" "$(med "$v" "$f")"
	done
done
for f in first_scan_ms cpu_first_scan_ms ns_first_scan_ms ns_once_ms ns_tick_ms hwm_kb; do
	result "sym_ratio_$f" "$(pair "$f")"
done
result sym_threads "$N"
result sym_sites "$SITES"
result sym_before "$BENCH_BEFORE"
