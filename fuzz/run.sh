#!/usr/bin/env bash
# Coverage-guided fuzzing with libFuzzer on stable Rust (no cargo-fuzz, no nightly).
#
#   bash fuzz/run.sh build                  # the instrumented targets, in target/fuzz
#   bash fuzz/run.sh smoke [SECONDS]        # each target SECONDS (default 15) from its committed
#                                           #   corpus; the README's test command runs this
#   bash fuzz/run.sh run TARGET RUNS        # a long run of RUNS executions; new inputs go to
#                                           #   target/fuzz-corpus/TARGET, crashes to target/fuzz-crashes/,
#                                           #   the log to target/fuzz-logs/TARGET/<start time>.log
#   bash fuzz/run.sh report                 # the long runs' figures as a Markdown table (all runs of a
#                                           #   target summed; coverage and corpus from its latest run)
#   bash fuzz/run.sh merge TARGET           # replace fuzz/corpus/TARGET by the smallest set of it and
#                                           #   the long run's inputs that keeps their coverage
#
# How it works on stable: libfuzzer-sys compiles libFuzzer itself (C++, with the system's g++),
# and rustc's stable codegen options insert the coverage hooks libFuzzer reads (inline 8-bit
# counters, the PC table, comparison tracing): exactly what `cargo fuzz --sanitizer none` passes,
# minus the nightly-only `-Z` flags. Without a sanitizer the targets find panics, aborts,
# overflows (checked here), timeouts and memory blow-ups, which is what safe Rust can have.
set -euo pipefail
cd "$(dirname "$0")"
TARGETS=(prompt phrases depth normals semantic instance referring manifest weights arrays photo)
HOST=$(rustc -vV | sed -n 's/^host: //p')
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/../target}/fuzz"
# --target keeps these flags off build scripts and proc macros.
export RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cforce-frame-pointers"
BIN="$CARGO_TARGET_DIR/$HOST/release"

# Longest input per target: enough for its format, small enough to keep executions fast.
max_len() {
  case "$1" in
    prompt | phrases) echo 2048 ;;
    manifest) echo 16384 ;;
    photo | weights) echo 8192 ;;
    *) echo 4096 ;;
  esac
}

# Every run: 10 s per input at most, 2 GB of memory at most (issue 10's bound for the CLI).
limits() { echo "-timeout=10 -rss_limit_mb=2048 -max_len=$(max_len "$1")"; }

build() {
  cargo build --release --target "$HOST" --quiet
}

case "${1:-}" in
  build) build ;;
  smoke)
    seconds="${2:-15}"
    build
    scratch=$(mktemp -d)
    trap 'rm -rf "$scratch"' EXIT
    # One target per core at a time (libFuzzer runs one thread): the same seconds each, less wall time.
    jobs_max="${FUZZ_JOBS:-$(nproc)}"
    smoke_one() {
      # New inputs go to the scratch folder (first), the committed corpus is only read.
      local status=0
      "$BIN/$1" $(limits "$1") -max_total_time="$seconds" -print_final_stats=1 \
        -artifact_prefix="$scratch/$1-" "$scratch/$1" "corpus/$1" >"$scratch/$1.log" 2>&1 || status=$?
      echo "$status" >"$scratch/$1.status"
    }
    for t in "${TARGETS[@]}"; do
      mkdir -p "$scratch/$t"
      while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n || true; done
      smoke_one "$t" &
    done
    wait
    for t in "${TARGETS[@]}"; do
      if [ "$(cat "$scratch/$t.status")" != 0 ]; then
        tail -n 30 "$scratch/$t.log"
        echo "fuzz target $t failed; the input that failed is above (artifact in $scratch, kept)" >&2
        trap - EXIT
        exit 1
      fi
      execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$scratch/$t.log")
      cov=$(grep -o 'cov: [0-9]*' "$scratch/$t.log" | tail -n 1)
      echo "fuzz $t: $execs executions in ${seconds} s, $cov, 0 crashes"
    done
    ;;
  run)
    t="$2"
    runs="$3"
    build
    mkdir -p "../target/fuzz-corpus/$t" ../target/fuzz-crashes "../target/fuzz-logs/$t"
    started=$(date +%s)
    log="../target/fuzz-logs/$t/$started.log"
    status=0
    "$BIN/$t" $(limits "$t") -runs="$runs" -print_final_stats=1 \
      -artifact_prefix="../target/fuzz-crashes/$t-" "../target/fuzz-corpus/$t" "corpus/$t" \
      2>&1 | tee "$log" || status=$?
    echo "wall_seconds: $(( $(date +%s) - started ))" >> "$log"
    exit "$status"
    ;;
  report)
    # One table row per target: its long runs (target/fuzz-logs/TARGET/*.log) summed; coverage,
    # features and corpus from the latest run, which starts from the corpus the earlier ones grew.
    echo "| target | runs | executions | wall time | exec/s | coverage (edges) | features | corpus | peak RSS | crashes / timeouts / slow inputs |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
    for t in "${TARGETS[@]}"; do
      logs=("../target/fuzz-logs/$t/"*.log)  # start times: same width, so sorted by time
      [ -f "${logs[0]}" ] || continue
      n=0 execs=0 wall=0 rss=0 crashes=0 timeouts=0 slow=0
      for log in "${logs[@]}"; do
        e=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | head -n 1)
        [ -n "$e" ] || continue  # still running (no final figures yet)
        n=$((n + 1))
        execs=$((execs + e))
        wall=$((wall + $(sed -n 's/^wall_seconds: *//p' "$log" | head -n 1)))
        r=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | head -n 1)
        rss=$(( ${r:-0} > rss ? ${r:-0} : rss ))
        crashes=$((crashes + $(grep -c 'Test unit written to .*/[a-z]*-crash-' "$log" || true)))
        timeouts=$((timeouts + $(grep -c 'Test unit written to .*/[a-z]*-timeout-' "$log" || true)))
        slow=$((slow + $(grep -c 'Test unit written to .*/[a-z]*-slow-unit-' "$log" || true)))
        latest=$log
      done
      [ "$n" -gt 0 ] || continue
      last=$(grep -E '^#[0-9]+' "$latest" | tail -n 1)
      cov=$(grep -o 'cov: [0-9]*' <<<"$last" | cut -d' ' -f2)
      ft=$(grep -o 'ft: [0-9]*' <<<"$last" | cut -d' ' -f2)
      corp=$(grep -o 'corp: [0-9]*/[0-9]*[a-zA-Z]*' <<<"$last" | cut -d' ' -f2)
      echo "| $t | $n | $execs | $wall s | $((execs / (wall > 0 ? wall : 1))) | $cov | $ft | $corp | $rss MB | $crashes / $timeouts / $slow |"
    done
    ;;
  merge)
    t="$2"
    build
    merged=$(mktemp -d)
    "$BIN/$t" $(limits "$t") -set_cover_merge=1 "$merged" "corpus/$t" "../target/fuzz-corpus/$t"
    rm -rf "corpus/$t"
    mv "$merged" "corpus/$t"
    ;;
  *)
    sed -n "2,14p" "$0" >&2
    exit 2
    ;;
esac
