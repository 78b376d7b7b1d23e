#!/usr/bin/env bash
# The working-memory estimate that `nst` checks against --memory-limit, next to the peak RSS a
# real run reaches (/usr/bin/time -v), at several sizes and in several configurations. The
# estimate is read from the program itself: with --memory-limit 1 it refuses the run and states
# its estimate (to 0.1 GB from 1 GB on).
#
# Usage:  benchmarks/memory_estimate.sh [BUILD_DIR]     (default BUILD_DIR: <repo>/build-bench)
# Settings (environment): SIZES [128 256 512 1024], ITERATIONS [15] (L-BFGS; more than the
# history of 10 so its memory is full), THREADS [2], DATA_DIR [the build's NST_DATA_DIR, else
# <repo>/../shared], CONFIGS [default]: one or more of
#   default       tubingen + starry_night
#   styles3       three styles (+ the_scream, shipwreck)
#   masks         two styles with left / right masks and a content mask, each 1024 x 768 (the
#                 photo's size, as masks drawn on it are)
#   style_scale2  --style-scale 2 (the style image at twice the size)
#   adam          --optimizer adam
#   max           --pooling max
#   tile256       --tile 256 (the estimate of the tiled run; sizes above 256 px)
#   batch         nst-batch with the same images (one job; its cache holds the weights too)
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
case ${1:-} in -h|--help) bench_help; exit 0 ;; esac
build_dir=${1:-${BUILD_DIR:-$repo/build-bench}}
SIZES=${SIZES:-"128 256 512 1024"}
ITERATIONS=${ITERATIONS:-15}
THREADS=${THREADS:-2}
CONFIGS=${CONFIGS:-default}
bench_whole memory_estimate.sh 1 SIZES ITERATIONS THREADS
read -r -a configs <<<"$CONFIGS"
(( ${#configs[@]} )) || { echo "memory_estimate.sh: CONFIGS is empty" >&2; exit 2; }
for config in "${configs[@]}"; do
  case $config in default|styles3|masks|style_scale2|adam|max|tile256|batch) ;;
    *) echo "memory_estimate.sh: CONFIGS=\"$CONFIGS\": '$config' is not default, styles3, masks, style_scale2, adam," \
            "max, tile256 or batch" >&2; exit 2 ;;
  esac
done
DATA_DIR=$(bench_data_dir "$build_dir")
images=$DATA_DIR/images
bench_require memory_estimate.sh "$DATA_DIR/weights/vgg19_imagenet_notop.h5" "$images/tubingen.jpg" \
  "$images/starry_night.jpg"
[[ " ${configs[*]} " =~ \ (styles3|masks)\  ]] &&
  bench_require memory_estimate.sh "$images/the_scream.jpg" "$images/shipwreck.jpg"

targets=(nst_cli)
[[ " ${configs[*]} " == *" batch "* ]] && targets+=(nst_batch)
bench_build "$build_dir" "$DATA_DIR" "${targets[@]}"
nst=$build_dir/examples/nst
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
weights=(--weights "$DATA_DIR/weights/vgg19_imagenet_notop.h5" --threads "$THREADS" --quiet)

# A 1024 x 768 greyscale mask (binary PGM): white where x0 <= x < x1 and y0 <= y < y1.
mask() {
  local x0=$2 x1=$3 y0=$4 y1=$5 i
  { head -c "$x0" /dev/zero; head -c $((x1 - x0)) /dev/zero | tr '\000' '\377'; head -c $((1024 - x1)) /dev/zero; } >"$work/row"
  { printf 'P5\n1024 768\n255\n'; head -c $((y0 * 1024)) /dev/zero
    for ((i = y0; i < y1; i++)); do cat "$work/row"; done
    head -c $(((768 - y1) * 1024)) /dev/zero; } >"$work/$1.pgm"
}
if [[ " ${configs[*]} " == *" masks "* ]]; then
  mask left 0 512 0 768; mask right 512 1024 0 768; mask center 256 768 192 576
fi

# The program and its arguments for one configuration, into `run` (without --size / --iterations).
command_of() {
  local program=$nst content=(--content "$images/tubingen.jpg") style=(--style "$images/starry_night.jpg") extra=()
  case $1 in
    styles3) style+=(--style "$images/the_scream.jpg" --style "$images/shipwreck.jpg") ;;
    masks) style+=(--style "$images/the_scream.jpg")
           extra=(--style-mask "$work/left.pgm" --style-mask "$work/right.pgm" --content-mask "$work/center.pgm") ;;
    style_scale2) extra=(--style-scale 2) ;;
    adam) extra=(--optimizer adam) ;;
    max) extra=(--pooling max) ;;
    tile256) extra=(--tile 256) ;;
    batch) program=$build_dir/examples/nst-batch content=(--contents "$images/tubingen.jpg")
           style=(--styles "$images/starry_night.jpg") ;;
  esac
  run=("$program" "${content[@]}" "${style[@]}" "${extra[@]}" "${weights[@]}")
  [[ $1 == batch ]] && run+=(--output-dir "$work/out" --overwrite) || run+=(--output "$work/out.png")
  return 0
}

# "1.5 GB" / "640.0 MB" -> MB
to_mb() { awk -v v="$1" -v u="$2" 'BEGIN { f = u == "GB" ? 1024 : u == "KB" ? 1 / 1024 : 1; printf "%.0f", v * f }'; }

echo "# nst: memory estimate vs measured peak RSS (L-BFGS unless said, $ITERATIONS iterations, $THREADS threads)"
bench_stamp
echo
echo "| configuration | size | estimate | measured peak RSS | estimate / measured |"
echo "|---|---:|---:|---:|---:|"
for config in "${configs[@]}"; do
  command_of "$config"
  for size in $SIZES; do
    [[ $config == tile256 ]] && (( size <= 256 )) && continue
    refusal=$("${run[@]}" --size "$size" --memory-limit 1 2>&1 || true)
    read -r value unit < <(sed -n 's/.*needs\{0,1\} about \([0-9.]*\) \([KMG]B\).*/\1 \2/p' <<<"$refusal" | head -1) || true
    [[ -n ${value:-} ]] || { echo "memory_estimate.sh: no estimate in: $refusal" >&2; exit 1; }
    estimate=$(to_mb "$value" "$unit")
    /usr/bin/time -v -o "$work/time.txt" "${run[@]}" --size "$size" --iterations "$ITERATIONS" \
      >/dev/null 2>"$work/stderr.txt" ||
      { echo "memory_estimate.sh: the $config run at $size px failed:" >&2; cat "$work/stderr.txt" >&2; exit 1; }
    measured=$(peak_rss_mb "$work/time.txt")
    ratio=$(awk -v e="$estimate" -v m="$measured" 'BEGIN { printf "%.2f", e / m }')
    echo "| $config | $size px | $estimate MB | $measured MB | $ratio |"
  done
done
