#!/usr/bin/env bash
# Profiles a mass join: runs `hearsay bench swim --procs --join-after-up`
# (hearsay only) at N members with the members' logs kept, and once all N
# have logged their start (the joins follow within a second) records the
# whole machine with `perf record -a -g` for PERF_S seconds. Linux, perf
# installed, root or perf_event_paranoid <= 0. Usage:
#   scripts/perf-join.sh [N] [PERF_S] [OUT_DIR]
# then: perf report -i OUT_DIR/perf.data --children --sort sym
# and:  scripts/formation-report.py OUT_DIR/logs/hearsay-N joins
# BIN=path profiles that binary instead of a fresh `go build` output.
# docs/swim-bench.md ("One core per agent") reads such a profile.
set -euo pipefail
n=${1:-200}; secs=${2:-12}; out=${3:-$(mktemp -d)}
cd "$(dirname "$0")/.."
mkdir -p "$out"
bin=${BIN:-$out/hearsay}
[ -n "${BIN:-}" ] || go build -o "$bin" ./cmd/hearsay
"$bin" bench swim --procs --join-after-up --impl hearsay --nodes "$n" --form-timeout 120s \
	--detect-timeout 30s --crashes 2 --meta-trials 1 --quiet-window 10s --quiet \
	--keep-logs "$out/logs" >"$out/bench.txt" 2>&1 &
bench=$!
until [ "$(grep -l 'host started' "$out/logs/hearsay-$n"/n*/stderr.log 2>/dev/null | wc -l)" -ge "$n" ]; do
	kill -0 "$bench" 2>/dev/null || { cat "$out/bench.txt"; exit 1; }
	sleep 0.05
done
perf record -a -g -F 499 -o "$out/perf.data" -- sleep "$secs" >/dev/null 2>&1
wait "$bench"
grep -E "all see|false deaths" "$out/bench.txt"
echo "profile: $out/perf.data; logs: $out/logs/hearsay-$n"
