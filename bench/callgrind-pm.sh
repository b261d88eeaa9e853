#!/usr/bin/env bash
# Issue 21: what a private message costs in instructions (valgrind's callgrind), per thread,
# and what it allocates; figures a loaded machine does not blur the way it blurs wall-clock
# and CPU time, so a change to the message path can be measured while others work.
#
# Runs bench/core-pm.js (private messages through ChatCore.receive, real SQLite store) under
# callgrind at two sizes, each thread counted apart (--separate-threads). Instructions per
# message = (I(large) - I(small)) / (large - small), so start-up cancels out; "main" is the
# event loop's thread, "writer" the SQLite writer thread (the busiest other thread), "rest"
# every other thread. Node runs with --single-threaded (no concurrent compiler or GC
# threads), so that the counts repeat. Then, outside valgrind, the same load under
# --trace-gc-nvp gives bytes allocated and promoted per message (young generation).
#
#   bench/callgrind-pm.sh [SMALL] [LARGE] [DIST] [ALLOC_MESSAGES]
#   (defaults: 2000 8000 dist 40000; ALLOC_MESSAGES=0 skips the allocation run)
#
# BENCH=core-room counts the in-process room bench instead (a message is then a room
# message with 99 deliveries). Each count also gives the store commits of its load (from
# the bench's JSON line), and the writer's instructions are given per commit as well: the
# thread's cost is a part per commit plus a part per write, and how many writes a commit
# carries moves from run to run (valgrind runs one thread at a time), so compare writer
# figures at similar commits per message.
#
# Needs `npm run build` first. Extra environment is passed through (CONFAB_BENCH_METRICS).
set -euo pipefail
small=${1:-2000}
large=${2:-8000}
dist=${3:-dist}
alloc=${4:-40000}
script="$dist/bench/${BENCH:-core-pm}.js"
[ -f "$script" ] || { echo "no $script: run npm run build" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

count() { # MESSAGES -> "main writer rest" instructions of the run
  valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$out/cg.$1" \
    node --single-threaded "$script" "$1" >"$out/log.$1" 2>&1 || { cat "$out/log.$1" >&2; exit 1; }
  # Thread 1 is the main thread; the writer is the busiest of the others.
  local main=0 writer=0 rest=0 n
  for file in "$out"/cg."$1"-*; do
    n=$(grep -m1 '^totals:' "$file" | grep -o '[0-9]*$')
    if [ "${file##*-}" = "01" ]; then main=$n
    elif [ "$n" -gt "$writer" ]; then rest=$((rest + writer)); writer=$n
    else rest=$((rest + n)); fi
  done
  rm -f "$out"/cg."$1"*
  local commits
  commits=$(grep -o '"commits":[0-9]*' "$out/log.$1" | grep -o '[0-9]*$' || echo 0)
  echo "$main $writer $rest ${commits:-0}"
}

# The two sizes run side by side (one process each; callgrind runs a process's threads
# one at a time, so neither count depends on the other).
count "$small" >"$out/small" &
count "$large" >"$out/large"
wait $!
read -r am aw ar ac <"$out/small"
read -r bm bw br bc <"$out/large"
span=$((large - small))
echo "instructions per message (${BENCH:-core-pm}, $small -> $large messages):" \
  "main $(((bm - am) / span)), writer $(((bw - aw) / span)), rest $(((br - ar) / span))," \
  "all $(((bm + bw + br - am - aw - ar) / span))"
if [ "$bc" -gt "$ac" ]; then
  echo "store commits: $ac and $bc (messages per commit $((small / (ac > 0 ? ac : 1))) and" \
    "$((large / bc))); writer instructions per commit in the large run $((bw / bc))"
fi

if [ "$alloc" -gt 0 ]; then
  node --single-threaded --trace-gc-nvp "$script" "$alloc" >"$out/gc" 2>&1
  node --input-type=module -e '
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
const { sumGcTrace } = await import(pathToFileURL(process.argv[1]).href);
const totals = sumGcTrace(readFileSync(process.argv[2], "utf8"));
const n = Number(process.argv[3]);
if (!totals) { console.log("no collections between the load markers"); process.exit(1); }
console.log(`per message (young generation, ${n} messages): allocated ` +
  `${(totals.allocatedBytes / n).toFixed(0)} B, promoted ${(totals.promotedBytes / n).toFixed(0)} B, ` +
  `${totals.scavenges} scavenges, ${totals.fullCollections} full collections, ` +
  `pauses ${(totals.pauseMs * 1000 / n).toFixed(2)} µs a message`);
' "$dist/bench/gc-trace.js" "$out/gc" "$alloc"
fi
