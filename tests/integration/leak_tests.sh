# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# leakwatch integration tests for leak and spin detection, sourced by run.sh
# (which provides the helpers: spawn, start_lw, wait_lw, jq_expect, fail, ...).
#
# Fixtures: tests/fixtures/leaker.c (build/fixtures/leaker and leaker-fp: one
# more thread stuck at the same site every --every ms, or healthy processes
# that do not pile up), tests/fixtures/Idle.java (an idle JVM) and python3.
#
# The leak tests stop leakwatch (SIGINT) shortly after its first leak record,
# so that they take about as long as the detection does; -d 30s bounds them.

LEAK_SRC_FIXTURES=$(cd "$(dirname "${BASH_SOURCE[0]}")/../fixtures" && pwd)
LEAK_BOUND=30 # seconds from the first leaked thread to the leak record, at most

# start_fx TAG CMD...: run CMD (in its own session, output in $TMP/fx-TAG.*)
# and wait (20s at most: a JVM starts slowly) for its "pid PID" line.  Sets
# FX_PID and FX_OUT.  CMD must bound its own life (--exit-after, timeout).
start_fx() {
	local tag=$1 i
	shift
	spawn "fx-$tag" "$@"
	FX_OUT=$TMP/fx-$tag.out
	FX_PID=""
	for ((i = 0; i < 200; i++)); do
		FX_PID=$(awk '$1 == "pid" { print $2; exit }' "$FX_OUT" 2>/dev/null)
		[[ $FX_PID ]] && break
		is_running "$SPAWNED" || break
		sleep 0.1
	done
	if [[ -z $FX_PID ]] || ! is_running "$FX_PID"; then
		fail "$tag ($*) did not start (no 'pid' line or not running)" \
			"$(head -c 500 "$TMP/fx-$tag.err")"
	fi
}

# wait_record FILTER SECS: wait (SECS at most, or until leakwatch ends) for a
# JSON record on the run's stdout for which FILTER is true ($pid: FX_PID).
wait_record() {
	local filter=$1 secs=$2 i
	for ((i = 0; i <= secs * 4; i++)); do
		# A line being written makes jq fail: try again.
		jq -e -n --argjson pid "$FX_PID" "any(inputs; $filter)" "$OUT" >/dev/null 2>&1 && return 0
		is_running "$LW_PID" || break
		sleep 0.25
	done
	jq -e -n --argjson pid "$FX_PID" "any(inputs; $filter)" "$OUT" >/dev/null 2>&1
}

# stop_lw: SIGINT leakwatch (a clean stop: summary written) if still running
# and wait for it.
stop_lw() {
	sleep 1 # let the records of the scan that found the leak out
	is_running "$LW_PID" && kill -INT "$LW_PID"
	wait_lw 10
}

# leak_case NAME BINARY MODE WAIT FUNC KFRAME: BINARY MODE leaks a thread every
# 700 ms, each stuck in FUNC called from query(); leakwatch must flag the site
# within LEAK_BOUND seconds of the first leaked thread: a leak record with
# WAIT, the stack (innermost first), a kernel stack with a frame matching
# KFRAME, and the site of the stuck records.
leak_case() {
	local name=$1 bin=$2 mode=$3 t_start
	start_fx "$name" "$BUILD/fixtures/$bin" "$mode" --every 700 --start-after 30000 \
		--exit-after "$FX_SAFETY" || return 1
	start_lw "$name" -p "$FX_PID" -t 2s -i 1s -d "${LEAK_BOUND}s" -j || return 1
	t_start=$(now)
	kill -USR1 "$FX_PID" # the first thread leaks now that leakwatch watches
	wait_record '.type == "leak" and .pid == $pid' $((LEAK_BOUND + 5))
	stop_lw || return 1
	expect_rc 0 || return 1
	leak_check "$@" "$t_start"
}

# leak_check NAME BINARY MODE WAIT FUNC KFRAME T_START: leak_case's checks of
# the run's records ($OUT) for the fixture (FX_PID, FX_OUT) whose first
# thread leaked at T_START.
leak_check() {
	local name=$1 bin=$2 mode=$3 wait=$4 func=$5 kframe=$6 t_start=$7 tids lat
	tids=$(awk '$1 == "tid" { print $2 }' "$FX_OUT" | sort -n)

	jq_expect "a leak record for the fixture" \
		'any(.[]; .type == "leak" and .pid == $pid)' \
		'.[] | select(.type != "sample" and .type != "stuck")' || return 1
	lat=$(jq -s -r --argjson pid "$FX_PID" --argjson t "$t_start" '
		first(.[] | select(.type == "leak" and .pid == $pid))
		| "\(.ts - $t | . * 10 | round / 10) s after the first leaked thread started (stuck \(.stuck), growth_per_min \(.growth_per_min))"' "$OUT")
	echo "# $name: leak flagged $lat"
	jq_expect "the leak came within ${LEAK_BOUND}s of the first leaked thread" \
		"first(.[] | select(.type == \"leak\" and .pid == \$pid)) | .ts - $t_start <= $LEAK_BOUND" \
		'first(.[] | select(.type == "leak")) | {ts}' || return 1
	jq_expect "first leak record: pcomm leaker, wait $wait, syscall $wait, stuck >= 3, growth_per_min > 0, a site id" \
		"first(.[] | select(.type == \"leak\" and .pid == \$pid))
			| .pcomm == \"leaker\" and .wait == \"$wait\" and .syscall == \"$wait\"
			and (.stuck | type == \"number\") and .stuck >= 3
			and (.growth_per_min | type == \"number\") and .growth_per_min > 0
			and (.site | type == \"string\" and length > 0)" \
		'.[] | select(.type == "leak") | del(.stack, .kstack)' || return 1
	jq_expect "leak stack: frames \"func+0xoff (file:line)\", innermost first: $func+0x... (leaker.c:N) then query+0x... (leaker.c:N)" \
		"first(.[] | select(.type == \"leak\" and .pid == \$pid)) | .stack
			| (type == \"array\") and all(type == \"string\")
			and (map(test(\"^$func\\\\+0x[0-9a-f]+ \\\\(.*\\\\bleaker\\\\.c:[0-9]+\\\\)\$\")) | index(true)) as \$f
			| (map(test(\"^query\\\\+0x[0-9a-f]+ \\\\(.*\\\\bleaker\\\\.c:[0-9]+\\\\)\$\")) | index(true)) as \$q
			| \$f != null and \$q != null and \$f < \$q" \
		'first(.[] | select(.type == "leak")) | .stack' || return 1
	jq_expect "leak kstack: kernel frames \"func+0xoff\", one matching /$kframe/" \
		"first(.[] | select(.type == \"leak\" and .pid == \$pid)) | .kstack
			| type == \"array\" and length > 0
			and all(type == \"string\" and test(\"^[A-Za-z0-9_.]+\\\\+0x[0-9a-f]+\"))
			and any(test(\"$kframe\"))" \
		'first(.[] | select(.type == "leak")) | .kstack' || return 1
	jq_expect "every leak record of the fixture names the same site" \
		'[.[] | select(.type == "leak" and .pid == $pid) | .site] | unique | length == 1' \
		'.[] | select(.type == "leak") | del(.stack, .kstack)' || return 1

	# The leaked threads' stuck records: all at the leak's site, at least as
	# many as the leak counted, none for main.
	jq_expect "stuck records only for leak-$mode threads (not for main)" \
		"[.[] | select(.type == \"stuck\" and .pid == \$pid)]
			| length > 0 and all(.comm == \"leak-$mode\")" \
		'.[] | select(.type == "stuck") | del(.stack, .kstack)' || return 1
	expect_tids "stuck tids that are not the leaked threads' tids" \
		"$(records stuck | jq -r .tid | grep -vxF -f <(echo "$tids"))" "" || return 1
	jq_expect "the stuck records of the leaked threads carry the leak's site, as many as the leak counted" \
		'first(.[] | select(.type == "leak" and .pid == $pid)) as $l
			| [.[] | select(.type == "stuck" and .pid == $pid)] as $s
			| ($s | all(.site == $l.site))
			and ($s | map(.tid) | unique | length) >= $l.stuck' \
		'[.[] | select(.type == "leak")][0].site, (.[] | select(.type == "stuck") | {tid, site})' || return 1
	jq_expect "one site record for the leak's site, before the leak record, with the same wait and stack" \
		'(map(.type == "leak" and .pid == $pid) | index(true)) as $i
			| .[$i] as $l
			| [.[] | select(.type == "site" and .pid == $pid and .site == $l.site)] as $s
			| ($s | length == 1) and $s[0].wait == $l.wait and $s[0].stack == $l.stack
			and (map(.type == "site" and .pid == $pid and .site == $l.site) | index(true)) < $i' \
		'.[] | select(.type == "site" or .type == "leak") | del(.kstack)' || return 1
}

# 14. Threads pile up on a condition variable nobody signals (a send nobody
# receives): a leak, with a stack unwound through CFI (no frame pointers).
test_leak_cond() { leak_case leak_cond leaker cond futex chan_send futex; }

# 15. The same, built with frame pointers.
test_leak_cond_fp() { leak_case leak_cond_fp leaker-fp cond futex chan_send futex; }

# 16. Threads pile up in read() on pipes nobody writes (a reply that never
# comes).
test_leak_pipe() { leak_case leak_pipe leaker pipe read read_reply pipe_read; }

# 17. Healthy processes, watched together for a minute: stuck threads that do
# not pile up (an idle pool, a deadlock), short blocks (churn), an idle JVM
# and an idle CPython.  No leak, no spin; the pool's and the deadlock's
# threads are stuck, each at its site.
test_healthy() {
	local pool_pid dl_pid churn_pid java_pid py_pid pids p lw_args=()
	command -v java >/dev/null ||
		fail "java is required (Debian: openjdk-17-jre-headless)" || return 1
	command -v python3 >/dev/null || fail "python3 is required" || return 1
	[[ -f $LEAK_SRC_FIXTURES/Idle.java ]] ||
		fail "$LEAK_SRC_FIXTURES/Idle.java is missing" || return 1

	start_fx pool "$BUILD/fixtures/leaker" pool --exit-after 120 || return 1
	pool_pid=$FX_PID
	fixture_tids 8 >/dev/null
	start_fx deadlock "$BUILD/fixtures/leaker" deadlock --exit-after 120 || return 1
	dl_pid=$FX_PID
	fixture_tids 2 >/dev/null
	start_fx churn "$BUILD/fixtures/leaker" churn --exit-after 120 || return 1
	churn_pid=$FX_PID
	start_fx java timeout -s KILL 120 java "$LEAK_SRC_FIXTURES/Idle.java" || return 1
	java_pid=$FX_PID
	start_fx python timeout -s KILL 120 python3 -c \
		'import os, time; print("pid", os.getpid(), flush=True); time.sleep(600)' || return 1
	py_pid=$FX_PID
	sleep 3 # all of them settled in
	pids=("$pool_pid" "$dl_pid" "$churn_pid" "$java_pid" "$py_pid")
	for p in "${pids[@]}"; do lw_args+=(-p "$p"); done
	start_lw healthy "${lw_args[@]}" -t 2s -i 1s -d 60s -j || return 1
	wait_lw 90 || return 1
	expect_rc 0 || return 1
	for p in "${pids[@]}"; do
		is_running "$p" || fail "process $p ended before leakwatch did" || return 1
	done
	healthy_check "${pids[@]}"
}

# healthy_check POOL DEADLOCK CHURN JAVA PYTHON: test_healthy's checks of the
# run's records ($OUT) for these pids (the fixtures' tids: $TMP/fx-*.out).
healthy_check() {
	local pool_pid=$1 dl_pid=$2 churn_pid=$3 pids=("$@") pool_tids dl_tids
	pool_tids=$(awk '$1 == "tid" { print $2 }' "$TMP/fx-pool.out" | sort -n)
	dl_tids=$(awk '$1 == "tid" { print $2 }' "$TMP/fx-deadlock.out" | sort -n)

	jq_expect "no leak record" '[.[] | select(.type == "leak")] | length == 0' \
		'.[] | select(.type == "leak") | del(.kstack)' || return 1
	jq_expect "no spin record" '[.[] | select(.type == "spin")] | length == 0' \
		'.[] | select(.type == "spin")' || return 1
	jq_expect "summary: dropped 0" 'last | .type == "summary" and .dropped == 0' 'last' || return 1
	jq_expect "samples for all five processes" \
		"[.[] | select(.type == \"sample\") | .pid] | unique == ([$(IFS=,; echo "${pids[*]}")] | sort)" \
		'[.[] | select(.type == "sample") | .pid] | unique' || return 1

	FX_PID=$pool_pid
	expect_tids "pool: stuck tids" "$(stuck_tids)" "$pool_tids" || return 1
	jq_expect "pool: stuck records of the 8 workers (comm pool, wait futex) share one site, whose stack has worker_wait" \
		'[.[] | select(.type == "stuck" and .pid == $pid)] as $s
			| ($s | all(.comm == "pool" and .wait == "futex"))
			and ($s | map(.site) | unique | length == 1)
			and any(.[]; .type == "site" and .pid == $pid and .site == $s[0].site
				and any(.stack[]; startswith("worker_wait")))' \
		'.[] | select((.type == "stuck" or .type == "site") and .pid == $pid) | del(.kstack)' || return 1

	FX_PID=$dl_pid
	expect_tids "deadlock: stuck tids" "$(stuck_tids)" "$dl_tids" || return 1
	jq_expect "deadlock: dl-a and dl-b stuck in futex at two sites (transfer_ab, transfer_ba)" \
		'[.[] | select(.type == "stuck" and .pid == $pid)] as $s
			| ($s | map(.comm) | sort == ["dl-a", "dl-b"])
			and ($s | all(.wait == "futex"))
			and ($s | map(.site) | unique | length == 2)
			and ([.[] | select(.type == "site" and .pid == $pid)] as $sites
				| ($sites | any(.stack | any(startswith("transfer_ab"))))
				and ($sites | any(.stack | any(startswith("transfer_ba")))))' \
		'.[] | select((.type == "stuck" or .type == "site") and .pid == $pid) | del(.kstack)' || return 1

	FX_PID=$churn_pid
	jq_expect "churn: nothing stuck" \
		'[.[] | select(.type == "stuck" and .pid == $pid)] | length == 0' \
		'.[] | select(.type == "stuck" and .pid == $pid)' || return 1

	jq_expect "site records: at most one per process and site" \
		'[.[] | select(.type == "site") | [.pid, .site]] | length == (unique | length)' \
		'.[] | select(.type == "site") | {pid, site, wait}' || return 1
}

# 18. A thread that never blocks: one spin record, for it, with its stack.
test_spin() {
	local tid
	start_fx spin "$BUILD/fixtures/leaker" spin --exit-after "$FX_SAFETY" || return 1
	tid=$(fixture_tids 1)
	run_lw spin -p "$FX_PID" -t 2s -i 500ms -d 8s -j || return 1
	expect_rc 0 || return 1
	[[ $tid ]] || fail "the fixture printed no tid" || return 1
	jq_expect "exactly one spin record, for the spinner (tid $tid, comm spinner, pcomm leaker), running_s >= 2" \
		"[.[] | select(.type == \"spin\")] | length == 1 and (.[0]
			| .pid == \$pid and .tid == $tid and .comm == \"spinner\" and .pcomm == \"leaker\"
			and (.running_s | type == \"number\") and .running_s >= 2)" \
		'.[] | select(.type == "spin")' || return 1
	jq_expect "spin stack: has spin_forever+0x... (leaker.c:N)" \
		'first(.[] | select(.type == "spin")) | .stack
			| type == "array" and any(.[]; test("^spin_forever\\+0x[0-9a-f]+ \\(.*\\bleaker\\.c:[0-9]+\\)$"))' \
		'.[] | select(.type == "spin") | .stack' || return 1
	jq_expect "no stuck and no leak records" \
		'[.[] | select(.type == "stuck" or .type == "leak")] | length == 0' || return 1
}

# 19. Text mode: the cond leak as a LEAK line, then its stack, "#0" first.
test_leak_text() {
	local t_start i
	start_fx leak_text "$BUILD/fixtures/leaker" cond --every 700 --start-after 30000 \
		--exit-after "$FX_SAFETY" || return 1
	start_lw leak_text -p "$FX_PID" -t 2s -i 1s -d "${LEAK_BOUND}s" || return 1
	t_start=$(now)
	kill -USR1 "$FX_PID"
	for ((i = 0; i <= (LEAK_BOUND + 5) * 4; i++)); do
		if grep -Eq "^[0-9:.]+ +LEAK\b.*\b$FX_PID\b" "$OUT"; then
			printf '# leak_text: LEAK line seen %.1f s after the first leaked thread started\n' \
				"$(echo "$(now) - $t_start" | bc)"
			break
		fi
		is_running "$LW_PID" || break
		sleep 0.25
	done
	stop_lw || return 1
	expect_rc 0 || return 1
	! grep -q '^{' "$OUT" || fail "JSON on stdout without -j" "$(head -3 "$OUT")" || return 1
	awk -v pid="$FX_PID" '
		!seen && /^[0-9:.]+ +LEAK / && $0 ~ "(^|[^0-9])" pid "([^0-9]|$)" { seen = NR; next }
		seen && NR == seen + 1 && /^[ \t]+at chan_send \(leaker\.c:[0-9]+\)$/ { seen++; next }
		seen && NR == seen + 1 && !/^[ \t]+#0 / { bad = 1 }
		seen && /chan_send/ { found = 1 }
		END { exit !(seen && found && !bad) }' "$OUT" ||
		fail "no 'TIME LEAK ... $FX_PID ...' line followed by its site's 'at chan_send (leaker.c:N)' (if any) then indented stack lines (#0 first) with chan_send" \
			"$(grep -v SAMPLE "$OUT" | head -20)" || return 1
}

# shellcheck disable=SC2034 # run.sh's ALL_TESTS takes them
LEAK_TESTS=(leak_cond leak_cond_fp leak_pipe healthy spin leak_text)
