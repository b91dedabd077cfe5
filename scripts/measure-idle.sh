#!/usr/bin/env bash
# Measures idle agents: N agent processes on 127.0.0.1 joined through the
# first, left idle, then reports each one's memory (RSS, and the private
# and proportional parts from /proc/PID/smaps_rollup) and the CPU all of
# them used over a window. Linux only. Usage: scripts/measure-idle.sh [N] [SETTLE_S] [WINDOW_S]
# BIN=path measures that binary (copied with cp) instead of a fresh `go build`
# output: how the file entered the page cache changes the RSS figure (see
# docs/agent-resources.md). EVICT=1 evicts the binary from the page cache
# before the agents start.
set -euo pipefail
n=${1:-11}; settle=${2:-30}; window=${3:-20}
cd "$(dirname "$0")/.."
dir=$(mktemp -d)
trap 'pkill -f "data-dir $dir/" || true; wait; rm -rf "$dir"' EXIT
if [ -n "${BIN:-}" ]; then cp "$BIN" "$dir/hearsay"; else go build -o "$dir/hearsay" ./cmd/hearsay; fi
# EVICT=1 drops the binary from the page cache first, so the agents' own
# page faults read it back from disk, as after a reboot.
if [ -n "${EVICT:-}" ]; then sync "$dir/hearsay"; dd if="$dir/hearsay" iflag=nocache count=0 status=none; fi
start() { "$dir/hearsay" agent --data-dir "$dir/a$1" --listen /ip4/127.0.0.1/tcp/0 --rpc-listen 127.0.0.1:0 --log-level error "${@:2}" > "$dir/a$1.out" 2>&1 & }
start 0
for _ in $(seq 50); do grep -q /tcp/ "$dir/a0.out" 2>/dev/null && break; sleep 0.1; done
join=$(grep /tcp/ "$dir/a0.out" | head -1)
for i in $(seq 1 $((n-1))); do start "$i" --join "$join"; done
sleep "$settle"
echo "agents: $n; peers of a0: $("$dir/hearsay" stats --data-dir "$dir/a0" | grep 'active / passive')"
printf '%-6s %10s %12s %10s %12s\n' agent rss_kB private_kB pss_kB filepmd_kB
pids=()
for i in $(seq 0 $((n-1))); do
  p=$(pgrep -f "data-dir $dir/a$i " | head -1); pids+=("$p")
  awk -v a="a$i" '/^Rss:/{r=$2} /^Pss:/{s=$2} /^Private_Dirty:/{d=$2} /^Private_Clean:/{c=$2} /^FilePmdMapped:/{h=$2} END{printf "%-6s %10d %12d %10d %12d\n", a, r, d+c, s, h}' "/proc/$p/smaps_rollup"
done
ticks() { t=0; for p in "${pids[@]}"; do t=$((t + $(awk '{print $14+$15}' "/proc/$p/stat"))); done; echo $t; }
# Wake-ups: voluntary context switches summed over every thread of every
# agent (a thread blocks, then something wakes it). Unlike CPU time this
# barely depends on what else the machine runs.
wakes() { cat /proc/"${pids[0]}"/task/*/status >/dev/null; t=0; for p in "${pids[@]}"; do t=$((t + $(cat /proc/"$p"/task/*/status 2>/dev/null | awk '/^voluntary_ctxt_switches/{s+=$2} END{print s+0}'))); done; echo $t; }
# Frames sent per protocol, summed over every agent (mesh_stats through
# `hearsay stats --format json`): "protocol count" lines.
frames() { for i in $(seq 0 $((n-1))); do "$dir/hearsay" stats --format json --data-dir "$dir/a$i"; done |
  awk '/"\/hearsay\//{gsub(/[":{ ]/,""); p=$0} /"Sent":/ && p!=""{gsub(/[",]/,""); s[p]+=$2; p=""} END{for (k in s) print k, s[k]}' | sort; }
f0=$(frames)
t0=$(ticks); w0=$(wakes); sleep "$window"; t1=$(ticks); w1=$(wakes)
f1=$(frames)
join <(echo "$f0") <(echo "$f1") | awk -v n="$n" -v w="$window" '{printf "frames sent per agent per second, %s: %.2f\n", $1, ($3-$2)/n/w}'
hz=$(getconf CLK_TCK); cores=$(nproc)
echo "wake-ups over ${window}s: $(echo "scale=1; ($w1-$w0)/$n/$window" | bc) per agent per second (voluntary context switches)"
echo "CPU over ${window}s: $(echo "scale=2; ($t1-$t0)*100/$hz/$window" | bc)% of one core, $(echo "scale=2; ($t1-$t0)*100/$hz/$window/$cores" | bc)% of the machine's $cores cores"
