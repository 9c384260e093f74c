# shellcheck shell=bash
# Helpers for the bench/ scripts; sourced, not run.
#
# Every script: `source lib.sh; bench_setup` (root check, a private work
# directory, an EXIT trap).  Background processes go through bg_track, so
# that the trap ends them, by PID, however the script ends; sysctl changes go
# through set_sysctl, which restores the old value in the same trap.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)
# shellcheck disable=SC2034 # used by the scripts that source this file
CLK_TCK=$(getconf CLK_TCK)

log() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

# The build directory, absolute, with the daemon in it.
resolve_build() {
	local b=${1:-build}
	case $b in /*) ;; *) b=$REPO_DIR/$b ;; esac
	[ -x "$b/leakwatch" ] || die "no $b/leakwatch: run make first"
	echo "$b"
}

BG_PIDS=()
RESTORE=()
bg_track() { BG_PIDS+=("$1"); }
bg_untrack() {
	local i
	for i in "${!BG_PIDS[@]}"; do
		[ "${BG_PIDS[i]}" = "$1" ] && unset "BG_PIDS[i]"
	done
	return 0
}

# mine PID: PID is alive and a child of this shell (not a reused PID).
mine() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	# shellcheck disable=SC2086
	set -- $s
	[ "$1" != Z ] && [ "$2" = "$$" ]
}

bench_cleanup() {
	local rc=$? p i n
	trap - EXIT INT TERM
	# SIGTERM: background jobs of a script ignore SIGINT unless they catch it.
	for p in "${BG_PIDS[@]}"; do
		mine "$p" && kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${BG_PIDS[@]}"; do
		for ((n = 0; n < 50; n++)); do
			mine "$p" || break
			sleep 0.1
		done
		mine "$p" && kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	for ((i = ${#RESTORE[@]} - 1; i >= 0; i--)); do
		eval "${RESTORE[i]}" || true
	done
	if [ -n "${WORK:-}" ] && [ -z "${BENCH_KEEP:-}" ]; then
		rm -rf "$WORK"
	elif [ -n "${WORK:-}" ]; then
		log "kept $WORK"
	fi
	exit "$rc"
}

bench_setup() {
	[ "$(id -u)" -eq 0 ] || die "run as root: the benchmarks load BPF programs and set sysctls"
	for tool in perf jq bpftool taskset; do
		command -v "$tool" >/dev/null || die "$tool is missing: scripts/install-deps.sh installs it"
	done
	WORK=$(mktemp -d /tmp/lw-bench.XXXXXX)
	trap bench_cleanup EXIT
	set -o errtrace
	trap 'log "$(basename "$0"): line $LINENO: \"$BASH_COMMAND\" failed"' ERR
	trap 'exit 130' INT TERM
}

# set_sysctl NAME VALUE: set it now, put the old value back at exit.
set_sysctl() {
	local old
	old=$(sysctl -n "$1")
	[ "$old" = "$2" ] && return 0
	RESTORE+=("sysctl -qw $1=$old")
	sysctl -qw "$1=$2"
}

# wait_for FILE PATTERN PID [TIMEOUT_S]: until FILE has a line matching
# PATTERN; fails when PID dies first or the time is up.
wait_for() {
	local f=$1 pat=$2 pid=$3 t=${4:-30} end
	end=$(($(date +%s) + t))
	until grep -q -- "$pat" "$f" 2>/dev/null; do
		kill -0 "$pid" 2>/dev/null || return 1
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.05
	done
}

# stop_pid PID [TIMEOUT_S] [SIGNAL]: SIGINT (a clean stop: summaries, detach)
# or SIGNAL, then SIGKILL if it is still there after TIMEOUT_S; reaps it.
stop_pid() {
	local pid=$1 t=${2:-20} sig=${3:-INT} n
	mine "$pid" && kill -"$sig" "$pid" 2>/dev/null || true
	for ((n = 0; n < t * 10; n++)); do
		mine "$pid" || break
		sleep 0.1
	done
	mine "$pid" && kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	bg_untrack "$pid"
}

# The floor tracer, built once into BUILD/bench/floor.  In CI the shared/
# directory sits beside the repository: ../shared/bench/floor.
floor_bin() {
	local src=${FLOOR_SRC:-$REPO_DIR/../shared/bench/floor}
	[ -f "$src/build.sh" ] || die "no floor tracer at $src (set FLOOR_SRC)"
	if [ ! -x "$BUILD/bench/floor/floor" ] || [ "$src/floor.bpf.c" -nt "$BUILD/bench/floor/floor" ]; then
		bash "$src/build.sh" "$BUILD/bench/floor" >/dev/null || die "cannot build the floor tracer"
	fi
	echo "$BUILD/bench/floor/floor"
}

# The storm program (bench/storm.c), built into BUILD/bench.
storm_bin() {
	mkdir -p "$BUILD/bench"
	if [ ! -x "$BUILD/bench/storm" ] || [ "$BENCH_DIR/storm.c" -nt "$BUILD/bench/storm" ]; then
		${CC:-gcc} -O2 -Wall -pthread "$BENCH_DIR/storm.c" -o "$BUILD/bench/storm" ||
			die "cannot build bench/storm.c"
	fi
	echo "$BUILD/bench/storm"
}

# The stuck program (bench/stuck.c), built into BUILD/bench as distributions
# build: -O2 -g, no frame pointers (its inlined waits need CFI and DWARF).
stuck_bin() {
	mkdir -p "$BUILD/bench"
	if [ ! -x "$BUILD/bench/stuck" ] || [ "$BENCH_DIR/stuck.c" -nt "$BUILD/bench/stuck" ] ||
		[ "$REPO_DIR/tests/fixtures/fixture.h" -nt "$BUILD/bench/stuck" ]; then
		${CC:-gcc} -O2 -g -fomit-frame-pointer -Wall -pthread "$BENCH_DIR/stuck.c" \
			-o "$BUILD/bench/stuck" || die "cannot build bench/stuck.c"
	fi
	echo "$BUILD/bench/stuck"
}

# lw_at REV: leakwatch built from git revision REV of this repository (its
# tree as committed: git archive, then make build/leakwatch), in
# BUILD/bench/lw-SHA; built once per commit.  Prints the binary's path.
lw_at() {
	local sha dir
	sha=$(git -C "$REPO_DIR" rev-parse --verify --quiet "$1^{commit}") || die "no commit $1 here"
	dir=$BUILD/bench/lw-${sha:0:12}
	if [ ! -x "$dir/build/leakwatch" ]; then
		log "building leakwatch at ${sha:0:12} in $dir"
		rm -rf "$dir"
		mkdir -p "$dir"
		git -C "$REPO_DIR" archive "$sha" | tar -x -C "$dir" || die "cannot extract $sha"
		make -C "$dir" -j"$(nproc)" build/leakwatch >"$dir/make.log" 2>&1 ||
			die "cannot build leakwatch at $sha (see $dir/make.log)"
	fi
	echo "$dir/build/leakwatch"
}

# raise_task_limits N: room for N more threads on the host (pid_max,
# threads-max, a stack and its guard page each in vm.max_map_count), raised
# for the run where short (restored at exit); each change appended to NOTES.
raise_task_limits() {
	local n=$1 tasks_now need maps
	tasks_now=$(awk '{ split($4, a, "/"); print a[2] }' /proc/loadavg) # threads on the host
	need=$((tasks_now + n + 2000))
	if [ "$(sysctl -n kernel.pid_max)" -lt "$need" ]; then
		set_sysctl kernel.pid_max "$need"
		NOTES+=("raised kernel.pid_max to $need for the run")
	fi
	if [ "$(sysctl -n kernel.threads-max)" -lt "$need" ]; then
		set_sysctl kernel.threads-max "$need"
		NOTES+=("raised kernel.threads-max to $need for the run")
	fi
	maps=$((2 * n + 1000))
	if [ "$(sysctl -n vm.max_map_count)" -lt "$maps" ]; then
		set_sysctl vm.max_map_count "$maps"
		NOTES+=("raised vm.max_map_count to $maps for the run")
	fi
	ulimit -u "$(ulimit -H -u)" 2>/dev/null || true
}

# free_port: a TCP port nothing on the host listens on now.
free_port() {
	local p
	for ((p = 20000 + RANDOM % 20000; ; p++)); do
		ss -Hltn "sport = :$p" 2>/dev/null | grep -q . || break
	done
	echo "$p"
}

# The Go benchmark programs (bench/go: park, load, poll), built into
# BUILD/bench/gobench with the machine's Go (GO, default /usr/local/go/bin/go,
# else the go on PATH), standard library only.
gobench_bin() {
	local go=${GO:-/usr/local/go/bin/go} src=$BENCH_DIR/go out=$BUILD/bench/gobench f v
	[ -x "$go" ] || go=$(command -v go) || die "no Go toolchain: set GO"
	v=$(GOTOOLCHAIN=local "$go" env GOVERSION) || die "$go does not run"
	# One binary per Go version: GO=/usr/lib/go-1.19/bin/go measures 1.19's pprof.
	[ "$v" = "$(GOTOOLCHAIN=local /usr/local/go/bin/go env GOVERSION 2>/dev/null)" ] || out=$out-$v
	mkdir -p "$BUILD/bench"
	for f in "$src"/*.go "$src"/go.mod; do
		if [ ! -x "$out" ] || [ "$f" -nt "$out" ]; then
			(cd "$src" && GOTOOLCHAIN=local GOFLAGS=-mod=mod "$go" build -o "$out" .) >&2 ||
				die "cannot build bench/go"
			break
		fi
	done
	echo "$out"
}

# An idle process that nobody watches, for `leakwatch -p`.
start_idle_target() {
	sleep 100000 &
	IDLE_PID=$!
	bg_track "$IDLE_PID"
}

# start_tracer NAME: starts a tracer in the background and returns once it is
# attached; sets TRACER_PID (empty for bare).  Names:
#   bare     nothing
#   floor    the floor tracer (FLOOR)
#   lw       leakwatch host-wide, -j -i 1s, stdout to /dev/null
#   lwp      leakwatch -p IDLE_PID, -j -i 1s, stdout to /dev/null
#   offcpu   bench/offcpu.bt under bpftrace
# Its stdout and stderr go to $WORK/tracer.out and $WORK/tracer.err.
start_tracer() {
	local name=$1 out=$WORK/tracer.out err=$WORK/tracer.err pat file
	: >"$out"
	: >"$err"
	TRACER_PID=
	case $name in
	bare) return 0 ;;
	floor)
		"$FLOOR" >"$out" 2>"$err" &
		pat='floor attached' file=$out
		;;
	lw)
		"$LW" -j -i 1s >/dev/null 2>"$err" &
		pat='leakwatch: watching' file=$err
		;;
	lwp)
		"$LW" -j -i 1s -p "$IDLE_PID" >/dev/null 2>"$err" &
		pat='leakwatch: watching' file=$err
		;;
	offcpu)
		# tracefs only in a private mount namespace: the host keeps its mounts.
		unshare --mount --propagation private /bin/sh -c \
			'mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing; exec bpftrace "$0"' \
			"$BENCH_DIR/offcpu.bt" >"$out" 2>"$err" &
		pat='offcpu: attached' file=$out
		;;
	*) die "unknown tracer $name" ;;
	esac
	TRACER_PID=$!
	bg_track "$TRACER_PID"
	if ! wait_for "$file" "$pat" "$TRACER_PID" 60; then
		cat "$err" >&2
		die "tracer $name did not attach"
	fi
	# Let the tracer's start-up work (leakwatch's first scan) pass.
	sleep "${SETTLE_S:-1}"
}

stop_tracer() {
	[ -n "${TRACER_PID:-}" ] || return 0
	stop_pid "$TRACER_PID"
	TRACER_PID=
}

# cpu_ticks PID: utime + stime of the whole process, in clock ticks.
cpu_ticks() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	# shellcheck disable=SC2086
	set -- $s
	echo $((${12} + ${13}))
}

# cpu_ns PID: CPU time of all its threads in ns (schedstat: finer than ticks;
# %.0f: mawk's %d stops at 2^31 - 1, 2.1 s).
cpu_ns() {
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f\n", s }'
}

# hwm_kb PID: peak RSS (VmHWM) in KiB.
hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

now() { date +%s.%N; }

# Median of the numbers on stdin, one per line.
median() {
	sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) { print "nan"; exit }
		print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# prog_stats PID: "id name run_time_ns run_cnt" for each BPF program that PID
# holds an fd of (/proc/PID/fdinfo): programs other jobs load do not count.
# run_time_ns and run_cnt grow only with kernel.bpf_stats_enabled=1.
prog_stats() {
	local ids
	ids=$(grep -h '^prog_id:' /proc/"$1"/fdinfo/* 2>/dev/null | awk '{ print $2 }' | sort -u | paste -sd, -)
	bpftool -j prog show | jq -r --arg ids "$ids" '($ids | split(",") | map(tonumber)) as $want
		| .[] | select(.id as $i | $want | index([$i]))
		| "\(.id) \(.name) \(.run_time_ns // 0) \(.run_cnt // 0)"'
}

# results KEY VALUE: for run.sh's summary of targets.
result() {
	[ -n "${BENCH_RESULTS:-}" ] && echo "$1=$2" >>"$BENCH_RESULTS"
	return 0
}
