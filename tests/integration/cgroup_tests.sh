# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2016 # jq variables ($pid)
#
# leakwatch integration tests for containers and services (issue 11): the
# cgroup of a process on its records (JSON, metrics, text), and --cgroup
# PATH, the kernel-side filter.  Cgroups are made under the cgroup2 mount
# (found in /proc/self/mountinfo), named leakwatch-test-$$-..., fixtures
# moved in (the shell writes its pid to cgroup.procs, then execs), and
# removed at the end of each test (and on exit).  Sourced by run.sh, which
# provides the helpers (spawn, start_lw, wait_lw, jq_expect, fail, ...);
# the helpers here start with cg_.

CG_ID=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
CG_ID2=fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210
CG_UID=1a2b3c4d-0000-4111-8222-abcdefabcdef
CG_DIRS=() # cgroup directories made by the running test, parents first

# cg_mount: the cgroup2 mount point.
cg_mount() {
	awk '{ for (i = 7; i < NF; i++) if ($i == "-") break; if ($(i + 1) == "cgroup2" && $4 == "/") { print $5; exit } }' \
		/proc/self/mountinfo
}

# cg_make REL...: make the cgroups REL (v2 paths below the mount, parents
# included), remembered for cg_remove.
cg_make() {
	local m rel d p
	m=$(cg_mount)
	[[ $m ]] || { fail "no cgroup2 mount in /proc/self/mountinfo"; return 1; }
	for rel in "$@"; do
		p=""
		for d in ${rel//\// }; do
			p=$p/$d
			[[ -d $m$p ]] && continue
			mkdir "$m$p" || { fail "cannot make cgroup $m$p"; return 1; }
			CG_DIRS+=("$m$p")
		done
	done
}

# cg_remove: kill what runs in the test's cgroups and remove them, children
# first.
cg_remove() {
	local i d j
	for ((i = ${#CG_DIRS[@]} - 1; i >= 0; i--)); do
		d=${CG_DIRS[i]}
		[[ -d $d ]] || continue
		echo 1 >"$d/cgroup.kill" 2>/dev/null
		for ((j = 0; j < 50; j++)); do
			[[ -s $d/cgroup.procs ]] || break
			sleep 0.1
		done
		rmdir "$d" 2>/dev/null
	done
	CG_DIRS=()
}

cgroup_cleanup() { cg_remove; }

# cg_start NAME REL CMD...: start CMD (a fixture path and its arguments) in
# cgroup REL: the shell moves itself there, then execs.  Waits for the
# fixture's "pid" line; sets FX_PID, FX_OUT.
cg_start() {
	local name=$1 rel=$2 m
	shift 2
	m=$(cg_mount)
	: >"$TMP/fx-$name.out"
	spawn "fx-$name" sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$m$rel" "$@"
	fixture_pid_line "$name"
	[[ $FX_PID == "$SPAWNED" ]] || fail "fixture $name did not start in $rel" \
		"$(head -c 500 "$TMP/fx-$name.err")" || return 1
	grep -qx "0::$rel" "/proc/$FX_PID/cgroup" ||
		fail "fixture $name is not in $rel" "$(cat "/proc/$FX_PID/cgroup")"
}

# cg_wait_stuck PIDS SECS: wait until the JSON run ($OUT) has a stuck
# record of each pid.
cg_wait_stuck() {
	local pids=$1 secs=$2 i p ok
	for ((i = 0; i < secs * 4; i++)); do
		ok=1
		for p in $pids; do
			grep -q "\"type\":\"stuck\",[^}]*\"pid\":$p," "$OUT" || ok=0
		done
		((ok)) && return 0
		is_running "$LW_PID" || break
		sleep 0.25
	done
	fail "no stuck record for each of $pids after ${secs}s" "$(grep -c stuck "$OUT") stuck records"
}

# 1. The labels: a fixture in a cgroup named like a docker scope, one in a
# kubepods/cri-containerd path, one in a .service.  Its records (JSON),
# its per-process metric series and its text lines say so.
cg_labels() {
	local base=leakwatch-test-$$-labels docker kube svc d_pid k_pid s_pid port page
	docker=/$base/system.slice/docker-$CG_ID.scope
	kube=/$base/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${CG_UID//-/_}.slice/cri-containerd-$CG_ID2.scope
	svc=/$base/system.slice/lwtest.service
	cg_make "$docker" "$kube" "$svc" || return 1
	cg_start docker "$docker" "$BLOCKER" pipe --threads 2 --exit-after "$FX_SAFETY" || return 1
	d_pid=$FX_PID
	cg_start kube "$kube" "$BLOCKER" pipe --threads 2 --exit-after "$FX_SAFETY" || return 1
	k_pid=$FX_PID
	cg_start svc "$svc" "$BLOCKER" pipe --threads 2 --exit-after "$FX_SAFETY" || return 1
	s_pid=$FX_PID
	port=$(ot_free_port) || return 1
	start_lw labels -t 1s -i 500ms --metrics "127.0.0.1:$port" -d 40s -j || return 1
	cg_wait_stuck "$d_pid $k_pid $s_pid" 20 || return 1
	# a scan later, the samples of the three are out (and the metrics)
	sleep 1
	page=$TMP/cg-labels.page
	ot_get_page "$port" "$page" || fail "GET /metrics failed" || return 1
	cp "$page" "$TMP/cg-labels-metrics.txt"
	kill -INT "$LW_PID"
	wait_lw 20 || return 1
	expect_rc 0 || return 1

	FX_PID=$d_pid jq_expect "docker: every record of it has cgroup $docker, container, runtime docker, no pod, no unit" \
		"[.[] | select(.pid == \$pid)] | length > 0 and all(.cgroup == \"$docker\"
			and .container == \"$CG_ID\" and .runtime == \"docker\" and .pod == null
			and .unit == null)" '.[] | select(.pid == $pid) | del(.stack, .frames, .kstack, .kframes)' || return 1
	FX_PID=$k_pid jq_expect "kubepods: container (containerd) and the pod UID with dashes" \
		"[.[] | select(.pid == \$pid)] | length > 0 and all(.cgroup == \"$kube\"
			and .container == \"$CG_ID2\" and .runtime == \"containerd\" and .pod == \"$CG_UID\"
			and .unit == null)" '.[] | select(.pid == $pid) | del(.stack, .frames, .kstack, .kframes)' || return 1
	FX_PID=$s_pid jq_expect "service: unit lwtest.service, no container" \
		"[.[] | select(.pid == \$pid)] | length > 0 and all(.cgroup == \"$svc\"
			and .unit == \"lwtest.service\" and .container == null and .runtime == null)" \
		'.[] | select(.pid == $pid) | del(.stack, .frames, .kstack, .kframes)' || return 1
	FX_PID=$d_pid jq_expect "docker: stuck, site and sample records among them" \
		'[.[] | select(.pid == $pid) | .type] | (index("stuck") and index("site") and index("sample")) != null' \
		'[.[] | select(.pid == $pid) | .type] | unique' || return 1

	# every series with the pid label carries the cgroup labels
	grep -q "^leakwatch_stuck_threads{pid=\"$d_pid\",comm=\"blocker\",cgroup=\"$docker\",container=\"$CG_ID\"} 2$" "$page" ||
		fail "no leakwatch_stuck_threads series of the docker fixture with its labels" \
			"$(grep "pid=\"$d_pid\"" "$page")" || return 1
	grep -q "^leakwatch_threads{pid=\"$k_pid\",comm=\"blocker\",cgroup=\"$kube\",container=\"$CG_ID2\",pod=\"$CG_UID\"} 3$" "$page" ||
		fail "no leakwatch_threads series of the kubepods fixture with its labels" \
			"$(grep "pid=\"$k_pid\"" "$page")" || return 1
	grep -q "^leakwatch_blocked_threads{pid=\"$s_pid\",comm=\"blocker\",cgroup=\"$svc\",unit=\"lwtest.service\"} [0-9]" "$page" ||
		fail "no leakwatch_blocked_threads series of the service fixture with its labels" \
			"$(grep "pid=\"$s_pid\"" "$page")" || return 1
	for p in $d_pid $k_pid $s_pid; do
		! grep "pid=\"$p\"" "$page" | grep -vq 'cgroup="' ||
			fail "a series of pid $p without its cgroup label" "$(grep "pid=\"$p\"" "$page")" || return 1
	done
	if command -v promtool >/dev/null; then
		promtool check metrics <"$page" >"$TMP/cg-promtool.out" 2>&1 ||
			fail "promtool check metrics rejects the page" "$(head -5 "$TMP/cg-promtool.out")" || return 1
	fi

	# the text view's lines (line mode: stdout is no terminal)
	start_lw labels-text -t 1s -i 500ms -d 4s || return 1
	wait_lw 30 || return 1
	expect_rc 0 || return 1
	grep -Eq "STUCK +pid $d_pid \(blocker\) \[docker ${CG_ID:0:12}\] tid " "$OUT" ||
		fail "no STUCK line of the docker fixture with [docker ${CG_ID:0:12}]" \
			"$(grep "pid $d_pid" "$OUT" | head -3)" || return 1
	grep -Eq "SAMPLE +pid $k_pid \(blocker\) \[containerd ${CG_ID2:0:12}\] threads 3" "$OUT" ||
		fail "no SAMPLE line of the kubepods fixture with [containerd ${CG_ID2:0:12}]" \
			"$(grep "pid $k_pid" "$OUT" | head -3)" || return 1
	grep -Eq "STUCK +pid $s_pid \(blocker\) \[lwtest.service\] tid " "$OUT" ||
		fail "no STUCK line of the service fixture with [lwtest.service]" \
			"$(grep "pid $s_pid" "$OUT" | head -3)" || return 1
	cp "$OUT" "$TMP/cg-labels-text.txt"
}
test_cgroup_labels() { cg_labels; local rc=$?; kill_all; cg_remove; return $rc; }

# 2. --cgroup host-wide: a leaking fixture inside is flagged, an identical
# one outside is never reported, a child forked inside after the start is
# watched.
cg_filter() {
	local base=leakwatch-test-$$-filter in_pid out_pid child_pid i
	cg_make "/$base/in/app.service" || return 1
	cg_start in "/$base/in/app.service" "$LEAKER" cond --every 700 --start-after 30000 \
		--exit-after "$FX_SAFETY" || return 1
	in_pid=$FX_PID
	start_fixture leaker cond --every 700 --start-after 30000 || return 1
	out_pid=$FX_PID
	# A shell inside that forks blocker (via forker) once told to.
	cg_start forker "/$base/in" sh -c 'echo pid $$; while [ ! -e "$0" ]; do sleep 0.1; done;
		exec "$@"' "$TMP/cg-go" "$BUILD/fixtures/forker" 0 "$BLOCKER" pipe --threads 2 \
		--exit-after "$FX_SAFETY" || return 1
	start_lw filter --cgroup "/$base/in" -t 2s -i 1s -d "$((LEAK_BOUND + 20))s" -j || return 1
	kill -USR1 "$in_pid" "$out_pid"
	touch "$TMP/cg-go"
	for ((i = 0; i < 50; i++)); do
		child_pid=$(awk '$1 == "pid" { n++; if (n == 3) { print $2; exit } }' "$FX_OUT")
		[[ $child_pid ]] && break
		sleep 0.1
	done
	[[ $child_pid ]] || fail "forker's child did not start" "$(cat "$FX_OUT")" || return 1
	FX_PID=$in_pid wait_record '.type == "leak" and .pid == $pid' $((LEAK_BOUND + 5))
	FX_PID=$child_pid wait_record '.type == "stuck" and .pid == $pid' 10
	kill -INT "$LW_PID"
	wait_lw 20 || return 1
	expect_rc 0 || return 1
	FX_PID=$in_pid jq_expect "the leaker inside is flagged, with its cgroup" \
		"any(.[]; .type == \"leak\" and .pid == \$pid and .cgroup == \"/$base/in/app.service\"
			and .unit == \"app.service\")" || return 1
	FX_PID=$out_pid jq_expect "the identical leaker outside is never reported" \
		'all(.[]; .pid != $pid)' '.[] | select(.pid == $pid)' || return 1
	FX_PID=$child_pid jq_expect "the child forked inside after the start is watched" \
		"[.[] | select(.type == \"stuck\" and .pid == \$pid)] | length == 2
			and all(.cgroup == \"/$base/in\")" || return 1
	jq_expect "only processes inside: every record's cgroup is under /$base/in" \
		"all(.[] | select(.pid); .cgroup | startswith(\"/$base/in\"))" \
		'[.[] | select(.pid) | {pid, type, cgroup}] | unique' || return 1
}
test_cgroup_filter() { cg_filter; local rc=$?; kill_all; cg_remove; return $rc; }

# 3. The kernel side filters: with --cgroup the scan reads only the
# cgroup's threads (leakwatch_scanned_threads, what crossed from the
# kernel), and a process moved in later is followed from the next scan.
cg_kernel() {
	local base=leakwatch-test-$$-kernel rel m port page got want in_pid late_pid
	rel=/$base/box
	cg_make "$rel" || return 1
	m=$(cg_mount)
	cg_start box "$rel" "$BLOCKER" pipe --threads 3 --exit-after "$FX_SAFETY" || return 1
	in_pid=$FX_PID
	fixture_tids 3 >/dev/null
	start_fixture blocker pipe --threads 2 || return 1
	late_pid=$FX_PID
	fixture_tids 2 >/dev/null
	port=$(ot_free_port) || return 1
	# its directory this time, not the v2 path
	start_lw kernel --cgroup "$m$rel" -t 1s -i 500ms --metrics "127.0.0.1:$port" -d 40s -j || return 1
	want=$(cat "$m$rel/cgroup.threads" | wc -l)
	[[ $want == 4 ]] || fail "the box cgroup has $want threads, expected 4" || return 1
	page=$TMP/cg-kernel.page
	for ((i = 0; i < 40; i++)); do
		ot_get_page "$port" "$page" && got=$(awk '$1 == "leakwatch_scanned_threads" { print $2 }' "$page")
		[[ $got == 4 ]] && break
		sleep 0.25
	done
	[[ $got == 4 ]] || fail "leakwatch_scanned_threads is '$got' with --cgroup, want 4 (the cgroup's threads)" \
		"$(grep scanned "$page")" || return 1
	FX_PID=$in_pid
	cg_wait_stuck "$in_pid" 20 || return 1
	grep -q "\"pid\":$late_pid," "$OUT" && { fail "the process outside was reported before it moved in"; return 1; }
	echo "$late_pid" >"$m$rel/cgroup.procs" || fail "cannot move $late_pid into $rel" || return 1
	cg_wait_stuck "$late_pid" 20 || return 1
	for ((i = 0; i < 40; i++)); do
		ot_get_page "$port" "$page" && got=$(awk '$1 == "leakwatch_scanned_threads" { print $2 }' "$page")
		[[ $got == 7 ]] && break
		sleep 0.25
	done
	[[ $got == 7 ]] || fail "leakwatch_scanned_threads is '$got' after the move, want 7" || return 1
	cp "$page" "$TMP/cg-kernel-metrics.txt"
	kill -INT "$LW_PID"
	wait_lw 20 || return 1
	expect_rc 0 || return 1
	FX_PID=$late_pid jq_expect "the process moved in: stuck, with the new cgroup" \
		"[.[] | select(.type == \"stuck\" and .pid == \$pid)] | length == 2
			and all(.cgroup == \"$rel\")" || return 1
}
test_cgroup_kernel() { cg_kernel; local rc=$?; kill_all; cg_remove; return $rc; }

# 4. Bad --cgroup: one line on stderr, exit 2 (as a -p PID that does not
# exist); with -p or a command: exit 2.
test_cgroup_badinput() {
	local args out err rc m
	m=$(cg_mount)
	for args in "--cgroup /leakwatch-test-$$-none" "--cgroup relative" "--cgroup /a/../.." \
		"--cgroup / -p $$" "--cgroup / -- true" "--cgroup $m/cgroup.procs" "--cgroup"; do
		# shellcheck disable=SC2086 # the words of args
		out=$(timeout 20 "$LW" $args -d 1s 2>"$TMP/cg-try.err")
		rc=$?
		err=$(cat "$TMP/cg-try.err")
		[[ $rc == 2 ]] || fail "leakwatch $args: exit $rc, expected 2" "$err" || return 1
		[[ $(wc -l <<<"$err") == 1 && -n $err ]] ||
			fail "leakwatch $args: stderr has $(wc -l <<<"$err") lines, expected one" "$err" || return 1
		[[ -z $out ]] || fail "leakwatch $args: unexpected stdout" "$out" || return 1
	done
}

# shellcheck disable=SC2034 # run.sh's ALL_TESTS takes them
# The watched cgroup removed and made again at its path (a service
# restarted: systemd makes its cgroup anew, of a new id): the process
# started in the new one is watched.
cg_remade() {
	local base=leakwatch-test-$$-remade m first second
	m=$(cg_mount)
	cg_make "/$base/app.service" || return 1
	cg_start first "/$base/app.service" "$BLOCKER" pipe --threads 1 --exit-after "$FX_SAFETY" || return 1
	first=$FX_PID
	start_lw remade --cgroup "/$base/app.service" -t 1s -i 500ms -d 20s -j || return 1
	FX_PID=$first wait_record '.type == "stuck" and .pid == $pid' 10 ||
		fail "the first process is not seen stuck" || return 1
	{ kill -KILL "$first" && wait "$first"; } 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		[[ -s $m/$base/app.service/cgroup.procs ]] || break
		sleep 0.1
	done
	rmdir "$m/$base/app.service" && mkdir "$m/$base/app.service" ||
		fail "cannot make /$base/app.service again" || return 1
	cg_start second "/$base/app.service" "$BLOCKER" pipe --threads 1 --exit-after "$FX_SAFETY" || return 1
	second=$FX_PID
	FX_PID=$second wait_record '.type == "stuck" and .pid == $pid' 10
	kill -INT "$LW_PID"
	wait_lw 20 || return 1
	expect_rc 0 || return 1
	FX_PID=$second jq_expect "the process of the cgroup made again is watched" \
		'any(.[]; .type == "stuck" and .pid == $pid)' '.[] | select(.type == "sample")' || return 1
	grep -q "made again (id [0-9]*), watched" "$ERR" ||
		fail "no line says the cgroup is watched again" "$(tail -5 "$ERR")"
}
test_cgroup_remade() { cg_remade; local rc=$?; kill_all; cg_remove; return $rc; }

CGROUP_TESTS=(cgroup_labels cgroup_filter cgroup_kernel cgroup_badinput cgroup_remade)
