#!/usr/bin/env bash
# Instructions per message of an in-process bench's load alone, counted by valgrind's
# callgrind: a count that does not move with the machine's load, where wall-clock and CPU
# time on this 2-core machine move by 10-30 % between identical runs. For the "within N %"
# checks (issues 13 and 14: the seams against the build before them; issue 20: metrics on
# against off, bench/metrics-cost.sh).
#
#   bench/callgrind-load.sh DIST SCRIPT MESSAGES
#
# DIST is a built dist directory inside a checkout with node_modules; SCRIPT is core-pm
# (private messages in pairs) or core-room (a room of 100, 10 senders). Both call
# process.cpuUsage() right before and right after their load, and callgrind dumps its
# counters whenever libuv's uv_getrusage runs (--dump-before), so the last dump is exactly
# the load: start-up (module loading, migrations, hashing the admin password) is not in it,
# nor its run-to-run variation. The JIT's warm-up is, so MESSAGES should be in the
# thousands. Node runs --single-threaded (no concurrent compiler or GC helper threads); the
# SQLite writer thread is counted with the rest. The environment passes through
# (CONFAB_BENCH_METRICS=off, say).
#
# Prints: instructions per message, the number of dumps (the same for runs that compare),
# and the load's instructions.
set -euo pipefail
dist=${1:?DIST}
script="$dist/bench/${2:?SCRIPT}.js"
messages=${3:?MESSAGES}
[ -f "$script" ] || { echo "no $script: build first" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
valgrind --tool=callgrind --dump-before=uv_getrusage --callgrind-out-file="$out/cg" \
  node --single-threaded "$script" "$messages" >"$out/log" 2>&1 || { cat "$out/log" >&2; exit 1; }
parts=$(find "$out" -name 'cg.*' | wc -l)
load=$(grep -m1 '^totals:' "$out/cg.$parts" | grep -o '[0-9]*$')
echo "$((load / messages)) $parts $load"
