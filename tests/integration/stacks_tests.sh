# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# leakwatch integration tests for readable native stacks (issue 10), sourced
# by run.sh (which provides the helpers: spawn, start_lw, wait_lw, jq_expect,
# fail, ...) after leak_tests.sh (start_fx, wait_record, stop_lw).
#
# Fixture: tests/fixtures/query.c, threads leaking in chan_send(), which the
# compiler inlined into query() (-O2 -g, no frame pointers), built as
#   query            DWARF in the binary
#   query-debuglink  stripped, DWARF in query-debuglink.debug beside it,
#                    named by .gnu_debuglink
#   query-buildid    stripped, no link: DWARF found by build-id only, in
#                    /usr/lib/debug/.build-id/XX/YYYY.debug, which the test
#                    installs and removes (stacks_cleanup, also on exit)
#
#   native_inline     the leak's site is "chan_send (query.c:L) inlined into
#                     query": the site record's frames hold chan_send
#                     (inlined, query.c:L) then query (its call line), and
#                     the stack strings read "chan_send+0x.. (...query.c:L)"
#   native_debuglink  the same with the DWARF split off, found by debuglink
#   native_buildid    the same, found by build-id under /usr/lib/debug
#
# The lines are the source's own, found by their LW-LINE markers.

STACKS_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../fixtures" && pwd)
STACKS_INSTALLED=() # debug files this run put under /usr/lib/debug

# stacks_cleanup: removes what native_buildid installed (run.sh's exit trap
# calls it too).
stacks_cleanup() {
	local f
	for f in "${STACKS_INSTALLED[@]}"; do
		rm -f "$f"
		rmdir "$(dirname "$f")" 2>/dev/null
	done
	STACKS_INSTALLED=()
}

# marker_line MARKER: the line of query.c holding "LW-LINE MARKER".
marker_line() {
	grep -n "LW-LINE $1 \*/" "$STACKS_SRC/query.c" | cut -d: -f1
}

# native_case NAME BINARY [PATH [MODULE [PREPARE]]]: BINARY (at PATH, by
# default $BUILD/fixtures/BINARY) leaks a thread every 700 ms in chan_send
# inlined into query; leakwatch must flag it with that readable site, its
# frames in module MODULE (default BINARY).  PREPARE: a command run once the
# fixture runs, before leakwatch starts.
native_case() {
	local name=$1 bin=$2 path=${3:-$BUILD/fixtures/$2} wait_line call_line
	local module=${4:-$2} prepare=${5:-}
	wait_line=$(marker_line wait)
	call_line=$(marker_line call)
	[[ $wait_line && $call_line ]] || fail "no LW-LINE markers in $STACKS_SRC/query.c" || return 1
	start_fx "$name" "$path" --every 700 --start-after 30000 \
		--exit-after "$FX_SAFETY" || return 1
	if [[ $prepare ]]; then
		$prepare || fail "$prepare failed" || return 1
	fi
	start_lw "$name" -p "$FX_PID" -t 2s -i 1s -d "${LEAK_BOUND}s" -j || return 1
	kill -USR1 "$FX_PID"
	wait_record '.type == "leak" and .pid == $pid' $((LEAK_BOUND + 5))
	stop_lw || return 1
	expect_rc 0 || return 1
	jq_expect "a leak record for the fixture, wait futex" \
		'any(.[]; .type == "leak" and .pid == $pid and .wait == "futex")' \
		'.[] | select(.type == "leak" or .type == "site") | del(.kstack, .kframes)' || return 1
	jq_expect "the leak's site record: where \"chan_send (query.c:$wait_line) inlined into query\"" \
		"first(.[] | select(.type == \"leak\" and .pid == \$pid)) as \$l
			| [.[] | select(.type == \"site\" and .pid == \$pid and .site == \$l.site)]
			| length == 1 and .[0].where == \"chan_send (query.c:$wait_line) inlined into query\"" \
		'.[] | select(.type == "site") | {site, where, stack}' || return 1
	jq_expect "site frames: chan_send (inlined, ...query.c:$wait_line, module $bin) then query (...query.c:$call_line, not inlined), same pc and offset" \
		"first(.[] | select(.type == \"leak\" and .pid == \$pid)) as \$l
			| first(.[] | select(.type == \"site\" and .pid == \$pid and .site == \$l.site)).frames
			| (map(.func == \"chan_send\") | index(true)) as \$i
			| \$i != null and .[\$i].inlined == true and .[\$i].kind == \"native\"
			and (.[\$i].file | endswith(\"query.c\")) and .[\$i].line == $wait_line
			and .[\$i].module == \"$module\" and .[\$i].offset > 0
			and .[\$i + 1].func == \"query\" and .[\$i + 1].inlined == false
			and (.[\$i + 1].file | endswith(\"query.c\")) and .[\$i + 1].line == $call_line
			and .[\$i + 1].module == \"$module\"
			and .[\$i + 1].pc == .[\$i].pc and .[\$i + 1].offset == .[\$i].offset" \
		'.[] | select(.type == "site") | .frames' || return 1
	jq_expect "libc's frames with file:line (libc6-dbg): pthread_cond_wait (...pthread_cond_wait.c:N)" \
		"first(.[] | select(.type == \"leak\" and .pid == \$pid)) as \$l
			| first(.[] | select(.type == \"site\" and .pid == \$pid and .site == \$l.site)).frames
			| any(.[]; .func == \"pthread_cond_wait\" and .module == \"libc.so.6\"
				and (.file | endswith(\"pthread_cond_wait.c\")) and .line > 0)" \
		'.[] | select(.type == "site") | .frames' || return 1
	jq_expect "leak stack strings: \"chan_send+0x.. (...query.c:$wait_line)\" then \"query+0x.. (...query.c:$call_line)\"" \
		"first(.[] | select(.type == \"leak\" and .pid == \$pid)).stack
			| (map(test(\"^chan_send\\\\+0x[0-9a-f]+ \\\\(.*query\\\\.c:$wait_line\\\\)\$\")) | index(true)) as \$c
			| \$c != null and (.[\$c + 1] | test(\"^query\\\\+0x[0-9a-f]+ \\\\(.*query\\\\.c:$call_line\\\\)\$\"))" \
		'first(.[] | select(.type == "leak")) | .stack' || return 1
}

test_native_inline() { native_case native_inline query; }

test_native_debuglink() {
	[[ -f $BUILD/fixtures/query-debuglink.debug ]] ||
		fail "$BUILD/fixtures/query-debuglink.debug is missing: run 'make'" || return 1
	if readelf -S "$BUILD/fixtures/query-debuglink" | grep -q '\.debug_info'; then
		fail "query-debuglink still has .debug_info: the test would not test"
		return 1
	fi
	native_case native_debuglink query-debuglink
}

test_native_buildid() {
	local id file rc
	id=$(readelf -n "$BUILD/fixtures/query-buildid" | awk '/Build ID:/ { print $3; exit }')
	[[ ${#id} -gt 4 ]] || fail "no build-id in query-buildid" || return 1
	file=/usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug
	[[ -e $file ]] && { fail "$file is already there: not ours to replace"; return 1; }
	mkdir -p "$(dirname "$file")" || fail "cannot create $(dirname "$file")" || return 1
	STACKS_INSTALLED+=("$file")
	cp "$BUILD/fixtures/split/query-buildid.debug" "$file" || fail "cannot install $file" || return 1
	native_case native_buildid query-buildid
	rc=$?
	stacks_cleanup
	return $rc
}

# native_deleted: the fixture's binary deleted while it runs and a FIFO put
# where its name was, "query (deleted)" (what /proc/PID/maps shows): the
# frames come from the file mapped (/proc/PID/map_files), and leakwatch
# never opens the FIFO (an open that would block it for good).
deleted_dir=""
replace_with_fifo() {
	rm -f "$deleted_dir/query" && mkfifo "$deleted_dir/query (deleted)"
}

test_native_deleted() {
	local rc
	deleted_dir=$TMP/deleted
	mkdir -p "$deleted_dir" && cp "$BUILD/fixtures/query" "$deleted_dir/query" ||
		fail "cannot copy query to $deleted_dir" || return 1
	native_case native_deleted query "$deleted_dir/query" "query (deleted)" replace_with_fifo
	rc=$?
	rm -rf "$deleted_dir"
	return $rc
}

# A FIFO where the .gnu_debuglink file should be (the target plants it):
# leakwatch does not block on it (libdw's own lookup would, forever), the
# leak is flagged; the stripped binary's frames stay addresses (libc's keep
# their lines), no name is made up.
test_native_debuglink_fifo() {
	local dir=$TMP/dlfifo
	mkdir -p "$dir" && cp "$BUILD/fixtures/query-debuglink" "$dir/" &&
		mkfifo "$dir/query-debuglink.debug" ||
		fail "cannot set up $dir" || return 1
	start_fx native_debuglink_fifo "$dir/query-debuglink" --every 700 --start-after 30000 \
		--exit-after "$FX_SAFETY" || return 1
	start_lw native_debuglink_fifo -p "$FX_PID" -t 2s -i 1s -d "${LEAK_BOUND}s" -j || return 1
	kill -USR1 "$FX_PID"
	wait_record '.type == "leak" and .pid == $pid' $((LEAK_BOUND + 5))
	stop_lw || return 1
	expect_rc 0 || return 1
	jq_expect "a leak: the binary's frames addresses, libc's named with their lines" \
		'first(.[] | select(.type == "leak" and .pid == $pid)).frames
			| any(.[]; .module == "query-debuglink") and all(.[];
				.module != "query-debuglink" or (.func == null and .file == null))
			and any(.[]; .func == "pthread_cond_wait" and .line > 0)' \
		'.[] | select(.type == "leak") | .stack' || return 1
	rm -rf "$dir"
}

STACKS_TESTS=(native_inline native_debuglink native_buildid native_deleted native_debuglink_fifo)
