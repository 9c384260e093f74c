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
	# the alerting rules end to end: Prometheus routes to an Alertmanager
	# (/usr/bin/prometheus-alertmanager); the test runs its own of both on
	# free loopback ports, so the packages' services, if started, do not
	# matter
	prometheus-alertmanager
	# JIT frames from perf maps: a JVM (java, javac, jcmd Compiler.perfmap)
	# and Node (--perf-basic-prof)
	openjdk-17-jdk-headless nodejs
	# libc's frames with file:line and inlined calls (separate debuginfo
	# under /usr/lib/debug/.build-id)
	libc6-dbg
	# the table in terminals of known sizes (tmux panes)
	tmux
	# benchmarks
	linux-perf bpftrace
	# the Go fixtures: Debian's Go 1.19 (/usr/lib/go-1.19/bin/go)
	golang-1.19-go
	# make fuzz, fuzz-ci: clang's libFuzzer runtime; objcopy cuts the seeds
	# (and, with strip, splits the query fixtures' DWARF off)
	libclang-rt-14-dev binutils
	# Python stacks: Debian's python3.11 (the fixture's interpreter) and
	# its internal headers (test_py_layout_311 checks the 3.11 table)
	python3.11 libpython3.11-dev
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -ne 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-deps: missing ${missing[*]}; run as root to install them" >&2
		exit 1
	fi
	echo "install-deps: installing ${missing[*]}" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The Go versions the fixtures are built with (tests/fixtures/go/fixtures.mk):
# each one missing is an error, never a skip.  Go 1.26 is the machine's own
# (/usr/local/go); Go 1.27 comes from the Go module proxy, through the go
# command's toolchain switch, into the module cache of the user running this
# (the one who builds: root on these machines).
go_version() { # go_version WANT CMD...: CMD's "go version" must be WANT*.
	local want=$1 got
	shift
	got=$("$@" version 2>&1) || { echo "install-deps: '$*' failed: $got" >&2; return 1; }
	case $got in
	"go version go$want"*) ;;
	*) echo "install-deps: '$*' says '$got', not Go $want" >&2; return 1 ;;
	esac
}
if [ ! -x /usr/local/go/bin/go ]; then
	echo "install-deps: /usr/local/go/bin/go is missing: these machines come with Go 1.26 in" \
		"/usr/local/go (https://go.dev/dl/go1.26.*.linux-amd64.tar.gz); install it there" >&2
	exit 1
fi
GOTOOLCHAIN=local go_version 1.19 /usr/lib/go-1.19/bin/go
GOTOOLCHAIN=local go_version 1.26 /usr/local/go/bin/go
GOTOOLCHAIN=go1.27.3 go_version 1.27.3 /usr/local/go/bin/go

# speedscope (tests/integration/folded_tests.sh reads the --folded files with
# its own importer, headless in Node): this version exactly, into a cache
# directory of the user running this, never globally.  The tests find it at
# the same LW_NODE_DIR.
SPEEDSCOPE_VERSION=1.25.0
LW_NODE_DIR=${LW_NODE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/leakwatch/node}
installed=$(node -p "require('$LW_NODE_DIR/node_modules/speedscope/package.json').version" 2>/dev/null || true)
if [ "$installed" != "$SPEEDSCOPE_VERSION" ]; then
	# npm comes with these machines' nodejs (NodeSource's, Node 20);
	# Debian's own npm package conflicts with it.
	command -v npm >/dev/null || { echo "install-deps: npm is missing (it comes with nodejs 20)" >&2; exit 1; }
	echo "install-deps: installing speedscope@$SPEEDSCOPE_VERSION into $LW_NODE_DIR" >&2
	mkdir -p "$LW_NODE_DIR"
	npm install --prefix "$LW_NODE_DIR" --no-audit --no-fund --ignore-scripts --save-exact \
		"speedscope@$SPEEDSCOPE_VERSION" >/dev/null
fi
