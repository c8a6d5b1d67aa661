#!/usr/bin/env bash
# Run the suite N times in a row, stopping at the first failure:
#   deno task test:repeat [N] [--tests-only]
# N defaults to 20. By default each run is `deno task test` (tests and doc examples, --parallel);
# --tests-only runs `deno test -A --parallel tests/` (the timing-sensitive part, about a fifth of
# the time). Each run's output is kept in .out/repeat/run-K.log (ignored by git).
set -u
runs=20
only=""
for arg in "$@"; do
  case "$arg" in
    --tests-only) only=1 ;;
    *) runs="$arg" ;;
  esac
done
cd "$(dirname "$0")/.." || exit 1
out=".out/repeat"
mkdir -p "$out"
for ((k = 1; k <= runs; k++)); do
  start=$(date +%s)
  if [ -n "$only" ]; then
    deno test -A --parallel tests/ >"$out/run-$k.log" 2>&1
  else
    deno task test >"$out/run-$k.log" 2>&1
  fi
  status=$?
  log=$(sed 's/\x1b\[[0-9;]*m//g' "$out/run-$k.log")
  summary=$(grep -E "^(ok|FAILED) \|" <<<"$log" | tail -1)
  if [ "$status" -eq 0 ]; then
    echo "repeat: run $k/$runs passed in $(($(date +%s) - start)) s: $summary"
  else
    echo "repeat: run $k/$runs FAILED (exit $status) after $(($(date +%s) - start)) s: $summary"
    grep -E "=> .*FAILED|^error" <<<"$log" | head -20
    echo "repeat: $((k - 1)) of $runs runs passed before the first failure; log: $out/run-$k.log"
    exit 1
  fi
done
echo "repeat: $runs of $runs runs passed"
