#!/bin/bash
# Installs, on Debian 12, every package that building leakwatch and running
# all of its tests needs.  Run as root; does nothing when all are present.
set -euo pipefail

packages=(
	make gcc clang llvm pkg-config bpftool libbpf-dev libelf-dev zlib1g-dev
	libdw-dev libjson-c-dev libmicrohttpd-dev libcmocka-dev valgrind jq
	util-linux procps
	# tests: idle runtimes that must not look like leaks; a real Prometheus
	# and promtool; systemd-analyze and man for the unit and the man page
	openjdk-17-jre-headless python3 prometheus curl systemd man-db groff-base
	# the table in terminals of known sizes (tmux panes)
	tmux
	# benchmarks
	linux-perf bpftrace
	# fuzzing (make fuzz): libFuzzer and the sanitizer runtimes for clang
	libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing ${missing[*]}; run as root to install them" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
