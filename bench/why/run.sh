#!/bin/bash
# Experiments behind bench/analysis.md (not part of `make bench`): why the
# fork/exit programs and the iterator cost more per run than the floor.
#   1. ringbuf: the cost of one ring-buffer record in sched_process_fork
#      (ringbuf.bpf.c), under bench/storm.c and under single forks 10 ms apart.
#   2. iter: ns per task of iter/task programs, with 10,000 and with 100
#      blocked threads: nothing (i_nop), one 192-byte record (i_write),
#      leakwatch's scan_tasks as built (BUILD/bpf/leakwatch.bpf.o, default
#      rodata: host-wide) and at revision WHY_BASE (default 45c494a, which read
#      each field with BPF_CORE_READ: a bpf_probe_read_kernel call each).
#   3. wakeups: irq_work interrupts (/proc/interrupts IWI) during a storm: bare,
#      under the floor (task storage only), under host-wide leakwatch and under
#      `leakwatch -- storm` (a ring-buffer record per thread created and exited).
#
#   usage: bench/why/run.sh [BUILD_DIR]   (root; after make)
#   env:   WHY_BASE (45c494a)
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
bench_setup
BUILD=$(resolve_build "${1:-build}")
OUT=$BUILD/bench/why
WHY=$BENCH_DIR/why
STORM=$(storm_bin)
mkdir -p "$OUT"
set_sysctl kernel.bpf_stats_enabled 1

log "why: building"
BPF_CFLAGS=(-g -O2 -target bpf -D__TARGET_ARCH_x86 -I"$REPO_DIR" -I"$REPO_DIR/include")
for x in ringbuf iter; do
	clang "${BPF_CFLAGS[@]}" -c "$WHY/$x.bpf.c" -o "$OUT/$x.bpf.o"
done
bpftool gen skeleton "$OUT/ringbuf.bpf.o" name ringbuf_bpf >"$OUT/ringbuf.skel.h"
gcc -O2 -Wall -I"$OUT" "$WHY/ringbuf.c" -o "$OUT/ringbuf" -lbpf -lelf -lz -lpthread
gcc -O2 -Wall "$WHY/iter.c" -o "$OUT/iter" -lbpf -lelf -lz
# leakwatch's BPF object at another revision (WHY_BASE, default 45c494a: the
# last one before the ring-buffer wakeup fix and the plain BTF loads in the
# scan), for experiment 2.
BASE=${WHY_BASE:-45c494a}
mkdir -p "$OUT/base/include"
if git -C "$REPO_DIR" show "$BASE:bpf/leakwatch.bpf.c" >"$OUT/base/leakwatch.bpf.c" 2>/dev/null &&
	git -C "$REPO_DIR" show "$BASE:include/leakwatch.h" >"$OUT/base/include/leakwatch.h" 2>/dev/null &&
	clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -I"$REPO_DIR" -I"$OUT/base/include" \
		-c "$OUT/base/leakwatch.bpf.c" -o "$OUT/base/leakwatch.bpf.o"; then
	BASE_OBJ=$OUT/base/leakwatch.bpf.o
else
	BASE_OBJ=
	log "why: no revision $BASE to compare with"
fi

echo
echo "== 1. one ring-buffer record in sched_process_fork (ns per run, bpf_stats)"
"$OUT/ringbuf" >"$WORK/rb.out" 2>&1 &
RB=$!
bg_track "$RB"
wait_for "$WORK/rb.out" attached "$RB" 30 || die "ringbuf did not attach: $(cat "$WORK/rb.out")"
iwi() { awk '$1 == "IWI:" { for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i } END { print s + 0 }' /proc/interrupts; }
phase() {
	local i0
	prog_stats "$RB" >"$WORK/a"
	i0=$(iwi)
	"$@"
	echo "  irq_work interrupts meanwhile: $(($(iwi) - i0))"
	prog_stats "$RB" >"$WORK/b"
	awk 'NR == FNR { t[$1] = $3; c[$1] = $4; next }
		{ d = $4 - c[$1]; if (d > 0) printf "  %-12s %6.0f ns/run  (%d runs)\n", $2, ($3 - t[$1]) / d, d }' "$WORK/a" "$WORK/b"
}
storm3() { for i in 1 2 3; do "$STORM" --procs 2 --threads 1000 --linger 0 >/dev/null; done; }
slow() { for ((i = 0; i < 300; i++)); do "$STORM" --procs 1 --threads 0 --linger 0 >/dev/null; sleep 0.01; done; }
echo "storm (3 x 2 processes x 1000 threads):"
phase storm3
echo "single forks, 10 ms apart (cold caches):"
phase slow
stop_pid "$RB"
sed 's/^/  /' "$WORK/rb.out" | grep records

echo
echo "== 2. iter/task per task (ns per run, bpf_stats; the read's wall time includes the kernel's walk)"
for n in 10000 100; do
	"$BUILD/fixtures/blocker" cond --threads "$n" --exit-after 300 >"$WORK/blk" 2>&1 &
	B=$!
	bg_track "$B"
	until [ "$(grep -c '^tid' "$WORK/blk" || true)" -ge "$n" ]; do
		mine "$B" || die "blocker died: $(cat "$WORK/blk")"
		sleep 0.1
	done
	sleep 1
	echo "with $n threads blocked in one process (last 3 of 5 reads each):"
	for spec in "$OUT/iter.bpf.o i_nop" "$OUT/iter.bpf.o i_write" \
		"$BUILD/bpf/leakwatch.bpf.o scan_tasks" ${BASE_OBJ:+"$BASE_OBJ scan_tasks"}; do
		read -r obj prog <<<"$spec"
		if [ "$obj" = "$BUILD/bpf/leakwatch.bpf.o" ]; then
			echo "  leakwatch.bpf.o as built:"
		elif [ "$obj" = "${BASE_OBJ:-}" ]; then
			echo "  leakwatch.bpf.o at $BASE:"
		else
			echo "  $(basename "$obj"):"
		fi
		"$OUT/iter" "$obj" "$prog" 5 | tail -3 | sed 's/^/    /'
	done
	stop_pid "$B" 5 TERM
done

echo
echo "== 3. irq_work interrupts during a storm (bench/storm.c, 2 x 2000 threads): a forced ring-buffer"
echo "   wakeup is one; so is a refill or free of the BPF memory allocator behind task storage"
i0=$(iwi)
"$STORM" --procs 2 --threads 2000 --linger 0 >/dev/null
echo "  bare: irq_work interrupts $(($(iwi) - i0))"
FLOOR=$(floor_bin)
"$FLOOR" >"$WORK/floor.out" 2>&1 &
F=$!
bg_track "$F"
wait_for "$WORK/floor.out" 'floor attached' "$F" 30 || die "the floor did not attach"
i0=$(iwi)
"$STORM" --procs 2 --threads 2000 --linger 0 >/dev/null
echo "  under the floor (task storage, no ring buffer): irq_work interrupts $(($(iwi) - i0))"
stop_pid "$F"
"$BUILD/leakwatch" -j -i 1s >"$WORK/lw.out" 2>"$WORK/lw.err" &
L=$!
bg_track "$L"
wait_for "$WORK/lw.err" 'leakwatch: watching' "$L" 30 || die "leakwatch did not start"
sleep 2
i0=$(iwi)
"$STORM" --procs 2 --threads 2000 --linger 0 >/dev/null
echo "  under host-wide leakwatch: irq_work interrupts $(($(iwi) - i0))"
sleep 1.5
stop_pid "$L"
echo "    summary: $(jq -c 'select(.type == "summary") | {events, dropped}' "$WORK/lw.out")"
i0=$(iwi)
"$BUILD/leakwatch" -j -i 1s -t 1m -- "$STORM" --procs 2 --threads 2000 --linger 0 >"$WORK/run.out" 2>/dev/null || true
echo "  under leakwatch -- storm (a record per thread created and exited): irq_work interrupts $(($(iwi) - i0))"
echo "    summary: $(grep '"type":"summary"' "$WORK/run.out" | jq -c '{events, dropped}')"
