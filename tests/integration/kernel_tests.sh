# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# leakwatch integration tests for the kernel side's races and for what the
# unwinder reads from /proc, sourced by run.sh (which provides the helpers:
# spawn, start_fixture, start_lw, wait_lw, jq_expect, fail, ...).

# A minute of a busy process whose 16 workers switch tens of thousands of
# times a second (churn: 8 pairs in a condition-variable ping-pong, no sleep),
# scanned every 20 ms: no thread is ever stuck.  A scan that reads a thread
# between the dequeue and sched_switch (S, not on a run queue, still on its
# CPU, no stamp yet) took it for blocked since before leakwatch started:
# stuck at once, blocked_s close to leakwatch's uptime, since_exact false
# (33 such records in 30 s here before the fix).  The threshold is 200 ms,
# not lower: a real wait that long needs the machine starved of CPU for that
# long, while a false one is as long as the run so far.
test_false_stuck() {
	start_fixture churn --pairs 8 --sleep-us 0 --spawn-ms 0 --exit-after 150 || return 1
	start_lw false_stuck -p "$FX_PID" -t 200ms -i 20ms -d 60s -j || return 1
	wait_lw 120 || return 1
	expect_rc 0 || return 1
	is_running "$FX_PID" || fail "churn ended before leakwatch did" || return 1
	jq_expect "no stuck record for churn ($(records stuck | wc -l) found)" \
		'[.[] | select(.type == "stuck" and .pid == $pid)] | length == 0' \
		'.[] | select(.type == "stuck") | {tid, comm, blocked_s, since_exact, wait}' || return 1
	jq_expect "samples of churn: 17 threads or more, stuck 0" \
		'[.[] | select(.type == "sample" and .pid == $pid)]
			| length >= 100 and all(.threads >= 17 and .stuck == 0)' \
		'[.[] | select(.type == "sample" and .stuck > 0)] | .[:5]' || return 1
	jq_expect "summary: dropped 0" 'last | .type == "summary" and .dropped == 0' 'last' || return 1
}

KERNEL_TESTS=(false_stuck)
