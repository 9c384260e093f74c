# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# leakwatch integration tests for Python stacks (issue 10, point 3), sourced
# by run.sh (helpers: spawn, start_lw, wait_lw, jq_expect, fail, ...) after
# leak_tests.sh (start_fx, wait_record, stop_lw).
#
# Fixture: tests/fixtures/py/leak.py: handler threads that leak in q.get()
# inside handle(), one more every --every ms up to --max, and one thread
# each sleeping, blocked on a lock and in select.select; it prints each
# thread's Python stack as it sees it (sys._current_frames() + traceback)
# after "ready" and after its last handler: "thread TID NAME" then
# "frame QUALNAME FILE LINE", innermost first.
# The Pythons: Debian's /usr/bin/python3.11 always (a missing one is a
# failure: 'make deps'), pyenv's CPython 3.11.7, 3.12.1 and 3.13.0 where
# present; py_old needs pyenv's 3.10.13.
#   py_leak    every Python: a leak record whose where is handle (leak.py:LINE),
#              LINE the fixture's own, and whose stack holds the handler's
#              Python frames in order (as the fixture printed them) between
#              native ones: libc's wait innermost, the thread start outermost
#   py_stacks  every Python: the stuck sleeper, locker and selector threads'
#              sites hold exactly the Python frames the fixture printed for
#              them; a python record with the version and layout
#   py_old     CPython 3.10: reported once (python record, one stderr line),
#              not supported; its threads stuck with native stacks only

PY_FIXTURE=$(cd "$(dirname "${BASH_SOURCE[0]}")/../fixtures/py" && pwd)/leak.py
PY_OLD=/root/.pyenv/versions/3.10.13/bin/python3
PY_TESTS=(py_leak py_stacks py_old)

# py_pythons: the Pythons to test, one path a line; fails without Debian's.
py_pythons() {
	local v
	[[ -x /usr/bin/python3.11 ]] ||
		{ fail "/usr/bin/python3.11 is missing: run 'make deps'"; return 1; }
	echo /usr/bin/python3.11
	for v in 3.11.7 3.12.1 3.13.0; do
		[[ -x /root/.pyenv/versions/$v/bin/python3 ]] && echo "/root/.pyenv/versions/$v/bin/python3"
	done
	return 0
}

declare -A PY_PID PY_OUT # per fixture tag

# py_start TAG PYTHON ARGS...: start leak.py under PYTHON (its own session,
# --exit-after 90 unless given), wait (20s) for its pid line and "ready".
py_start() {
	local tag=$1 python=$2 i
	shift 2
	local args=("$@")
	[[ " $* " == *" --exit-after "* ]] || args+=(--exit-after 90)
	start_fx "py-$tag" "$python" "$PY_FIXTURE" "${args[@]}" || return 1
	PY_PID[$tag]=$FX_PID
	PY_OUT[$tag]=$FX_OUT
	for ((i = 0; i < 200; i++)); do
		grep -qx ready "$FX_OUT" && return 0
		sleep 0.1
	done
	fail "$python $PY_FIXTURE did not get ready" "$(head -c 300 "$TMP/fx-py-$tag.err")"
}

# py_snapshot TAG: SIGUSR2 the fixture, wait (10s) for the stacks it prints.
py_snapshot() {
	local out=${PY_OUT[$1]} before i
	before=$(grep -c '^stacks END$' "$out")
	kill -USR2 "${PY_PID[$1]}"
	for ((i = 0; i < 100; i++)); do
		(($(grep -c '^stacks END$' "$out") > before)) && return 0
		sleep 0.1
	done
	fail "$1: the fixture printed no stacks on SIGUSR2"
}

# py_fixture_frames TAG NAME: the Python frames the fixture last printed
# for its thread NAME, "func (file:line)" a line, innermost first.
py_fixture_frames() {
	awk -v name="$2" '
		$1 == "stacks" && $2 == "BEGIN" { n = 0; on = 0; delete f; next }
		$1 == "thread" { on = ($3 == name); next }
		$1 == "frame" && on { f[n++] = $2 " (" $3 ":" $4 ")" }
		$1 == "stacks" && $2 == "END" { if (n) { last = ""; for (i = 0; i < n; i++) last = last f[i] "\n" } }
		END { printf "%s", last }' "${PY_OUT[$1]}"
}

# py_fixture_tid TAG NAME: the native id of the fixture's thread NAME.
py_fixture_tid() {
	awk -v name="$2" '$1 == "thread" && $3 == name { t = $2 } END { print t }' "${PY_OUT[$1]}"
}

# py_site_frames PID TID: the Python frames of the site where thread TID of
# PID was reported stuck, "func (file:line)" a line.
py_site_frames() {
	jq -r -s --argjson pid "$1" --argjson tid "$2" '
		(first(.[] | select(.type == "stuck" and .pid == $pid and .tid == $tid)) | .site) as $s
		| first(.[] | select(.type == "site" and .pid == $pid and .site == $s))
		| .frames[] | select(.kind == "python") | "\(.func) (\(.file):\(.line))"' "$OUT"
}

# py_check_python_record TAG: one python record for the fixture, its
# version the fixture's own, its layout given.
py_check_python_record() {
	local tag=$1 minor want_layout
	FX_PID=${PY_PID[$tag]}
	minor=$(awk '$1 == "python" { print $2; exit }' "${PY_OUT[$tag]}")
	want_layout="table $minor"
	[[ $minor == 3.1[3-9] ]] && want_layout=_Py_DebugOffsets
	jq_expect "$tag: one python record, version $minor.*, layout $want_layout" \
		"[.[] | select(.type == \"python\" and .pid == \$pid)]
			| length == 1 and (.[0].version | startswith(\"$minor.\"))
			and .[0].layout == \"$want_layout\" and (.[0] | has(\"error\") | not)" \
		'.[] | select(.type == "python")'
}

test_py_leak() {
	local pythons python tag line want got i=0 tags=() pids=() all
	pythons=$(py_pythons) || return 1
	for python in $pythons; do
		tag=leak$i
		i=$((i + 1))
		py_start "$tag" "$python" --every 700 --max 40 || return 1
		tags+=("$tag")
		pids+=(-p "${PY_PID[$tag]}")
	done
	start_lw py_leak "${pids[@]}" -t 2s -i 1s -d 45s -j || return 1
	for ((i = 0; i < 180; i++)); do
		all=1
		for tag in "${tags[@]}"; do
			FX_PID=${PY_PID[$tag]}
			jq -e -n --argjson pid "$FX_PID" 'any(inputs; .type == "leak" and .pid == $pid)' \
				"$OUT" >/dev/null 2>&1 || all=0
		done
		((all)) && break
		is_running "$LW_PID" || break
		sleep 0.25
	done
	stop_lw || return 1
	expect_rc 0 || return 1
	for tag in "${tags[@]}"; do
		FX_PID=${PY_PID[$tag]}
		python=$(tr '\0' ' ' <"/proc/$FX_PID/cmdline" 2>/dev/null | cut -d' ' -f1)
		py_check_python_record "$tag" || return 1
		# handler-1's stack as the fixture prints it now; its line in
		# handle() is the where's
		py_snapshot "$tag" || return 1
		want=$(py_fixture_frames "$tag" handler-1)
		[[ $want ]] || { fail "$tag: the fixture printed no stack for handler-1" \
			"$(tail -5 "${PY_OUT[$tag]}")"; return 1; }
		line=$(sed -n 's/^handle (.*leak\.py:\([0-9]*\))$/\1/p' <<<"$want")
		jq_expect "$tag ($python): a leak record whose where is handle (leak.py:$line), wait futex" \
			"any(.[]; .type == \"leak\" and .pid == \$pid and .where == \"handle (leak.py:$line)\"
				and .wait == \"futex\")" \
			'.[] | select(.type == "leak" or .type == "python") | del(.kstack, .kframes, .frames)' ||
			return 1
		got=$(jq -r -s --argjson pid "$FX_PID" '
			first(.[] | select(.type == "leak" and .pid == $pid)) | .frames[]
			| select(.kind == "python") | "\(.func) (\(.file):\(.line))"' "$OUT")
		[[ $got == "$want" ]] || { fail "$tag: the leak's Python frames are not the fixture's" \
			"leak: $got" "fixture: $want"; return 1; }
		jq_expect "$tag: its stack strings hold those frames in that order, native frames around them: libc's wait innermost, the thread start outermost" \
			"first(.[] | select(.type == \"leak\" and .pid == \$pid)) as \$l
				| (\$l.frames | map(.kind)) as \$k
				| (\$k | index(\"python\")) as \$first
				| (\$k | rindex(\"python\")) as \$last
				| \$first > 0 and \$last < (\$k | length) - 1
				and ((\$l.frames[0].func // \"\") | test(\"futex|sem_wait|cond_wait\"))
				and (\$l.frames[-1].kind == \"native\")
				and ([\$l.frames[-3:][] | .func // \"\"] | any(test(\"start_thread|clone\")))
				and ([\$l.stack[] | select(test(\"^(Condition.wait|Queue.get|handle|Thread.run|Thread._bootstrap_inner|Thread._bootstrap) \\\\(\"))]
					== [\$l.frames[] | select(.kind == \"python\") | \"\(.func) (\(.file):\(.line))\"])" \
			"first(.[] | select(.type == \"leak\" and .pid == \$pid)) | .stack" || return 1
		jq_expect "$tag: every leak record of the fixture names the same site" \
			'[.[] | select(.type == "leak" and .pid == $pid) | .site] | unique | length == 1' ||
			return 1
		echo "# $tag ($python): $(jq -r -s --argjson pid "$FX_PID" '
			first(.[] | select(.type == "leak" and .pid == $pid))
			| "leak at \(.where), stuck \(.stuck), \(.frames | map(select(.kind == "python")) | length) Python frames in \(.frames | length)"' "$OUT")"
	done
}

test_py_stacks() {
	local pythons python tag name tid want got i=0 tags=() pids=()
	pythons=$(py_pythons) || return 1
	for python in $pythons; do
		tag=stacks$i
		i=$((i + 1))
		py_start "$tag" "$python" --max 0 || return 1
		tags+=("$tag")
		pids+=(-p "${PY_PID[$tag]}")
	done
	run_lw py_stacks "${pids[@]}" -t 2s -i 1s -d 6s -j || return 1
	expect_rc 0 || return 1
	for tag in "${tags[@]}"; do
		FX_PID=${PY_PID[$tag]}
		python=$(tr '\0' ' ' <"/proc/$FX_PID/cmdline" 2>/dev/null | cut -d' ' -f1)
		py_check_python_record "$tag" || return 1
		for name in sleeper locker selector; do
			tid=$(py_fixture_tid "$tag" "$name")
			want=$(py_fixture_frames "$tag" "$name")
			[[ $tid && $want ]] || { fail "$tag: the fixture printed no stack for $name"; return 1; }
			got=$(py_site_frames "$FX_PID" "$tid")
			[[ $got == "$want" ]] || { fail "$tag ($python) $name (tid $tid): its site's Python frames are not the fixture's" \
				"leakwatch: $got" "fixture: $want"; return 1; }
		done
		echo "# $tag ($python): sleeper, locker, selector: Python frames as the program printed them"
	done
}

test_py_old() {
	local n
	[[ -x $PY_OLD ]] || { fail "$PY_OLD is missing (pyenv's CPython 3.10.13)"; return 1; }
	py_start old "$PY_OLD" --max 3 --every 100 || return 1
	FX_PID=${PY_PID[old]}
	run_lw py_old -p "$FX_PID" -t 2s -i 1s -d 6s -j || return 1
	expect_rc 0 || return 1
	jq_expect "one python record: version 3.10, an error saying not supported, no layout" \
		'[.[] | select(.type == "python" and .pid == $pid)]
			| length == 1 and .[0].version == "3.10"
			and (.[0].error | test("not supported")) and (.[0] | has("layout") | not)' \
		'.[] | select(.type == "python")' || return 1
	n=$(grep -c "pid $FX_PID .*python 3.10 .*not supported" "$ERR")
	[[ $n == 1 ]] || { fail "said $n times on stderr, want once" "$(head -c 500 "$ERR")"; return 1; }
	jq_expect "its threads stuck (sleeper, locker, selector, 3 handlers), sites with native frames only, named" \
		'[.[] | select(.type == "stuck" and .pid == $pid)] | length >= 6' \
		'.[] | select(.type == "stuck") | del(.kstack)' || return 1
	jq_expect "no Python frame in any of its sites, each a native stack" \
		'[.[] | select(.type == "site" and .pid == $pid)]
			| length >= 3 and all(.frames | length > 0 and all(.kind == "native"))' \
		'.[] | select(.type == "site") | .stack' || return 1
}
