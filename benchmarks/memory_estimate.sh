#!/usr/bin/env bash
# The working-memory estimate that `nst` checks against --memory-limit, next to the peak RSS a
# real run reaches (/usr/bin/time -v), at several sizes. The estimate is read from the program
# itself: with --memory-limit 1 it refuses the run and states its estimate.
#
# Usage:  benchmarks/memory_estimate.sh [BUILD_DIR]     (default BUILD_DIR: <repo>/build-bench)
# Settings (environment): SIZES [128 256 512 1024], ITERATIONS [15] (L-BFGS; more than the
# history of 10 so its memory is full), THREADS [2], DATA_DIR [the build's NST_DATA_DIR, else <repo>/../shared].
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
case ${1:-} in -h|--help) bench_help; exit 0 ;; esac
build_dir=${1:-${BUILD_DIR:-$repo/build-bench}}
SIZES=${SIZES:-"128 256 512 1024"}
ITERATIONS=${ITERATIONS:-15}
THREADS=${THREADS:-2}
bench_whole memory_estimate.sh 1 SIZES ITERATIONS THREADS
DATA_DIR=$(bench_data_dir "$build_dir")
bench_require memory_estimate.sh "$DATA_DIR/weights/vgg19_imagenet_notop.h5" "$DATA_DIR/images/tubingen.jpg" \
  "$DATA_DIR/images/starry_night.jpg"

bench_build "$build_dir" "$DATA_DIR" nst_cli
nst=$build_dir/examples/nst
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
args=(--content "$DATA_DIR/images/tubingen.jpg" --style "$DATA_DIR/images/starry_night.jpg"
      --weights "$DATA_DIR/weights/vgg19_imagenet_notop.h5" --threads "$THREADS" --quiet)

# "1.5 GB" / "640.0 MB" -> MB
to_mb() { awk -v v="$1" -v u="$2" 'BEGIN { f = u == "GB" ? 1024 : u == "KB" ? 1 / 1024 : 1; printf "%.0f", v * f }'; }

echo "# nst: memory estimate vs measured peak RSS (tubingen + starry_night, L-BFGS, $ITERATIONS iterations, $THREADS threads)"
bench_stamp
echo
echo "| size | estimate | measured peak RSS | estimate / measured |"
echo "|---:|---:|---:|---:|"
for size in $SIZES; do
  refusal=$("$nst" "${args[@]}" --size "$size" --memory-limit 1 --output "$work/x.png" 2>&1 || true)
  read -r value unit < <(sed -n 's/.*needs about \([0-9.]*\) \([KMG]B\).*/\1 \2/p' <<<"$refusal") || true
  [[ -n ${value:-} ]] || { echo "memory_estimate.sh: no estimate in: $refusal" >&2; exit 1; }
  estimate=$(to_mb "$value" "$unit")
  /usr/bin/time -v -o "$work/time.txt" "$nst" "${args[@]}" --size "$size" --iterations "$ITERATIONS" \
    --output "$work/out.png" >/dev/null 2>"$work/stderr.txt" ||
    { echo "memory_estimate.sh: the $size px run failed:" >&2; cat "$work/stderr.txt" >&2; exit 1; }
  measured=$(peak_rss_mb "$work/time.txt")
  ratio=$(awk -v e="$estimate" -v m="$measured" 'BEGIN { printf "%.2f", e / m }')
  echo "| $size px | $estimate MB | $measured MB | $ratio |"
done
