# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# leakwatch integration tests for processes whose files live in another
# mount namespace (issue 11), sourced by run.sh (which provides the helpers:
# spawn, start_lw, jq_expect, fail, ...) after leak_tests.sh (wait_record,
# stop_lw), stacks_tests.sh (marker_line) and go_tests.sh (gf_leak_verdicts).
#
# Fixtures: query (-O2 -g, chan_send inlined into query) and query-debuglink
# (its DWARF in query-debuglink.debug beside it), tests/fixtures/query.c;
# gofix (Go 1.26, plain), tests/fixtures/go; Debian's python3.11 running
# tests/fixtures/py/leak.py.  Each is copied with the libraries ldd names
# into a root of its own, at /opt/lwtest/NAME:
#
#   nsroot_chroot    a tmpfs mounted inside unshare --mount --pid --fork, then
#                    chroot into it: /proc/PID/maps names the binary from the
#                    namespace's root (ROOTDIR/opt/lwtest/query), a path that
#                    is neither the host's nor one under /proc/PID/root; with
#                    query-debuglink and query-buildid, whose DWARF is in that
#                    root only
#   nsroot_pivot     the same with pivot_root, the old root unmounted: the
#                    process sees nothing of the host
#   nsroot_covered   a plain mount namespace (unshare --mount), the binary at
#                    a host path; once it runs, another ELF is bind-mounted
#                    over that path inside the namespace: its name there is
#                    another file, the host's name the file mapped
#   nsroot_fifo      the same, a FIFO mounted over the name
#   nsroot_go        gofix queryall in a chroot'd tmpfs inside unshare -m -p -f:
#                    its goroutines read and named as go_tests.sh expects
#   nsroot_go_spin   gofix spin --lock-thread there: the spin record has the
#                    goroutine (its m.procid is the namespace's tid)
#   nsroot_python    python3.11 there (its stdlib and leak.py bound in): the
#                    leak's Python frames (thread states hold the namespace's
#                    tids)
#
# Each is watched by two leakwatch -p HOSTPID at once: one as root, one with
# the capabilities of contrib/leakwatch.service (an unprivileged user with
# CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH, CAP_SYSLOG: no
# CAP_SYS_ADMIN, so /proc/PID/map_files is closed to it, which the test
# checks).  So each way a mapped file is opened is taken: map_files (root),
# /proc/PID/root + the name inside the root (chroot, pivot_root), the name
# itself (covered: the name inside is another file, which must be refused;
# fifo: a FIFO, which must be refused without blocking).  Both runs must flag
# the leak with the fixture's functions and file:line, and read every stack
# (summary stacks_unreadable 0).  Each test first checks that the namespace
# is really private: the host cannot open the binary by its mapped path (or,
# covered, that path is another file inside).

NSROOT_DIRS=() # host directories this run made (mount points in private namespaces)
NSROOT_CAPS=bpf,+perfmon,+sys_ptrace,+dac_read_search,+syslog
# Long enough for the chroot test's second fixture, watched after the first:
# it leaks from SIGUSR1 on, and every test kills its fixtures at its end.
NSROOT_QUERY_ARGS=(--every 700 --start-after 150000 --exit-after 180)

# nsroot_cleanup: the directories (run.sh's exit trap calls it too, after
# kill_all ended the namespaces, whose mounts went with them).
nsroot_cleanup() {
	local d
	for d in "${NSROOT_DIRS[@]}"; do
		umount -l "$d" 2>/dev/null # only if a mount leaked into ours
		rm -rf "$d"
	done
	NSROOT_DIRS=()
}

# The script run as pid 1 of the new namespaces:
#   nsroot-setup KIND ROOT BIN... -- ARGS...
# mounts a tmpfs on ROOT (private: unshare's default propagation), copies
# each BIN (and BIN.debug beside it), the libraries ldd names, and umount
# with its own (pivot: to drop the old root) into it, then runs each BIN ARGS from
# /opt/lwtest in the new root (KIND chroot or pivot) and waits for them.
# NSROOT_BIND: host directories bound at their own path in the root (a
# Python's standard library); NSROOT_BUILDID_DEBUG: debug files installed
# in the root's /usr/lib/debug/.build-id.
nsroot_write_setup() {
	cat >"$TMP/nsroot-setup" <<'EOF'
set -eu
kind=$1 root=$2
shift 2
bins=()
while [[ $1 != -- ]]; do bins+=("$1"); shift; done
shift
copy_libs() {
	local l
	for l in $(ldd "$1" 2>/dev/null | grep -o '/[^ ]*'); do
		mkdir -p "$root$(dirname "$l")"
		cp -L "$l" "$root$l"
	done
}
mount -t tmpfs -o size=256m,mode=755 lwtest-nsroot "$root"
mkdir -p "$root/opt/lwtest" "$root/tmp"
chmod 1777 "$root/tmp"
for b in "${bins[@]}"; do
	cp "$b" "$root/opt/lwtest/"
	if [[ -f $b.debug ]]; then cp "$b.debug" "$root/opt/lwtest/"; fi
	copy_libs "$b"
done
for f in ${NSROOT_BUILDID_DEBUG:-}; do
	id=$(readelf -n "$f" | awk '/Build ID:/ { print $3; exit }')
	mkdir -p "$root/usr/lib/debug/.build-id/${id:0:2}"
	cp "$f" "$root/usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug"
done
for d in ${NSROOT_BIND:-}; do
	mkdir -p "$root$d"
	mount --bind "$d" "$root$d"
done
if [[ $kind == chroot ]]; then
	for b in "${bins[@]}"; do chroot "$root" "/opt/lwtest/${b##*/}" "$@" & done
else
	mkdir -p "$root/usr/bin" "$root/.oldroot"
	cp /usr/bin/umount "$root/usr/bin/"
	copy_libs /usr/bin/umount
	# umount reads /proc/self/mountinfo: a proc of this pid namespace
	# until the old root is gone, then none.
	mkdir -p "$root/proc"
	mount -t proc proc "$root/proc"
	cd "$root"
	pivot_root . .oldroot
	cd /
	PATH=/usr/bin
	umount -l /.oldroot
	umount /proc
	for b in "${bins[@]}"; do "/opt/lwtest/${b##*/}" "$@" & done
fi
wait
EOF
}

# nsroot_start TAG KIND BIN... -- ARGS...: the fixtures BIN ARGS in a new
# root (KIND chroot or pivot) inside unshare --mount --pid --fork; waits
# (20s) until each runs.  Sets NS_ROOT (the host directory the tmpfs is
# mounted on, empty on the host), NS_PIDS[NAME] (host pid of each).
declare -A NS_PIDS
nsroot_start() {
	local tag=$1 kind=$2 init="" name c i n_bins=0 a
	shift 2
	for a in "$@"; do
		[[ $a == -- ]] && break
		n_bins=$((n_bins + 1))
	done
	NS_PIDS=()
	[[ -f $TMP/nsroot-setup ]] || nsroot_write_setup
	NS_ROOT=$(mktemp -d "$TMP/nsroot-$tag.XXXXXX")
	NSROOT_DIRS+=("$NS_ROOT")
	spawn "fx-$tag" unshare --mount --pid --fork bash "$TMP/nsroot-setup" "$kind" "$NS_ROOT" "$@"
	FX_OUT=$TMP/fx-$tag.out
	for ((i = 0; i < 200; i++)); do
		init=$(cat "/proc/$SPAWNED/task/$SPAWNED/children" 2>/dev/null)
		if [[ $init ]]; then
			for c in $(cat "/proc/${init// /}/task/${init// /}/children" 2>/dev/null); do
				# By its exe: query names itself "query" in every variant.
				name=$(basename "$(readlink "/proc/$c/exe" 2>/dev/null)")
				for a in "${@:1:n_bins}"; do
					[[ $name == "$(basename "$a")" ]] && NS_PIDS[$name]=$c
				done
			done
		fi
		((${#NS_PIDS[@]} == n_bins)) && (($(grep -c '^pid ' "$FX_OUT") >= n_bins)) && break
		is_running "$SPAWNED" || break
		sleep 0.1
	done
	((${#NS_PIDS[@]} == n_bins)) || fail "$tag: the fixtures did not start in their namespace" \
		"pids: ${NS_PIDS[*]}" "$(head -c 500 "$TMP/fx-$tag.err")" || return 1
}

# nsroot_not_on_host PID PATH: the host cannot open the file PID maps at
# PATH by that name: nothing there, or another file (device and inode of
# the mapping, from /proc/PID/maps, against stat's).
nsroot_not_on_host() {
	local pid=$1 path=$2 dev ino maj min host
	read -r dev ino < <(awk -v p="$path" '$6 == p { print $4, $5; exit }' "/proc/$pid/maps")
	[[ $dev == *:* && $ino ]] || fail "no mapping of $path in /proc/$pid/maps" || return 1
	maj=$((16#${dev%:*})) min=$((16#${dev#*:}))
	host=$(stat -L -c '%D %i' "$path" 2>/dev/null) || return 0
	[[ $host != "$(printf '%x' $(((maj << 8) | (min & 255) | ((min >> 8) << 20)))) $ino" ]] ||
		fail "the host opens $path, the very file pid $pid maps: the root is not private"
}

# nsroot_private PID NAME: the host cannot open the binary NAME by the path
# pid's maps give (nothing there), nor its libc (nothing, or another file);
# its pid is another inside (NSpid).
nsroot_private() {
	local pid=$1 name=$2 bin libc
	bin=$(awk -v n="/$name" '$6 != "" && substr($6, length($6) - length(n) + 1) == n { print $6; exit }' \
		"/proc/$pid/maps")
	libc=$(awk '$6 ~ /\/libc\.so\.6$/ { print $6; exit }' "/proc/$pid/maps")
	[[ $bin && $libc ]] || fail "no $name or libc.so.6 in /proc/$pid/maps" \
		"$(head -5 "/proc/$pid/maps")" || return 1
	if [[ -e $bin ]] || head -c 1 "$bin" >/dev/null 2>&1; then
		fail "the host opens $bin (pid $pid's mapped path): the root is not private"
		return 1
	fi
	nsroot_not_on_host "$pid" "$libc" || return 1
	awk '$1 == "NSpid:" { exit !(NF == 3 && $2 != $3) }' "/proc/$pid/status" ||
		fail "pid $pid is in no pid namespace of its own" "$(grep NSpid "/proc/$pid/status")"
}

# nsroot_unit_lw: $TMP/lw-unit, leakwatch with contrib/leakwatch.service's
# capabilities (nobody, five capabilities, CAP_SYS_ADMIN not among them).
nsroot_unit_lw() {
	cat >"$TMP/lw-unit" <<EOF
#!/bin/sh
exec setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all,+$NSROOT_CAPS \\
	--ambient-caps=-all,+$NSROOT_CAPS --bounding-set=-all,+$NSROOT_CAPS -- "$LW" "\$@"
EOF
	chmod 755 "$TMP/lw-unit"
}

# nsroot_no_map_files PID: the unit's capabilities cannot open pid's
# /proc/PID/map_files (so its run takes the other ways).
nsroot_no_map_files() {
	local e
	e=$(ls "/proc/$1/map_files" | head -1)
	[[ $e ]] || fail "no /proc/$1/map_files entries" || return 1
	"$TMP/lw-unit" -h >/dev/null 2>&1 || fail "leakwatch does not run with the unit's capabilities" || return 1
	if setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all,+$NSROOT_CAPS \
		--ambient-caps=-all,+$NSROOT_CAPS --bounding-set=-all,+$NSROOT_CAPS -- \
		head -c 1 "/proc/$1/map_files/$e" >/dev/null 2>&1; then
		fail "the unit's capabilities open /proc/$1/map_files/$e: the fallbacks would go untested"
		return 1
	fi
}

# nsroot_watch NAME PID: two leakwatch -p PID at once (as root: NAME-root;
# with the unit's capabilities: NAME-unit), each stopped once it flagged
# PID's leak (LEAK_BOUND + 5 s at most).  Sets NS_OUT[root], NS_OUT[unit].
declare -A NS_OUT
nsroot_watch() {
	local name=$1 pid=$2 how
	declare -A lw_pid lw_err lw_t0 lw_args
	nsroot_unit_lw
	nsroot_no_map_files "$pid" || return 1
	for how in root unit; do
		if [[ $how == unit ]]; then
			LW=$TMP/lw-unit start_lw "$name-$how" -p "$pid" -t 2s -i 1s \
				-d $((LEAK_BOUND + 10))s -j || return 1
		else
			start_lw "$name-$how" -p "$pid" -t 2s -i 1s -d $((LEAK_BOUND + 10))s -j || return 1
		fi
		lw_pid[$how]=$LW_PID NS_OUT[$how]=$OUT lw_err[$how]=$ERR lw_t0[$how]=$T0
		lw_args[$how]=$LW_ARGS
	done
	[[ ${NSROOT_NO_USR1:-} ]] || kill -USR1 "$pid" # the fixture leaks from now on
	FX_PID=$pid
	for how in root unit; do
		LW_PID=${lw_pid[$how]} OUT=${NS_OUT[$how]} ERR=${lw_err[$how]} T0=${lw_t0[$how]}
		LW_ARGS=${lw_args[$how]}
		wait_record '.type == "leak" and .pid == $pid' $((LEAK_BOUND + 5))
		stop_lw || return 1
		expect_rc 0 || return 1
	done
}

# nsroot_native_checks BIN: each run of nsroot_watch flagged FX_PID's leak
# in BIN at chan_send (query.c:L) inlined into query, libc's frames with
# their lines, and read every stack.
nsroot_native_checks() {
	local bin=$1 how wait_line call_line
	wait_line=$(marker_line wait)
	call_line=$(marker_line call)
	[[ $wait_line && $call_line ]] || fail "no LW-LINE markers in query.c" || return 1
	for how in root unit; do
		OUT=${NS_OUT[$how]}
		jq_expect "$how: a leak record for pid $FX_PID, wait futex" \
			'any(.[]; .type == "leak" and .pid == $pid and .wait == "futex")' \
			'.[] | select(.type == "leak" or .type == "summary") | del(.kstack, .kframes)' ||
			return 1
		jq_expect "$how: leak stack \"chan_send+0x.. (...query.c:$wait_line)\" then \"query+0x.. (...query.c:$call_line)\", frames of module $bin" \
			"first(.[] | select(.type == \"leak\" and .pid == \$pid)) as \$l
			| (\$l.stack | (map(test(\"^chan_send\\\\+0x[0-9a-f]+ \\\\(.*query\\\\.c:$wait_line\\\\)\$\"))
				| index(true)) as \$c
				| \$c != null and (.[\$c + 1] | test(\"^query\\\\+0x[0-9a-f]+ \\\\(.*query\\\\.c:$call_line\\\\)\$\")))
			and any(\$l.frames[]; .func == \"chan_send\" and .module == \"$bin\" and .inlined)
			and any(\$l.frames[]; .func == \"pthread_cond_wait\" and .module == \"libc.so.6\"
				and (.file | endswith(\"pthread_cond_wait.c\")) and .line > 0)" \
			'first(.[] | select(.type == "leak")) | .stack' || return 1
		jq_expect "$how: every stack read (summary stacks_unreadable 0)" \
			'last | .type == "summary" and .stacks_unreadable == 0' 'last' || return 1
	done
}

# (a) the issue's scenario: chroot into a tmpfs inside unshare -m -p -f;
# query-debuglink beside it and query-buildid, their DWARF found in that
# root only (beside the binary; in its /usr/lib/debug/.build-id).
test_nsroot_chroot() {
	local pid id bin bins=(query query-debuglink query-buildid)
	id=$(readelf -n "$BUILD/fixtures/query-buildid" | awk '/Build ID:/ { print $3; exit }')
	[[ ${#id} -gt 4 ]] || fail "no build-id in query-buildid" || return 1
	[[ ! -e /usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug ]] ||
		fail "query-buildid's debuginfo is installed on the host: the test would not test" ||
		return 1
	NSROOT_BUILDID_DEBUG=$BUILD/fixtures/split/query-buildid.debug \
		nsroot_start nsroot_chroot chroot "${bins[@]/#/$BUILD/fixtures/}" \
		-- "${NSROOT_QUERY_ARGS[@]}" || return 1
	for bin in "${bins[@]}"; do
		pid=${NS_PIDS[$bin]}
		nsroot_private "$pid" "$bin" || return 1
		[[ $(readlink "/proc/$pid/root") == "$NS_ROOT" ]] ||
			fail "$bin's root is $(readlink "/proc/$pid/root"), not the chroot $NS_ROOT" || return 1
	done
	[[ ! -e $NS_ROOT/opt/lwtest/query-debuglink.debug && ! -e /opt/lwtest &&
		! -e $NS_ROOT/usr/lib/debug ]] ||
		fail "the debuginfo is visible from the host" || return 1
	for bin in "${bins[@]}"; do
		nsroot_watch "nsroot_chroot-$bin" "${NS_PIDS[$bin]}" || return 1
		nsroot_native_checks "$bin" || return 1
	done
}

# (b) pivot_root into the tmpfs, the old root unmounted.
test_nsroot_pivot() {
	local pid
	nsroot_start nsroot_pivot pivot "$BUILD/fixtures/query" -- "${NSROOT_QUERY_ARGS[@]}" || return 1
	pid=${NS_PIDS[query]}
	nsroot_private "$pid" query || return 1
	(($(wc -l <"/proc/$pid/mountinfo") == 1)) ||
		fail "pid $pid sees more than its root: the old root is still mounted" \
		"$(cat "/proc/$pid/mountinfo")" || return 1
	nsroot_watch nsroot_pivot "$pid" || return 1
	nsroot_native_checks query
}

# covered_case NAME COVER: query runs in unshare --mount from a host
# directory; COVER (a command given the path) puts something else at that
# path inside its namespace.
nsroot_covered_case() {
	local name=$1 cover=$2 dir bin pid ino_in ino_mapped
	dir=$(mktemp -d "$TMP/nsroot-$name.XXXXXX")
	NSROOT_DIRS+=("$dir")
	bin=$dir/query
	cp "$BUILD/fixtures/query" "$bin" || fail "cannot copy query to $dir" || return 1
	start_fx "$name" unshare --mount "$bin" "${NSROOT_QUERY_ARGS[@]}" || return 1
	pid=$FX_PID
	"$cover" "$pid" "$bin" || fail "cannot cover $bin inside pid $pid's namespace" || return 1
	ino_mapped=$(awk -v b="$bin" '$6 == b { print $5; exit }' "/proc/$pid/maps")
	ino_in=$(nsenter -t "$pid" -m stat -L -c %i "$bin")
	[[ $ino_mapped && $ino_in && $ino_in != "$ino_mapped" ]] ||
		fail "$bin is the same file inside pid $pid's namespace (inode $ino_in, mapped $ino_mapped)" ||
		return 1
	[[ $(stat -c %i "$bin") == "$ino_mapped" ]] ||
		fail "the host's $bin is not the file mapped" || return 1
	nsroot_watch "$name" "$pid" || return 1
	nsroot_native_checks query
}

# (nsenter -m starts in the namespace's root: absolute paths only.)
nsroot_cover_elf() { nsenter -t "$1" -m mount --bind "$(realpath "$BUILD/fixtures/blocker")" "$2"; }
nsroot_cover_fifo() {
	mkfifo "$TMP/nsroot-fifo-$1" && nsenter -t "$1" -m mount --bind "$TMP/nsroot-fifo-$1" "$2" &&
		nsenter -t "$1" -m test -p "$2"
}

# (c) a plain mount namespace: another ELF over the binary's path inside.
test_nsroot_covered() { nsroot_covered_case nsroot_covered nsroot_cover_elf; }

# (c') the same with a FIFO over it: never opened, never blocked on.
test_nsroot_fifo() {
	nsroot_covered_case nsroot_fifo nsroot_cover_fifo
	local rc=$?
	rm -f "$TMP"/nsroot-fifo-*
	return $rc
}

# (d) a Go binary chroot'd into a tmpfs inside unshare -m -p -f: its
# goroutines read, the leak found with its Go function and file:line.
test_nsroot_go() {
	local tag=1.26-plain-queryall pid how missing t_start bin
	gf_check_built || return 1
	nsroot_start nsroot_go chroot "$(gf_bin 1.26 plain)" -- queryall --rate 2 --start-after 100s \
		--exit-after 120s --pprof /tmp/gf.pprof || return 1
	pid=${NS_PIDS[gofix]}
	wait_fixture_line ready 60 || return 1
	# A static binary: no libc to check; the binary alone.
	awk -v n=/gofix '$6 != "" && substr($6, length($6) - 5) == n { print $6; exit }' \
		"/proc/$pid/maps" >"$TMP/nsroot-go-path"
	bin=$(cat "$TMP/nsroot-go-path")
	[[ $bin == "$NS_ROOT/opt/lwtest/gofix" ]] || fail "gofix mapped as '$bin'" || return 1
	[[ ! -e $bin ]] || fail "the host sees $bin: the root is not private" || return 1
	GF_PID[$tag]=$pid
	t_start=$(now)
	nsroot_watch nsroot_go "$pid" || return 1
	for how in root unit; do
		missing=$(gf_leak_verdicts "${NS_OUT[$how]}" "$t_start" "$tag")
		[[ -z $missing ]] || fail "$how: gofix in its chroot not flagged as the Go tests expect" \
			"$missing" || return 1
		OUT=${NS_OUT[$how]} jq_expect "$how: goroutines read (summary gs_unread 0, stacks_unreadable 0)" \
			'last | .type == "summary" and .stacks_unreadable == 0 and .gs_unread == 0' 'last' ||
			return 1
	done
}

# (d') a goroutine spinning, locked to its thread, in the same kind of root:
# the spin record names it (goid: its m.procid is the namespace's tid, not
# the host's) with its Go stack.
test_nsroot_go_spin() {
	local tag=1.26-plain-spin pid how body_from lw_pids=() lw_outs=() i
	gf_check_built || return 1
	nsroot_start nsroot_go_spin chroot "$(gf_bin 1.26 plain)" -- spin --lock-thread \
		--exit-after 60s --pprof /tmp/gf.pprof || return 1
	pid=${NS_PIDS[gofix]}
	wait_fixture_line ready 60 || return 1
	nsroot_unit_lw
	for how in root unit; do
		if [[ $how == unit ]]; then
			LW=$TMP/lw-unit start_lw "nsroot_go_spin-$how" -p "$pid" -t 2s -i 500ms -d 15s -j ||
				return 1
		else
			start_lw "nsroot_go_spin-$how" -p "$pid" -t 2s -i 500ms -d 15s -j || return 1
		fi
		lw_pids+=("$LW_PID") lw_outs+=("$OUT")
	done
	body_from=$(gf_line spin.go 'func spinForever()')
	FX_PID=$pid
	for i in 0 1; do
		LW_PID=${lw_pids[$i]} OUT=${lw_outs[$i]} LW_ARGS="-j"
		wait_lw 40 || return 1
		expect_rc 0 || return 1
		CULPRITS=$(jq -n -c --argjson from "$body_from" --argjson to $((body_from + 4)) \
			'[range($from; $to) | {func: "main.spinForever", file: "spin.go", line: .}]')
		gf_jq "run $i: a spin record with goid, its stack in main.spinForever (spin.go:$body_from-)" "$OUT" \
			'[.[] | select(.type == "spin" and .pid == $pid)]
			| length >= 1 and all(.goid | type == "number")
			  and all(. as $s | any($c[]; . as $x | $s | in_stack($x)))' \
			'.[] | select(.type == "spin" and .pid == $pid)' || return 1
	done
}

# (e) Debian's python3.11 (libpython in the binary) copied into a chroot'd
# tmpfs inside unshare -m -p -f, its standard library and leak.py bound in:
# the interpreter found in the root, the leak's Python frames read.
test_nsroot_python() {
	local pid how
	[[ -x /usr/bin/python3.11 ]] || fail "/usr/bin/python3.11 is missing: run 'make deps'" || return 1
	NSROOT_BIND="/usr/lib/python3.11 $(dirname "$PY_FIXTURE")" PYTHONHOME=/usr \
		nsroot_start nsroot_python chroot /usr/bin/python3.11 -- "$PY_FIXTURE" --every 700 \
		--max 60 --exit-after 150 || return 1
	pid=${NS_PIDS[python3.11]}
	wait_fixture_line ready 30 || return 1
	nsroot_private "$pid" python3.11 || return 1
	# Python dies of SIGUSR1: it leaks from its start.
	NSROOT_NO_USR1=1 nsroot_watch nsroot_python "$pid" || return 1
	for how in root unit; do
		OUT=${NS_OUT[$how]}
		jq_expect "$how: a python record for pid $pid, 3.11" \
			'any(.[]; .type == "python" and .pid == $pid and (.version | startswith("3.11")))' \
			'.[] | select(.type == "python")' || return 1
		jq_expect "$how: a leak at handle (leak.py:N), its Python frames handle then Thread.run, native frames around them" \
			'first(.[] | select(.type == "leak" and .pid == $pid)) as $l
			| ($l.where | test("^handle \\(leak\\.py:[0-9]+\\)$"))
			and ([$l.frames[] | select(.kind == "python") | .func] | index(["handle"]) != null
				and index(["Thread.run"]) != null)
			and ($l.frames[0].kind == "native" and ($l.frames[0].func // "" | length > 0))' \
			'first(.[] | select(.type == "leak")) | .stack' || return 1
		jq_expect "$how: every stack read (summary stacks_unreadable 0, python_stacks_unreadable 0)" \
			'last | .type == "summary" and .stacks_unreadable == 0 and .python_stacks_unreadable == 0' \
			'last' || return 1
	done
}

NSROOT_TESTS=(nsroot_chroot nsroot_pivot nsroot_covered nsroot_fifo nsroot_go nsroot_go_spin nsroot_python)
