#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The alerting rules (contrib/prometheus/leakwatch.rules.yml), without root:
# promtool accepts them, their unit tests pass (leakwatch.rules.test.yml:
# each alert fires when it should, with its labels and annotations, and not
# when it should not), every runbook_url names a heading of the README's
# runbook, and every leakwatch metric they read is one user/metrics.c writes.
#
#   tests/prometheus/run.sh          (make test-rules; needs promtool:
#                                     Debian package prometheus)

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RULES=$ROOT/contrib/prometheus/leakwatch.rules.yml
failed=0

fail() {
	echo "not ok - $1" >&2
	shift
	for d in "$@"; do sed 's/^/#   /' <<<"$d" >&2; done
	failed=1
}

command -v promtool >/dev/null || {
	echo "tests/prometheus/run.sh: promtool is required (Debian package: prometheus)" >&2
	exit 1
}

if out=$(promtool check rules "$RULES" 2>&1); then
	echo "ok - promtool check rules"
else
	fail "promtool check rules $RULES" "$out"
fi
if out=$(cd "$ROOT/tests/prometheus" && promtool test rules leakwatch.rules.test.yml 2>&1); then
	echo "ok - promtool test rules"
else
	fail "promtool test rules tests/prometheus/leakwatch.rules.test.yml" "$out"
fi

# Each alert: a severity, a summary, a description and a runbook_url, the
# README anchor of a heading named as the alert (GitHub's anchor: the
# heading in lower case).
missing=()
alerts=$(sed -n 's/^ *- alert: *\([A-Za-z0-9]*\) *$/\1/p' "$RULES")
[[ $alerts ]] || missing+=("no '- alert:' in $RULES")
for a in $alerts; do
	block=$(awk -v a="$a" '$0 ~ "^ *- alert: *" a " *$" { on = 1; next }
		on && /^ *- (alert|record):/ { exit } on' "$RULES")
	for key in severity summary description runbook_url; do
		grep -Eq "^ +$key:" <<<"$block" || missing+=("$a: no $key")
	done
	want="README.md#${a,,}"
	grep -Eq "^ +runbook_url: $want$" <<<"$block" ||
		missing+=("$a: runbook_url is not $want")
	grep -Eiq "^#+ +$a$" "$ROOT/README.md" || missing+=("$a: no '### $a' heading in README.md")
done
if ((${#missing[@]} == 0)); then
	echo "ok - every alert has a severity, summary, description and its README runbook"
else
	fail "alerts without what a receiver needs" "${missing[@]}"
fi

# Metrics the rules read that leakwatch does not write would never fire.
missing=()
for m in $(grep -oE '\bleakwatch_[a-z_]+' "$RULES" | sort -u); do
	grep -q "\"$m[{ \"]" "$ROOT/user/metrics.c" || missing+=("$m")
done
if ((${#missing[@]} == 0)); then
	echo "ok - every metric the rules read is written by user/metrics.c"
else
	fail "the rules read metrics that user/metrics.c does not write: ${missing[*]}"
fi
exit "$failed"
