#!/usr/bin/env bash
# Issue 20: what the metrics cost a private message, in instructions (valgrind's callgrind),
# which a loaded machine does not blur the way it blurs wall-clock and CPU time.
#
# Runs an in-process bench (SCRIPT: core-pm, private messages in pairs, or core-room, a room
# of 100 with 10 senders; both through ChatCore.receive on the real SQLite store) under
# callgrind at two sizes, with the metrics on and off (CONFAB_BENCH_METRICS), interleaved,
# ROUNDS times. Instructions per message = (I(large) - I(small)) / (large - small), so the
# start-up (module loading, migrations, the admin account) cancels out. Node runs with
# --single-threaded (no concurrent compiler or GC threads) so that the counts repeat.
#
#   bench/metrics-cost.sh [ROUNDS] [SMALL] [LARGE] [DIST] [SCRIPT]
#   (defaults: 3 2000 12000 dist core-pm)
#
# Prints one line per run and a summary; needs `npm run build` first.
set -euo pipefail
rounds=${1:-3}
small=${2:-2000}
large=${3:-12000}
dist=${4:-dist}
script="$dist/bench/${5:-core-pm}.js"
[ -f "$script" ] || { echo "no $script: run npm run build" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

count() { # MODE MESSAGES -> instructions of the whole process
  CONFAB_BENCH_METRICS=$1 valgrind --tool=callgrind --callgrind-out-file=/dev/null \
    node --single-threaded "$script" "$2" >"$out/log" 2>&1 || { cat "$out/log" >&2; exit 1; }
  grep -o 'Collected : [0-9]*' "$out/log" | grep -o '[0-9]*$'
}

for round in $(seq 1 "$rounds"); do
  # Alternate which mode goes first, so a drift over time does not favour one.
  if [ $((round % 2)) -eq 1 ]; then modes="on off"; else modes="off on"; fi
  for mode in $modes; do
    a=$(count "$mode" "$small")
    b=$(count "$mode" "$large")
    per=$(( (b - a) / (large - small) ))
    echo "round $round metrics=$mode I($small)=$a I($large)=$b per_message=$per"
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
