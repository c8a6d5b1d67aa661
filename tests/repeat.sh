#!/usr/bin/env bash
# Run the whole suite (`deno task test`: tests and doc examples, --parallel) N times in a row,
# stopping at the first failure: `deno task test:repeat [N]` (default 20). Each run's output is
# kept in .out/repeat/run-K.log (ignored by git); the last line says how many runs passed.
set -u
runs="${1:-20}"
cd "$(dirname "$0")/.." || exit 1
out=".out/repeat"
mkdir -p "$out"
for ((k = 1; k <= runs; k++)); do
  start=$(date +%s)
  if deno task test >"$out/run-$k.log" 2>&1; then
    summary=$(grep -E "^(ok|FAILED) \|" "$out/run-$k.log" | tail -1 | sed 's/\x1b\[[0-9;]*m//g')
    echo "repeat: run $k/$runs passed in $(($(date +%s) - start)) s: $summary"
  else
    echo "repeat: run $k/$runs FAILED after $(($(date +%s) - start)) s; see $out/run-$k.log:"
    sed 's/\x1b\[[0-9;]*m//g' "$out/run-$k.log" | grep -E "FAILED|error:" | head -20
    echo "repeat: $((k - 1)) of $runs runs passed before the first failure"
    exit 1
  fi
done
echo "repeat: $runs of $runs runs passed"
