#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# leakwatch integration tests: run the real daemon (root: it loads BPF
# programs) against the fixtures in tests/fixtures and check what a user sees.
#
#   tests/integration/run.sh BUILD_DIR [TEST...]     (make test-integration)
#
# BUILD_DIR holds leakwatch and fixtures/{blocker,churn,leaker,leaker-fp,forker}.
# TEST names (e.g. cond unstuck) run only those tests.  LW_KEEP_TMP=1 keeps the
# temporary directory with every run's stdout and stderr.
#
# Prints "ok - NAME" or "not ok - NAME: REASON" (then "#" lines with details)
# per test, and last "N passed, M failed".  Exit status 1 if any failed.
#
# Every process started here runs in its own session (setsid), is killed by
# process group when its test ends and again on exit, and is bounded: fixtures
# by --exit-after, leakwatch runs by a wait with a deadline.

set -uo pipefail

BUILD=${1:?usage: run.sh BUILD_DIR [TEST...]}
shift
LW=$BUILD/leakwatch
BLOCKER=$BUILD/fixtures/blocker
CHURN=$BUILD/fixtures/churn
LEAKER=$BUILD/fixtures/leaker
FX_SAFETY=60 # --exit-after for every fixture: no strays even if we die

if [[ $(id -u) -ne 0 ]]; then
	echo "run.sh: the integration tests need root (leakwatch loads BPF programs): run 'sudo make test-integration'" >&2
	exit 1
fi
for f in "$LW" "$BLOCKER" "$CHURN" "$LEAKER" "$LEAKER-fp" "$BUILD/fixtures/forker"; do
	[[ -x $f ]] || { echo "run.sh: $f is missing: run 'make' first" >&2; exit 1; }
done
command -v jq >/dev/null || { echo "run.sh: jq is required" >&2; exit 1; }

TMP=$(mktemp -d /tmp/leakwatch-it.XXXXXX)
PGIDS=()      # process groups started by the running test
JSON_RUNS=()  # stdout of every finished JSON run, for test_summary

# Kill every process group this test started (TERM, then KILL), reap them.
kill_all() {
	local g
	((${#PGIDS[@]})) || return 0
	for g in "${PGIDS[@]}"; do kill -TERM -- "-$g" 2>/dev/null; done
	sleep 0.2
	for g in "${PGIDS[@]}"; do
		kill -KILL -- "-$g" 2>/dev/null
		wait "$g" 2>/dev/null
	done
	PGIDS=()
}

cleanup() {
	kill_all
	declare -F stacks_cleanup >/dev/null && stacks_cleanup
	declare -F cgroup_cleanup >/dev/null && cgroup_cleanup
	declare -F folded_cleanup >/dev/null && folded_cleanup
	declare -F nsroot_cleanup >/dev/null && nsroot_cleanup
	if [[ ${LW_KEEP_TMP:-} ]]; then echo "# kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- helpers --

FAIL=""   # the reason the current test failed
DIAG=()   # detail lines printed under "not ok"

# fail REASON [DETAIL...]: record why the test failed; always returns 1.
fail() {
	FAIL=$1
	shift
	DIAG+=("$@")
	return 1
}

now() { date +%s.%N; }

# is_running PID: alive and not a zombie.
is_running() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
	[[ -n $st && $st != Z ]]
}

# spawn NAME CMD...: run CMD in its own session, stdout/stderr in
# $TMP/NAME.out and $TMP/NAME.err.  Sets SPAWNED (pid = pgid).
spawn() {
	local name=$1
	shift
	# Emptied here, not only by the child's redirection: a caller reading
	# NAME.out at once must not see an earlier run's lines (start_fixture
	# took a former blocker's "pid" line on a loaded machine).
	: >"$TMP/$name.out"
	: >"$TMP/$name.err"
	setsid "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" </dev/null &
	SPAWNED=$!
	PGIDS+=("$SPAWNED")
}

# wait_exit PID SECS: wait up to SECS for PID to exit; sets RC to its exit
# status.  Kills its group and fails if it is still running.
wait_exit() {
	local pid=$1 secs=$2 i
	for ((i = 0; i < secs * 10; i++)); do
		is_running "$pid" || break
		sleep 0.1
	done
	if is_running "$pid"; then
		kill -KILL -- "-$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		RC=124
		fail "$(cat "/proc/$pid/comm" 2>/dev/null || echo "pid $pid") still running after ${secs}s"
		return 1
	fi
	wait "$pid"
	RC=$?
}

# fixture_pid_line NAME: wait (5s at most) for the "pid PID" line of the
# fixture spawned as fx-NAME.  Sets FX_OUT and FX_PID ("" if none came).
fixture_pid_line() {
	local i
	FX_OUT=$TMP/fx-$1.out
	FX_PID=""
	for ((i = 0; i < 50; i++)); do
		FX_PID=$(awk '$1 == "pid" { print $2; exit }' "$FX_OUT" 2>/dev/null)
		[[ $FX_PID ]] && break
		sleep 0.1
	done
}

# start_fixture NAME ARGS...: start build/fixtures/NAME with ARGS and
# --exit-after 60 unless given; wait for its "pid" line.  Sets FX_PID, FX_OUT.
start_fixture() {
	local name=$1 args=("$@")
	shift
	[[ " $* " == *" --exit-after "* ]] || args+=(--exit-after "$FX_SAFETY")
	# The file of an earlier test's fixture of the same name, emptied now:
	# spawn's redirection truncates it only once the child runs.
	: >"$TMP/fx-$name.out"
	spawn "fx-$name" "$BUILD/fixtures/${args[@]}"
	fixture_pid_line "$name"
	[[ $FX_PID == "$SPAWNED" ]] || fail "fixture $name did not start (pid line '$FX_PID', expected $SPAWNED)" \
		"$(head -c 500 "$TMP/fx-$name.err")"
}

# fixture_tids N: wait (10s at most) until the fixture printed N "tid"
# lines; print the tids, sorted, one per line.
fixture_tids() {
	local n=$1 i
	for ((i = 0; i < 100; i++)); do
		(($(grep -c '^tid ' "$FX_OUT") >= n)) && break
		sleep 0.1
	done
	awk '$1 == "tid" { print $2 }' "$FX_OUT" | sort -n
}

# wait_fixture_line LINE SECS: wait until the fixture printed LINE.
wait_fixture_line() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		grep -qx "$1" "$FX_OUT" && return 0
		sleep 0.1
	done
	fail "fixture never printed '$1'"
}

# start_lw NAME ARGS...: start leakwatch ARGS with SIGINT/SIGTERM at their
# default (as from a shell), wait (30s at most) for its "leakwatch: watching"
# line.  Sets LW_PID, OUT, ERR, T0 (wall time before start).
start_lw() {
	local name=$1 i
	shift
	OUT=$TMP/$name.out ERR=$TMP/$name.err T0=$(now)
	LW_ARGS="$*"
	spawn "$name" env --default-signal=INT,TERM "$LW" "$@"
	LW_PID=$SPAWNED
	for ((i = 0; i < 300; i++)); do
		grep -qs '^leakwatch: watching' "$ERR" && return 0
		if ! is_running "$LW_PID"; then
			wait "$LW_PID"
			fail "leakwatch $* exited with $? before it was ready" "$(head -c 500 "$ERR")"
			return 1
		fi
		sleep 0.1
	done
	fail "leakwatch $* not ready after 30s (no 'leakwatch: watching' on stderr)" "$(head -c 500 "$ERR")"
}

# wait_lw SECS: wait for the leakwatch started by start_lw to end by itself;
# sets RC and T1 (wall time after).  For JSON runs, checks every line.
wait_lw() {
	wait_exit "$LW_PID" "$1" || return 1
	T1=$(now)
	if [[ " $LW_ARGS " == *" -j "* ]]; then
		check_json_lines || return 1
		JSON_RUNS+=("$OUT")
	fi
}

# run_lw NAME ARGS...: start leakwatch, wait for it to end (-d + 30s).
run_lw() {
	start_lw "$@" && wait_lw 40
}

# expect_rc WANT: leakwatch's exit status.
expect_rc() {
	[[ $RC == "$1" ]] || fail "leakwatch $LW_ARGS exited with $RC, expected $1" "$(head -c 500 "$ERR")"
}

# check_json_lines: every stdout line is a JSON object with a string "type"
# and a float "ts" within the run's wall time.
check_json_lines() {
	local bad
	[[ -s $OUT ]] || { fail "no output on stdout" "$(head -c 500 "$ERR")"; return 1; }
	bad=$(jq -R -r --argjson t0 "$T0" --argjson t1 "$T1" '
		(try fromjson catch null) as $o
		| if ($o | type) != "object" then "not a JSON object: \(.)"
		  elif ($o.type | type) != "string" then "no string type: \(.)"
		  elif ($o.ts | type) != "number" then "no number ts: \(.)"
		  elif $o.ts < $t0 - 2 or $o.ts > $t1 + 2 then "ts outside the run [\($t0), \($t1)]: \(.)"
		  else empty end' "$OUT" | head -3)
	[[ -z $bad ]] || fail "bad JSON Lines on stdout" "$bad"
}

# jq_expect WHAT FILTER [SHOW]: FILTER over the run's records (an array, in
# $OUT) must be true.  On failure, SHOW (a jq filter, default: all records but
# samples) says what was there.  $pid is the fixture's pid.
jq_expect() {
	local what=$1 filter=$2 show=${3:-'.[] | select(.type != "sample")'}
	jq -e -s --argjson pid "${FX_PID:-0}" "$filter" "$OUT" >/dev/null && return 0
	fail "$what" "$(jq -c -s --argjson pid "${FX_PID:-0}" "$show" "$OUT" 2>&1 | head -20)"
}

# records TYPE: the fixture's records of TYPE, one JSON object per line.
records() {
	jq -c --argjson pid "$FX_PID" "select(.type == \"$1\" and .pid == \$pid)" "$OUT"
}

# expect_tids WHAT GOT WANT [DETAIL...]: two lists of tids (lines) must be equal.
expect_tids() {
	[[ $2 == "$3" ]] || fail "$1: got [$(echo $2)], want [$(echo $3)]" "${@:4}"
}

# stuck_tids: tids of the fixture's stuck records, sorted, duplicates kept.
stuck_tids() { records stuck | jq -r .tid | sort -n; }

# -------------------------------------------------------------- the tests --

# blocked_case MODE WAIT: MODE threads block after leakwatch attached; each is
# reported stuck once, exactly, with where it waits.
blocked_case() {
	local mode=$1 wait=$2 tids tid sc addr
	start_fixture blocker "$mode" --threads 4 --start-after 30000 || return 1
	start_lw "$mode" -p "$FX_PID" -t 1s -i 250ms -d 5s -j || return 1
	kill -USR1 "$FX_PID" # start the threads now that leakwatch watches
	tids=$(fixture_tids 4)
	wait_lw 40 || return 1
	expect_rc 0 || return 1
	expect_tids "stuck tids" "$(stuck_tids)" "$tids" || return 1
	jq_expect "stuck records: pid, comm blk-$mode, pcomm blocker, state S, wait $wait, exact since, blocked_s >= 1" \
		"[.[] | select(.type == \"stuck\")] | all(.pid == \$pid and .comm == \"blk-$mode\"
			and .pcomm == \"blocker\" and .state == \"S\" and .wait == \"$wait\"
			and .since_exact == true and .blocked_s >= 1 and .blocked_s < 10)" || return 1
	jq_expect "last sample: threads 5, stuck 4" \
		'[.[] | select(.type == "sample" and .pid == $pid)] | last
			| .threads == 5 and .stuck == 4 and .blocked >= 4 and .pcomm == "blocker"' \
		'[.[] | select(.type == "sample")] | last' || return 1
	[[ $wait == futex ]] || return 0

	# futex waits: syscall, op, and the one address all threads wait on, as
	# /proc/TID/syscall shows it (the fixture still runs).
	jq_expect "futex stuck records: syscall futex, a futex_op, one futex_addr" \
		'[.[] | select(.type == "stuck")]
			| all(.syscall == "futex" and (.futex_op | type == "string")
				and (.futex_op | ascii_downcase | contains("wait")))
			and (map(.futex_addr) | unique | length == 1)' || return 1
	addr=$(records stuck | jq -r .futex_addr | head -1)
	for tid in $tids; do
		sc=$(cut -d' ' -f2 "/proc/$FX_PID/task/$tid/syscall")
		(($(cut -d' ' -f1 "/proc/$FX_PID/task/$tid/syscall") == 202 && sc == addr)) ||
			fail "futex_addr $addr, but thread $tid waits on $sc (/proc/$FX_PID/task/$tid/syscall)" ||
			return 1
	done
}

# 1. Threads waiting on one condition variable.
test_cond() { blocked_case cond futex; }

# 2. Threads waiting for a mutex that main holds.
test_mutex() { blocked_case mutex futex; }

# 3. Threads reading from pipes nobody writes.
test_pipe() { blocked_case pipe read; }

# 4. Threads already blocked when leakwatch starts: found by the first
# scans, with since_exact false (blocked_s is a lower bound).
test_preblocked() {
	local tids
	start_fixture blocker pipe --threads 3 || return 1
	tids=$(fixture_tids 3)
	sleep 3
	run_lw preblocked -p "$FX_PID" -t 2s -i 500ms -d 4s -j || return 1
	expect_rc 0 || return 1
	expect_tids "stuck tids" "$(stuck_tids)" "$tids" || return 1
	jq_expect "stuck records: since_exact false, blocked_s >= 2, wait read" \
		'[.[] | select(.type == "stuck")]
			| all(.since_exact == false and .blocked_s >= 2 and .wait == "read"
				and .state == "S" and .comm == "blk-pipe")' || return 1
}

# 5. The watched process exits: leakwatch reports it and ends by itself.
test_exit() {
	local t
	start_fixture blocker cond --threads 2 --exit-after 3 || return 1
	start_lw exit -p "$FX_PID" -t 1s -i 250ms -d 30s -j || return 1
	is_running "$FX_PID" ||
		fail "the fixture exited before leakwatch was ready: attaching took too long" || return 1
	wait_lw 15 || return 1
	expect_rc 0 || return 1
	t=$(echo "$T1 - $T0" | bc)
	(($(echo "$t < 15" | bc))) || fail "leakwatch took ${t}s to end" || return 1
	jq_expect "one exit record for the fixture" \
		'[.[] | select(.type == "exit")] | length == 1 and .[0].pid == $pid' || return 1
	jq_expect "last record is the summary, after the exit" \
		'(last | .type == "summary") and (map(.type) | index("exit") < length - 1)' || return 1
}

# 6. A busy process whose threads block often but briefly: nothing stuck.
test_busy() {
	start_fixture churn || return 1
	run_lw busy -p "$FX_PID" -t 1s -i 250ms -d 5s -j || return 1
	expect_rc 0 || return 1
	jq_expect "no stuck records" '[.[] | select(.type == "stuck")] | length == 0' || return 1
	jq_expect "samples for churn: threads >= 5 (main + 4 workers), stuck 0" \
		'[.[] | select(.type == "sample" and .pid == $pid)]
			| length >= 5 and all(.threads >= 5 and .stuck == 0 and .pcomm == "churn")' \
		'[.[] | select(.type == "sample")]' || return 1
}

# 7. A pile that grows: one more blocked thread every 400 ms.
test_growth() {
	local tids
	start_fixture blocker cond --threads 8 --every 400 --start-after 30000 || return 1
	start_lw growth -p "$FX_PID" -t 1s -i 500ms -d 7s -j || return 1
	kill -USR1 "$FX_PID"
	tids=$(fixture_tids 8)
	wait_lw 40 || return 1
	expect_rc 0 || return 1
	expect_tids "stuck tids" "$(stuck_tids)" "$tids" || return 1
	jq_expect "sample stuck counts never decrease, grow, end >= 6" \
		'[.[] | select(.type == "sample" and .pid == $pid) | .stuck] as $s
			| ($s | length) >= 2
			and ([range(1; $s | length) as $i | $s[$i] >= $s[$i - 1]] | all)
			and $s[-1] >= 6 and $s[0] < $s[-1]' \
		'[.[] | select(.type == "sample") | .stuck]' || return 1
}

# 8. Stuck threads released: each reported unstuck, after its stuck record.
test_unstuck() {
	local tids
	start_fixture blocker cond --threads 2 --release-after 2500 --start-after 30000 || return 1
	start_lw unstuck -p "$FX_PID" -t 1s -i 250ms -j || return 1
	kill -USR1 "$FX_PID"
	tids=$(fixture_tids 2)
	# Stop once the release is done, however slow a loaded machine makes it.
	wait_fixture_line released 30 || return 1
	sleep 1
	kill -INT "$LW_PID"
	wait_lw 40 || return 1
	expect_rc 0 || return 1
	expect_tids "stuck tids" "$(stuck_tids)" "$tids" || return 1
	expect_tids "unstuck tids" "$(records unstuck | jq -r .tid | sort -n)" "$tids" || return 1
	jq_expect "unstuck: blocked_s in [1.5, 10], comm blk-cond, each after its stuck record" \
		'[.[] | select(.pid == $pid)] as $r
			| [$r[] | select(.type == "unstuck")]
			| all(.blocked_s >= 1.5 and .blocked_s <= 10 and .comm == "blk-cond")
			  and all(.tid as $t | ($r | map(.type == "stuck" and .tid == $t) | index(true))
				< ($r | map(.type == "unstuck" and .tid == $t) | index(true)))' || return 1
	jq_expect "last sample: stuck 0 after the release" \
		'[.[] | select(.type == "sample" and .pid == $pid)] | last | .stuck == 0' \
		'[.[] | select(.type == "sample")] | last' || return 1
}

# ring_drops PID: the ring-buffer reserve failures counted so far by the
# leakwatch PID (lw_counters[0] in its .bss map, found through its fds).
ring_drops() {
	local id
	for id in $(awk '/^map_id/ { print $2 }' /proc/"$1"/fdinfo/* 2>/dev/null | sort -u); do
		bpftool map show id "$id" 2>/dev/null | grep -q 'name leakwatc.bss' || continue
		bpftool -j map dump id "$id" |
			jq '.[0].formatted.value[".bss"][] | .lw_counters? // empty | .[0]'
		return
	done
	echo 0
}

# 8b. The reader stopped (SIGSTOP) while a churning process fills the ring,
# then 20 stuck threads are released: their end records are lost, but every
# stuck thread still gets an unstuck (end_exact false where the record was
# lost), and the summary counts the loss.
test_stopped() {
	local tids churn_pid blocker_pid i missing
	start_fixture churn || return 1
	churn_pid=$FX_PID
	start_fixture blocker cond --threads 20 --release-after 15000 --start-after 30000 || return 1
	blocker_pid=$FX_PID
	start_lw stopped -p "$blocker_pid" -p "$churn_pid" -t 1s -i 250ms -j || return 1
	kill -USR1 "$blocker_pid"
	tids=$(fixture_tids 20)
	for ((i = 0; i < 100; i++)); do
		(($(records stuck | wc -l) >= 20)) && break
		sleep 0.1
	done
	(($(records stuck | wc -l) >= 20)) || fail "not 20 stuck records before the stop" || return 1
	kill -STOP "$LW_PID"
	# The ring must be full before the release, or nothing is lost.
	for ((i = 0; i < 150; i++)); do
		(($(ring_drops "$LW_PID") > 0)) && break
		sleep 0.1
	done
	if grep -qx released "$FX_OUT" || (($(ring_drops "$LW_PID") == 0)); then
		kill -CONT "$LW_PID"
		fail "the ring was not full before the release: nothing to lose"
		return 1
	fi
	wait_fixture_line released 30 || { kill -CONT "$LW_PID"; return 1; }
	sleep 1
	kill -CONT "$LW_PID"
	sleep 2
	kill -INT "$LW_PID"
	wait_exit "$LW_PID" 20 || return 1
	T1=$(now)
	check_json_lines || return 1 # not in JSON_RUNS: this run drops records on purpose
	expect_rc 0 || return 1
	jq_expect "the ring overflowed (summary drops.ringbuf > 0)" \
		'last | .type == "summary" and .drops.ringbuf > 0' 'last' || return 1
	missing=$(comm -23 <(echo "$tids") <(records unstuck | jq -r .tid | sort -n))
	[[ -z $missing ]] || fail "stuck threads without an unstuck: $(echo $missing)" \
		"$(records unstuck | head -5)" || return 1
	jq_expect "one unstuck per stuck thread, some inexact (their records were lost)" \
		'[.[] | select(.pid == $pid and .type == "unstuck")]
			| length == 20 and (map(.tid) | unique | length) == 20
			  and any(.end_exact == false)' \
		'[.[] | select(.type == "unstuck")]' || return 1
	jq_expect "the last sample of the blocker: stuck 0" \
		'[.[] | select(.type == "sample" and .pid == $pid)] | last | .stuck == 0' \
		'[.[] | select(.type == "sample" and .pid == $pid)] | last' || return 1
}

# 9. Host-wide (no -p): the fixture's threads are found among all others.
test_hostwide() {
	local tids
	start_fixture blocker pipe --threads 2 --start-after 30000 || return 1
	start_lw hostwide -t 1s -i 500ms -d 4s -j || return 1
	kill -USR1 "$FX_PID"
	tids=$(fixture_tids 2)
	wait_lw 40 || return 1
	expect_rc 0 || return 1
	expect_tids "stuck tids of the fixture" "$(stuck_tids)" "$tids" \
		"$(grep -c '"stuck"' "$OUT") stuck records in all" || return 1
	jq_expect "fixture stuck records: wait read, comm blk-pipe, pcomm blocker" \
		'[.[] | select(.type == "stuck" and .pid == $pid)]
			| all(.wait == "read" and .comm == "blk-pipe" and .pcomm == "blocker")' || return 1
	jq_expect "a sample for the fixture with stuck 2" \
		'[.[] | select(.type == "sample" and .pid == $pid)] | last | .stuck == 2' \
		'[.[] | select(.type == "sample" and .pid == $pid)]' || return 1
}

# 10. Every JSON run of this suite ends with a summary and lost nothing.
test_summary() {
	local f
	start_fixture blocker sleep --threads 2 || return 1
	run_lw summary -p "$FX_PID" -t 1s -i 250ms -d 2s -j || return 1
	expect_rc 0 || return 1
	for f in "${JSON_RUNS[@]}"; do
		OUT=$f jq_expect "$(basename "$f" .out): last line is a summary, dropped 0" \
			'last | .type == "summary" and .dropped == 0 and .events >= 0
				and (.duration_s | type == "number") and (.drops | type == "object")' \
			'last' || return 1
		jq -s -e '[.[] | select(.type == "summary")] | length == 1' "$f" >/dev/null ||
			fail "$(basename "$f" .out): more than one summary" || return 1
	done
}

# 11. Bad input: exit 2 and one line on stderr; no privileges: exit 3;
# help and version: exit 0 on stdout.
test_badinput() {
	local args out err rc
	# lw_try ARGS...: run leakwatch quickly; sets rc, out, err.
	lw_try() {
		out=$(timeout 20 "$@" 2>"$TMP/try.err")
		rc=$?
		err=$(cat "$TMP/try.err")
	}
	for args in "--bogus" "-t 10x" "-t -1" "-i 0" "-d 5parsecs" "-p 999999999" "-p abc" "-t"; do
		lw_try "$LW" $args
		[[ $rc == 2 ]] || fail "leakwatch $args: exit $rc, expected 2" "$err" || return 1
		[[ $(wc -l <<<"$err") == 1 && -n $err ]] ||
			fail "leakwatch $args: stderr has $(wc -l <<<"$err") lines, expected one" "$err" || return 1
		[[ -z $out ]] || fail "leakwatch $args: unexpected stdout" "$out" || return 1
	done
	lw_try setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$LW" -d 2s
	[[ $rc == 3 ]] || fail "leakwatch as nobody: exit $rc, expected 3" "$err" || return 1
	[[ $(wc -l <<<"$err") == 1 && -n $err ]] ||
		fail "leakwatch as nobody: stderr has $(wc -l <<<"$err") lines, expected one" "$err" || return 1
	lw_try "$LW" -h
	[[ $rc == 0 && $out == *sage* && $out == *--threshold* && -z $err ]] ||
		fail "leakwatch -h: exit $rc, expected 0 with usage on stdout" "$out" "$err" || return 1
	lw_try "$LW" -V
	[[ $rc == 0 && $out == leakwatch* && -z $err ]] ||
		fail "leakwatch -V: exit $rc, expected 0 with the version on stdout" "$out" "$err" || return 1
}

# 12. Text mode (stdout not a terminal): a STUCK line per stuck thread.
test_text() {
	local tids tid
	start_fixture blocker cond --threads 4 --start-after 30000 || return 1
	start_lw text -p "$FX_PID" -t 1s -i 250ms -d 4s || return 1
	kill -USR1 "$FX_PID"
	tids=$(fixture_tids 4)
	wait_lw 40 || return 1
	expect_rc 0 || return 1
	! grep -q '^{' "$OUT" || fail "JSON on stdout without -j" "$(head -3 "$OUT")" || return 1
	for tid in $tids; do
		grep -i stuck "$OUT" | grep -qw "$tid" ||
			fail "no STUCK line for tid $tid" "$(head -20 "$OUT")" || return 1
	done
}

# 13. SIGINT ends a run without -d: exit 0, the summary last.
test_sigint() {
	start_fixture blocker cond --threads 2 || return 1
	start_lw sigint -p "$FX_PID" -t 1s -i 250ms -j || return 1
	sleep 2
	kill -INT "$LW_PID"
	wait_lw 10 || return 1
	expect_rc 0 || return 1
	jq_expect "last line is the summary" 'last | .type == "summary"' 'last' || return 1
}

# Leak and spin detection (tests 14-19).
LEAK_TESTS_SH=$(dirname "${BASH_SOURCE[0]}")/leak_tests.sh
# shellcheck source=leak_tests.sh
source "$LEAK_TESTS_SH" || { echo "run.sh: cannot read $LEAK_TESTS_SH" >&2; exit 1; }
# Metrics, run mode, timeline, the systemd unit, make install (tests 20-32).
source "$(dirname "${BASH_SOURCE[0]}")/outputs_tests.sh" || exit 1
# Alerts end to end: Prometheus with the shipped rules, Alertmanager, a webhook (issue 11).
source "$(dirname "${BASH_SOURCE[0]}")/alerts_tests.sh" || exit 1
# Run mode, signals, output errors, bad input (issue 8).
source "$(dirname "${BASH_SOURCE[0]}")/runmode_tests.sh" || exit 1
# Kernel-side races, the unwinder's /proc reads, fork storms.
source "$(dirname "${BASH_SOURCE[0]}")/kernel_tests.sh" || exit 1
# The metrics endpoint under hostile clients, the table on a terminal.
source "$(dirname "${BASH_SOURCE[0]}")/view_tests.sh" || exit 1
# Goroutines of Go programs: every Go version x variant (issue 9).
source "$(dirname "${BASH_SOURCE[0]}")/go_tests.sh" || exit 1
# shellcheck source=gowire_tests.sh
source "$(dirname "${BASH_SOURCE[0]}")/gowire_tests.sh" || exit 1
# Readable native stacks: inlined calls, file:line, split debuginfo (issue 10).
# shellcheck source=stacks_tests.sh
source "$(dirname "${BASH_SOURCE[0]}")/stacks_tests.sh" || exit 1
# Python stacks of CPython 3.11+ threads (issue 10).
source "$(dirname "${BASH_SOURCE[0]}")/py_tests.sh" || exit 1
# JIT frames from perf map files: a JVM, Node, jitspin (issue 10).
source "$(dirname "${BASH_SOURCE[0]}")/jit_tests.sh" || exit 1
# Containers and services: cgroup labels, --cgroup (issue 11).
# shellcheck source=cgroup_tests.sh
source "$(dirname "${BASH_SOURCE[0]}")/cgroup_tests.sh" || exit 1
# --folded: flame graphs of the stuck waiters (issue 11).
# shellcheck source=folded_tests.sh
source "$(dirname "${BASH_SOURCE[0]}")/folded_tests.sh" || exit 1
# Lock owners, convoys and deadlocks (issue 12).
# shellcheck source=locks_tests.sh
source "$(dirname "${BASH_SOURCE[0]}")/locks_tests.sh" || exit 1
# Stacks of processes whose files are in another mount namespace (issue 11).
# shellcheck source=nsroot_tests.sh
source "$(dirname "${BASH_SOURCE[0]}")/nsroot_tests.sh" || exit 1

# --------------------------------------------------------------- harness --

ALL_TESTS=(cond mutex pipe preblocked exit busy growth unstuck stopped hostwide text sigint badinput
	"${LEAK_TESTS[@]}" "${OUTPUTS_TESTS[@]}" "${RUNMODE_TESTS[@]}" "${KERNEL_TESTS[@]}"
	"${VIEW_TESTS[@]}" "${GO_TESTS[@]}" "${GOWIRE_TESTS[@]}" "${STACKS_TESTS[@]}" "${PY_TESTS[@]}"
	"${JIT_TESTS[@]}" "${CGROUP_TESTS[@]}" "${ALERTS_TESTS[@]}" "${FOLDED_TESTS[@]}"
	"${NSROOT_TESTS[@]}" "${LOCKS_TESTS[@]}"
	summary)
TESTS=("$@")
((${#TESTS[@]})) || TESTS=("${ALL_TESTS[@]}")

for t in "${TESTS[@]}"; do
	declare -F "test_$t" >/dev/null ||
		{ echo "run.sh: no test '$t' (tests: ${ALL_TESTS[*]})" >&2; exit 1; }
done

passed=0 failed=0
for t in "${TESTS[@]}"; do
	FAIL="" DIAG=() FX_PID="" OUT=/dev/null
	"test_$t"
	status=$?
	kill_all
	if ((status == 0)) && [[ -z $FAIL ]]; then
		echo "ok - $t"
		passed=$((passed + 1))
	else
		echo "not ok - $t: ${FAIL:-failed}"
		for d in "${DIAG[@]}"; do
			[[ $d ]] && sed 's/^/#   /' <<<"$d"
		done
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
((failed == 0))
