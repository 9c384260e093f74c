# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# leakwatch integration tests for goroutines, sourced by run.sh (which
# provides the helpers: spawn, start_lw, wait_lw, jq_expect, fail, ...) after
# leak_tests.sh (wait_record, stop_lw).
#
# Fixture: tests/fixtures/go (gofix MODE), built by make for every Go here
# (1.19, 1.26, 1.27) x every variant (plain, stripped -s -w, PIE, cgo) into
# $BUILD/fixtures/go/VERSION/VARIANT/gofix.  A missing build is a failure,
# never a skip.
#
# The matrix (each point on each version and each variant at least once;
# the tests run many fixtures under one leakwatch, so that the versions run
# side by side, not one after another):
#   go_fixtures   the fixtures' own contract, without leakwatch: every leak
#                 mode on every binary parks its goroutines in the function
#                 and wait the tests expect (from Go's own debug=2 profile),
#                 the parked fixture's groups and its NumGoroutine line
#   go_leak       every leak mode x every version x every variant (84
#                 fixtures, a leakwatch -p ... per version): a leak within 30 s at -t 2s,
#                 its wait, the leaking function and file:line in its stack,
#                 stuck records with goid, wait and created_by
#   go_controls   pool, churn, tickers, parked x every version, the variants
#                 rotated so that each (version, variant) is there once: no
#                 leak, no spin; sample goroutine counts within 1% of the
#                 fixture's runtime.NumGoroutine; parked goroutines stuck,
#                 found already blocked
#   go_spin       an infinite loop locked to its thread on each version (cgo
#                 1.19, plain 1.26, stripped 1.27): a spin record with goid
#                 and Go stack
#   go_spin_moving  the same not locked, as Go runs it, moving between
#                 threads (PIE 1.26, plain 1.27)
#   go_dump       --dump of parked and of a queryall that stopped leaking,
#                 every version x every variant: group for group against the
#                 fixture's own pprof debug=1, counts within 1%
#   go_hostwide   no -p: one queryall per version (PIE 1.19, stripped 1.26,
#                 cgo 1.27) found and flagged by itself
#   go_nogoroutines  --no-goroutines on 1.27 stripped and 1.19 plain: no
#                 record about a goroutine, no goroutine counts
#   go_runmode    leakwatch -- gofix mutex (1.26 PIE): exit 1 with the leak
#   go_exec       a watched Go process execs /bin/sleep (1.26 PIE), another
#                 execs a Go binary of the same name (1.27 plain -> 1.19
#                 stripped), a third itself (1.19 PIE): the first image's
#                 goroutines end, the new one's are read
#   go_zombie_leader  the leader thread exits, the rest runs on (1.19 PIE,
#                 1.27 stripped): goroutines read through another thread
# All of them: about 3.5 minutes here (2 CPUs, shared with other work).

GO_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../fixtures/go" && pwd)
GO_VERSIONS=(1.19 1.26 1.27)
GO_VARIANTS=(plain stripped pie cgo)
GO_LEAK_MODES=(queryall nilchan recv select mutex netio httpget)
GO_LEAK_BOUND=30 # seconds from the first leaked goroutine to the leak record, at most

declare -A GF_PID GF_OUT # per fixture tag

# gf_bin VERSION VARIANT: the fixture binary.
gf_bin() { echo "$BUILD/fixtures/go/$1/$2/gofix"; }

# gf_check_built: every fixture binary is there.
gf_check_built() {
	local v k
	for v in "${GO_VERSIONS[@]}"; do
		for k in "${GO_VARIANTS[@]}"; do
			[[ -x $(gf_bin "$v" "$k") ]] ||
				fail "$(gf_bin "$v" "$k") is missing: run 'make' (Go $v: 'make deps')" || return 1
		done
	done
}

# gf_start TAG VERSION VARIANT MODE ARGS...: start a fixture (its own
# session; --exit-after 150s unless given), do not wait for it.
gf_start() {
	local tag=$1 bin
	bin=$(gf_bin "$2" "$3")
	shift 3
	local args=("$@")
	[[ " $* " == *" --exit-after "* ]] || args+=(--exit-after 150s)
	# GF_NICE: at that nice value, every thread (renice -p would move the
	# main thread only: the runtime's threads are there by then)
	spawn "gf-$tag" nice -n "${GF_NICE:-0}" "$bin" "${args[@]}" --pprof "$TMP/gf-$tag.pprof"
	GF_OUT[$tag]=$TMP/gf-$tag.out
	GF_PID[$tag]=$SPAWNED
}

# gf_ready TAG...: wait (60s in all) until each fixture printed its pid
# (which must be the one spawned) and "ready".
gf_ready() {
	local tag i
	for tag in "$@"; do
		for ((i = 0; i < 600; i++)); do
			grep -qx ready "${GF_OUT[$tag]}" && break
			is_running "${GF_PID[$tag]}" || break
			sleep 0.1
		done
		grep -qx ready "${GF_OUT[$tag]}" &&
			[[ $(awk '$1 == "pid" { print $2; exit }' "${GF_OUT[$tag]}") == "${GF_PID[$tag]}" ]] ||
			fail "fixture $tag did not get ready" "$(head -c 300 "$TMP/gf-$tag.err")" || return 1
	done
}

# gf_profile TAG...: SIGUSR2 each fixture, wait (20s) for its "pprof" line:
# $TMP/gf-TAG.pprof (debug=1) and .pprof.2 (debug=2) are then complete.
gf_profile() {
	local tag i
	declare -A before
	for tag in "$@"; do
		before[$tag]=$(grep -c '^pprof ' "${GF_OUT[$tag]}")
		kill -USR2 "${GF_PID[$tag]}"
	done
	for tag in "$@"; do
		for ((i = 0; i < 200; i++)); do
			(($(grep -c '^pprof /' "${GF_OUT[$tag]}") > before[$tag])) && break
			sleep 0.1
		done
		(($(grep -c '^pprof /' "${GF_OUT[$tag]}") > before[$tag])) ||
			fail "fixture $tag wrote no goroutine profile" "$(tail -3 "${GF_OUT[$tag]}")" || return 1
	done
}

# gf_count TAG: the fixture's last runtime.NumGoroutine() line.
gf_count() { awk '$1 == "goroutines" { n = $2 } END { print n }' "${GF_OUT[$1]}"; }

# gf_line FILE TEXT [NTH]: the line number of the NTH (1) line of
# tests/fixtures/go/FILE that contains TEXT.
gf_line() {
	grep -nF -- "$2" "$GO_SRC/$1" | sed -n "${3:-1}p" | cut -d: -f1
}

# gf_go_line FILE LINE: the line of the last "go func" at or before LINE
# (where the goroutine blocked at LINE was created).
gf_go_line() {
	awk -v b="$2" 'NR <= b && /^[[:space:]]*go func/ { g = NR } END { print g }' "$GO_SRC/$1"
}

# gf_culprits MODE VERSION: the places where MODE's goroutines block, as a
# JSON array of {func, file, line, creator, go_line, wait, names_site}: wait
# is Go's own name for it on VERSION (checked by go_fixtures against the
# runtime's); names_site: the site is named after func (the first frame
# outside runtime, sync and internal; for netio and httpget that is a frame
# of net or net/http, above func).
gf_culprits() {
	local mode=$1 ver=$2 file func creator text wait k line out=() n=1
	case $mode in
	queryall) file=queryall.go func=main.queryAll.func creator=main.queryAll
		text='go func() { ch <- query() }()' wait="chan send" n=3 ;;
	nilchan) file=nilchan.go func=main.leakNilChan.func1 creator=main.leakNilChan
		text='// blocks: ch is nil' wait="chan receive (nil chan)" ;;
	recv) file=recv.go func=main.leakRecv.func1 creator=main.leakRecv
		text='// blocks: nobody ever sends' wait="chan receive" ;;
	select) file=select.go func=main.leakSelect.func1 creator=main.leakSelect
		text='// blocks: nobody sends on result' wait=select ;;
	mutex) file=mutex.go func=main.leakMutex.func1 creator=main.leakMutex
		text='// blocks: never unlocked' wait=sync.Mutex.Lock
		[[ $ver == 1.19 ]] && wait=semacquire ;;
	netio) file=netio.go func=main.leakNetRead.func1 creator=main.leakNetRead
		text='// blocks: the server never writes' wait="IO wait" ;;
	httpget) file=netio.go func=main.leakHTTPGet.func1 creator=main.leakHTTPGet
		text='// blocks: the server never answers' wait=select ;;
	*) echo "[]"; return 1 ;;
	esac
	for ((k = 1; k <= n; k++)); do
		line=$(gf_line "$file" "$text" "$k")
		[[ $line ]] || { echo "[]"; return 1; }
		out+=("$(jq -n -c --arg func "$func$([[ $mode == queryall ]] && echo "$k")" \
			--arg file "$file" --argjson line "$line" --arg creator "$creator" \
			--argjson go_line "$(gf_go_line "$file" "$line")" --arg wait "$wait" \
			--argjson names "$([[ $mode == netio || $mode == httpget ]] && echo false || echo true)" \
			'{func: $func, file: $file, line: $line, creator: $creator, go_line: $go_line,
			  wait: $wait, names_site: $names}')")
	done
	printf '%s\n' "${out[@]}" | jq -s -c .
}

# The jq function that tells whether a stack frame string is the culprit's
# ("main.leakRecv.func1+0x2f (/src/recv.go:8)").
GF_JQ_DEFS='
def at_culprit($c): type == "string" and startswith($c.func + "+0x")
	and (endswith("/" + $c.file + ":" + ($c.line | tostring) + ")")
	     or endswith("(" + $c.file + ":" + ($c.line | tostring) + ")"));
def in_stack($c): (.stack | type == "array") and any(.stack[]; at_culprit($c));
'

# gf_jq WHAT FILE FILTER [SHOW]: jq_expect over FILE, with GF_JQ_DEFS and
# $c (the culprits, in CULPRITS), $pid (FX_PID).
gf_jq() {
	local what=$1 file=$2 filter=$3 show=${4:-'.[] | select(.type != "sample" and .pid == $pid)'}
	jq -e -s --argjson pid "${FX_PID:-0}" --argjson c "${CULPRITS:-[]}" \
		"$GF_JQ_DEFS $filter" "$file" >/dev/null && return 0
	fail "$what" "$(jq -c -s --argjson pid "${FX_PID:-0}" --argjson c "${CULPRITS:-[]}" \
		"$GF_JQ_DEFS $show" "$file" 2>&1 | head -c 3000)"
}

# -------------------------------------------------------------- the tests --

# The fixtures' own contract, from Go's own view (no leakwatch): each leak
# mode of each binary parks goroutines in its culprit function, at the wait
# the tests expect; the parked fixture's groups are as it says, and its
# NumGoroutine line equals the profile's total.  A fixture bug fails here,
# not as a leakwatch bug.
test_go_fixtures() {
	local v k m tag tags=() want got total i
	gf_check_built || return 1
	for v in "${GO_VERSIONS[@]}"; do
		for k in "${GO_VARIANTS[@]}"; do
			for m in "${GO_LEAK_MODES[@]}"; do
				gf_start "$v-$k-$m" "$v" "$k" "$m" --rate 20 --max 20 --exit-after 60s
				tags+=("$v-$k-$m")
			done
			gf_start "$v-$k-parked" "$v" "$k" parked --exit-after 60s
			tags+=("$v-$k-parked")
		done
	done
	gf_ready "${tags[@]}" || return 1
	for tag in "${tags[@]}"; do
		for ((i = 0; i < 200; i++)); do
			[[ $tag == *-parked ]] || grep -q '^leaked ' "${GF_OUT[$tag]}" && break
			sleep 0.1
		done
	done
	sleep 1 # the last leaked goroutines parked
	gf_profile "${tags[@]}" || return 1
	for tag in "${tags[@]}"; do
		v=${tag%%-*} m=${tag##*-}
		grep -q "^go go$v" "${GF_OUT[$tag]}" ||
			fail "$tag: not built by Go $v" "$(head -3 "${GF_OUT[$tag]}")" || return 1
		k=${tag#*-} k=${k%-*}
		[[ $k == cgo ]] && { grep -q '^go .* cgo true$' "${GF_OUT[$tag]}" ||
			fail "$tag: cgo not linked" "$(head -3 "${GF_OUT[$tag]}")" || return 1; }
		if [[ $m == parked ]]; then
			total=$(sed -n 's/^goroutine profile: total //p' "$TMP/gf-$tag.pprof")
			got=$(awk '$1 == "pprof" { print $4 }' "${GF_OUT[$tag]}" | tail -1)
			[[ $total && $total == "$got" ]] ||
				fail "$tag: NumGoroutine $got, its own profile's total $total" || return 1
			# parked's groups: 400 parkRecv, 300 parkSelect, 200 parkWaitGroup, 100 parkSleep
			want=$'400 main.parkRecv\n300 main.parkSelect\n200 main.parkWaitGroup\n100 main.parkSleep'
			got=$(awk -F'\t' '/^[0-9]+ @/ { n = $0 + 0 }
				/^#\t/ && $3 ~ /^main\.park/ { sub(/\+0x.*/, "", $3); print n, $3 }' \
				"$TMP/gf-$tag.pprof")
			[[ $got == "$want" ]] || fail "$tag: parked groups '$got', want '$want'" || return 1
			continue
		fi
		CULPRITS=$(gf_culprits "$m" "$v") || fail "$tag: no culprit lines in $GO_SRC" || return 1
		# debug=2: "goroutine N [WAIT, 1 minutes]:" then "func(...)" lines.
		got=$(jq -r '.[] | "\(.func)\t\(.wait)"' <<<"$CULPRITS" | while IFS=$'\t' read -r f w; do
			awk -v f="$f" -v w="$w" '
				/^goroutine [0-9]+ \[/ { s = $0; sub(/^[^[]*\[/, "", s); sub(/\].*/, "", s)
					sub(/, [0-9]+ minutes/, "", s); sub(/, locked to thread/, "", s); wait = s }
				index($0, f "(") == 1 { if (wait == w) ok++; else bad = bad " [" wait "]" }
				END { printf "%s %d%s\n", f, ok, bad ? " other waits:" bad : "" }' "$TMP/gf-$tag.pprof.2"
		done)
		want=20
		[[ $m == queryall ]] && want=40 # two of each call's three senders
		awk -v want="$want" '
			{ n += $2 } / other waits:/ { bad = 1 } END { exit !(n >= want && !bad) }' <<<"$got" ||
			fail "$tag: the leaked goroutines are not where the tests expect ($CULPRITS)" "$got" ||
			return 1
	done
}

# All leak modes x versions x variants: one leakwatch per Go version (28
# fixtures each; -p takes 64 at most), the three side by side.  Each fixture
# leaks from the SIGUSR1 sent once its leakwatch watches, 2 a second.
test_go_leak() {
	local v k m tag tags=() t_start i missing n t0=$SECONDS t_checks line
	declare -A lw_pid lw_out lw_err lw_args lw_t0 pids
	gf_check_built || return 1
	for v in "${GO_VERSIONS[@]}"; do
		for k in "${GO_VARIANTS[@]}"; do
			for m in "${GO_LEAK_MODES[@]}"; do
				gf_start "$v-$k-$m" "$v" "$k" "$m" --rate 2 --start-after 100s --exit-after 150s
				tags+=("$v-$k-$m")
				pids[$v]+=" -p ${GF_PID[$v-$k-$m]}"
			done
		done
	done
	gf_ready "${tags[@]}" || return 1
	for v in "${GO_VERSIONS[@]}"; do
		# shellcheck disable=SC2086 # pids: words
		start_lw "go_leak-$v" ${pids[$v]} -t 2s -i 1s -d $((GO_LEAK_BOUND + 15))s -j || return 1
		lw_pid[$v]=$LW_PID lw_out[$v]=$OUT lw_err[$v]=$ERR lw_args[$v]=$LW_ARGS lw_t0[$v]=$T0
	done
	t_start=$(now)
	for tag in "${tags[@]}"; do kill -USR1 "${GF_PID[$tag]}"; done
	# Until every fixture has a leak record, or the bound passed.
	while (($(echo "$(now) < $t_start + $GO_LEAK_BOUND + 5" | bc))); do
		n=$(grep -h '"type":"leak"' "${lw_out[@]}" | jq -r .pid 2>/dev/null | sort -u | wc -l)
		((n >= ${#tags[@]})) && break
		sleep 1
	done
	echo "# go_leak: $n of ${#tags[@]} fixtures flagged $(printf %.1f "$(echo "$(now) - $t_start" | bc)") s after they started leaking ($((SECONDS - t0)) s since the test started)"
	for v in "${GO_VERSIONS[@]}"; do
		LW_PID=${lw_pid[$v]} OUT=${lw_out[$v]} ERR=${lw_err[$v]} LW_ARGS=${lw_args[$v]} T0=${lw_t0[$v]}
		stop_lw || return 1
		expect_rc 0 || return 1
	done
	t_checks=$SECONDS
	missing=()
	for v in "${GO_VERSIONS[@]}"; do
		while IFS= read -r line; do missing+=("$line"); done < <(gf_leak_verdicts "${lw_out[$v]}" \
			"$t_start" $(printf '%s\n' "${tags[@]}" | grep "^$v-"))
	done
	FAIL="" DIAG=()
	echo "# go_leak: the checks took $((SECONDS - t_checks)) s"
	((${#missing[@]} == 0)) || fail "${#missing[@]} of ${#tags[@]} fixtures not flagged as the tests expect" \
		"${missing[@]}"
}

# The leak checks of one fixture, as jq: $r its records (not samples), $x
# its culprits, $t0 when it started leaking.  Each check is [ok, what,
# detail]; the first that fails is the verdict.
GF_JQ_LEAK='
def leak_checks($r; $x; $t0):
	($r | map(select(.type == "leak") | . as $l
		| ($x | map(select(. as $c | $l | in_stack($c)))) as $m
		| select($m | length > 0) | {l: $l, c: $m[0]}) | first) as $f
	| [[$f != null, "a leak record whose stack has the culprit: "
		+ ($x | map("\(.func) (\(.file):\(.line))") | join(" or ")),
	    ($r | map(select(.type == "leak") | del(.kstack)) | first)]]
	+ if $f == null then [] else
	  ($f.l as $l | $f.c as $c
	  | [[$l.ts - $t0 <= $bound, "the leak within \($bound) s of the first leaked goroutine",
		"\($l.ts - $t0) s"],
	     [$l.wait == $c.wait and $l.pcomm == "gofix" and $l.stuck >= 3
		and $l.growth_per_min > 0 and ($l.site | type == "string" and length > 0),
		"leak record: wait \($c.wait) (as Go names it), stuck >= 3, growth_per_min > 0, site, pcomm gofix",
		($l | del(.stack, .kstack))],
	     [($l.where | type == "string") and ($l.where | startswith($c.wait + " in "))
		and (($c.names_site | not) or $l.where
			== "\($c.wait) in \($c.func) (\($c.file):\($c.line)), created by \($c.creator)"),
		"leak record: where \"" + (if $c.names_site then
			"\($c.wait) in \($c.func) (\($c.file):\($c.line)), created by \($c.creator)"
			else "\($c.wait) in ..." end) + "\"", $l.where],
	     ([$r[] | select(.type == "stuck" and .site == $l.site)] as $s
	      | [($s | length) >= $l.stuck and ($s | map(.goid) | unique | length) == ($s | length)
		and ($s | all((.goid | type == "number") and .wait == $c.wait
			and (.since_exact | type == "boolean") and .blocked_s >= 2
			and (.created_by | type == "string")
			and (.created_by | startswith($c.creator + " ("))
			and (.created_by | contains("/\($c.file):\($c.go_line))")))),
		"stuck records at the leak'"'"'s site (as many as it counts): one per goid, wait, blocked_s >= 2, created_by \"\($c.creator) (.../\($c.file):\($c.go_line))\"",
		$s[0:2]])])
	  end
	| map(select(.[0] | not)) | first // null;
'

# gf_leak_verdicts FILE T_START TAG...: the leak checks of each TAG's
# fixture over leakwatch's records in FILE, in one jq run (84 fixtures
# checked one jq at a time took minutes).  Prints "TAG<TAB>what<TAB>detail"
# per fixture that fails.
gf_leak_verdicts() {
	local file=$1 t_start=$2 tag expect=() key
	declare -A culprits
	shift 2
	for tag in "$@"; do
		key=${tag##*-}-${tag%%-*}
		[[ ${culprits[$key]:-} ]] || culprits[$key]=$(gf_culprits "${tag##*-}" "${tag%%-*}")
		expect+=("{\"tag\": \"$tag\", \"pid\": ${GF_PID[$tag]}, \"c\": ${culprits[$key]}}")
	done
	# The fixtures' records (a host-wide run has many others), by pid.
	jq -c --argjson pids "[$(IFS=,; for tag in "$@"; do echo -n "${GF_PID[$tag]},"; done)0]" \
		'select(.type != "sample" and (.pid | IN($pids[])))' "$file" >"$file.fx"
	jq -s -r --slurpfile e <(printf '%s\n' "${expect[@]}") --argjson t0 "$t_start" \
		--argjson bound "$GO_LEAK_BOUND" "$GF_JQ_DEFS $GF_JQ_LEAK"'
		(group_by(.pid) | map({key: (.[0].pid | tostring), value: .}) | from_entries) as $by
		| $e[] | . as $f | leak_checks($by[$f.pid | tostring] // []; $f.c; $t0)
		| select(. != null) | "\($f.tag) (pid \($f.pid))\t\(.[1])\t\(.[2] | tojson | .[0:400])"' "$file.fx"
}

# Healthy Go processes: a worker pool, churn, idle tickers and goroutines
# parked before leakwatch started, on each version, the variants rotated
# (v-th version: variant (i + v) % 4 for the i-th control).
test_go_controls() {
	local controls=(pool churn tickers parked) v k i tag tags=() pids=() vi=0 n
	gf_check_built || return 1
	for v in "${GO_VERSIONS[@]}"; do
		for i in "${!controls[@]}"; do
			k=${GO_VARIANTS[$(((i + vi) % ${#GO_VARIANTS[@]}))]}
			tag=$v-$k-${controls[$i]}
			if [[ ${controls[$i]} == churn ]]; then
				# nice 10, as the C churn: three of them at nice 0 starve a 2-CPU VM
				GF_NICE=10 gf_start "$tag" "$v" "$k" churn --count 2000 --exit-after 150s
			else
				gf_start "$tag" "$v" "$k" "${controls[$i]}" --exit-after 150s
			fi
			tags+=("$tag")
			pids+=(-p "${GF_PID[$tag]}")
		done
		vi=$((vi + 1))
	done
	gf_ready "${tags[@]}" || return 1
	sleep 3 # the pools' and tickers' waits settled
	start_lw go_controls "${pids[@]}" -t 2s -i 1s -d 40s -j || return 1
	wait_lw 70 || return 1
	expect_rc 0 || return 1
	for tag in "${tags[@]}"; do
		is_running "${GF_PID[$tag]}" || fail "$tag ended before leakwatch did" || return 1
	done
	FX_PID=0
	gf_jq "no leak record" "$OUT" '[.[] | select(.type == "leak")] | length == 0' \
		'.[] | select(.type == "leak") | del(.kstack)' || return 1
	gf_jq "no spin record" "$OUT" '[.[] | select(.type == "spin")] | length == 0' \
		'.[] | select(.type == "spin")' || return 1
	for tag in "${tags[@]}"; do
		FX_PID=${GF_PID[$tag]}
		# (the first sample may come before the first goroutine scan)
		gf_jq "$tag: samples with goroutines, goroutines_blocked, goroutines_stuck (all but the first)" "$OUT" \
			'[.[] | select(.type == "sample" and .pid == $pid)][1:]
			| length >= 30 and all((.goroutines | type == "number")
				and (.goroutines_blocked | type == "number")
				and (.goroutines_stuck | type == "number")
				and .goroutines_stuck <= .goroutines_blocked
				and .goroutines_blocked <= .goroutines)' \
			'[.[] | select(.type == "sample" and .pid == $pid)] | .[-2:]' || return 1
		[[ $tag == *-churn ]] && continue
		# Steady: the last sample within 1% of the fixture's NumGoroutine.
		n=$(gf_count "$tag")
		gf_jq "$tag: last sample's goroutines within 1% of NumGoroutine $n" "$OUT" \
			"[.[] | select(.type == \"sample\" and .pid == \$pid)] | last
			| (.goroutines - $n) | fabs <= $n / 100" \
			'[.[] | select(.type == "sample" and .pid == $pid)] | last' || return 1
	done
	for tag in "${tags[@]}"; do
		[[ $tag == *-parked ]] || continue
		FX_PID=${GF_PID[$tag]}
		gf_jq "$tag: 1000 goroutines stuck (within 1%), each found already blocked (since_exact false), goid, main.park* created by main.startParked" "$OUT" \
			'[.[] | select(.type == "sample" and .pid == $pid)] | last
			| .goroutines_stuck >= 1000 and .goroutines_stuck <= 1010' \
			'[.[] | select(.type == "sample" and .pid == $pid)] | last' || return 1
		gf_jq "$tag: stuck records of the parked goroutines: goid, since_exact false, created by main.startParked" "$OUT" \
			'[.[] | select(.type == "stuck" and .pid == $pid
				and (.created_by // "" | startswith("main.startParked")))]
			| length == 1000 and (map(.goid) | unique | length) == 1000
			  and all(.since_exact == false and (.wait | type == "string"))' \
			'[.[] | select(.type == "stuck" and .pid == $pid)] | .[0:3]' || return 1
	done
}

# gf_spin_case NAME SPIN_ARGS VERSION/VARIANT...: one spinner per binary,
# under one leakwatch: a spin record each, with its goid and a Go stack
# through main.spinForever (inlined in its goroutine's function).
gf_spin_case() {
	local name=$1 spin_args=$2 pair v k tags=() pids=() tag body_from body_to
	shift 2
	gf_check_built || return 1
	for pair in "$@"; do
		v=${pair%/*} k=${pair#*/}
		# shellcheck disable=SC2086 # spin_args: words
		GF_NICE=10 gf_start "$v-$k-spin" "$v" "$k" spin $spin_args --exit-after 60s
		tags+=("$v-$k-spin")
		pids+=(-p "${GF_PID[$v-$k-spin]}")
	done
	gf_ready "${tags[@]}" || return 1
	run_lw "$name" "${pids[@]}" -t 2s -i 500ms -d 15s -j || return 1
	expect_rc 0 || return 1
	body_from=$(gf_line spin.go 'func spinForever()')
	body_to=$((body_from + 4))
	for tag in "${tags[@]}"; do
		FX_PID=${GF_PID[$tag]}
		CULPRITS=$(jq -n -c --argjson from "$body_from" --argjson to "$body_to" \
			'[range($from; $to) | {func: "main.spinForever", file: "spin.go", line: .}]')
		gf_jq "$tag: a spin record with goid, pcomm gofix, running_s >= 2, its stack in main.spinForever (spin.go:$body_from-$body_to)" "$OUT" \
			'[.[] | select(.type == "spin" and .pid == $pid)]
			| length >= 1 and all(.goid | type == "number")
			  and all(.pcomm == "gofix" and .running_s >= 2)
			  and all(. as $s | any($c[]; . as $x | $s | in_stack($x)))' \
			'.[] | select(.type == "spin" and .pid == $pid)' || return 1
	done
	FX_PID=0
	gf_jq "no leak record" "$OUT" '[.[] | select(.type == "leak")] | length == 0' \
		'.[] | select(.type == "leak") | del(.kstack)' || return 1
}

# An infinite loop on each version, the spinner locked to its thread
# (runtime.LockOSThread): the spinning thread joined to its goroutine.
test_go_spin() { gf_spin_case go_spin --lock-thread 1.19/cgo 1.26/plain 1.27/stripped; }

# An infinite loop as Go programs have them: the scheduler preempts the
# spinner every 10 ms and resumes it on whichever thread is free (measured
# here: its CPU time split between 2-3 threads, none running 2 s on end), so
# no thread spins: the goroutine does.
test_go_spin_moving() { gf_spin_case go_spin_moving "" 1.26/pie 1.27/plain; }

# gf_pprof_groups FILE: a pprof debug=1 profile as "COUNT\tKEY" lines, KEY
# the frames (function and file base name:line) without the runtime's
# frames above the first other one and without runtime.goexit.
gf_pprof_groups() {
	awk '
		function flush() { if (n != "") print n "\t" key; n = ""; key = ""; other = 0 }
		/^[0-9]+ @/ { flush(); n = $1 + 0; next }
		/^#\t/ && n != "" { f = $3; sub(/\+0x[0-9a-f]+$/, "", f); l = $4; sub(/.*\//, "", l)
			if (f == "runtime.goexit" || (!other && f ~ /^runtime\./)) next
			other = 1; key = key (key == "" ? "" : " < ") f " " l }
		END { flush() }' "$1"
}

# gf_dump_groups FILE PID: the goroutine groups of leakwatch --dump -j's
# records for PID, the same way (counts of groups with one key added).
gf_dump_groups() {
	jq -r --argjson pid "$2" '
		select(.type == "dump" and .pid == $pid and .kind == "goroutine")
		| [.stack[] | capture("^(?<f>.+)\\+0x[0-9a-f]+ \\((?<l>[^()]*)\\)$")
			| {f, l: (.l | split("/") | last)}
			| select(.f != "runtime.goexit")] as $fr
		| ([$fr | to_entries[] | select(.value.f | startswith("runtime.") | not) | .key]
			| first // 0) as $i
		| "\(.count)\t\(if .stack_unreadable then "(stack unreadable, wait \(.wait))"
			else $fr[$i:] | map("\(.f) \(.l)") | join(" < ") end)"' "$1" |
		awk -F'\t' '{ n[$2] += $1 } END { for (k in n) print n[k] "\t" k }'
}

# gf_compare_groups PPROF DUMP: every group of one in the other, counts
# within 1%, but for the goroutine of main.main (writing the profile in one,
# in its select in the other) and os/signal's loop (it delivered the SIGUSR2
# that asked for the profile: in signal.process or back in signal_recv when
# the profile is taken, as the scheduler goes; parked by --dump's time).
# Prints the differences.
gf_compare_groups() {
	awk -F'\t' '
		FNR == NR { p[$2] = $1; next }
		{ d[$2] = $1 }
		END {
			skip = "main\\.main |os/signal\\.loop "
			for (k in p) if (k !~ skip) {
				if (!(k in d)) { print "missing in --dump: " p[k] " @ " k; continue }
				diff = p[k] - d[k]; if (diff < 0) diff = -diff
				if (diff > int(p[k] / 100)) print "count " d[k] ", pprof " p[k] " @ " k
			}
			for (k in d) if (k !~ skip && !(k in p))
				print "not in pprof: " d[k] " @ " k
		}' "$1" "$2"
}

# --dump against the fixture's own pprof debug=1 profile, on every binary:
# parked (4 groups of 400, 300, 200 and 100) and a queryall that leaked 120
# goroutines and stopped (3 groups of about 40).
test_go_dump() {
	local v k tag tags=() pids=() diffs bad=() n
	gf_check_built || return 1
	for v in "${GO_VERSIONS[@]}"; do
		for k in "${GO_VARIANTS[@]}"; do
			gf_start "$v-$k-parked" "$v" "$k" parked --exit-after 90s
			gf_start "$v-$k-queryall" "$v" "$k" queryall --rate 30 --max 60 --exit-after 90s
			tags+=("$v-$k-parked" "$v-$k-queryall")
			pids+=(-p "${GF_PID[$v-$k-parked]}" -p "${GF_PID[$v-$k-queryall]}")
		done
	done
	gf_ready "${tags[@]}" || return 1
	for tag in "${tags[@]}"; do
		[[ $tag == *-queryall ]] || continue
		wait_fixture_line_in "$tag" 'leaked 60' 30 || return 1
	done
	sleep 1 # the last senders parked
	gf_profile "${tags[@]}" || return 1
	# One scan and out: no "watching" line to wait for.
	OUT=$TMP/go_dump.out ERR=$TMP/go_dump.err T0=$(now) LW_ARGS="--dump ${pids[*]} -j"
	spawn go_dump "$LW" --dump "${pids[@]}" -j
	LW_PID=$SPAWNED
	wait_lw 60 || return 1
	expect_rc 0 || return 1
	for tag in "${tags[@]}"; do
		gf_pprof_groups "$TMP/gf-$tag.pprof" >"$TMP/gf-$tag.pgroups"
		gf_dump_groups "$OUT" "${GF_PID[$tag]}" >"$TMP/gf-$tag.dgroups"
		n=$(wc -l <"$TMP/gf-$tag.dgroups")
		diffs=$(gf_compare_groups "$TMP/gf-$tag.pgroups" "$TMP/gf-$tag.dgroups")
		[[ -z $diffs && $n -gt 0 ]] || bad+=("$tag (pid ${GF_PID[$tag]}, $n groups in --dump):" "$diffs")
	done
	((${#bad[@]} == 0)) || fail "--dump differs from the fixtures' own profiles" "${bad[@]}"
}

# wait_fixture_line_in TAG LINE SECS: the fixture TAG printed LINE.
wait_fixture_line_in() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -qx "$2" "${GF_OUT[$1]}" && return 0
		sleep 0.1
	done
	fail "fixture $1 never printed '$2'" "$(tail -3 "${GF_OUT[$1]}")"
}

# Host-wide: no -p; each version's queryall is found and flagged by itself.
test_go_hostwide() {
	local pair v k tags=() tag t_start i missing
	gf_check_built || return 1
	for pair in 1.19/pie 1.26/stripped 1.27/cgo; do
		v=${pair%/*} k=${pair#*/}
		gf_start "$v-$k-queryall" "$v" "$k" queryall --rate 2 --start-after 100s --exit-after 120s
		tags+=("$v-$k-queryall")
	done
	gf_ready "${tags[@]}" || return 1
	start_lw go_hostwide -t 2s -i 1s -d $((GO_LEAK_BOUND + 15))s -j || return 1
	t_start=$(now)
	for tag in "${tags[@]}"; do kill -USR1 "${GF_PID[$tag]}"; done
	for ((i = 0; i < (GO_LEAK_BOUND + 5) * 2; i++)); do
		missing=0
		for tag in "${tags[@]}"; do
			jq -e -n --argjson pid "${GF_PID[$tag]}" \
				'any(inputs; .type == "leak" and .pid == $pid)' "$OUT" >/dev/null 2>&1 ||
				missing=$((missing + 1))
		done
		((missing == 0)) && break
		is_running "$LW_PID" || break
		sleep 0.5
	done
	stop_lw || return 1
	expect_rc 0 || return 1
	missing=$(gf_leak_verdicts "$OUT" "$t_start" "${tags[@]}")
	[[ -z $missing ]] || fail "$(wc -l <<<"$missing") of ${#tags[@]} fixtures not flagged as the tests expect" \
		"$missing"
}

# --no-goroutines: thread level only.  A leaking and a parked Go process:
# no record about a goroutine, no goroutine counts in their samples.
test_go_nogoroutines() {
	local tags=(1.27-stripped-queryall 1.19-plain-parked)
	gf_check_built || return 1
	gf_start 1.27-stripped-queryall 1.27 stripped queryall --rate 4 --exit-after 60s
	gf_start 1.19-plain-parked 1.19 plain parked --exit-after 60s
	gf_ready "${tags[@]}" || return 1
	run_lw go_nogoroutines --no-goroutines -p "${GF_PID[${tags[0]}]}" -p "${GF_PID[${tags[1]}]}" \
		-t 1s -i 500ms -d 6s -j || return 1
	expect_rc 0 || return 1
	FX_PID=0
	gf_jq "samples of both fixtures" "$OUT" \
		"[.[] | select(.type == \"sample\") | .pid] | unique
			| contains([${GF_PID[${tags[0]}]}, ${GF_PID[${tags[1]}]}])" \
		'[.[] | select(.type == "sample")] | .[0:2]' || return 1
	gf_jq "no goid in any record, no goroutine counts" "$OUT" \
		'all(.[]; has("goid") | not) and all(.[]; has("goroutines") or has("goroutines_stuck") | not)' \
		'[.[] | select(has("goid") or has("goroutines") or has("goroutines_stuck"))] | .[0:3]' ||
		return 1
	gf_jq "no goroutine wait reason in stuck records" "$OUT" \
		'all(.[] | select(.type == "stuck"); .wait | IN("chan send", "chan receive", "select", "sync.Mutex.Lock", "semacquire") | not)' \
		'[.[] | select(.type == "stuck")] | .[0:3]' || return 1
}

# Run mode: leakwatch -- gofix mutex exits 1, with the leak in its report.
test_go_runmode() {
	local bin pid
	gf_check_built || return 1
	bin=$(gf_bin 1.26 pie)
	OUT=$TMP/go_runmode.out ERR=$TMP/go_runmode.err T0=$(now) LW_ARGS="-j -- gofix mutex"
	spawn go_runmode env --default-signal=INT,TERM "$LW" -j -t 2s -i 1s -- \
		"$bin" mutex --rate 4 --exit-after 25s
	LW_PID=$SPAWNED
	wait_exit "$LW_PID" 60 || return 1
	pid=$(awk '$1 == "pid" { print $2; exit }' "$OUT")
	[[ $pid ]] || fail "the fixture printed no pid" "$(grep -v '^{' "$OUT" | head -3)" "$(head -5 "$ERR")" ||
		return 1
	[[ $RC == 1 ]] || fail "leakwatch -- gofix mutex exited with $RC, expected 1 (a leak)" \
		"$(head -c 500 "$ERR")" || return 1
	grep '^{' "$OUT" >"$OUT.json"
	FX_PID=$pid CULPRITS=$(gf_culprits mutex 1.26)
	gf_jq "a leak record for the command, at main.leakMutex.func1, wait sync.Mutex.Lock" "$OUT.json" \
		'any(.[]; .type == "leak" and .pid == $pid and .wait == "sync.Mutex.Lock" and in_stack($c[0]))' \
		'.[] | select(.type == "leak") | del(.kstack)' || return 1
	gf_jq "the summary last" "$OUT.json" 'last | .type == "summary"' 'last' || return 1
}

# shellcheck disable=SC2034 # run.sh's ALL_TESTS takes them
# exec while watched.  A Go process that execs a C program: its stuck
# goroutines are unstuck and its samples have no goroutine counts.  One that
# execs another Go binary under the same name (comm unchanged): the new
# binary is found and its goroutines counted, the old image's unstuck.
test_go_exec() {
	local tags=(1.26-pie-tosleep 1.27-plain-togo 1.19-pie-toself) c tag gone
	gf_check_built || return 1
	gf_start "${tags[0]}" 1.26 pie parked --count 100 --exit-after 8s --exec "/bin/sleep 30"
	gf_start "${tags[1]}" 1.27 plain parked --count 100 --exit-after 8s \
		--exec "$(gf_bin 1.19 stripped) parked --count 300 --exit-after 30s"
	# itself again: the same file, mapped elsewhere (PIE)
	gf_start "${tags[2]}" 1.19 pie parked --count 100 --exit-after 8s \
		--exec "$(gf_bin 1.19 pie) parked --count 300 --exit-after 30s"
	gf_ready "${tags[@]}" || return 1
	run_lw go_exec -p "${GF_PID[${tags[0]}]}" -p "${GF_PID[${tags[1]}]}" -p "${GF_PID[${tags[2]}]}" \
		-t 1s -i 500ms -d 16s -j || return 1
	expect_rc 0 || return 1
	for tag in "${tags[@]}"; do
		grep -q '^exec ' "${GF_OUT[$tag]}" || fail "$tag did not exec" "$(tail -3 "${GF_OUT[$tag]}")" ||
			return 1
	done
	FX_PID=${GF_PID[${tags[0]}]}
	gf_jq "stuck goroutines of the Go image before its exec" "$OUT" \
		'[.[] | select(.type == "stuck" and .pid == $pid and has("goid"))] | length >= 100' || return 1
	gf_jq "every stuck goroutine unstuck after the exec to sleep" "$OUT" \
		'([.[] | select(.type == "stuck" and .pid == $pid and has("goid")) | .goid] | sort) ==
		 ([.[] | select(.type == "unstuck" and .pid == $pid and has("goid")) | .goid] | sort)' || return 1
	gf_jq "the last sample of sleep has no goroutine counts" "$OUT" \
		'[.[] | select(.type == "sample" and .pid == $pid)] | last | .pcomm == "sleep" and (has("goroutines") | not)' \
		'[.[] | select(.type == "sample" and .pid == $pid)] | .[-2:]' || return 1
	for tag in "${tags[@]:1}"; do
		FX_PID=${GF_PID[$tag]}
		gf_jq "$tag: the new Go binary found under the same name" "$OUT" \
			'[.[] | select(.type == "go" and .pid == $pid)] | length == 2 and (last | .version | startswith("go1.19"))' \
			'[.[] | select(.type == "go")]' || return 1
		c=$(gf_count "$tag")
		gf_jq "$tag: goroutines of the new binary counted (it says $c)" "$OUT" \
			"[.[] | select(.type == \"sample\" and .pid == \$pid)] | last | .goroutines == $c" \
			'[.[] | select(.type == "sample" and .pid == $pid)] | .[-2:]' || return 1
		gone=$(jq -s --argjson pid "$FX_PID" '[.[] | select(.type == "go" and .pid == $pid)] | .[1].ts' "$OUT")
		gf_jq "$tag: the old image's 100 stuck goroutines unstuck" "$OUT" \
			"[.[] | select(.type == \"unstuck\" and .pid == \$pid and has(\"goid\") and .ts <= $gone + 1)] | length >= 100" ||
			return 1
	done
}

# A zombie leader: the main thread exited by exit(2), the others run on.
# /proc/PID/exe and process_vm_readv(PID) fail for it (no mm): the
# goroutines are read through another thread, counted as the program counts.
test_go_zombie_leader() {
	local tags=(1.19-pie-zombie 1.27-stripped-zombie) tag c
	gf_check_built || return 1
	gf_start "${tags[0]}" 1.19 pie parked --count 200 --exit-leader --exit-after 40s
	gf_start "${tags[1]}" 1.27 stripped parked --count 200 --exit-leader --exit-after 40s
	gf_ready "${tags[@]}" || return 1
	for tag in "${tags[@]}"; do
		wait_fixture_line_in "$tag" "leader exits" 10 || return 1
	done
	run_lw go_zombie_leader -p "${GF_PID[${tags[0]}]}" -p "${GF_PID[${tags[1]}]}" -t 1s -i 500ms -d 4s -j ||
		return 1
	expect_rc 0 || return 1
	for tag in "${tags[@]}"; do
		FX_PID=${GF_PID[$tag]}
		grep -q '^State:.*Z' "/proc/$FX_PID/status" ||
			fail "$tag: its leader is not a zombie" "$(grep State "/proc/$FX_PID/status")" || return 1
		c=$(gf_count "$tag")
		gf_jq "$tag: its goroutines read ($c, as it says)" "$OUT" \
			"any(.[]; .type == \"go\" and .pid == \$pid and has(\"layout\")) and
			 ([.[] | select(.type == \"sample\" and .pid == \$pid)] | last | .goroutines == $c)" \
			'[.[] | select(.pid == $pid and (.type == "go" or .type == "sample"))] | .[-3:]' || return 1
		gf_jq "$tag: its parked goroutines stuck" "$OUT" \
			'[.[] | select(.type == "stuck" and .pid == $pid and has("goid"))] | length >= 200' || return 1
	done
}

GO_TESTS=(go_fixtures go_leak go_controls go_spin go_spin_moving go_dump go_hostwide go_nogoroutines go_runmode
	go_exec go_zombie_leader)
