# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# leakwatch integration tests for lock owners, convoys and deadlocks, sourced
# by run.sh (helpers: start_fixture, start_lw, wait_lw, jq_expect, fail, ...).
#
# Fixture: tests/fixtures/locks.c (build/fixtures/locks MODE): a convoy of
# lookup threads behind a holder blocked in read, an rwlock writer starving
# readers, two- and three-thread lock-order deadlocks, a PI mutex deadlock, a
# self deadlock, and a healthy busy lock.  Each prints "ROLE TID" lines.

# lk_tid ROLE: the tid the fixture printed for ROLE (the first).
lk_tid() {
	local i
	for ((i = 0; i < 50; i++)); do
		awk -v r="$1" '$1 == r { print $2; exit }' "$FX_OUT" | grep . && return 0
		sleep 0.1
	done
	fail "the fixture printed no '$1' line" "$(head -c 300 "$FX_OUT")"
	return 1
}

# lk_tids ROLE...: every tid the fixture printed for these roles, as a JSON
# array, sorted.
lk_tids() {
	local roles=" $* "
	awk -v roles="$roles" 'index(roles, " " $1 " ") { print $2 }' "$FX_OUT" | sort -n |
		jq -s -c .
}

# lk_pile NAME MODE HOLDER_ROLE WAITER_FUNC HOLDER_FUNC KIND: a pile of
# waiters grows behind one holder blocked in read: the leak names the
# holder, its wait, its site and its stack; every waiter's stuck record
# names the holder as owner.
lk_pile() {
	local name=$1 mode=$2 role=$3 wfunc=$4 hfunc=$5 kind=$6 holder
	start_fixture locks "$mode" --threads 40 --every 300 || return 1
	holder=$(lk_tid "$role") || return 1
	start_lw "$name" -p "$FX_PID" -t 2s -i 500ms -d 45s -j || return 1
	wait_record '.type == "leak" and .pid == $pid and .holder != null' 45
	is_running "$LW_PID" && kill -INT "$LW_PID"
	wait_lw 10 || return 1
	expect_rc 0 || return 1
	jq_expect "a leak at $wfunc whose holder is tid $holder ($role), blocked in read at $hfunc, with its stack" \
		''"$holder"' as $h | [.[] | select(.type == "leak" and .pid == $pid and .holder != null)] | last |
		 (.where | test("'"$wfunc"'")) and .holder.tid == $h and .holder.comm == "'"$role"'" and
		 .holder.blocked and .holder.wait == "read" and .holder.blocked_s > 2 and
		 (.holder.where | test("'"$hfunc"'")) and
		 any(.holder.stack[]; test("^'"$hfunc"'\\+0x")) and
		 .holder.lock.kind == "'"$kind"'" and .holder.waiters >= 2 and
		 .holder.waiters <= .stuck' || return 1
	jq_expect "every waiter's stuck record names tid $holder as the owner" \
		''"$holder"' as $h | [.[] | select(.type == "stuck" and .pid == $pid and .comm != "'"$role"'")] |
		 length >= 2 and all(.owner_tid == $h and .lock.owner_tid == $h)' || return 1
	jq_expect "no deadlock" '[.[] | select(.type == "deadlock")] | length == 0'
}

test_locks_convoy() {
	lk_pile locks_convoy convoy refresh lookup refresh_cache mutex
}

test_locks_rwlock() {
	lk_pile locks_rwlock rwlock writer read_table write_table rwlock || return 1
	jq_expect "the readers wait for reading" \
		'[.[] | select(.type == "stuck" and .comm == "reader")] | all(.lock.mode == "read")'
}

# lk_deadlock NAME MODE ROLES...: the threads of ROLES wait for each other:
# exactly one deadlock record, with every member, each waiting for a lock
# the next one holds, each with its site and stack.
lk_deadlock() {
	local name=$1 mode=$2 want
	shift 2
	start_fixture locks "$mode" || return 1
	wait_fixture_line ready 10 || return 1
	for r in "$@"; do lk_tid "$r" >/dev/null || return 1; done
	want=$(lk_tids "$@")
	run_lw "$name" -p "$FX_PID" -t 1s -i 500ms -d 5s -j || return 1
	expect_rc 0 || return 1
	jq_expect "exactly one deadlock record, of threads $want" \
		''"$want"' as $want | [.[] | select(.type == "deadlock" and .pid == $pid)] | length == 1 and
		 (.[0].cycle | map(.tid) | sort) == $want and .[0].threads == ($want | length) and
		 (.[0].cgroup | type) == "string"' || return 1
	jq_expect "each member waits for a lock held by the next, with its stack at take_in_order or lock_twice" \
		'[.[] | select(.type == "deadlock")][0].cycle as $c |
		 [range($c | length) as $i | $c[$i].owner_tid == $c[($i + 1) % ($c | length)].tid and
		  ($c[$i].lock | test("^0x[0-9a-f]+$")) and $c[$i].blocked_s >= 1 and
		  any($c[$i].stack[]; test("^(take_in_order|lock_twice|self_thread)\\+0x")) and
		  ($c[$i].frames | length) == ($c[$i].stack | length)] | all'
}

test_locks_deadlock2() {
	lk_deadlock locks_deadlock2 deadlock2 lock-a lock-b || return 1
	jq_expect "no kernel verdict on plain mutexes" \
		'[.[] | select(.type == "deadlock")][0].kernel_detected == false'
}

test_locks_deadlock3() {
	lk_deadlock locks_deadlock3 deadlock3 lock-a lock-b lock-c
}

# PI mutexes: the kernel refuses the lock that closes the cycle with EDEADLK
# and glibc parks that thread on a futex of its own stack; its mutex is
# found from its saved registers.
test_locks_pi() {
	lk_deadlock locks_pi pi lock-a lock-b || return 1
	jq_expect "the kernel's verdict is reported" \
		'[.[] | select(.type == "deadlock")][0].kernel_detected == true'
}

# A non-recursive mutex locked twice by one thread: a cycle of one.
test_locks_self() {
	lk_deadlock locks_self self self || return 1
	jq_expect "the thread owns the lock it waits for" \
		'[.[] | select(.type == "deadlock")][0].cycle[0] | .tid == .owner_tid'
}

# The text view, the run-mode report, the timeline and the metric show the
# deadlock; it makes run mode exit 1.
test_locks_text_runmode() {
	local port
	port=$(ot_free_port) || return 1
	start_lw locks_runmode -t 1s -i 500ms --metrics "127.0.0.1:$port" \
		--timeline "$TMP/locks.trace" -- \
		"$BUILD/fixtures/locks" deadlock2 --exit-after 6 || return 1
	local i
	for ((i = 0; i < 80; i++)); do
		curl -sf "http://127.0.0.1:$port/metrics" 2>/dev/null | grep -qx 'leakwatch_deadlocks_total 1' && break
		sleep 0.1
	done
	curl -sf "http://127.0.0.1:$port/metrics" >"$TMP/locks-metrics" 2>&1
	wait_lw 30 || return 1
	expect_rc 1 || return 1
	grep -qx 'leakwatch_deadlocks_total 1' "$TMP/locks-metrics" ||
		fail "leakwatch_deadlocks_total is not 1 while the deadlock lasts" \
			"$(grep -i deadlock "$TMP/locks-metrics")"
	grep -q '^ DEADLOCK pid [0-9]* (locks): 2 threads wait for each other.s locks' "$ERR" ||
		fail "the run-mode report has no deadlock" "$(tail -20 "$ERR")"
	grep -Eq '^    tid [0-9]+ \(lock-a\) waits .* for mutex 0x[0-9a-f]+ held by tid [0-9]+, at take_in_order \(locks.c:[0-9]+\)' "$OUT" ||
		fail "the text view does not name the lock, its owner and the site" "$(head -20 "$OUT")" ||
		return 1
	jq -e '[.traceEvents[] | select(.name == "deadlock" and .ph == "i")] | length == 1 and
	       (.[0].args.cycle | length) == 2' "$TMP/locks.trace" >/dev/null ||
		fail "the timeline has no deadlock instant with both threads" \
			"$(jq -c '.traceEvents[] | select(.ph == "i")' "$TMP/locks.trace" 2>&1 | head -5)"
}

# A busy lock (16 threads, 50 us holds, 1,000 times a second each): never
# stuck, nobody blamed, no deadlock.
test_locks_healthy() {
	start_fixture locks healthy --threads 16 || return 1
	wait_fixture_line ready 10 || return 1
	run_lw locks_healthy -p "$FX_PID" -t 1s -i 500ms -d 8s -j || return 1
	expect_rc 0 || return 1
	jq_expect "no stuck worker, no owner blamed, no leak, no deadlock" \
		'[.[] | select(.pid == $pid and (.type == "deadlock" or .type == "leak" or
		   (.type == "stuck" and .comm == "worker") or .owner_tid != null))] | length == 0' \
		'.[] | select(.type == "deadlock" or .type == "leak" or .type == "stuck")' || return 1
	jq_expect "the workers were seen" \
		'[.[] | select(.type == "sample" and .pid == $pid)] | last | .threads == 17'
}

# The lock handed on: "refresh" lets cache_lock go after 3 s, and the lookup
# that gets it holds it for good.  Owners read when the earlier waiters
# turned stuck named refresh; once it let go, every leak names the new
# holder, with every waiter behind it.
test_locks_handoff() {
	local holder refresh
	start_fixture locks handoff --threads 40 --every 300 || return 1
	refresh=$(lk_tid refresh) || return 1
	start_lw locks_handoff -p "$FX_PID" -t 1s -i 500ms -d 30s -j || return 1
	holder=$(lk_tid holder) || return 1
	wait_record '.type == "leak" and .pid == $pid and .holder.tid == '"$holder"' and
		.holder.waiters >= 15' 30
	is_running "$LW_PID" && kill -INT "$LW_PID"
	wait_lw 10 || return 1
	expect_rc 0 || return 1
	# The holder's wait for the lock ended when refresh let go.
	jq_expect "after refresh ($refresh) let go, every leak names tid $holder with every waiter behind it" \
		'[.[] | select(.type == "unstuck" and .tid == '"$holder"')][0].ts as $t |
		 $t != null and
		 ([.[] | select(.type == "leak" and .pid == $pid and .ts > $t + 1)] |
		  length >= 1 and all(.holder.tid == '"$holder"' and .holder.waiters == .stuck))'
}

# A deadlock closed by a lock handed on: lock-a's owner was "first" when it
# turned stuck; first let the lock go to lock-c, which then waits for the
# lock lock-a holds.  The one deadlock is of lock-a and lock-c.
test_locks_handed() {
	local want
	start_fixture locks handed || return 1
	wait_fixture_line ready 10 || return 1
	lk_tid lock-c >/dev/null || return 1
	want=$(lk_tids lock-a lock-c)
	run_lw locks_handed -p "$FX_PID" -t 1s -i 500ms -d 8s -j || return 1
	expect_rc 0 || return 1
	jq_expect "one deadlock, of lock-a and lock-c $want, each the other's owner" \
		''"$want"' as $want | [.[] | select(.type == "deadlock" and .pid == $pid)] |
		 length == 1 and (.[0].cycle | map(.tid) | sort) == $want and
		 (.[0].cycle | .[0].owner_tid == .[1].tid and .[1].owner_tid == .[0].tid)'
}

# Twenty two-thread deadlocks in one process: each is one record (more than
# the 8 cycles a scan used to describe, the rest of which were never
# reported).  A hundred: still one each, also after a late waiter makes the
# graph be looked at again (the ring of 64 keys remembered forgot the first
# 36, reported twice).
test_locks_many_deadlocks() {
	start_fixture locks pairs --threads 40 || return 1
	wait_fixture_line ready 10 || return 1
	run_lw locks_many -p "$FX_PID" -t 1s -i 500ms -d 5s -j || return 1
	expect_rc 0 || return 1
	jq_expect "20 deadlock records of two threads each, every member once" \
		'[.[] | select(.type == "deadlock" and .pid == $pid)] |
		 length == 20 and all(.threads == 2 and (.cycle | length) == 2) and
		 ([.[].cycle[].tid] | unique | length) == 40' \
		'.[] | select(.type == "deadlock") | {threads, tids: [.cycle[].tid]}' || return 1
	kill_all
	start_fixture locks pairs --threads 200 || return 1
	wait_fixture_line ready 10 || return 1
	run_lw locks_many200 -p "$FX_PID" -t 1s -i 500ms -d 7s -j || return 1
	expect_rc 0 || return 1
	jq_expect "the late waiter was seen" \
		'any(.[]; .type == "stuck" and .pid == $pid and .comm == "late")' || return 1
	jq_expect "100 deadlock records, each cycle once" \
		'[.[] | select(.type == "deadlock" and .pid == $pid)] |
		 length == 100 and ([.[].cycle[0].tid] | unique | length) == 100' \
		'[.[] | select(.type == "deadlock")] | length'
}

# One cycle of 70 threads: one record that says 70 threads, the first 64
# described; the journal line says it is not the whole cycle.
test_locks_long_cycle() {
	start_fixture locks ring --threads 70 || return 1
	wait_fixture_line ready 10 || return 1
	run_lw locks_ring -p "$FX_PID" -t 1s -i 500ms -d 5s -j || return 1
	expect_rc 0 || return 1
	jq_expect "one deadlock of 70 threads, 64 of them described" \
		'[.[] | select(.type == "deadlock" and .pid == $pid)] |
		 length == 1 and .[0].threads == 70 and (.[0].cycle | length) == 64' \
		'.[] | select(.type == "deadlock") | {threads, n: (.cycle | length)}' || return 1
	grep -q "DEADLOCK pid $FX_PID (locks): 70 threads: .* -> \.\.\. 6 more -> " "$ERR" ||
		fail "the journal line does not say 70 threads, 6 not shown" "$(grep DEADLOCK "$ERR" | cut -c1-300)"
}

# A process in a pid namespace of its own (every container): glibc keeps
# the owner's tid as the owner sees it (2, 3, ...), not as leakwatch does.
# The deadlock is found and every owner named by its host tid.
test_locks_pidns() {
	local i
	spawn fx-locks-ns unshare --pid --fork --mount-proc \
		"$BUILD/fixtures/locks" deadlock2 --exit-after "$FX_SAFETY"
	FX_OUT=$TMP/fx-locks-ns.out FX_PID=""
	for ((i = 0; i < 50; i++)); do
		FX_PID=$(pgrep -P "$SPAWNED" | head -1)
		[[ $FX_PID ]] && grep -q '^lock-b ' "$FX_OUT" && break
		sleep 0.1
	done
	[[ $FX_PID ]] || fail "the fixture did not start in its pid namespace" \
		"$(head -c 300 "$TMP/fx-locks-ns.err")" || return 1
	wait_fixture_line ready 10 || return 1
	run_lw locks_pidns -p "$FX_PID" -t 1s -i 500ms -d 5s -j || return 1
	expect_rc 0 || return 1
	jq_expect "one deadlock of two threads of the process, each owner a host tid of the other" \
		'[.[] | select(.type == "deadlock" and .pid == $pid)] | length == 1 and
		 (.[0].cycle | length) == 2 and
		 (.[0].cycle | map(.owner_tid) | sort) == (.[0].cycle | map(.tid) | sort) and
		 all(.[0].cycle[]; .tid != .owner_tid and .tid > 3)' || return 1
	jq_expect "the stuck records name the owners as leakwatch names threads" \
		'[.[] | select(.type == "stuck" and .pid == $pid and (.comm | startswith("lock-")))] |
		 length == 2 and all(.owner_tid > 3)'
}

LOCKS_TESTS=(locks_convoy locks_rwlock locks_deadlock2 locks_deadlock3 locks_pi locks_self
	locks_text_runmode locks_healthy locks_pidns locks_handoff
	locks_many_deadlocks locks_long_cycle locks_handed)
