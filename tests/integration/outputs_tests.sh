# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2016,SC2013 # jq variables ($pid, $tids); words of code
#
# leakwatch integration tests for the outputs a user reads: the Prometheus
# metrics (checked by promtool and scraped by a real Prometheus), run mode
# (leakwatch -- COMMAND), --fail-on-leak, the timeline (--timeline), the
# systemd unit (contrib/leakwatch.service), its capabilities, and make
# install, the man page.  Sourced by run.sh, which provides the helpers (spawn, start_lw,
# wait_lw, wait_exit, fail, ...); the helpers here start with ot_.
#
# Needs curl, promtool and prometheus (Debian: curl, prometheus),
# systemd-analyze (Debian: systemd) and setpriv (util-linux).

OT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OT_FX_ARGS=() # extra fixture arguments for ot_timeline_run
OT_TIDS=[]    # the stuck tids, a JSON array, for ot_jq

# ot_need CMD PACKAGE: fail unless CMD is installed.
ot_need() {
	command -v "$1" >/dev/null || fail "$1 is required (Debian package: $2)"
}

# ot_free_port: a TCP port on which nothing listens or connects.
ot_free_port() {
	local p i
	for ((i = 0; i < 200; i++)); do
		p=$((20000 + RANDOM % 12000))
		grep -qi ":$(printf '%04X' "$p") " /proc/net/tcp /proc/net/tcp6 2>/dev/null && continue
		echo "$p"
		return 0
	done
	fail "no free TCP port found"
}

# ot_series FILE NAME PID: the value of NAME{...pid="PID"...} in a metrics
# page, empty if absent (or several values if the series is repeated).
ot_series() {
	awk -v name="$2" -v pid="$3" '
		index($0, name "{") == 1 && index($0, "pid=\"" pid "\"") { print $NF }' "$1"
}

# ot_get_page PORT FILE: GET /metrics into FILE.
ot_get_page() {
	curl -sf --max-time 5 -o "$2" "http://127.0.0.1:$1/metrics"
}

# ot_wait_series PORT NAME PID WANT SECS: poll /metrics until the series has
# the value WANT; the last page is in $TMP/metrics-PORT.page.
ot_wait_series() {
	local port=$1 name=$2 pid=$3 want=$4 secs=$5 page=$TMP/metrics-$1.page i got=""
	for ((i = 0; i <= secs * 4; i++)); do
		if ot_get_page "$port" "$page"; then
			got=$(ot_series "$page" "$name" "$pid")
			[[ $got == "$want" ]] && return 0
		fi
		is_running "$LW_PID" || break
		sleep 0.25
	done
	fail "$name{pid=\"$pid\"} is '$got' on http://127.0.0.1:$port/metrics, want $want (waited ${secs}s)" \
		"$(grep "^$name" "$page" 2>/dev/null | head -5)" "$(head -c 300 "$ERR")"
}

# ot_exec NAME SECS CMD...: run CMD to its end (SECS at most), SIGINT and
# SIGTERM at their default; sets RC, OUT and ERR (stdout and stderr) and
# LW_ARGS.
ot_exec() {
	local name=$1 secs=$2
	shift 2
	OUT=$TMP/$name.out ERR=$TMP/$name.err LW_ARGS="$*"
	spawn "$name" env --default-signal=INT,TERM "$@"
	wait_exit "$SPAWNED" "$secs"
}

# ot_run NAME SECS ARGS...: run leakwatch ARGS to its end (SECS at most).
ot_run() { ot_exec "$1" "$2" "$LW" "${@:3}"; }

# ot_jq WHAT FILE FILTER [SHOW]: FILTER over FILE (one JSON document, or
# JSON Lines with -s given as FILTER's first word "-s") must be true.
# $pid is FX_PID, $tids the fixture's tids (OT_TIDS, a JSON array).
ot_jq() {
	local what=$1 file=$2 filter=$3 show=${4:-.} slurp=()
	if [[ $filter == "-s "* ]]; then
		slurp=(-s)
		filter=${filter#-s }
	fi
	jq -e "${slurp[@]}" --argjson pid "${FX_PID:-0}" --argjson tids "${OT_TIDS:-[]}" \
		"$filter" "$file" >/dev/null 2>&1 && return 0
	fail "$what" "$(jq -c "${slurp[@]}" --argjson pid "${FX_PID:-0}" \
		--argjson tids "${OT_TIDS:-[]}" "$show" "$file" 2>&1 | head -c 1500)"
}

# ot_tids_json TIDS: a list of tids (lines) as a sorted JSON array.
ot_tids_json() { jq -s -c 'sort' <<<"$1"; }

# ----------------------------------------------------------------- metrics --

# 20. The metrics page: Prometheus text that promtool accepts, with the
# fixture's counts, every metric family, and 404 elsewhere.
test_metrics() {
	local port page m v
	ot_need curl curl && ot_need promtool prometheus || return 1
	port=$(ot_free_port) || return 1
	start_fixture blocker cond --threads 3 || return 1
	fixture_tids 3 >/dev/null
	start_lw metrics -p "$FX_PID" -t 1s -i 500ms --metrics "127.0.0.1:$port" -j -d 60s || return 1
	ot_wait_series "$port" leakwatch_stuck_threads "$FX_PID" 3 20 || return 1
	page=$TMP/metrics.page
	curl -sf --max-time 5 -D "$TMP/metrics.headers" -o "$page" "http://127.0.0.1:$port/metrics" ||
		fail "GET /metrics failed" || return 1
	grep -qi '^content-type: text/plain; version=0.0.4' "$TMP/metrics.headers" ||
		fail "GET /metrics: not the Prometheus text format's content type" \
			"$(cat "$TMP/metrics.headers")" || return 1
	promtool check metrics <"$page" >"$TMP/promtool.out" 2>&1 ||
		fail "promtool check metrics rejects the page" "$(head -20 "$TMP/promtool.out")" \
			"$(head -20 "$page")" || return 1

	for m in leakwatch_threads leakwatch_blocked_threads leakwatch_stuck_threads \
		leakwatch_stuck_threads_by_wait leakwatch_leaks_total leakwatch_spins_total \
		leakwatch_events_total leakwatch_scan_duration_seconds leakwatch_dropped_total \
		leakwatch_stacks_unreadable_total leakwatch_untracked_total; do
		grep -q "^# TYPE $m \(gauge\|counter\)$" "$page" ||
			fail "no '# TYPE $m' on the page" "$(grep '^# TYPE' "$page")" || return 1
	done
	v=$(ot_series "$page" leakwatch_stuck_threads "$FX_PID")
	[[ $v == 3 ]] || fail "leakwatch_stuck_threads for the fixture: '$v', want 3" || return 1
	grep -q "^leakwatch_stuck_threads{.*comm=\"blocker\".*} 3$" "$page" ||
		fail "leakwatch_stuck_threads: no comm=\"blocker\" label" \
			"$(grep ^leakwatch_stuck_threads "$page")" || return 1
	v=$(ot_series "$page" leakwatch_threads "$FX_PID")
	[[ $v == 4 ]] || fail "leakwatch_threads for the fixture: '$v', want 4 (main + 3)" || return 1
	v=$(ot_series "$page" leakwatch_blocked_threads "$FX_PID")
	[[ $v == 3 || $v == 4 ]] || fail "leakwatch_blocked_threads for the fixture: '$v', want 3 or 4" ||
		return 1
	grep -qx 'leakwatch_stuck_threads_by_wait{wait="futex"} 3' "$page" ||
		fail "no 'leakwatch_stuck_threads_by_wait{wait=\"futex\"} 3'" \
			"$(grep ^leakwatch_stuck_threads_by_wait "$page")" || return 1
	grep -qx 'leakwatch_leaks_total 0' "$page" ||
		fail "leakwatch_leaks_total is not 0" "$(grep ^leakwatch_leaks "$page")" || return 1

	for m in / /nope /metrics/x; do
		v=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port$m")
		[[ $v == 404 ]] || fail "GET $m: HTTP $v, want 404" || return 1
	done

	kill -INT "$LW_PID"
	wait_lw 10 || return 1
	expect_rc 0 || return 1
	! curl -s --max-time 5 -o /dev/null "http://127.0.0.1:$port/metrics" ||
		fail "port $port still answers after leakwatch ended" || return 1
}

# 21. A real Prometheus scrapes leakwatch on loopback and its query API
# gives the fixture's stuck count back.
test_prometheus() {
	local port pport prom i ans=$TMP/prom-query.json
	ot_need curl curl && ot_need prometheus prometheus || return 1
	port=$(ot_free_port) || return 1
	pport=$(ot_free_port) || return 1
	[[ $pport != "$port" ]] || pport=$((port + 1))
	start_fixture blocker cond --threads 3 || return 1
	fixture_tids 3 >/dev/null
	start_lw prometheus -p "$FX_PID" -t 1s -i 500ms --metrics "127.0.0.1:$port" -j -d 90s || return 1
	cat >"$TMP/prometheus.yml" <<-EOF
		global:
		  scrape_interval: 1s
		  scrape_timeout: 1s
		scrape_configs:
		  - job_name: leakwatch
		    static_configs:
		      - targets: ['127.0.0.1:$port']
	EOF
	spawn prom timeout -s KILL 120 prometheus --config.file="$TMP/prometheus.yml" \
		--storage.tsdb.path="$TMP/prom-data" --web.listen-address="127.0.0.1:$pport" \
		--log.level=warn
	prom=$SPAWNED
	for ((i = 0; i < 40 * 4; i++)); do
		curl -sG --max-time 3 "http://127.0.0.1:$pport/api/v1/query" \
			--data-urlencode "query=leakwatch_stuck_threads{pid=\"$FX_PID\"}" -o "$ans" 2>/dev/null &&
			jq -e '.data.result[0].value[1] == "3"' "$ans" >/dev/null 2>&1 && break
		is_running "$prom" || break
		sleep 0.25
	done
	jq -e '.status == "success" and (.data.result | length == 1)
		and .data.result[0].value[1] == "3"' "$ans" >/dev/null 2>&1 ||
		fail "Prometheus never returned leakwatch_stuck_threads{pid=\"$FX_PID\"} = 3 (40s)" \
			"last answer: $(head -c 500 "$ans" 2>/dev/null)" \
			"targets: $(curl -s --max-time 3 "http://127.0.0.1:$pport/api/v1/targets" |
				jq -c '[.data.activeTargets[] | {scrapeUrl, health, lastError}]' 2>&1)" \
			"prometheus: $(tail -c 500 "$TMP/prom.err")" || return 1
	jq -e --arg inst "127.0.0.1:$port" '.data.result[0].metric
		| .job == "leakwatch" and .instance == $inst and .comm == "blocker"' "$ans" >/dev/null ||
		fail "the series' labels are not job leakwatch, instance 127.0.0.1:$port, comm blocker" \
			"$(jq -c '.data.result[0].metric' "$ans")" || return 1

	kill -TERM "$prom"
	wait_exit "$prom" 20 || return 1
	[[ $RC == 0 ]] || fail "prometheus exited with $RC on SIGTERM" "$(tail -c 500 "$TMP/prom.err")" ||
		return 1
	kill -INT "$LW_PID"
	wait_lw 10 || return 1
	expect_rc 0 || return 1
}

# 22. Host-wide, the series of a process that exited are removed.
test_metrics_exit() {
	local port page i
	ot_need curl curl || return 1
	port=$(ot_free_port) || return 1
	start_fixture blocker cond --threads 2 --start-after 30000 || return 1
	start_lw metrics_exit -t 1s -i 500ms --metrics "127.0.0.1:$port" -j -d 60s || return 1
	kill -USR1 "$FX_PID"
	fixture_tids 2 >/dev/null
	ot_wait_series "$port" leakwatch_stuck_threads "$FX_PID" 2 20 || return 1
	kill -TERM "$FX_PID"
	page=$TMP/metrics-$port.page
	for ((i = 0; i < 15 * 4; i++)); do
		ot_get_page "$port" "$page" && ! grep -q "pid=\"$FX_PID\"" "$page" && break
		sleep 0.25
	done
	! grep -q "pid=\"$FX_PID\"" "$page" ||
		fail "series of pid $FX_PID still on the page 15s after it exited" \
			"$(grep "pid=\"$FX_PID\"" "$page")" || return 1
	kill -INT "$LW_PID"
	wait_lw 10 || return 1
	expect_rc 0 || return 1
}

# ---------------------------------------------------------------- run mode --

# 23. leakwatch -- COMMAND: watches the command (its stuck threads are
# reported) and exits with its status; no leak, no report.
test_run_mode() {
	local tids
	ot_run run_blocker 40 -t 1s -i 500ms -j -- "$BLOCKER" cond --threads 2 --exit-after 3 || return 1
	expect_rc 0 || return 1
	FX_PID=$(awk '$1 == "pid" { print $2; exit }' "$OUT")
	tids=$(awk '$1 == "tid" { print $2 }' "$OUT" | sort -n)
	[[ $FX_PID && $(wc -w <<<"$tids") == 2 ]] ||
		fail "blocker printed no pid or not 2 tids" "$(head -5 "$OUT")" || return 1
	grep '^{' "$OUT" >"$OUT.json"
	OT_TIDS=$(ot_tids_json "$tids")
	ot_jq "the blocker's two threads reported stuck, the exit, the summary last, no leak" \
		"$OUT.json" '-s ([.[] | select(.type == "stuck" and .pid == $pid) | .tid] | sort == $tids)
			and any(.[]; .type == "exit" and .pid == $pid)
			and (last | .type == "summary")
			and ([.[] | select(.type == "leak")] | length == 0)' \
		'.[] | select(.type != "sample")' || return 1
	! grep -Eq 'LEAK|leaks? found' "$ERR" || fail "a leak on stderr" "$(head -5 "$ERR")" || return 1

	# The command's own status, not leakwatch's: its code, or 128 + the
	# signal that killed it.
	ot_run_status 0 true && ot_run_status 1 false && ot_run_status 7 sh -c 'exit 7' &&
		ot_run_status 143 sh -c 'kill -TERM $$'
}

# ot_run_status WANT CMD...: leakwatch -- CMD exits WANT, with no leak.
ot_run_status() {
	local want=$1
	shift
	ot_run run_status 20 -- "$@" || return 1
	[[ $RC == "$want" ]] || fail "leakwatch -- $*: exit $RC, want $want" "$(head -5 "$ERR")" ||
		return 1
	! grep -Eq 'LEAK|leaks? found' "$ERR" || fail "leakwatch -- $*: a leak on stderr" "$(head -5 "$ERR")"
}

# 24. leakwatch -- LEAKER: exit 1 and a report of the leak, with its stack,
# on stderr.
test_run_leak() {
	ot_run run_leak 70 -t 2s -i 1s -- "$LEAKER" cond --every 500 --exit-after 30 || return 1
	expect_rc 1 || return 1
	FX_PID=$(awk '$1 == "pid" { print $2; exit }' "$OUT")
	[[ $FX_PID ]] || fail "leaker printed no pid" "$(head -5 "$OUT")" || return 1
	grep -Eq "^leakwatch: LEAK pid $FX_PID \(leaker\): [0-9]+ threads stuck in futex" "$ERR" ||
		fail "no one-line 'leakwatch: LEAK pid $FX_PID (leaker): ...' on stderr" \
			"$(grep -v '^ ' "$ERR" | head -10)" || return 1
	awk -v pid="$FX_PID" '
		/^leakwatch: [0-9]+ leaks? found:$/ { report = 1; next }
		report && /^ *LEAK +pid / && index($0, "pid " pid " (leaker)") { leak = NR; next }
		leak && /^ +#[0-9]+ +chan_send\+0x[0-9a-f]+ \(.*leaker\.c:[0-9]+\)$/ { send = NR }
		leak && send && /^ +#[0-9]+ +query\+0x[0-9a-f]+ \(.*leaker\.c:[0-9]+\)$/ { query = NR }
		END { exit !(leak && send && query) }' "$ERR" ||
		fail "no report on stderr: 'leakwatch: N leak(s) found:', a LEAK line for pid $FX_PID, then its stack with chan_send and query" \
			"$(grep -A12 'found:' "$ERR" | head -16)" || return 1
}

# 25. leakwatch -- /nonexistent: exit 127, one line on stderr.
test_run_notfound() {
	ot_run run_notfound 20 -- /nonexistent/command || return 1
	[[ $RC == 127 ]] || fail "exit $RC, want 127" "$(cat "$ERR")" || return 1
	[[ $(wc -l <"$ERR") == 1 ]] && grep -q /nonexistent/command "$ERR" ||
		fail "stderr has $(wc -l <"$ERR") lines, want one naming /nonexistent/command" \
			"$(cat "$ERR")" || return 1
}

# 26. -p with and without --fail-on-leak on one leaking process, side by
# side: both see the leak; exit 1 with --fail-on-leak, 0 without.  The
# first also writes a timeline, which must have the leak as an instant.
test_fail_on_leak() {
	local a_pid a_out a_err a_args a_t0 b_rc
	start_fixture leaker cond --every 500 --start-after 30000 || return 1
	start_lw fol -p "$FX_PID" -t 2s -i 1s -d 30s -j --fail-on-leak \
		--timeline "$TMP/fol.timeline.json" || return 1
	a_pid=$LW_PID a_out=$OUT a_err=$ERR a_args=$LW_ARGS a_t0=$T0
	start_lw nofol -p "$FX_PID" -t 2s -i 1s -d 30s -j || return 1
	kill -USR1 "$FX_PID"
	wait_lw 60 || return 1
	b_rc=$RC
	jq_expect "without --fail-on-leak: a leak record" \
		'any(.[]; .type == "leak" and .pid == $pid)' || return 1
	grep -Eq '^leakwatch: [0-9]+ leaks? found:' "$ERR" ||
		fail "without --fail-on-leak: no leak report on stderr" "$(head -10 "$ERR")" || return 1
	[[ $b_rc == 0 ]] || fail "without --fail-on-leak: exit $b_rc, want 0" "$(head -5 "$ERR")" ||
		return 1

	LW_PID=$a_pid OUT=$a_out ERR=$a_err LW_ARGS=$a_args T0=$a_t0
	wait_lw 30 || return 1
	jq_expect "with --fail-on-leak: a leak record" \
		'any(.[]; .type == "leak" and .pid == $pid)' || return 1
	expect_rc 1 || return 1
	ot_jq "timeline: valid JSON with a process-scoped \"leak\" instant for pid $FX_PID, its site, stuck count and a stack with chan_send" \
		"$TMP/fol.timeline.json" '[.traceEvents[] | select(.ph == "i" and .name == "leak")] as $l
			| ($l | length) >= 1 and ($l | all(.pid == $pid and .s == "p"
				and (.ts | type == "number") and (.args.site | type == "string")
				and .args.stuck >= 3 and any(.args.stack[]; startswith("chan_send+"))))' \
		'[.traceEvents[] | select(.ph == "i")]' || return 1
}

# ---------------------------------------------------------------- timeline --

# ot_timeline_check FILE STUCK: the timeline of a run on blocker cond with
# the tids OT_TIDS stuck (STUCK of them): valid JSON; a named process track
# for FX_PID; a named thread track and one slice (X, dur > 0, at least the
# 1s threshold, named futex) per stuck tid and none for others; counters
# threads, blocked and stuck for FX_PID, stuck last at STUCK.
ot_timeline_check() {
	local f=$1 n=$2
	jq -e . "$f" >/dev/null 2>&1 ||
		fail "the timeline is not valid JSON" "$(tail -c 300 "$f" 2>&1)" || return 1
	ot_jq "timeline: an object with a traceEvents array and otherData" "$f" \
		'(.traceEvents | type == "array") and (.otherData | type == "object")
			and (.traceEvents | all(has("ph") and (.pid | type == "number")))' 'keys' || return 1
	ot_jq "timeline: a process_name metadata event for $FX_PID named blocker" "$f" \
		'any(.traceEvents[]; .ph == "M" and .name == "process_name" and .pid == $pid
			and .args.name == "blocker")' \
		'[.traceEvents[] | select(.ph == "M")]' || return 1
	ot_jq "timeline: thread_name metadata events exactly for the stuck tids $OT_TIDS, named blk-cond" "$f" \
		'[.traceEvents[] | select(.ph == "M" and .name == "thread_name" and .pid == $pid)]
			| (map(.tid) | unique) == $tids and all(.args.name == "blk-cond")' \
		'[.traceEvents[] | select(.ph == "M")]' || return 1
	ot_jq "timeline: one X slice per stuck tid, named futex, with ts and dur >= 1s (the threshold)" "$f" \
		'[.traceEvents[] | select(.ph == "X" and .pid == $pid)]
			| (map(.tid) | sort) == $tids
			and all(.name == "futex" and (.ts | type == "number") and .ts > 0
				and (.dur | type == "number") and .dur >= 1000000)' \
		'[.traceEvents[] | select(.ph == "X")]' || return 1
	ot_jq "timeline: counters threads, blocked and stuck for $FX_PID; the last stuck is $n" "$f" \
		"[.traceEvents[] | select(.ph == \"C\" and .pid == \$pid)] as \$c
			| (\$c | map(.name) | unique) == [\"blocked\", \"stuck\", \"threads\"]
			and (\$c | all((.ts | type == \"number\") and (.args.count | type == \"number\")))
			and ([\$c[] | select(.name == \"stuck\")] | last | .args.count == $n)" \
		'[.traceEvents[] | select(.ph == "C")]' || return 1
}

# ot_timeline_run NAME ARGS...: blocker cond with 3 threads that block once
# leakwatch watches; leakwatch -p ARGS --timeline $TMP/NAME.timeline.json;
# waits until the 3 are reported stuck.  Sets OT_TIDS.
ot_timeline_run() {
	local name=$1 i
	shift
	start_fixture blocker cond --threads 3 --start-after 30000 "${OT_FX_ARGS[@]}" || return 1
	start_lw "$name" -p "$FX_PID" -t 1s -i 500ms -j --timeline "$TMP/$name.timeline.json" "$@" ||
		return 1
	kill -USR1 "$FX_PID"
	OT_TIDS=$(ot_tids_json "$(fixture_tids 3)")
	for ((i = 0; i < 20 * 4; i++)); do
		(($(jq -s --argjson pid "$FX_PID" '[.[] | select(.type == "stuck" and .pid == $pid)] | length' \
			"$OUT" 2>/dev/null || echo 0) >= 3)) && return 0
		is_running "$LW_PID" || return 0
		sleep 0.25
	done
}

# 27. A run ended by -d: slices still open reach the end of the run.
test_timeline() {
	local f=$TMP/timeline.timeline.json
	OT_FX_ARGS=()
	ot_timeline_run timeline -d 4s || return 1
	wait_lw 40 || return 1
	expect_rc 0 || return 1
	ot_timeline_check "$f" 3 || return 1
	ot_jq "timeline (-d): every slice open at the end, ending at otherData.end_unix (within 1s)" "$f" \
		'(.otherData.end_unix * 1000000) as $stop
			| [.traceEvents[] | select(.ph == "X")]
			| all(.args.open == true and (.ts + .dur - $stop | fabs) <= 1000000)' \
		'{end: .otherData.end_unix, slices: [.traceEvents[] | select(.ph == "X") | {ts, dur, args}]}' ||
		return 1
}

# 28. Runs ended by SIGINT and by SIGTERM: the file is complete too.
test_timeline_signal() {
	local sig
	OT_FX_ARGS=()
	for sig in INT TERM; do
		ot_timeline_run "timeline_$sig" -d 60s || return 1
		sleep 0.5
		kill "-$sig" "$LW_PID"
		wait_lw 10 || return 1
		expect_rc 0 || return 1
		ot_timeline_check "$TMP/timeline_$sig.timeline.json" 3 || {
			FAIL="SIG$sig: $FAIL"
			return 1
		}
		kill_all
	done
}

# 29. A run ended by the watched process's exit: an exit instant, and every
# slice ended by then.
test_timeline_exit() {
	local f=$TMP/timeline_exit.timeline.json
	OT_FX_ARGS=(--exit-after 8)
	ot_timeline_run timeline_exit -d 60s || return 1
	OT_FX_ARGS=()
	wait_lw 30 || return 1
	expect_rc 0 || return 1
	ot_timeline_check "$f" 3 || return 1
	ot_jq "timeline (process exit): one process-scoped exit instant for $FX_PID, no slice open after it" "$f" \
		'[.traceEvents[] | select(.ph == "i" and .name == "exit" and .pid == $pid)] as $e
			| ($e | length == 1) and $e[0].s == "p"
			and ([.traceEvents[] | select(.ph == "X" and .pid == $pid)]
				| all(.ts + .dur <= $e[0].ts + 1000000 and .args.open != true))' \
		'[.traceEvents[] | select(.ph == "i" or .ph == "X")]' || return 1
}

# A disk that fills up under the timeline: one line says so, and the run
# that lost part of its trace exits 3, not 0.
ot_timeline_full_run() {
	local dir=$1
	start_fixture leaker cond --every 50 --exit-after 30 || return 1
	start_lw timeline_full -p "$FX_PID" -t 1s -i 200ms --timeline "$dir/trace.json" -j ||
		return 1
	sleep 2
	dd if=/dev/zero of="$dir/fill" bs=4k count=100 2>/dev/null
	sleep 3 # stuck records keep coming: the trace needs room it has not
	kill -INT "$LW_PID"
	wait_lw 20 || return 1
	expect_rc 3 || return 1
	grep -q '^leakwatch: could not write all of the timeline to ' "$ERR" ||
		fail "no line says the timeline was cut short" "$(tail -5 "$ERR")"
}

test_timeline_full() {
	local dir=$TMP/timeline-full rc
	mkdir -p "$dir"
	mount -t tmpfs -o size=64k,mode=0755 "leakwatch-test-$$-timeline" "$dir" ||
		fail "cannot mount a tmpfs on $dir" || return 1
	ot_timeline_full_run "$dir"
	rc=$?
	umount "$dir" 2>/dev/null || umount -l "$dir"
	return $rc
}

# ----------------------------------------------------------------- service --

# ot_unit_caps KEY: the capabilities on the unit's KEY= line, sorted, one
# line.
ot_unit_caps() {
	sed -n "s/^$1=//p" "$OT_ROOT/contrib/leakwatch.service" | tr ' ' '\n' | sed '/^$/d' | sort |
		tr '\n' ' '
}

# 30. systemd-analyze verify accepts the unit (ExecStart pointed at the built
# binary, man page found), with nothing to say; the unit keeps its promises.
test_systemd() {
	local unit=$OT_ROOT/contrib/leakwatch.service lw_abs out rc want
	ot_need systemd-analyze systemd || return 1
	[[ -f $unit ]] || fail "$unit is missing" || return 1
	grep -q '^ExecStart=/usr/local/sbin/leakwatch ' "$unit" ||
		fail "ExecStart is not /usr/local/sbin/leakwatch (make install rewrites that path)" \
			"$(grep ^ExecStart "$unit")" || return 1
	lw_abs=$(cd "$(dirname "$LW")" && pwd)/$(basename "$LW")
	mkdir -p "$TMP/unit" "$TMP/man/man8"
	sed "s|^ExecStart=/usr/local/sbin/leakwatch |ExecStart=$lw_abs |" "$unit" \
		>"$TMP/unit/leakwatch.service"
	cp "$OT_ROOT/doc/leakwatch.8" "$TMP/man/man8/"
	out=$(cd "$TMP/unit" && MANPATH=$TMP/man systemd-analyze verify "$TMP/unit/leakwatch.service" 2>&1)
	rc=$?
	[[ $rc == 0 && -z $out ]] ||
		fail "systemd-analyze verify: exit $rc, want 0 and no output" "$out" || return 1

	want="CAP_BPF CAP_DAC_READ_SEARCH CAP_PERFMON CAP_SYSLOG CAP_SYS_PTRACE "
	[[ $(ot_unit_caps CapabilityBoundingSet) == "$want" && $(ot_unit_caps AmbientCapabilities) == "$want" ]] ||
		fail "CapabilityBoundingSet and AmbientCapabilities must be exactly: $want" \
			"$(grep -E '^(CapabilityBoundingSet|AmbientCapabilities)=' "$unit")" || return 1
	grep -Eq '^ExecStart=.* --metrics 127\.0\.0\.1:[0-9]+( |$)' "$unit" ||
		fail "ExecStart does not serve metrics on 127.0.0.1" "$(grep ^ExecStart "$unit")" || return 1
	! grep -Eq '^(ProtectKernelTunables|ProtectKernelLogs|PrivateUsers)=(yes|true|1)' "$unit" ||
		fail "the unit sets an option that breaks leakwatch (kallsyms, CAP_SYSLOG, BPF)" \
			"$(grep -E '^(ProtectKernelTunables|ProtectKernelLogs|PrivateUsers)=' "$unit")" || return 1
}

# 31. The unit's command line and capabilities: leakwatch run as an
# unprivileged user with exactly the unit's ambient capabilities (and that
# bounding set, no new privileges) gives what root gives: the stuck
# threads of another user's process, its user stack, its kernel stack by
# name, the metrics; with any one of them less it does not.
test_service_caps() {
	local dir caps c less port args tids ok
	ot_need setpriv util-linux || return 1
	# Binaries where an unprivileged user may run them, whatever the
	# checkout's permissions.
	dir=$(mktemp -d /tmp/leakwatch-caps.XXXXXX) && chmod 755 "$dir" || return 1
	cp "$LW" "$BLOCKER" "$dir/" || { rm -rf "$dir"; return 1; }
	caps=$(ot_unit_caps AmbientCapabilities | tr '[:upper:]' '[:lower:]' | sed 's/cap_//g')
	[[ $caps ]] || fail "no AmbientCapabilities in the unit" || { rm -rf "$dir"; return 1; }

	spawn caps-fx setpriv --reuid=12345 --regid=12345 --clear-groups "$dir/blocker" cond --threads 3 \
		--exit-after "$FX_SAFETY"
	FX_PID=$SPAWNED FX_OUT=$TMP/caps-fx.out
	tids=$(fixture_tids 3)
	OT_TIDS=$(ot_tids_json "$tids")
	[[ $(awk '$1 == "pid" { print $2 }' "$FX_OUT") == "$FX_PID" ]] ||
		fail "blocker as uid 12345 did not start" "$(head -c 300 "$TMP/caps-fx.err")" ||
		{ rm -rf "$dir"; return 1; }

	# The unit's ExecStart arguments (host-wide, metrics) on a free port,
	# and -p on the fixture for the stacks.
	port=$(ot_free_port) || { rm -rf "$dir"; return 1; }
	args=$(sed -n 's|^ExecStart=[^ ]*||p' "$OT_ROOT/contrib/leakwatch.service" |
		sed "s|--metrics 127.0.0.1:[0-9]*|--metrics 127.0.0.1:$port|")
	ok=1
	for less in none $caps; do
		c=$(tr ' ' '\n' <<<"$caps" | grep -v -e '^$' -e "^$less\$" | sed 's/^/+/' | paste -sd, -)
		# shellcheck disable=SC2086 # args: the unit's words
		ot_exec "caps-$less" 30 setpriv --reuid=65534 --regid=65534 --clear-groups \
			--no-new-privs --bounding-set=-all,"$c" --inh-caps=-all,"$c" --ambient-caps=-all,"$c" \
			"$dir/leakwatch" $args -p "$FX_PID" -t 1s -i 500ms -d 3s -j || ok=0
		[[ $ok == 1 ]] || break
		if [[ $less == none ]]; then
			expect_rc 0 || { ok=0; break; }
			ot_jq "with the unit's capabilities as nobody: the 3 stuck threads, a user stack through blocked_thread, a kernel stack by name, nothing unreadable" \
				"$OUT" '-s ([.[] | select(.type == "stuck" and .pid == $pid) | .tid] | sort == $tids)
					and any(.[]; .type == "site" and .pid == $pid
						and any(.stack[]; startswith("blocked_thread+0x"))
						and any(.kstack[]; test("^futex[a-z_]*\\+0x")))
					and (last | .type == "summary" and .stacks_unreadable == 0
						and .kstacks_unreadable == 0)' \
				'.[] | select(.type == "site" or .type == "summary")' || { ok=0; break; }
			continue
		fi
		# One capability less: it must show.
		case $less in
		bpf | perfmon)
			[[ $RC == 3 ]] || fail "without CAP_${less^^}: exit $RC, want 3" "$(head -3 "$ERR")" ||
				{ ok=0; break; } ;;
		*)
			[[ $RC == 0 ]] || fail "without CAP_${less^^}: exit $RC, want 0" "$(head -3 "$ERR")" ||
				{ ok=0; break; }
			ot_jq "without CAP_${less^^}: the site's stacks lack something (CAP_${less^^} is needed)" \
				"$OUT" '-s any(.[]; .type == "site" and .pid == $pid)
					and all(.[] | select(.type == "site" and .pid == $pid);
						(any(.stack[]; startswith("blocked_thread+0x")) | not)
						or (any(.kstack[]; test("^futex[a-z_]*\\+0x")) | not))' \
				'.[] | select(.type == "site")' || { ok=0; break; } ;;
		esac
	done
	rm -rf "$dir"
	[[ $ok == 1 ]]
}

# 32. make install DESTDIR=... PREFIX=/usr: the binary, the man page and the
# unit, its ExecStart the installed path; make uninstall removes them.
test_install() {
	local d=$TMP/destdir build_abs
	build_abs=$(cd "$BUILD" && pwd)
	make -s -C "$OT_ROOT" --no-print-directory install DESTDIR="$d" PREFIX=/usr \
		OUTPUT="$build_abs" >"$TMP/install.out" 2>&1 ||
		fail "make install failed" "$(tail -5 "$TMP/install.out")" || return 1
	[[ -x $d/usr/sbin/leakwatch ]] && cmp -s "$d/usr/sbin/leakwatch" "$LW" ||
		fail "no $d/usr/sbin/leakwatch, or not the built one" || return 1
	cmp -s "$d/usr/share/man/man8/leakwatch.8" "$OT_ROOT/doc/leakwatch.8" ||
		fail "no man page at usr/share/man/man8/leakwatch.8" || return 1
	grep -qx 'ExecStart=/usr/sbin/leakwatch .*' "$d/usr/lib/systemd/system/leakwatch.service" ||
		fail "installed unit: ExecStart not rewritten to /usr/sbin/leakwatch" \
			"$(grep ExecStart "$d/usr/lib/systemd/system/leakwatch.service" 2>&1)" || return 1
	[[ $(stat -c %a "$d/usr/sbin/leakwatch" "$d/usr/share/man/man8/leakwatch.8" \
		"$d/usr/lib/systemd/system/leakwatch.service" | paste -sd' ') == "755 644 644" ]] ||
		fail "modes are not 755 (binary), 644 (man page, unit)" || return 1
	make -s -C "$OT_ROOT" --no-print-directory uninstall DESTDIR="$d" PREFIX=/usr \
		>"$TMP/uninstall.out" 2>&1 || fail "make uninstall failed" "$(tail -5 "$TMP/uninstall.out")" ||
		return 1
	[[ -z $(find "$d" -type f) ]] || fail "make uninstall left files" "$(find "$d" -type f)" || return 1
}

# 33. The man page renders without a warning and documents every option of
# --help, every record type and JSON field (user/json_out.c), every metric
# (user/metrics.c) and every exit status.
test_manpage() {
	local man=$OT_ROOT/doc/leakwatch.8 src err w missing=()
	ot_need groff groff-base || return 1
	[[ -f $man ]] || fail "$man is missing" || return 1
	err=$(groff -man -Tutf8 -ww "$man" 2>&1 >/dev/null)
	[[ -z $err ]] || fail "groff -man -Tutf8 -ww warns" "$err" || return 1
	src=$(sed 's/\\-/-/g' "$man")
	for w in $("$LW" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
		grep -qF -- "$w" <<<"$src" || missing+=("option $w")
	done
	for w in $(sed -n '/^static const char \*type_name/,/^}/p' "$OT_ROOT/user/json_out.c" |
		grep -oE 'return "[a-z]+"' | cut -d'"' -f2 | grep -vx unknown); do
		grep -qx "\.B $w" <<<"$src" || missing+=("record $w")
	done
	for w in $(grep -oE '\((o|drops), "[a-z_]+"' "$OT_ROOT/user/json_out.c" | cut -d'"' -f2 | sort -u); do
		grep -Eq "^\.(B|BR|RB) (.* )?\"?\[?$w\b" <<<"$src" || missing+=("field $w")
	done
	for w in $(grep -oE '"leakwatch_[a-z_]+' "$OT_ROOT/user/metrics.c" | tr -d '"' | sort -u); do
		grep -qw -- "$w" <<<"$src" || missing+=("metric $w")
	done
	for w in 0 1 2 3; do
		sed -n '/^\.SH EXIT STATUS/,/^\.SH [^E]/p' <<<"$src" | grep -qx "\.B $w" ||
			missing+=("exit status $w")
	done
	((${#missing[@]} == 0)) || fail "doc/leakwatch.8 does not document: ${missing[*]}" || return 1
}

# shellcheck disable=SC2034 # run.sh's ALL_TESTS takes them
OUTPUTS_TESTS=(metrics prometheus metrics_exit run_mode run_leak run_notfound fail_on_leak
	timeline timeline_signal timeline_exit timeline_full systemd service_caps install manpage)
