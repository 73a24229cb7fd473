#!/usr/bin/env bash
# test/stress.sh RUNS: run `make test` RUNS times in a row while stress-ng
# loads the machine (--cpu 2 --io 1), stopping at the first failure. Each
# run's output goes to test-stress/run-N.log; the summary says how many
# passed and how long each took. A failure here is a bug, not bad luck:
# the suite must pass on a busy machine.
set -euo pipefail

runs=${1:-5}
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 RUNS (a positive number)" >&2; exit 2; }
command -v stress-ng >/dev/null || {
	echo "test/stress.sh: stress-ng is missing (apt-get install stress-ng)" >&2
	exit 1
}

cd "$(dirname "$0")/.."
logs=test-stress
mkdir -p "$logs"

stress-ng --cpu 2 --io 1 --timeout 0 --quiet &
load=$!
trap 'kill "$load" 2>/dev/null; wait "$load" 2>/dev/null || true' EXIT

start=$SECONDS
for ((i = 1; i <= runs; i++)); do
	t0=$SECONDS
	# -count=1: every run really runs every test, none is served from the cache.
	if make test TESTFLAGS="-count=1 ${TESTFLAGS:-}" >"$logs/run-$i.log" 2>&1; then
		echo "stress run $i/$runs: passed in $((SECONDS - t0))s"
	else
		echo "stress run $i/$runs: FAILED after $((SECONDS - t0))s; failures:"
		grep -E -- '^(--- FAIL|FAIL|panic:)|^\s+\S+_test\.go:[0-9]+:' "$logs/run-$i.log" | head -40 || true
		echo "whole log: $logs/run-$i.log"
		exit 1
	fi
done
echo "stress: $runs of $runs runs passed under stress-ng --cpu 2 --io 1 in $((SECONDS - start))s"
