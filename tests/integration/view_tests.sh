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

# vt_scrape PORT FILE: GET /metrics into FILE, within Prometheus's default
# scrape timeout (10 s: a loaded machine is slow, not blind); prints the HTTP
# status and leaves curl's error in $TMP/scrape.err.
vt_scrape() {
	curl -sS --max-time 10 -o "$2" -w '%{http_code}' "http://127.0.0.1:$1/metrics" \
		2>"$TMP/scrape.err"
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
					"$(cat "$TMP/scrape.err")" || return 1
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

# -------------------------------------------------------- the table --

VT_TMUX=(tmux -L "leakwatch-it-$$" -f /dev/null)
VT_CAP=""  # the last capture of the pane

# vt_table_fits WANT_W WANT_H: one capture of the pane shows a table that
# fits: the pane is WANT_W x WANT_H; the title is its first line (nothing
# scrolled off the top); the process header, the fixture's process row and
# the site header are there; no line wrapped; and "... and N more" counts
# exactly the stuck threads (140) not shown.
vt_table_fits() {
	local size rows more
	size=$("${VT_TMUX[@]}" display -p -t lw '#{pane_width}x#{pane_height}') || return 1
	[[ $size == "$1x$2" ]] || return 1
	VT_CAP=$("${VT_TMUX[@]}" capture-pane -p -t lw) || return 1
	[[ $(head -1 <<<"$VT_CAP") == "leakwatch "*" threshold 1.0s "* ]] || return 1
	grep -Eq '^ +PID PROCESS +THREADS +BLOCKED +STUCK$' <<<"$VT_CAP" || return 1
	grep -Eq "^ +$FX_PID blocker +141 +[0-9]+ +140$" <<<"$VT_CAP" || return 1
	grep -Eq '^ +STUCK +PID +SITE +WAIT +WHERE$' <<<"$VT_CAP" || return 1
	(($(wc -l <<<"$VT_CAP") <= $2)) || return 1
	# A line longer than the pane wraps: joined again by -J, one line fewer.
	(($("${VT_TMUX[@]}" capture-pane -pJ -t lw | wc -l) == $(wc -l <<<"$VT_CAP"))) || return 1
	rows=$(grep -Ec "^ +$FX_PID +[0-9]+ blk-cond " <<<"$VT_CAP")
	more=$(sed -n 's/^ *\.\.\. and \([0-9]*\) more$/\1/p' <<<"$VT_CAP" | tail -1)
	[[ $more ]] && ((rows + more == 140))
}

# vt_wait_fit W H SECS: wait for a redraw that fits W x H.
vt_wait_fit() {
	local i
	for ((i = 0; i < $3 * 5; i++)); do
		vt_table_fits "$1" "$2" && return 0
		sleep 0.2
	done
	fail "the table does not fit a $1x$2 pane (title on top, process and site headers, no wrapped line, '... and N more' counting the rest of 140)" \
		"$VT_CAP"
}

vt_table_fit_run() {
	start_fixture blocker cond --threads 140 || return 1
	fixture_tids 140 >/dev/null
	"${VT_TMUX[@]}" new-session -d -s lw -x 120 -y 40 \
		"env --default-signal=INT,TERM $LW -p $FX_PID -t 1s -i 500ms -d 40s" || return 1
	"${VT_TMUX[@]}" set-option -t lw status off >/dev/null
	vt_wait_fit 120 40 20 || return 1
	# Smaller, then larger: the table follows (SIGWINCH, at the latest the next redraw).
	"${VT_TMUX[@]}" resize-window -t lw -x 80 -y 24 || return 1
	vt_wait_fit 80 24 10 || return 1
	"${VT_TMUX[@]}" resize-window -t lw -x 100 -y 30 || return 1
	vt_wait_fit 100 30 10 || return 1
}

# The table of 140 stuck threads in tmux panes of 120x40, 80x24 and 100x30:
# title, processes and sites on top, as many threads as fit, "... and N more".
test_table_fit() {
	ot_need tmux tmux || return 1
	vt_table_fit_run
	local status=$?
	"${VT_TMUX[@]}" kill-server 2>/dev/null
	return $status
}

# shellcheck disable=SC2034 # run.sh's ALL_TESTS takes them
VIEW_TESTS=(metrics_slowloris metrics_methods table_fit)
