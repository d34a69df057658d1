#!/usr/bin/env bash
# run.sh — builds the libFuzzer targets (tests/fuzz/fuzz_*.c) with clang and
# -fsanitize=fuzzer,address,undefined, compiling the pure modules directly, then runs them.
#
#   tests/fuzz/run.sh build   build only
#   tests/fuzz/run.sh smoke   replay each seed corpus, then fuzz FUZZ_SECONDS (default 20) per target
#   tests/fuzz/run.sh long    fuzz FUZZ_SECONDS (default 600) per target
#
# Targets: fuzz_proto (corpus/proto) and, when tests/fuzz/fuzz_forum.c exists, fuzz_forum
# (corpus/forum). Both use proto.dict. New inputs go to a working corpus under the build dir,
# never into the checked-in seeds; crashes are written to $FUZZ_BUILD_DIR/artifacts/.
# Exits non-zero when a build fails or any target finds a crash, leak or timeout.
#
# Environment: FUZZ_SECONDS, FUZZ_BUILD_DIR (default build/fuzz), CC (default clang),
# FUZZ_MAX_LEN (default 16384 bytes per input).
set -euo pipefail

mode="${1:-smoke}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${FUZZ_BUILD_DIR:-$root/build/fuzz}"
cc="${CC:-clang}"
max_len="${FUZZ_MAX_LEN:-16384}"
case "$mode" in
  build) seconds=0 ;;
  smoke) seconds="${FUZZ_SECONDS:-20}" ;;
  long)  seconds="${FUZZ_SECONDS:-600}" ;;
  *) echo "usage: $0 [build|smoke|long]" >&2; exit 2 ;;
esac

sources=(server/core/*.c)
for s in "${sources[@]}"; do
  [[ -f "$root/$s" ]] || { echo "run.sh: missing $s" >&2; exit 2; }
done

targets=(proto)
[[ -f "$root/tests/fuzz/fuzz_forum.c" ]] && targets+=(forum)

mkdir -p "$build/artifacts"
cflags=(-std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
        -Wall -Wextra -Wno-unused-parameter -I"$root/server/core")

for t in "${targets[@]}"; do
  echo "== building fuzz_$t"
  (cd "$root" && "$cc" "${cflags[@]}" "${sources[@]}" "tests/fuzz/fuzz_$t.c" \
      -lcjson -lcrypto -lutf8proc -lm -o "$build/fuzz_$t")
done
[[ "$mode" == build ]] && exit 0

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
status=0
summary=()
for t in "${targets[@]}"; do
  bin="$build/fuzz_$t"
  seeds="$root/tests/fuzz/corpus/$t"
  work="$build/corpus_$t"
  log="$build/fuzz_$t.log"
  mkdir -p "$work" "$seeds"
  common=(-dict="$root/tests/fuzz/proto.dict" -max_len="$max_len" -timeout=10
          -rss_limit_mb=2048 -artifact_prefix="$build/artifacts/${t}-" -print_final_stats=1)

  if [[ "$mode" == smoke ]]; then
    mapfile -t files < <(find "$seeds" -type f | sort)
    echo "== fuzz_$t: replaying ${#files[@]} seeds"
    if ((${#files[@]} > 0)) && ! "$bin" "${common[@]}" "${files[@]}" >"$log.replay" 2>&1; then
      tail -n 40 "$log.replay" >&2
      echo "fuzz_$t: a seed input fails" >&2
      status=1
      continue
    fi
  fi

  echo "== fuzz_$t: fuzzing for ${seconds}s (log: $log)"
  if "$bin" "${common[@]}" -max_total_time="$seconds" "$work" "$seeds" >"$log" 2>&1; then
    runs="$(grep -oE 'Done [0-9]+ runs in [0-9]+ second' "$log" | tail -n 1 || true)"
    cov="$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1 || true)"
    summary+=("fuzz_$t: ok, ${runs:-?} (s), ${cov:-?}, corpus $(find "$work" -type f | wc -l) files")
  else
    tail -n 60 "$log" >&2
    summary+=("fuzz_$t: FAILED (artifacts in $build/artifacts)")
    status=1
  fi
done

printf '%s\n' "${summary[@]}"
exit "$status"
