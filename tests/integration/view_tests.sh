# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# leakwatch integration tests for what a user looks at: the metrics endpoint
# under hostile clients, and the table on a terminal (in tmux panes of known
# sizes).  Sourced by run.sh after outputs_tests.sh, whose ot_ helpers
# (ot_need, ot_free_port, ot_series, ot_wait_series) are used here; the
# helpers here start with vt_.
#
# Needs curl, python3 and tmux.

VT_DIR=$(dirname "${BASH_SOURCE[0]}")

# vt_loris_closed NAME: how many connections the server closed on the
# slow-loris client NAME (its last line: "opened N closed_by_server M").
vt_loris_closed() {
	awk '$1 == "opened" { print $4 }' "$TMP/$1.out"
}

# vt_scrape PORT FILE: GET /metrics into FILE; prints the HTTP status.
vt_scrape() {
	curl -s --max-time 5 -o "$2" -w '%{http_code}' "http://127.0.0.1:$1/metrics"
}

# ------------------------------------------------------ metrics: hostile --

# A slow client is cut at the header deadline; 100 connections from the
# scraper's own address, trickling headers or silent, do not keep one scrape
# from being answered.
test_metrics_slowloris() {
	local port mode i code page=$TMP/loris.page closed
	ot_need curl curl && ot_need python3 python3 || return 1
	port=$(ot_free_port) || return 1
	start_fixture blocker cond --threads 2 || return 1
	fixture_tids 2 >/dev/null
	start_lw metrics_slowloris -p "$FX_PID" -t 1s -i 500ms --metrics "127.0.0.1:$port" -j \
		-d 60s || return 1
	ot_wait_series "$port" leakwatch_stuck_threads "$FX_PID" 2 20 || return 1

	# One client, a header line every 2 s for 7 s: closed at least once.
	spawn loris-one python3 -B "$VT_DIR/slowloris.py" "$port" 1 7 trickle
	wait_exit "$SPAWNED" 20 || return 1
	closed=$(vt_loris_closed loris-one)
	((${closed:-0} >= 1)) ||
		fail "a client trickling headers for 7s was never closed (header deadline 3s)" \
			"$(cat "$TMP/loris-one.out" "$TMP/loris-one.err")" || return 1

	for mode in trickle silent; do
		spawn "loris-$mode" python3 -B "$VT_DIR/slowloris.py" "$port" 100 9 "$mode"
		for ((i = 0; i < 100; i++)); do
			grep -qx ready "$TMP/loris-$mode.out" && break
			sleep 0.1
		done
		grep -qx ready "$TMP/loris-$mode.out" ||
			fail "the slow-loris client did not start" "$(cat "$TMP/loris-$mode.err")" ||
			return 1
		sleep 3 # every connection past its first header line
		for i in 1 2 3; do
			code=$(vt_scrape "$port" "$page")
			[[ $code == 200 ]] ||
				fail "scrape $i during a $mode slow-loris attack (100 connections): HTTP $code" \
					"curl: HTTP 000 is no answer within 5s" || return 1
			[[ $(ot_series "$page" leakwatch_stuck_threads "$FX_PID") == 2 ]] ||
				fail "scrape $i during the $mode attack: not the fixture's count" \
					"$(grep ^leakwatch_stuck_threads "$page")" || return 1
			sleep 1
		done
		wait_exit "$SPAWNED" 30 || return 1
		closed=$(vt_loris_closed "loris-$mode")
		((${closed:-0} >= 1)) ||
			fail "$mode attack: the server closed none of its connections" \
				"$(cat "$TMP/loris-$mode.out")" || return 1
	done
	[[ $(vt_scrape "$port" "$page") == 200 ]] || fail "no answer after the attacks" || return 1
	kill -INT "$LW_PID"
	wait_lw 10 || return 1
	expect_rc 0 || return 1
}

# Methods other than GET and HEAD: 405 with an Allow header, not a dropped
# connection; GET and HEAD still answered.
test_metrics_methods() {
	local port m code i hdr=$TMP/methods.headers
	ot_need curl curl || return 1
	port=$(ot_free_port) || return 1
	start_lw metrics_methods -p $$ -t 1s -i 500ms --metrics "127.0.0.1:$port" -j -d 60s ||
		return 1
	for ((i = 0; i < 40; i++)); do
		[[ $(vt_scrape "$port" /dev/null) == 200 ]] && break
		sleep 0.25
	done
	for m in POST PUT DELETE OPTIONS PATCH; do
		code=$(curl -s --max-time 5 -X "$m" -d x -D "$hdr" -o /dev/null -w '%{http_code}' \
			"http://127.0.0.1:$port/metrics")
		[[ $code == 405 ]] || fail "$m /metrics: HTTP $code, want 405" || return 1
		tr -d '\r' <"$hdr" | grep -qix 'allow: GET, HEAD' ||
			fail "$m /metrics: no 'Allow: GET, HEAD' header" "$(cat "$hdr")" || return 1
	done
	code=$(curl -s --max-time 5 -I -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/metrics")
	[[ $code == 200 ]] || fail "HEAD /metrics: HTTP $code, want 200" || return 1
	[[ $(vt_scrape "$port" /dev/null) == 200 ]] || fail "GET /metrics after the others failed" ||
		return 1
	kill -INT "$LW_PID"
	wait_lw 10 || return 1
	expect_rc 0 || return 1
}

# shellcheck disable=SC2034 # run.sh's ALL_TESTS takes them
VIEW_TESTS=(metrics_slowloris metrics_methods)
