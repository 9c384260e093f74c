# SPDX-License-Identifier: GPL-2.0
# Run mode, signals, output errors and bad input (issue 8, points 3, 9-13):
# sourced by run.sh, which provides the helpers (spawn, wait_exit, fail, ...).

FORKER=$BUILD/fixtures/forker

# rm_wait_gone PID SECS: PID (not our child) is gone within SECS.
rm_wait_gone() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		is_running "$1" || return 0
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null
	fail "process $1 ($(cat "/proc/$1/cmdline" 2>/dev/null | tr '\0' ' ')) still running ${2}s after leakwatch ended"
}

# rm_line_pid WORD FILE: the number after WORD on FILE's first line "WORD N".
rm_line_pid() { awk -v w="$1" '$1 == w { print $2; exit }' "$2"; }

# 3. Run mode forgets children that exited: a command that forks more
# processes than the kernel's targets map holds (8192), then one more that
# blocks: that one is still watched (stuck), and no target was dropped.
test_rm_children() {
	ot_run rm_children 90 -t 1s -i 250ms -j -- "$FORKER" 9000 \
		"$BLOCKER" sleep --threads 1 --exit-after 3 || return 1
	expect_rc 0 || return 1
	grep -qx 'forked 9000' "$OUT" || fail "forker did not fork 9000 children" "$(head -5 "$OUT")" ||
		return 1
	FX_PID=$(awk '$1 == "pid" { n++; if (n == 2) { print $2; exit } }' "$OUT")
	[[ $FX_PID ]] || fail "the blocker printed no pid" "$(grep -v '^{' "$OUT" | head -5)" || return 1
	grep '^{' "$OUT" >"$OUT.json"
	ot_jq "the blocker (pid $FX_PID, child 9001) reported stuck; no target dropped" "$OUT.json" \
		'-s any(.[]; .type == "stuck" and .pid == $pid) and (last | .type == "summary"
			and .drops.targets == 0)' \
		'[.[] | select(.type == "stuck" or .type == "summary")]' || return 1
}

# 9. -d ends a command that ignores SIGTERM: SIGKILL to its process group
# after the grace (5s), said on stderr; its children go too.
test_rm_grace() {
	local child
	ot_run rm_grace 20 -d 1s -- sh -c 'trap "" TERM; sleep 30 & echo child $!; wait; wait' ||
		return 1
	child=$(rm_line_pid child "$OUT")
	[[ $child ]] || fail "no child line" "$(cat "$OUT")" || return 1
	[[ $RC == 137 ]] || fail "exit $RC, want 137 (the command killed by SIGKILL)" "$(cat "$ERR")" ||
		return 1
	grep -q 'SIGKILL' "$ERR" || fail "stderr does not say the command was killed" "$(cat "$ERR")" ||
		return 1
	rm_wait_gone "$child" 2
}

# 9. A second SIGINT ends the command (its process group) at once, not
# leakwatch alone.
test_rm_second_int() {
	local child i
	OUT=$TMP/rm_int.out ERR=$TMP/rm_int.err LW_ARGS="-- sh -c ..."
	spawn rm_int env --default-signal=INT,TERM "$LW" -- \
		sh -c 'trap "" TERM INT; sleep 30 & echo child $!; wait; wait'
	LW_PID=$SPAWNED
	for ((i = 0; i < 100; i++)); do
		child=$(rm_line_pid child "$OUT")
		[[ $child ]] && grep -qs '^leakwatch: watching' "$ERR" && break
		sleep 0.1
	done
	[[ $child ]] || fail "no child line" "$(cat "$OUT" "$ERR")" || return 1
	kill -INT "$LW_PID"
	sleep 0.5
	kill -INT "$LW_PID"
	wait_exit "$LW_PID" 3 || return 1
	rm_wait_gone "$child" 2 || return 1
	grep -q 'SIGKILL' "$ERR" || fail "stderr does not say the command was killed" "$(cat "$ERR")"
}

# 10. stdout a pipe that closes (| head -1): leakwatch stops, says so, exit
# 3, the timeline complete, the command ended.
test_rm_sigpipe() {
	local tl=$TMP/rm_pipe.timeline.json child
	ot_exec rm_pipe 20 bash -c "'$LW' -j -i 100ms --timeline '$tl' -- sh -c 'sleep 30 & echo \$! >$TMP/rm_pipe.child; wait' | head -1 >/dev/null; echo \${PIPESTATUS[0]}" ||
		return 1
	[[ $(cat "$OUT") == 3 ]] || fail "leakwatch exit $(cat "$OUT"), want 3" "$(cat "$ERR")" ||
		return 1
	grep -q 'cannot write the output' "$ERR" || fail "stderr does not say why it stopped" \
		"$(cat "$ERR")" || return 1
	jq -e .traceEvents "$tl" >/dev/null 2>&1 || fail "the timeline is not valid JSON" \
		"$(tail -c 200 "$tl")" || return 1
	child=$(cat "$TMP/rm_pipe.child")
	rm_wait_gone "$child" 2
}

# 10. SIGHUP (a closed terminal) stops cleanly: summary last, timeline
# complete, the command ended.
test_rm_sighup() {
	local tl=$TMP/rm_hup.timeline.json child i
	start_lw rm_hup -j -i 100ms --timeline "$tl" -- sh -c 'sleep 30 & echo child $!; wait' ||
		return 1
	for ((i = 0; i < 50; i++)); do
		child=$(rm_line_pid child "$OUT")
		[[ $child ]] && break
		sleep 0.1
	done
	kill -HUP "$LW_PID"
	wait_exit "$LW_PID" 10 || return 1
	T1=$(now)
	grep '^{' "$OUT" >"$OUT.json"
	ot_jq "the summary last" "$OUT.json" '-s last | .type == "summary"' 'last' || return 1
	jq -e .traceEvents "$tl" >/dev/null 2>&1 || fail "the timeline is not valid JSON" \
		"$(tail -c 200 "$tl")" || return 1
	[[ $child ]] && rm_wait_gone "$child" 2
}

# 11. A failed write of the output: one line on stderr, exit 3.  With
# stdout closed, the timeline does not take its place.
test_rm_output_errors() {
	local tl=$TMP/rm_closed.timeline.json
	ot_exec rm_full 20 bash -c "exec '$LW' -j -i 100ms -d 2s -p $$ >/dev/full" || return 1
	[[ $RC == 3 ]] || fail "-j >/dev/full: exit $RC, want 3" "$(cat "$ERR")" || return 1
	[[ $(wc -l <"$ERR") == 2 ]] && grep -q 'cannot write the output' "$ERR" ||
		fail "-j >/dev/full: want the watching line and one error line on stderr" \
			"$(cat "$ERR")" || return 1
	ot_exec rm_closed 20 bash -c "exec '$LW' -j -i 100ms -d 1s -p $$ --timeline '$tl' >&-" ||
		return 1
	[[ $RC == 0 ]] || fail "stdout closed: exit $RC, want 0" "$(cat "$ERR")" || return 1
	jq -e .traceEvents "$tl" >/dev/null 2>&1 || fail "stdout closed: the timeline is not one JSON document" \
		"$(head -c 300 "$tl")"
}

# 12. --timeline on a FIFO: refused at once (exit 2, one line).
test_rm_fifo() {
	mkfifo "$TMP/rm.fifo"
	ot_run rm_fifo 5 --timeline "$TMP/rm.fifo" -d 1s || return 1
	[[ $RC == 2 ]] || fail "exit $RC, want 2" "$(cat "$ERR")" || return 1
	[[ $(wc -l <"$ERR") == 1 ]] && grep -q 'not a regular file' "$ERR" ||
		fail "want one line saying it is not a regular file" "$(cat "$ERR")"
}

# rm_refused WANT_RC WHAT ARGS...: leakwatch ARGS exits WANT_RC at once, one
# line on stderr, nothing on stdout.
rm_refused() {
	local want=$1 what=$2
	shift 2
	ot_exec rm_refused 10 "$@" || return 1
	[[ $RC == "$want" ]] || fail "$what: exit $RC, want $want" "$(cat "$ERR")" || return 1
	[[ $(wc -l <"$ERR") == 1 && ! -s $OUT ]] ||
		fail "$what: want one line on stderr and nothing on stdout" "$(cat "$ERR")" \
			"$(head -3 "$OUT")"
}

# 13. Bad input refused before anything runs.
test_rm_badinput() {
	local tid
	rm_refused 2 "-i 1ns" "$LW" -i 1ns -d 1s || return 1
	rm_refused 2 "-i 9ms" "$LW" -i 9ms -d 1s || return 1
	rm_refused 2 "leakwatch --" "$LW" -- || return 1
	rm_refused 2 "SUDO_UID=abc" env SUDO_UID=abc SUDO_GID=0 "$LW" -- true || return 1
	rm_refused 2 "SUDO_UID=99999999999" env SUDO_UID=99999999999 SUDO_GID=0 "$LW" -- true ||
		return 1
	rm_refused 2 "SUDO_GID=-1" env SUDO_UID=0 SUDO_GID=-1 "$LW" -- true || return 1
	rm_refused 127 "-- /tmp" "$LW" -- /tmp || return 1
	start_fixture blocker cond --threads 1 || return 1
	tid=$(fixture_tids 1)
	start_lw rm_dedupe -p "$FX_PID" -p "$FX_PID" -p "$tid" -d 1s || return 1
	grep -q "^leakwatch: watching pid $FX_PID," "$ERR" ||
		fail "-p X -p X -p TID-of-X: want 'watching pid $FX_PID'" "$(head -3 "$ERR")"
}

# 13. A short command is named after its exec in its sample and exit.
test_rm_comm() {
	local i
	# It may exit before the first scan (no sample) or after: both, a few times.
	for ((i = 0; i < 5; i++)); do
		ot_run rm_comm 20 -j -i 100ms -- true || return 1
		expect_rc 0 || return 1
		ot_jq "the exit (and any sample) of the command named \"true\"" "$OUT" \
			'-s ([.[] | select(.type == "sample" or .type == "exit")]) as $r
				| any($r[]; .type == "exit") and all($r[]; .pcomm == "true")' \
			'[.[] | select(.type == "sample" or .type == "exit")]' || return 1
	done
}

# The minimum kernel (5.18): an older release (setarch --uname-2.6 makes
# uname say 2.6.x) gets one line and exit 3 before anything loads.
test_rm_old_kernel() {
	command -v setarch >/dev/null || { echo "# setarch missing: rm_old_kernel skipped"; return 0; }
	rm_refused 3 "uname 2.6" setarch "$(uname -m)" --uname-2.6 "$LW" -d 1s || return 1
	grep -q '5\.18' "$ERR" || fail "stderr does not name the minimum (5.18)" "$(cat "$ERR")"
}

RUNMODE_TESTS=(rm_children rm_grace rm_second_int rm_sigpipe rm_sighup rm_output_errors rm_fifo
	rm_badinput rm_comm rm_old_kernel)
