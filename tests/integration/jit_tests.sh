# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# leakwatch integration tests for JIT frames named from perf map files
# (/tmp/perf-PID.map, user/perf_map.c), sourced by run.sh after
# leak_tests.sh (start_fx, wait_record, stop_lw).
#
# Fixtures: tests/fixtures/Spin.java (a JVM spinning in a C2-compiled
# method), tests/fixtures/spin.js (Node, --perf-basic-prof), and
# tests/fixtures/jitspin.c (build/fixtures/jitspin: spin loops copied to an
# executable page, named in a perf map it writes itself, and renamed on
# SIGUSR1: deterministic, no JIT needed).
#
#   jit_jvm_spin       after `jcmd PID Compiler.perfmap`, the spin record's
#                      innermost frame is the Java method as the map names it
#                      ("long Spin.spinLoop(long)"), kind jit, module
#                      perf-PID.map, its offset inside that map entry
#   jit_node_spin      the same for Node's "JS:*spinForever" (optimized code)
#   jit_perfmap_reread jitspin: the spin named "jit_spin_before", the loop no
#                      line covers an address (not its neighbour's name);
#                      the map rewritten: a new spinner in the same code
#                      named "jit_spin_after_rename"
#   jit_container      jitspin in its own pid namespace (pid 1 there) with a
#                      private /tmp: perf-1.map found through /proc/PID/root,
#                      though the host's /tmp has neither perf-1.map nor
#                      perf-HOSTPID.map

JIT_SRC_FIXTURES=$(cd "$(dirname "${BASH_SOURCE[0]}")/../fixtures" && pwd)
JIT_BOUND=30 # seconds for a spin record, at most

# jt_task_tid PID COMM SECS: the tid of PID's thread named COMM (waits for
# it SECS at most).
jt_task_tid() {
	local pid=$1 comm=$2 i f
	for ((i = 0; i < $3 * 10; i++)); do
		for f in /proc/"$pid"/task/*/comm; do
			[[ $(cat "$f" 2>/dev/null) == "$comm" ]] || continue
			f=${f%/comm}
			echo "${f##*/}"
			return 0
		done
		sleep 0.1
	done
	fail "no thread '$comm' in process $pid"
}

# jt_fixture_tid NAME: jitspin's "tid TID NAME" line (10 s at most).
jt_fixture_tid() {
	local i t
	for ((i = 0; i < 100; i++)); do
		t=$(awk -v n="$1" '$1 == "tid" && $3 == n { print $2; exit }' "$FX_OUT")
		[[ $t ]] && { echo "$t"; return 0; }
		sleep 0.1
	done
	fail "jitspin printed no 'tid TID $1'"
}

# jt_wait_out FILE REGEX SECS: wait until FILE has a line matching REGEX.
jt_wait_out() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "no line matching /$2/ in $(basename "$1") after $3 s" "$(tail -5 "$1")"
}

# jt_spin TID: wait for the spin record of thread TID of FX_PID.
jt_spin() {
	wait_record ".type == \"spin\" and .pid == \$pid and .tid == $1" "$JIT_BOUND" ||
		fail "no spin record for tid $1 within ${JIT_BOUND}s" \
			"$(jq -c 'select(.type == "spin")' "$OUT" | head -5)" "$(head -c 500 "$ERR")"
}

# jt_expect_jit_frame TID FUNC MODULE: the spin record of TID starts with
# FUNC+0xOFF (MODULE), its first frame {func FUNC, kind jit, module MODULE,
# not inlined, no file or line}.
jt_expect_jit_frame() {
	local tid=$1 func=$2 module=$3
	jq_expect "spin of tid $tid: first frame \"$func+0x... ($module)\", kind jit" \
		"first(.[] | select(.type == \"spin\" and .pid == \$pid and .tid == $tid)) as \$s
			| (\$s.stack[0] | startswith(\"$func+0x\") and endswith(\" ($module)\"))
			and (\$s.frames[0] | .func == \"$func\" and .kind == \"jit\"
				and .module == \"$module\" and .inlined == false
				and .file == null and .line == null)" \
		".[] | select(.type == \"spin\" and .pid == \$pid and .tid == $tid) | {stack, frames: .frames[:3]}"
}

# jt_check_offset TID MAP FUNC: the first frame's pc - offset is the start
# of a line of MAP naming FUNC, and the offset is inside its size.
jt_check_offset() {
	local tid=$1 map=$2 func=$3 pc off start
	read -r pc off < <(jq -r --argjson pid "$FX_PID" \
		"select(.type == \"spin\" and .pid == \$pid and .tid == $tid) | .frames[0] | \"\(.pc) \(.offset)\"" \
		"$OUT" | head -1)
	[[ $pc == 0x* && $off =~ ^[0-9]+$ ]] || fail "spin of tid $tid: no pc/offset ($pc $off)" || return 1
	start=$((pc - off))
	while read -r s z name; do
		[[ $name == "$func" && $s =~ ^(0x)?[0-9a-fA-F]+$ && $z =~ ^(0x)?[0-9a-fA-F]+$ ]] ||
			continue
		((16#${s#0x} == start && off < 16#${z#0x})) && return 0
	done <"$map"
	fail "spin of tid $tid: pc $pc - offset $off is not the start of a '$func' line of $map, or the offset is past its size" \
		"$(grep -F -- "$func" "$map" | head -5)"
}

# 1. A JVM spinning in a C2-compiled method, its perf map written by jcmd.
test_jit_jvm_spin() {
	local tid map
	command -v java >/dev/null && command -v jcmd >/dev/null ||
		fail "java and jcmd are required (Debian: openjdk-17-jdk-headless; make deps)" || return 1
	start_fx jvmspin timeout -s KILL 120 java -Xbatch -XX:+PrintCompilation \
		-XX:CompileCommand=quiet -XX:CompileCommand=dontinline,Spin::spinLoop \
		"$JIT_SRC_FIXTURES/Spin.java" || return 1
	map=/tmp/perf-$FX_PID.map
	jt_wait_out "$FX_OUT" '^ready$' 90 || return 1
	# -Xbatch: C2's compilation (level 4, not OSR) done before "ready".
	awk '/^ready$/ { exit } /[[:space:]]4[[:space:]]+Spin::spinLoop \(/ { found = 1 }
		END { exit !found }' "$FX_OUT" ||
		fail "Spin::spinLoop not compiled at level 4 before ready" \
			"$(grep -F 'Spin::' "$FX_OUT")" || return 1
	tid=$(jt_task_tid "$FX_PID" spinner 10) || return 1
	jcmd "$FX_PID" Compiler.perfmap >"$TMP/jcmd.out" 2>&1 ||
		fail "jcmd $FX_PID Compiler.perfmap failed" "$(cat "$TMP/jcmd.out")" || return 1
	grep -q ' long Spin\.spinLoop(long)$' "$map" ||
		fail "$map names no 'long Spin.spinLoop(long)'" "$(head -3 "$map")" || return 1
	start_lw jit_jvm_spin -p "$FX_PID" -t 2s -i 500ms -j || return 1
	jt_spin "$tid"
	stop_lw || return 1
	expect_rc 0 || { rm -f "$map"; return 1; }
	jt_expect_jit_frame "$tid" "long Spin.spinLoop(long)" "perf-$FX_PID.map" &&
		jt_check_offset "$tid" "$map" "long Spin.spinLoop(long)"
	local rc=$?
	rm -f "$map"
	return $rc
}

# 2. Node: the main thread spinning in TurboFan's code for spinForever.
test_jit_node_spin() {
	local map func
	command -v node >/dev/null || fail "node is required" || return 1
	# In $TMP: V8 writes its isolate-*-v8.log to the working directory.
	start_fx nodespin env -C "$TMP" timeout -s KILL 120 node --perf-basic-prof \
		"$JIT_SRC_FIXTURES/spin.js" || return 1
	map=/tmp/perf-$FX_PID.map
	# V8 appends to the map as it compiles: the optimized code, then spins.
	jt_wait_out "$map" ' JS:\*spinForever ' 30 || { rm -f "$map"; return 1; }
	func=$(grep -m1 -o ' JS:\*spinForever .*$' "$map" | sed 's/^ //')
	start_lw jit_node_spin -p "$FX_PID" -t 2s -i 500ms -j || { rm -f "$map"; return 1; }
	jt_spin "$FX_PID"
	stop_lw || { rm -f "$map"; return 1; }
	expect_rc 0 || { rm -f "$map"; return 1; }
	jt_expect_jit_frame "$FX_PID" "$func" "perf-$FX_PID.map" &&
		jt_check_offset "$FX_PID" "$map" "$func"
	local rc=$?
	rm -f "$map" # node leaves it
	return $rc
}

# 3. jitspin: named from its own map, re-read after it is rewritten; the
# loop that no line covers stays an address.
test_jit_perfmap_reread() {
	local tid_a tid_gap tid_b code gap
	start_fx jitspin "$BUILD/fixtures/jitspin" --exit-after "$FX_SAFETY" || return 1
	tid_a=$(jt_fixture_tid jit-a) || return 1
	tid_gap=$(jt_fixture_tid jit-gap) || return 1
	code=$(awk '$1 == "code" { print $2 }' "$FX_OUT")
	gap=$(awk '$1 == "gap" { print $2 }' "$FX_OUT")
	start_lw jit_perfmap_reread -p "$FX_PID" -t 2s -i 500ms -j || return 1
	jt_spin "$tid_a" || return 1
	jt_spin "$tid_gap" || return 1
	kill -USR1 "$FX_PID" # rewrite the map, then a new spinner in the same code
	jt_wait_out "$FX_OUT" '^renamed$' 10 || return 1
	tid_b=$(jt_fixture_tid jit-b) || return 1
	jt_spin "$tid_b"
	stop_lw || return 1
	expect_rc 0 || return 1
	jt_expect_jit_frame "$tid_a" jit_spin_before "perf-$FX_PID.map" || return 1
	jq_expect "spin of jit-a: the loop's own address, offset 0" \
		"first(.[] | select(.type == \"spin\" and .tid == $tid_a)) | .frames[0]
			| .pc == \"0x$code\" and .offset == 0" \
		".[] | select(.type == \"spin\" and .tid == $tid_a) | .frames[0]" || return 1
	jq_expect "spin of jit-gap: its first frame the address 0x$gap, unnamed (no line covers it)" \
		"first(.[] | select(.type == \"spin\" and .tid == $tid_gap)) as \$s
			| (\$s.stack[0] | startswith(\"0x$gap \") and (test(\"jit_\") | not))
			and (\$s.frames[0] | .func == null and .pc == \"0x$gap\")" \
		".[] | select(.type == \"spin\" and .tid == $tid_gap) | {stack, frames: .frames[:2]}" ||
		return 1
	jt_expect_jit_frame "$tid_b" jit_spin_after_rename "perf-$FX_PID.map"
}

# 4. jitspin in a container: its own pid namespace (pid 1 there) and a
# private /tmp, its map found as it sees it.
test_jit_container() {
	local host_pid="" i tid nspid
	command -v unshare >/dev/null || fail "unshare is required (util-linux)" || return 1
	spawn jitns unshare --pid --fork --mount-proc sh -c \
		'mount -t tmpfs -o size=1m jit-tmp /tmp && exec "$0" --exit-after "$1"' \
		"$BUILD/fixtures/jitspin" "$FX_SAFETY"
	FX_OUT=$TMP/jitns.out
	jt_wait_out "$FX_OUT" '^pid 1$' 10 || return 1
	# unshare forked the namespace's init: its only child.
	for ((i = 0; i < 50; i++)); do
		host_pid=$(cat "/proc/$SPAWNED/task/$SPAWNED/children" 2>/dev/null | awk '{ print $1 }')
		[[ $host_pid && $(cat "/proc/$host_pid/comm" 2>/dev/null) == jitspin ]] && break
		sleep 0.1
	done
	[[ $(cat "/proc/$host_pid/comm" 2>/dev/null) == jitspin ]] ||
		fail "no jitspin child of unshare $SPAWNED" "$(cat "$TMP/jitns.err")" || return 1
	FX_PID=$host_pid
	nspid=$(awk '$1 == "NSpid:" { print $NF }' "/proc/$FX_PID/status")
	[[ $nspid == 1 ]] || fail "jitspin's NSpid ends in '$nspid', not 1" || return 1
	# The map is only where the process sees it.
	[[ ! -e /tmp/perf-1.map && ! -e /tmp/perf-$FX_PID.map ]] ||
		fail "the host's /tmp has perf-1.map or perf-$FX_PID.map: the test would not tell" ||
		return 1
	[[ -s /proc/$FX_PID/root/tmp/perf-1.map ]] ||
		fail "no perf-1.map in jitspin's own /tmp" || return 1
	tid=$(jt_task_tid "$FX_PID" jit-a 10) || return 1
	start_lw jit_container -p "$FX_PID" -t 2s -i 500ms -j || return 1
	jt_spin "$tid"
	stop_lw || return 1
	expect_rc 0 || return 1
	jt_expect_jit_frame "$tid" jit_spin_before perf-1.map
}

JIT_TESTS=(jit_jvm_spin jit_node_spin jit_perfmap_reread jit_container)
