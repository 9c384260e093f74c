# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2016 # jq programs in single quotes
#
# leakwatch integration test of the alerting rules end to end: Debian's
# Prometheus, with contrib/prometheus/leakwatch.rules.yml loaded as shipped,
# scrapes leakwatch --metrics, and Debian's Alertmanager routes what fires to
# a webhook receiver (webhook_receiver.py), all on 127.0.0.1 with ports
# picked here and their data in the run's temporary directory.  Sourced by
# run.sh, which provides the helpers (spawn, start_lw, fail, ...), with
# start_fx from leak_tests.sh and ot_need, ot_free_port and ot_get_page from
# outputs_tests.sh; the helpers here start with al_.
#
# Needs prometheus, prometheus-alertmanager, curl and python3 (Debian
# packages of those names).  A system Prometheus or Alertmanager (the
# packages' services) does not matter: every port here is picked free, and
# this Alertmanager joins no cluster (--cluster.listen-address=).

AL_RULES=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/contrib/prometheus/leakwatch.rules.yml
AL_RECEIVER=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/webhook_receiver.py
AL_QUIET=40 # seconds the healthy processes are watched with no alert, at least
AL_ALERTMANAGER=/usr/bin/prometheus-alertmanager

# al_free_ports N: N distinct free ports, one a line.
al_free_ports() {
	local ports=() p
	while ((${#ports[@]} < $1)); do
		p=$(ot_free_port) || return 1
		[[ " ${ports[*]} " == *" $p "* ]] || ports+=("$p")
	done
	printf '%s\n' "${ports[@]}"
}

# al_query PORT PROMQL FILE: an instant query to the Prometheus on PORT, its
# answer in FILE; tried 3 times (5 s each: a loaded machine is slow).
al_query() {
	local try
	for try in 1 2 3; do
		curl -sfG --max-time 5 "http://127.0.0.1:$1/api/v1/query" --data-urlencode "query=$2" \
			-o "$3" 2>/dev/null && return 0
	done
	return 1
}

# al_wait_value PORT PROMQL WANT SECS: until the query's one result is WANT.
al_wait_value() {
	local end=$((SECONDS + $4)) ans=$TMP/al-query.json
	while ((SECONDS < end)); do
		al_query "$1" "$2" "$ans" &&
			jq -e --arg want "$3" '.data.result | length == 1 and .[0].value[1] == $want' \
				"$ans" >/dev/null 2>&1 && return 0
		sleep 0.25
	done
	fail "Prometheus: $2 is not $3 after ${4}s" "last answer: $(head -c 600 "$ans" 2>/dev/null)"
}

# al_diag PPORT AMPORT HOOK: what Prometheus, Alertmanager and the receiver
# hold, for a failure's details.
al_diag() {
	DIAG+=("Prometheus alerts: $(curl -s --max-time 3 "http://127.0.0.1:$1/api/v1/alerts" |
		jq -c '.data.alerts' 2>&1 | head -c 1500)"
		"Prometheus targets: $(curl -s --max-time 3 "http://127.0.0.1:$1/api/v1/targets" |
			jq -c '[.data.activeTargets[] | {scrapeUrl, health, lastError}]' 2>&1)"
		"Alertmanager alerts: $(curl -s --max-time 3 "http://127.0.0.1:$2/api/v2/alerts" |
			jq -c '[.[] | .labels]' 2>&1 | head -c 1000)"
		"receiver: $(head -c 1500 "$3" 2>/dev/null)"
		"prometheus: $(tail -c 400 "$TMP/al-prom.err")"
		"alertmanager: $(tail -c 400 "$TMP/al-am.err")")
}

# Healthy processes (an idle pool, a deadlock) watched for AL_QUIET
# seconds: Prometheus sees their stuck threads and fires nothing, the
# receiver gets no POST.  Then a process next to them leaks threads: the
# receiver gets LeakwatchLeak, firing, for it alone, with the process (pid,
# comm), the site as leakwatch's leak record names it, where it waits, the
# severity, the summary and the runbook; none for the healthy ones.
test_alerts() {
	local ports lwport pport amport hport hook=$TMP/al-webhook.jsonl pool_pid dl_pid leak_pid
	local i end t_start lat site
	ot_need curl curl && ot_need prometheus prometheus && ot_need promtool prometheus &&
		ot_need python3 python3 || return 1
	[[ -x $AL_ALERTMANAGER ]] ||
		fail "$AL_ALERTMANAGER is required (Debian package: prometheus-alertmanager)" || return 1
	[[ -f $AL_RULES ]] || fail "$AL_RULES is missing" || return 1
	mapfile -t ports < <(al_free_ports 3)
	((${#ports[@]} == 3)) || fail "no free ports" || return 1
	lwport=${ports[0]} pport=${ports[1]} amport=${ports[2]}

	start_fx pool "$BUILD/fixtures/leaker" pool --exit-after 200 || return 1
	pool_pid=$FX_PID
	fixture_tids 8 >/dev/null
	start_fx deadlock "$BUILD/fixtures/leaker" deadlock --exit-after 200 || return 1
	dl_pid=$FX_PID
	fixture_tids 2 >/dev/null
	start_fx leak "$BUILD/fixtures/leaker" cond --every 700 --start-after 180000 \
		--exit-after 200 || return 1
	leak_pid=$FX_PID
	start_lw alerts -p "$pool_pid" -p "$dl_pid" -p "$leak_pid" -t 2s -i 1s \
		--metrics "127.0.0.1:$lwport" -j -d 190s || return 1

	: >"$hook"
	spawn al-hook timeout -s KILL 240 python3 "$AL_RECEIVER" "$hook"
	for ((i = 0; i < 50; i++)); do
		hport=$(awk '$1 == "port" { print $2; exit }' "$TMP/al-hook.out")
		[[ $hport ]] && break
		sleep 0.1
	done
	[[ $hport ]] || fail "the webhook receiver did not start" "$(head -c 500 "$TMP/al-hook.err")" ||
		return 1

	mkdir -p "$TMP/al-am-data" "$TMP/al-prom-data"
	cat >"$TMP/al-alertmanager.yml" <<-EOF
		route:
		  receiver: webhook
		  group_by: [alertname, instance, pid, site]
		  group_wait: 1s
		  group_interval: 1s
		  repeat_interval: 1h
		receivers:
		  - name: webhook
		    webhook_configs:
		      - url: http://127.0.0.1:$hport/alerts
		        send_resolved: true
	EOF
	spawn al-am timeout -s KILL 240 "$AL_ALERTMANAGER" --config.file="$TMP/al-alertmanager.yml" \
		--storage.path="$TMP/al-am-data" --web.listen-address="127.0.0.1:$amport" \
		--web.external-url="http://127.0.0.1:$amport/" --cluster.listen-address= --log.level=warn
	cat >"$TMP/al-prometheus.yml" <<-EOF
		global:
		  scrape_interval: 1s
		  scrape_timeout: 1s
		  evaluation_interval: 1s
		rule_files: ['$AL_RULES']
		alerting:
		  alertmanagers:
		    - static_configs:
		        - targets: ['127.0.0.1:$amport']
		scrape_configs:
		  - job_name: leakwatch
		    static_configs:
		      - targets: ['127.0.0.1:$lwport']
	EOF
	spawn al-prom timeout -s KILL 240 prometheus --config.file="$TMP/al-prometheus.yml" \
		--storage.tsdb.path="$TMP/al-prom-data" --web.listen-address="127.0.0.1:$pport" \
		--web.external-url="http://127.0.0.1:$pport/" --log.level=warn

	# Ready: the rules loaded, Alertmanager known to Prometheus, leakwatch
	# scraped, and the pool's 8 stuck threads seen.
	end=$((SECONDS + 40))
	while ((SECONDS < end)); do
		curl -sf --max-time 3 "http://127.0.0.1:$amport/-/ready" >/dev/null 2>&1 &&
			curl -sf --max-time 3 "http://127.0.0.1:$pport/api/v1/alertmanagers" 2>/dev/null |
			jq -e '.data.activeAlertmanagers | length == 1' >/dev/null 2>&1 && break
		sleep 0.25
	done
	curl -sf --max-time 3 "http://127.0.0.1:$pport/api/v1/rules" -o "$TMP/al-rules.json" &&
		jq -e '[.data.groups[].rules[] | select(.type == "alerting")] | length >= 7' \
			"$TMP/al-rules.json" >/dev/null ||
		{ al_diag "$pport" "$amport" "$hook"; fail "Prometheus did not load $AL_RULES"; return 1; }
	al_wait_value "$pport" 'up{job="leakwatch"}' 1 40 &&
		al_wait_value "$pport" "leakwatch_stuck_threads{pid=\"$pool_pid\"}" 8 40 &&
		al_wait_value "$pport" "leakwatch_stuck_threads{pid=\"$dl_pid\"}" 2 20 ||
		{ al_diag "$pport" "$amport" "$hook"; return 1; }

	# The healthy processes alone: nothing fires, nothing pending, no POST.
	for ((i = 0; i < AL_QUIET * 4; i++)); do
		[[ -s $hook ]] && break
		is_running "$LW_PID" || break
		sleep 0.25
	done
	is_running "$LW_PID" || fail "leakwatch ended during the quiet window" "$(tail -c 500 "$ERR")" ||
		return 1
	[[ ! -s $hook ]] ||
		{ al_diag "$pport" "$amport" "$hook"; fail "the receiver got alerts while only healthy processes (pool $pool_pid, deadlock $dl_pid) were watched (${AL_QUIET}s)"; return 1; }
	al_query "$pport" 'ALERTS' "$TMP/al-alerts.json" ||
		fail "Prometheus did not answer the query ALERTS" || return 1
	jq -e '.data.result | length == 0' "$TMP/al-alerts.json" >/dev/null ||
		{ al_diag "$pport" "$amport" "$hook"; fail "alerts firing or pending for healthy processes (pool $pool_pid, deadlock $dl_pid)" "ALERTS: $(head -c 1000 "$TMP/al-alerts.json")"; return 1; }
	# Not a window with nothing to see: the 3 processes' series were scraped
	# in it (stuck 8, 2 and, the leaker before it leaks, 0).
	al_query "$pport" "count(count_over_time(leakwatch_stuck_threads[${AL_QUIET}s]))" \
		"$TMP/al-count.json" && jq -e '.data.result[0].value[1] == "3"' "$TMP/al-count.json" \
		>/dev/null || fail "Prometheus did not scrape the 3 processes' stuck-thread series in the quiet window" \
			"$(head -c 500 "$TMP/al-count.json")" || return 1

	# The leak: the first thread is stuck now.
	t_start=$(now)
	kill -USR1 "$leak_pid"
	for ((i = 0; i < 90 * 4; i++)); do
		jq -e -n --arg pid "$leak_pid" 'any(inputs; .status == "firing" and any(.alerts[];
			.labels.alertname == "LeakwatchLeak" and .labels.pid == $pid))' "$hook" \
			>/dev/null 2>&1 && break
		is_running "$LW_PID" || break
		sleep 0.25
	done
	lat=$(echo "$(now) - $t_start" | bc)
	jq -e -n --arg pid "$leak_pid" 'any(inputs; .status == "firing" and any(.alerts[];
		.labels.alertname == "LeakwatchLeak" and .labels.pid == $pid))' "$hook" >/dev/null 2>&1 ||
		{ al_diag "$pport" "$amport" "$hook"; fail "no LeakwatchLeak for pid $leak_pid at the receiver within 90s"; return 1; }
	printf '# alerts: LeakwatchLeak at the receiver %.1f s after the first leaked thread (quiet window %s s)\n' \
		"$lat" "$AL_QUIET"
	cp "$hook" "$TMP/al-webhook-received.jsonl"

	# What the receiver got: the leak of leak_pid at the site of
	# leakwatch's own leak record; nothing else.
	site=$(jq -r --argjson pid "$leak_pid" 'select(.type == "leak" and .pid == $pid) | .site' "$OUT" |
		head -1)
	[[ $site ]] || fail "leakwatch wrote no leak record for pid $leak_pid" || return 1
	jq -e -s --arg pid "$leak_pid" --arg site "$site" --arg url "http://127.0.0.1:$pport" '
		[.[] | .alerts[] | select(.status == "firing")] as $a
		| ($a | length) >= 1 and ($a | all(.labels.alertname == "LeakwatchLeak"
			and .labels.pid == $pid))
		and ($a | all(.labels.comm == "leaker" and .labels.site == $site
			and .labels.wait == "futex" and .labels.waiter == "thread"
			and (.labels.where | test("^chan_send \\(leaker\\.c:[0-9]+\\)$"))
			and .labels.severity == "critical" and .labels.job == "leakwatch"
			and (.annotations.summary | startswith("leaker (pid \($pid)) on ")
				and endswith(" leaks threads at site \($site)"))
			and (.annotations.description | test("^[0-9]+ threads of leaker \\(pid \($pid)\\) .* stuck in futex at chan_send \\(leaker\\.c:[0-9]+\\) \\(site \($site)\\)"))
			and .annotations.runbook_url == "README.md#leakwatchleak"
			and (.generatorURL | startswith($url))))
		and all(.[]; .receiver == "webhook" and .version == "4")' "$hook" >/dev/null ||
		fail "the receiver's alerts are not LeakwatchLeak of leaker (pid $leak_pid) at site $site, futex, where chan_send (leaker.c:N), with its severity, summary and runbook" \
			"$(jq -c '.alerts[] | {status, labels, annotations}' "$hook" 2>&1 | head -c 2000)" ||
		return 1
	! grep -qE "\"pid\":\"($pool_pid|$dl_pid)\"" "$hook" ||
		fail "an alert for a healthy process (pool $pool_pid, deadlock $dl_pid)" \
			"$(head -c 1500 "$hook")" || return 1
	# The page with a leak's series is still one promtool accepts.
	ot_get_page "$lwport" "$TMP/al-metrics.page" &&
		grep -q "^leakwatch_leak_stuck{pid=\"$leak_pid\"," "$TMP/al-metrics.page" ||
		fail "no leakwatch_leak_stuck series for pid $leak_pid on leakwatch's page" \
			"$(grep '^leakwatch_leak' "$TMP/al-metrics.page" 2>&1)" || return 1
	promtool check metrics <"$TMP/al-metrics.page" >"$TMP/al-promtool.out" 2>&1 ||
		fail "promtool check metrics rejects the page with a leak's series" \
			"$(head -20 "$TMP/al-promtool.out")" || return 1

	kill -INT "$LW_PID"
	wait_lw 15 || return 1
	expect_rc 0 || return 1
}

# shellcheck disable=SC2034 # run.sh's ALL_TESTS takes them
ALERTS_TESTS=(alerts)
