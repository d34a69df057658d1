#!/usr/bin/env bash
# The similar-question index measured (tests/bench/similar_bench.c): µs per added question and
# per query at 1,000 / 5,000 / 20,000 questions, memory per question, hostile floods, the
# pruning's misses, and the measures compared on the labelled set. A Release build in
# build-bench/; about a minute. Run it alone on the machine:
#   flock /tmp/forum-bench.lock bash tests/bench/similar.sh            everything
#   bash tests/bench/similar.sh --quick        the smoke run's version (small sizes, seconds)
# Writes the tables to stdout (docs/similar.md quotes them).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
build="${BENCH_BUILD_DIR:-$root_dir/build-bench}"
cmake -S "$root_dir" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$(nproc)" --target similar_bench >/dev/null
args=(--data "$root_dir/tests/data/similar/questions.tsv")
if [ "${1:-}" = "--quick" ]; then
  args+=(--sizes 1000,5000 --new 500 --flood 2000)
else
  args+=(--sizes "${SIZES:-1000,5000,20000}" --new "${NEW:-2000}" --compare)
fi
"${PIN_SERVER[@]}" "$build/similar_bench" "${args[@]}"
