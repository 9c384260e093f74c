# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# leakwatch integration tests for --folded FILE (issue 11, point 3), sourced
# by run.sh (which provides the helpers: spawn, start_lw, wait_lw, fail, ...)
# after leak_tests.sh (start_fx).
#
#   folded_threads  two blockers, 3 threads stuck on a condition variable and
#                   2 in read(): on SIGUSR1, then at SIGINT, the file has one
#                   line per site, root first, weights equal to the stuck
#                   records per (process name, wait); speedscope reads it
#                   back line for line; --folded-weight time in milliseconds
#                   between the bounds the stuck records give
#   folded_go       a Go fixture with 20 parked goroutines and one leaking 7,
#                   -d: at exit, the lines equal the stuck records per
#                   (pcomm, wait); the goroutine lines (no kernel frames)
#                   and the thread lines each equal their stuck records and
#                   the last samples' goroutines_stuck and stuck
#   folded_runmode  -- COMMAND: at -d, the command's stuck threads (written
#                   before it is stopped); the command exiting by itself:
#                   an empty file (nothing is stuck), its exit status
#   folded_paths    a FIFO with no reader, a directory, /dev/full, a missing
#                   directory: exit 2 at once, one line; a full disk (a small
#                   tmpfs): SIGUSR1 says so and the run goes on, the exit
#                   write fails with exit 3 and one line, the old file kept,
#                   no temporary file left; the file replaced by a FIFO
#                   during the run: exit 3, the FIFO untouched; all bounded
#
# The consumer: speedscope (npm, the version scripts/install-deps.sh pins,
# in LW_NODE_DIR), its own importer run headless in Node by
# speedscope_read.mjs; a strict check of every line's form besides.

FOLDED_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FOLDED_INSTALL_DEPS=$FOLDED_DIR/../../scripts/install-deps.sh
LW_NODE_DIR=${LW_NODE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/leakwatch/node}
FOLDED_MOUNTS=() # tmpfs mounts made by folded_paths, unmounted on exit

# folded_cleanup: run.sh's exit trap.
folded_cleanup() {
	local m
	for m in "${FOLDED_MOUNTS[@]}"; do umount "$m" 2>/dev/null; done
	FOLDED_MOUNTS=()
}

# folded_form FILE: every line is "FRAME;FRAME;... COUNT": at least two
# frames (the process name and the wait), none empty, no control character,
# COUNT a positive integer; no two lines with the same stack.
folded_form() {
	local bad
	bad=$(LC_ALL=C awk '
		!/^[^;]+(;[^;]+)+ [1-9][0-9]*$/ { print "bad line " NR ": " $0; exit }
		/[\001-\037\177]/ { print "control character in line " NR; exit }
		{ s = $0; sub(/ [0-9]+$/, "", s); if (seen[s]++) { print "stack twice: " s; exit } }
		' "$1")
	[[ -z $bad ]] || fail "$(basename "$1"): not the folded format" "$bad"
}

# folded_speedscope FILE: speedscope reads every line of FILE as it is.
folded_speedscope() {
	local want got
	want=$(awk -F= '/^SPEEDSCOPE_VERSION=/ { print $2 }' "$FOLDED_INSTALL_DEPS")
	got=$(node -p "require('$LW_NODE_DIR/node_modules/speedscope/package.json').version" 2>/dev/null)
	[[ $got == "$want" && -n $want ]] ||
		fail "speedscope $want is not in $LW_NODE_DIR (found '$got'): run 'make deps'" || return 1
	timeout 60 node "$FOLDED_DIR/speedscope_read.mjs" "$LW_NODE_DIR" "$1" \
		>"$1.speedscope" 2>"$1.speedscope.err" ||
		fail "speedscope could not read $(basename "$1")" "$(cat "$1.speedscope.err")" || return 1
	diff <(LC_ALL=C sort "$1") "$1.speedscope" >"$1.diff" ||
		fail "speedscope read $(basename "$1") otherwise than written (< file, > speedscope)" \
			"$(head -c 1500 "$1.diff")" || return 1
	echo "# $(basename "$1"): $(cat "$1.speedscope.err")"
}

# folded_sums FILE: "PCOMM|LEAF WEIGHT" per process name and leaf frame
# (the wait), weights summed, sorted.
folded_sums() {
	LC_ALL=C awk '{
		w = $NF; s = substr($0, 1, length($0) - length(w) - 1)
		n = split(s, f, ";"); sum[f[1] "|" f[n]] += w
	} END { for (k in sum) print k, sum[k] }' "$1" | LC_ALL=C sort
}

# folded_stuck_now [JQ_SELECT]: "PCOMM|[wait: WAIT] N" per process name and
# wait of the waiters the JSON records ($OUT) leave stuck (a stuck record
# not followed by its unstuck, nor by its process's exit), sorted.
# JQ_SELECT narrows the waiters (default: all).
folded_stuck_now() {
	jq -s -r "
		def key: \"\(.pid)/\(if .goid then \"g\(.goid)\" else \"t\(.tid)\" end)\";
		reduce .[] as \$r ({};
			if \$r.type == \"stuck\" then .[\$r | key] = \$r
			elif \$r.type == \"unstuck\" then del(.[\$r | key])
			elif \$r.type == \"exit\" then with_entries(select(.value.pid != \$r.pid))
			else . end)
		| [.[] | select(${1:-true})] | group_by([.pcomm, .wait]) | .[]
		| \"\(.[0].pcomm)|[wait: \(.[0].wait)] \(length)\"" "$OUT" | LC_ALL=C sort
}

# folded_expect_counts FILE WHAT [JQ_SELECT [GREP_ARG...]]: FILE's weights
# per (process name, wait) equal the waiters the records leave stuck; grep
# GREP_ARGs narrow FILE's lines as JQ_SELECT does the records.
folded_expect_counts() {
	local file=$1 what=$2 sel=${3:-true} got want
	shift 3 2>/dev/null || shift $#
	(($#)) || set -- -e .
	got=$(grep "$@" "$file" | folded_sums /dev/stdin)
	want=$(folded_stuck_now "$sel")
	[[ -n $want ]] || fail "$what: no stuck waiters in the records" || return 1
	[[ $got == "$want" ]] ||
		fail "$what: the file's weights per (pcomm, wait) are not the stuck counts" \
			"file:" "$got" "records:" "$want" || return 1
}

# folded_wait_file FILE SECS: wait until FILE exists (it appears whole).
folded_wait_file() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		[[ -f $1 ]] && return 0
		sleep 0.1
	done
	fail "$(basename "$1") not written within $2 s" "$(tail -3 "$ERR")"
}

# folded_stuck_records N SECS: wait until the run's records have N stuck ones.
folded_stuck_records() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		(($(grep -c '"type":"stuck"' "$OUT") >= $1)) && return 0
		sleep 0.1
	done
	fail "not $1 stuck records within $2 s" "$(grep -c '"type":"stuck"' "$OUT") of them"
}

test_folded_threads() {
	local f=$TMP/threads.folded ft=$TMP/threads-time.folded cond_pid pipe_pid line lo hi w
	start_fixture blocker cond --threads 3 --start-after 30000 || return 1
	cond_pid=$FX_PID
	# start_fixture names its files by the fixture: the second blocker's
	# "pid" line is read from its own copy.
	start_fx pipe "$BLOCKER" pipe --threads 2 --start-after 30000 --exit-after "$FX_SAFETY" ||
		return 1
	pipe_pid=$FX_PID
	start_lw folded_threads -p "$cond_pid" -p "$pipe_pid" -t 1s -i 250ms -j --folded "$f" || return 1
	kill -USR1 "$cond_pid" "$pipe_pid"
	folded_stuck_records 5 20 || return 1
	sleep 0.5 # the scan after the last stuck record: nothing changes since
	[[ ! -e $f ]] || fail "the file exists before SIGUSR1 (nothing writes it during the run)" ||
		return 1
	kill -USR1 "$LW_PID"
	folded_wait_file "$f" 10 || return 1
	is_running "$LW_PID" || fail "leakwatch ended after SIGUSR1" "$(tail -3 "$ERR")" || return 1
	cp "$f" "$f.usr1"
	folded_form "$f.usr1" || return 1
	folded_expect_counts "$f.usr1" "after SIGUSR1" || return 1
	(($(wc -l <"$f.usr1") == 2)) || fail "want one line per site, 2" "$(cat "$f.usr1")" || return 1
	# Root first: the thread's start before the fixture's function, its
	# kernel frames after, the wait last.
	for w in futex read; do
		line=$(grep -F ";[wait: $w] " "$f.usr1")
		[[ $line =~ ^blocker\;.*start_thread\;blocked_thread\;.*_\[k\]\;\[wait:\ $w\]\ [0-9]+$ ]] ||
			fail "the $w line is not blocker;...start_thread;blocked_thread;...kernel_[k];[wait: $w] N" \
				"$line" || return 1
	done
	grep -q '+0x' "$f.usr1" && fail "offsets in frames (they would split a function)" \
		"$(cat "$f.usr1")" && return 1
	folded_speedscope "$f.usr1" || return 1

	# At exit (SIGINT): written again, the same counts.
	rm -f "$f"
	kill -INT "$LW_PID"
	wait_lw 20 || return 1
	expect_rc 0 || return 1
	[[ -f $f ]] || fail "no file at exit" "$(tail -3 "$ERR")" || return 1
	folded_form "$f" || return 1
	folded_expect_counts "$f" "at exit" || return 1
	folded_speedscope "$f" || return 1
	ls "$TMP" | grep -q 'threads\.folded\.[0-9]*\.tmp' &&
		fail "a temporary file was left" "$(ls "$TMP")" && return 1

	# --folded-weight time: each waiter's blocked milliseconds at the last
	# scan, between what its stuck record said and that plus the time since.
	start_lw folded_time -p "$cond_pid" -p "$pipe_pid" -t 1s -i 250ms -d 2s -j \
		--folded "$ft" --folded-weight time || return 1
	wait_lw 20 || return 1
	expect_rc 0 || return 1
	folded_form "$ft" || return 1
	folded_speedscope "$ft" || return 1
	for w in futex read; do
		read -r lo hi < <(jq -s -r --argjson t1 "$T1" --arg w "$w" '
			[.[] | select(.type == "stuck" and .wait == $w)]
			| "\(map(.blocked_s * 1000 | floor) | add) \(map(($t1 - .ts + .blocked_s) * 1000 | ceil + 1) | add)"' "$OUT")
		line=$(grep -F ";[wait: $w] " "$ft")
		w=${line##* }
		((w >= lo && w <= hi)) ||
			fail "--folded-weight time: $w ms on the line, want within [$lo, $hi]" "$line" || return 1
	done
}

test_folded_go() {
	local f=$TMP/go.folded bin=$BUILD/fixtures/go/1.26/plain/gofix parked leaky got want
	[[ -x $bin ]] || fail "$bin is missing: run 'make'" || return 1
	start_fx goparked "$bin" parked --count 20 --exit-after 60s || return 1
	parked=$FX_PID
	start_fx goleak "$bin" recv --rate 20 --max 7 --start-after 30s --exit-after 60s || return 1
	leaky=$FX_PID
	start_lw folded_go -p "$parked" -p "$leaky" -t 1s -i 500ms -d 8s -j --folded "$f" || return 1
	kill -USR1 "$leaky" # leak now that leakwatch watches
	wait_lw 40 || return 1
	expect_rc 0 || return 1
	folded_form "$f" || return 1
	folded_expect_counts "$f" "at exit" || return 1
	# Goroutine lines have no kernel frames; thread lines do (a thread
	# running a goroutine, as os/signal.loop's, shows its Go frames too).
	folded_expect_counts "$f" "goroutines at exit" '.goid' -v -e '_\[k\];' || return 1
	folded_expect_counts "$f" "threads at exit" '.goid | not' -e '_\[k\];' || return 1
	got=$(grep -c ';main\.leakRecv\.func1;.*\[wait: chan receive\] 7$' "$f")
	((got == 1)) || fail "want the 7 leaked goroutines on one line in main.leakRecv.func1" \
		"$(grep leakRecv "$f")" || return 1
	got=$(grep -v '_\[k\];' "$f" | awk '{ s += $NF } END { print s + 0 }')
	want=$(jq -s '[.[] | select(.type == "sample")] | group_by(.pid) | map(last.goroutines_stuck) | add' "$OUT")
	((got == want)) || fail "goroutine lines weigh $got, the last samples say $want stuck" || return 1
	got=$(grep '_\[k\];' "$f" | awk '{ s += $NF } END { print s + 0 }')
	want=$(jq -s '[.[] | select(.type == "sample")] | group_by(.pid) | map(last.stuck) | add' "$OUT")
	((got == want)) || fail "thread lines weigh $got, the last samples say $want stuck" || return 1
	folded_speedscope "$f" || return 1
}

# Run mode: stopped by -d, the file has the command's stuck threads (written
# before the command is stopped); the command ending by itself leaves
# nothing stuck: an empty file, and the command's exit status.
test_folded_runmode() {
	local f=$TMP/runmode.folded fe=$TMP/runmode-exit.folded got want
	# The command's own lines go elsewhere: stdout is the JSON Lines.
	start_lw folded_rm -t 1s -i 250ms -d 4s -j --folded "$f" -- \
		sh -c "exec '$BLOCKER' cond --threads 2 --exit-after 60 >/dev/null" || return 1
	wait_lw 40 || return 1
	expect_rc 143 || return 1 # the command's status: SIGTERM at the end of -d
	folded_form "$f" || return 1
	got=$(grep -c '^blocker;.*;blocked_thread;.*\[wait: futex\] 2$' "$f")
	want=$(jq -s '[.[] | select(.type == "stuck" and .pcomm == "blocker")] | length' "$OUT")
	((got == 1 && want == 2)) ||
		fail "want one blocker line of weight 2 as the 2 stuck records (got $got line(s), $want records)" \
			"$(cat "$f")" || return 1
	folded_speedscope "$f" || return 1
	start_lw folded_rm_exit -t 1s -i 250ms -d 30s -j --folded "$fe" -- \
		sh -c "exec '$BLOCKER' cond --threads 2 --exit-after 3 >/dev/null" || return 1
	wait_lw 40 || return 1
	expect_rc 0 || return 1
	[[ -f $fe && ! -s $fe ]] || fail "the command exited: want an empty file" "$(head -3 "$fe")"
}

# folded_refused WHAT FILE: leakwatch --folded FILE exits 2 at once with one
# line on stderr naming FILE.
folded_refused() {
	local what=$1 file=$2 rc
	timeout 20 "$LW" -d 30s -p $$ --folded "$file" >"$TMP/refused.out" 2>"$TMP/refused.err"
	rc=$?
	[[ $rc == 2 ]] || fail "$what: exit $rc, want 2" "$(cat "$TMP/refused.err")" || return 1
	[[ $(wc -l <"$TMP/refused.err") == 1 ]] && grep -qF "cannot write the folded stacks to $file" \
		"$TMP/refused.err" || fail "$what: want one line on stderr" "$(cat "$TMP/refused.err")"
}

test_folded_paths() {
	local full=$TMP/fullfs f fifo=$TMP/folded.fifo moved=$TMP/moved.folded rc
	mkfifo "$fifo"
	folded_refused "a FIFO with no reader" "$fifo" || return 1
	folded_refused "a directory" "$TMP" || return 1
	folded_refused "/dev/full" /dev/full || return 1
	folded_refused "a missing directory" "$TMP/none/x.folded" || return 1

	# A full disk: a 64 KiB tmpfs, an old file in it, then filled.
	mkdir -p "$full"
	mount -t tmpfs -o size=64k,mode=0755 "leakwatch-test-$$-folded" "$full" ||
		fail "cannot mount a tmpfs on $full" || return 1
	FOLDED_MOUNTS+=("$full")
	f=$full/stuck.folded
	echo "old;[wait: futex] 1" >"$f"
	dd if=/dev/zero of="$full/fill" bs=4k 2>/dev/null
	start_fixture blocker cond --threads 3 || return 1
	start_lw folded_full -p "$FX_PID" -t 1s -i 250ms -d 6s -j --folded "$f" || return 1
	folded_stuck_records 3 20 || return 1
	kill -USR1 "$LW_PID"
	for ((rc = 0; rc < 100; rc++)); do
		grep -q 'cannot write the folded stacks' "$ERR" && break
		sleep 0.1
	done
	grep -q "cannot write the folded stacks to $f: No space left on device" "$ERR" ||
		fail "SIGUSR1 on a full disk: no error line" "$(cat "$ERR")" || return 1
	is_running "$LW_PID" || fail "SIGUSR1 on a full disk ended the run" || return 1
	wait_lw 30 || return 1
	expect_rc 3 || return 1
	(($(grep -c 'cannot write the folded stacks' "$ERR") == 2)) ||
		fail "want one error line for SIGUSR1 and one at exit" "$(cat "$ERR")" || return 1
	[[ $(cat "$f") == "old;[wait: futex] 1" ]] ||
		fail "the old file changed: a reader would see half a file" "$(head -3 "$f")" || return 1
	[[ $(ls -A "$full") == $'fill\nstuck.folded' ]] ||
		fail "a temporary file left on the full disk" "$(ls -A "$full")" || return 1
	umount "$full" && FOLDED_MOUNTS=()

	# The path became a FIFO during the run: not opened, not replaced.
	start_lw folded_moved -p "$FX_PID" -t 1s -i 250ms -d 3s -j --folded "$moved" || return 1
	mkfifo "$moved"
	wait_lw 30 || return 1
	expect_rc 3 || return 1
	[[ -p $moved ]] || fail "the FIFO was replaced" || return 1
	(($(grep -c "cannot write the folded stacks to $moved: not a regular file" "$ERR") == 1)) ||
		fail "want one line saying it is not a regular file" "$(cat "$ERR")" || return 1
}

FOLDED_TESTS=(folded_threads folded_go folded_runmode folded_paths)
