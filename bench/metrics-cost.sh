#!/usr/bin/env bash
# Issue 20: what the metrics cost a private message, in instructions (valgrind's callgrind),
# which a loaded machine does not blur the way it blurs wall-clock and CPU time.
#
# Runs an in-process bench (SCRIPT: core-pm, private messages in pairs, or core-room, a room
# of 100 with 10 senders; both through ChatCore.receive on the real SQLite store) under
# callgrind with the metrics on and off (CONFAB_BENCH_METRICS), interleaved, ROUNDS times,
# and counts the instructions of the load alone (bench/callgrind-load.sh).
#
#   bench/metrics-cost.sh [ROUNDS] [MESSAGES] [DIST] [SCRIPT]
#   (defaults: 3 8000 dist core-pm)
#
# Prints one line per run and a summary; needs `npm run build` first.
set -euo pipefail
rounds=${1:-3}
messages=${2:-8000}
dist=${3:-dist}
script=${4:-core-pm}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
here=$(dirname "$0")

for round in $(seq 1 "$rounds"); do
  # Alternate which mode goes first, so a drift over time does not favour one.
  if [ $((round % 2)) -eq 1 ]; then modes="on off"; else modes="off on"; fi
  for mode in $modes; do
    read -r per parts load <<<"$(CONFAB_BENCH_METRICS=$mode "$here/callgrind-load.sh" "$dist" "$script" "$messages")"
    echo "round $round $script metrics=$mode per_message=$per dumps=$parts load=$load"
    echo "$mode $per" >>"$out/per"
  done
done

node -e '
const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n");
const by = { on: [], off: [] };
for (const line of lines) { const [mode, n] = line.split(" "); by[mode].push(Number(n)); }
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const on = median(by.on), off = median(by.off);
console.log(`instructions per message: on ${on} [${Math.min(...by.on)}–${Math.max(...by.on)}], ` +
  `off ${off} [${Math.min(...by.off)}–${Math.max(...by.off)}]`);
console.log(`metrics cost: ${on - off} instructions per message, ${((on / off - 1) * 100).toFixed(2)} %`);
' "$out/per"
