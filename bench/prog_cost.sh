#!/bin/bash
# Cost per run of each leakwatch BPF program next to the floor's
# (../shared/bench/floor: tp_btf + one task-storage stamp), measured with
# kernel.bpf_stats_enabled=1 while `perf bench sched pipe` switches hard.
# The tracers run one at a time, alternating, ROUNDS times, so that drift
# hits both alike; prints the median ns per run of each program.
#   usage: bench/prog_cost.sh [BUILD_DIR] [ROUNDS]   (root)
set -euo pipefail
build=${1:-build}; rounds=${2:-5}
here=$(cd "$(dirname "$0")/.." && pwd)
floor_src=${FLOOR_SRC:-$here/../shared/bench/floor}
work=$(mktemp -d); trap 'rm -rf "$work"; sysctl -qw kernel.bpf_stats_enabled=0' EXIT
bash "$floor_src/build.sh" "$work/floor" >/dev/null
sysctl -qw kernel.bpf_stats_enabled=1

prog_ids() { bpftool -j prog show | jq -r '.[].id' | sort; }

# ns per run of the programs whose ids are in file $1
prog_costs() {
	bpftool -j prog show | jq -r --rawfile ids "$1" '($ids | split("\n")) as $want
		| .[] | select((.id | tostring) as $i | $want | index($i))
		| select((.run_cnt // 0) > 0)
		| "\(.name) \(.run_time_ns / .run_cnt) \(.run_cnt)"'
}

run_round() { # name, command...
	local name=$1; shift
	prog_ids >"$work/before"
	"$@" >/dev/null 2>&1 & local pid=$!
	sleep 1.5
	# the tracer's programs: those that appeared since it started
	prog_ids | comm -13 "$work/before" - >"$work/ids"
	taskset -c 1 perf bench sched pipe -l 200000 >/dev/null
	prog_costs "$work/ids" | sed "s/^/$name /" >>"$work/costs"
	kill -INT "$pid"; wait "$pid" || true
}

for ((r = 0; r < rounds; r++)); do
	run_round floor "$work/floor/floor"
	run_round leakwatch "$here/$build/leakwatch" -j -i 1s
done
echo "tracer     program       median_ns_per_run  runs(last round)"
# median per (tracer, program): sort the values, pick the middle
sort -k1,1 -k2,2 -k3,3g "$work/costs" | awk '
	{ key = $1 " " $2; n[key]++; v[key, n[key]] = $3; runs[key] = $4 }
	END { for (k in n) { m = n[k];
		med = (m % 2) ? v[k, (m + 1) / 2] : (v[k, m / 2] + v[k, m / 2 + 1]) / 2;
		split(k, kk, " "); printf "%-10s %-13s %10.1f %12d\n", kk[1], kk[2], med, runs[k] } }' | sort
