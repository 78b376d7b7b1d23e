#!/usr/bin/env bash
# The working-memory estimate that `nst` checks against --memory-limit, next to the peak RSS a
# real run reaches (/usr/bin/time -v), at several sizes. The estimate is read from the program
# itself: with --memory-limit 1 it refuses the run and states its estimate.
#
# Usage:  benchmarks/memory_estimate.sh [BUILD_DIR]     (default BUILD_DIR: <repo>/build-bench)
# Settings (environment): SIZES [128 256 512 1024], ITERATIONS [15] (L-BFGS; more than the
# history of 10 so its memory is full), THREADS [2], DATA_DIR [<repo>/../shared].
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${1:-${BUILD_DIR:-$repo/build-bench}}
SIZES=${SIZES:-"128 256 512 1024"}
ITERATIONS=${ITERATIONS:-15}
THREADS=${THREADS:-2}
DATA_DIR=${DATA_DIR:-$repo/../shared}

if [[ ! -f $build_dir/CMakeCache.txt ]]; then
  cmake -S "$repo" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DNST_DATA_DIR="$DATA_DIR" >/dev/null
fi
cmake --build "$build_dir" --target nst_cli >/dev/null
nst=$build_dir/examples/nst
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
args=(--content "$DATA_DIR/images/tubingen.jpg" --style "$DATA_DIR/images/starry_night.jpg"
      --weights "$DATA_DIR/weights/vgg19_imagenet_notop.h5" --threads "$THREADS" --quiet)

# "1.5 GB" / "640.0 MB" -> MB
to_mb() { awk -v v="$1" -v u="$2" 'BEGIN { f = u == "GB" ? 1024 : u == "KB" ? 1 / 1024 : 1; printf "%.0f", v * f }'; }

echo "# nst: memory estimate vs measured peak RSS (tubingen + starry_night, L-BFGS, $ITERATIONS iterations, $THREADS threads)"
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git -C "$repo" rev-parse --short HEAD)," \
     "$(lscpu | sed -n 's/^Model name: *//p' | head -1)"
echo
echo "| size | estimate | measured peak RSS | estimate / measured |"
echo "|---:|---:|---:|---:|"
for size in $SIZES; do
  refusal=$("$nst" "${args[@]}" --size "$size" --memory-limit 1 --output "$work/x.png" 2>&1 || true)
  read -r value unit < <(sed -n 's/.*needs about \([0-9.]*\) \([KMG]B\).*/\1 \2/p' <<<"$refusal")
  [[ -n ${value:-} ]] || { echo "memory_estimate.sh: no estimate in: $refusal" >&2; exit 1; }
  estimate=$(to_mb "$value" "$unit")
  /usr/bin/time -f "%M" -o "$work/rss" "$nst" "${args[@]}" --size "$size" --iterations "$ITERATIONS" \
    --output "$work/out.png" >/dev/null 2>&1
  measured=$(( $(tail -1 "$work/rss") / 1024 ))
  ratio=$(awk -v e="$estimate" -v m="$measured" 'BEGIN { printf "%.2f", e / m }')
  echo "| $size px | $estimate MB | $measured MB | $ratio |"
done
