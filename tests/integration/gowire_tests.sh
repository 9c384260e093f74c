# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# The daemon's goroutine wiring (user/go_watch.c, user/leakwatch.c): what the
# outputs other than the records say about Go processes.  Sourced by run.sh
# after go_tests.sh (gf_start, gf_ready, gf_count) and outputs_tests.sh
# (ot_free_port, ot_get_page, ot_series).
#
#   go_outputs   two parked fixtures (1,000 goroutines parked before
#                leakwatch, 1.27 stripped and 1.19 plain): a go record each;
#                on /metrics their goroutine counts as NumGoroutine's, stuck
#                goroutines by wait, the scans' cost; a timeline that is
#                valid JSON with at most --timeline-goroutines tracks, the
#                rest counted, and goroutine counters
#   go_dump_text --dump in text: the pprof debug=1 layout, its totals as the
#                fixture's NumGoroutine
#   go_badflags  --dump without -p, --timeline-goroutines not a count: one
#                line on stderr, exit 2

# gw_wait_line PORT LINE SECS: poll /metrics until LINE is on the page (in
# $TMP/metrics-PORT.page).
gw_wait_line() {
	local page=$TMP/metrics-$1.page i
	for ((i = 0; i <= $3 * 4; i++)); do
		ot_get_page "$1" "$page" && grep -qxF -- "$2" "$page" && return 0
		is_running "$LW_PID" || break
		sleep 0.25
	done
	fail "no line '$2' on http://127.0.0.1:$1/metrics (waited $3s)" \
		"$(grep "^${2%%\{*}" "$page" 2>/dev/null | head -8)" "$(head -c 300 "$ERR")"
}

test_go_outputs() {
	local tags=(1.27-stripped-parked 1.19-plain-parked) tag pid port page tl n want got cg
	local tracks=50
	gf_check_built || return 1
	ot_need curl curl || return 1
	port=$(ot_free_port) || return 1
	gf_start 1.27-stripped-parked 1.27 stripped parked --exit-after 60s
	gf_start 1.19-plain-parked 1.19 plain parked --exit-after 60s
	gf_ready "${tags[@]}" || return 1
	tl=$TMP/go_outputs.trace.json
	start_lw go_outputs -p "${GF_PID[${tags[0]}]}" -p "${GF_PID[${tags[1]}]}" -t 1s -i 500ms \
		-d 8s -j --metrics "127.0.0.1:$port" --timeline "$tl" \
		--timeline-goroutines "$tracks" || return 1
	for tag in "${tags[@]}"; do
		pid=${GF_PID[$tag]}
		# The parked goroutines are stuck after 1 s: 400 in a chan receive;
		# the series carries the process's cgroup (issue 11).
		cg=$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
		gw_wait_line "$port" "leakwatch_goroutines_stuck_by_wait{pid=\"$pid\",comm=\"gofix\",wait=\"chan receive\",cgroup=\"$cg\"} 400" 20 ||
			return 1
		page=$TMP/metrics-$port.page
		want=$(gf_count "$tag")
		got=$(ot_series "$page" leakwatch_goroutines "$pid")
		[[ $got && $want ]] && (((got - want) * 100 <= want && (want - got) * 100 <= want)) ||
			fail "$tag: leakwatch_goroutines '$got', NumGoroutine $want" \
				"$(grep "^leakwatch_goroutines" "$page" | head)" || return 1
		got=$(ot_series "$page" leakwatch_goroutine_scans_total "$pid")
		((got > 0)) || fail "$tag: leakwatch_goroutine_scans_total '$got'" || return 1
		got=$(ot_series "$page" leakwatch_goroutine_scan_bytes_total "$pid")
		((got > 1000 * 8)) || fail "$tag: leakwatch_goroutine_scan_bytes_total '$got'" || return 1
		got=$(ot_series "$page" leakwatch_goroutine_scan_interval_seconds "$pid")
		[[ $got == 0.500 ]] || fail "$tag: goroutine scan interval '$got', want 0.500" || return 1
	done
	wait_lw 30 || return 1
	expect_rc 0 || return 1
	for tag in "${tags[@]}"; do
		FX_PID=${GF_PID[$tag]}
		jq_expect "$tag: one go record with its version and layout" \
			'[.[] | select(.type == "go" and .pid == $pid)] | length == 1
			 and (.[0].version | startswith("go1.")) and (.[0].layout | length > 0)
			 and (.[0].exe | endswith("/gofix")) and (.[0] | has("error") | not)' \
			'.[] | select(.type == "go")' || return 1
		jq_expect "$tag: samples with goroutine counts and goroutine_scan_interval_s" \
			'any(.[]; .type == "sample" and .pid == $pid and .goroutines > 1000
			     and .goroutine_scan_interval_s == 0.5)' \
			'[.[] | select(.type == "sample" and .pid == $pid)] | last' || return 1
	done
	jq_expect "the summary counts the goroutine losses" \
		'last | .type == "summary" and (.gs_invalid | type == "number")
		 and (.gs_unread | type == "number") and (.goroutine_stacks_moved | type == "number")' \
		'last' || return 1
	# The timeline: valid JSON, the tracks bounded, the rest counted.
	jq -e . "$tl" >/dev/null || fail "the timeline is not valid JSON" "$(tail -c 300 "$tl")" ||
		return 1
	n=$(jq '[.traceEvents[] | select(.ph == "M" and .name == "thread_name" and .tid >= 1073741824)] | length' "$tl")
	((n == tracks)) || fail "$n goroutine tracks in the timeline, want $tracks" || return 1
	jq -e --argjson t "$tracks" '.otherData | .goroutine_tracks == $t and .goroutine_tracks_max == $t
		and .goroutine_waits_untracked >= 2000 - $t' "$tl" >/dev/null ||
		fail "otherData does not count the goroutines past the tracks" \
			"$(jq -c .otherData "$tl")" || return 1
	jq -e '[.traceEvents[] | select(.ph == "X" and .tid >= 1073741824 and (.args.goid | type == "number"))]
		| length >= 50 and all(.name | IN("chan receive", "select", "semacquire", "sync.WaitGroup.Wait", "sleep"))' \
		"$tl" >/dev/null ||
		fail "no goroutine slices named by their wait" \
			"$(jq -c '[.traceEvents[] | select(.ph == "X")] | .[0:2]' "$tl")" || return 1
	for tag in "${tags[@]}"; do
		jq -e --argjson pid "${GF_PID[$tag]}" 'any(.traceEvents[]; .ph == "C" and .pid == $pid
			and .name == "goroutines" and .args.count > 1000)' "$tl" >/dev/null ||
			fail "$tag: no goroutines counter in the timeline" || return 1
	done
}

test_go_dump_text() {
	local tag=1.26-pie-parked pid want out
	gf_check_built || return 1
	gf_start "$tag" 1.26 pie parked --exit-after 60s
	gf_ready "$tag" || return 1
	pid=${GF_PID[$tag]}
	run_lw go_dump_text --dump -p "$pid" || return 1
	expect_rc 0 || return 1
	out=$OUT want=$(gf_count "$tag")
	grep -q "^# leakwatch --dump pid $pid (gofix) go1\.26\.[0-9]*: $want goroutines ([0-9]* system goroutines not shown), [0-9]* threads$" "$out" ||
		fail "no header naming $want goroutines" "$(head -2 "$out")" || return 1
	grep -qx "goroutine profile: total $want" "$out" ||
		fail "no 'goroutine profile: total $want'" "$(grep profile "$out")" || return 1
	grep -A3 '^400 @ 0x[0-9a-f]\+\( 0x[0-9a-f]\+\)*$' "$out" | grep -q '^# wait: chan receive$' ||
		fail "no group of 400 in chan receive" "$(head -8 "$out")" || return 1
	grep -A3 '^400 @' "$out" | grep -q $'^#\t0x[0-9a-f]*\tmain\.parkRecv+0x[0-9a-f]*\t.*/controls\.go:[0-9]*$' ||
		fail "the group of 400 does not show main.parkRecv with its file:line" \
			"$(grep -A4 '^400 @' "$out")" || return 1
	grep -q '^thread profile: total [1-9][0-9]*$' "$out" ||
		fail "no thread profile" "$(tail -5 "$out")" || return 1
	grep -q '^# wait: futex, [0-9]* blocked, longest [0-9.]*s$' "$out" ||
		fail "no thread group blocked in futex" "$(grep '^# wait' "$out")" || return 1
}

test_go_badflags() {
	local args
	for args in "--dump" "--dump -- true" "--timeline-goroutines x" "--timeline-goroutines 100001"; do
		# shellcheck disable=SC2086 # args: words
		OUT=$TMP/go_badflags.out ERR=$TMP/go_badflags.err
		"$LW" $args >"$OUT" 2>"$ERR"
		RC=$? LW_ARGS=$args
		expect_rc 2 || return 1
		[[ $(wc -l <"$ERR") == 1 && ! -s $OUT ]] ||
			fail "leakwatch $args: not one line on stderr and nothing on stdout" "$(cat "$ERR")" ||
			return 1
	done
}

# shellcheck disable=SC2034 # run.sh's ALL_TESTS takes them
GOWIRE_TESTS=(go_outputs go_dump_text go_badflags)
