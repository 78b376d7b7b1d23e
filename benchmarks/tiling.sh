#!/usr/bin/env bash
# A stylisation larger than the memory limit, in tiles: a square content at SIZE px (tubingen.jpg
# stretched to a square) with starry_night.jpg, `--tile TILE --memory-limit LIMIT`, under
# /usr/bin/time -v: wall and CPU time, peak RSS, and nst's own estimates (read from its refusals
# with --memory-limit 1: the tiled run's, and the untiled one's for comparison, both at SIZE).
# With MULTISCALE=1 the run is coarse-to-fine (--multiscale): the scales up to TILE px run on the
# whole image, the larger ones in tiles.
#
# Usage:  benchmarks/tiling.sh [BUILD_DIR]     (default BUILD_DIR: <repo>/build)
# Settings (environment): SIZE [1600], TILE [512], LIMIT [900M], ITERATIONS [8] (L-BFGS; each
# tile gets ITERATIONS / sweeps per sweep, see style_transfer/tile_plan.hpp), THREADS [2],
# DATA_DIR [the build's NST_DATA_DIR, else <repo>/../shared], KEEP [empty: a folder to keep the output and the log in],
# MULTISCALE [0; 1: --multiscale].
# Needs /usr/bin/python3 with PIL (to make the square content). Expensive: minutes.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
case ${1:-} in -h|--help) bench_help; exit 0 ;; esac
build_dir=${1:-${BUILD_DIR:-$repo/build}}
SIZE=${SIZE:-1600}
TILE=${TILE:-512}
LIMIT=${LIMIT:-900M}
ITERATIONS=${ITERATIONS:-8}
THREADS=${THREADS:-2}
MULTISCALE=${MULTISCALE:-0}
bench_whole tiling.sh 1 SIZE TILE ITERATIONS THREADS
bench_switch tiling.sh MULTISCALE
# LIMIT in the forms the peak check below reads (nst takes more: 1.5GB, ...)
[[ $LIMIT =~ ^[0-9]+(\.[0-9]+)?[KMG]?$ ]] ||
  { echo "tiling.sh: LIMIT=\"$LIMIT\": expected a number of bytes or K, M or G, e.g. 900M or 1.5G" >&2; exit 2; }
DATA_DIR=$(bench_data_dir "$build_dir")
bench_require tiling.sh "$DATA_DIR/weights/vgg19_imagenet_notop.h5" "$DATA_DIR/images/tubingen.jpg" \
  "$DATA_DIR/images/starry_night.jpg"

bench_build "$build_dir" "$DATA_DIR" nst_cli
nst=$build_dir/examples/nst
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

/usr/bin/python3 - "$DATA_DIR/images/tubingen.jpg" "$work/content.png" "$SIZE" <<'EOF'
import sys
from PIL import Image
Image.open(sys.argv[1]).convert("RGB").resize((int(sys.argv[3]),) * 2, Image.LANCZOS).save(sys.argv[2])
EOF
args=(--content "$work/content.png" --style "$DATA_DIR/images/starry_night.jpg"
      --weights "$DATA_DIR/weights/vgg19_imagenet_notop.h5" --size "$SIZE" --threads "$THREADS")

# nst's estimate, from the message of a run refused with a 1-byte limit.
estimate() { { "$nst" "${args[@]}" "$@" --memory-limit 1 --output "$work/x.png" 2>&1 || true; } |
               sed -n 's/.*need[s]* about \([0-9.]* [KMG]B\).*/\1/p'; }
tiled_estimate=$(estimate --tile "$TILE")
untiled_estimate=$(estimate)

stamp_before=$(bench_stamp)
run_args=(--tile "$TILE" --memory-limit "$LIMIT" --iterations "$ITERATIONS")
mode=""
if [[ $MULTISCALE == 1 ]]; then run_args+=(--multiscale); mode=", coarse-to-fine (--multiscale)"; fi
/usr/bin/time -v -o "$work/time.txt" "$nst" "${args[@]}" "${run_args[@]}" --output "$work/out.png" --log "$work/loss.csv" 2>"$work/stderr.txt" || {
  cat "$work/stderr.txt" "$work/time.txt" >&2; exit 1; }
field() { time_field "$work/time.txt" "$1"; }
rss_kb=$(field "Maximum resident set size (kbytes)")
limit_mb=$(awk -v l="$LIMIT" 'BEGIN { n = l + 0; u = substr(l, length(l)); f = u == "G" ? 1024 : u == "M" ? 1 : u == "K" ? 1 / 1024 : 1 / 1048576; printf "%.0f", n * f }')

echo "# nst: ${SIZE}x${SIZE} in tiles of $TILE px under --memory-limit $LIMIT (tubingen stretched + starry_night, L-BFGS, $ITERATIONS iterations$mode, $THREADS threads)"
echo "$stamp_before"
echo "finished: $(bench_stamp)"
echo
echo "| wall | user | sys | peak RSS | limit | estimate (tiled) | estimate (untiled) | tile iterations |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
echo "| $(field 'Elapsed (wall clock) time (h:mm:ss or m:ss)') | $(field 'User time (seconds)') s |" \
     "$(field 'System time (seconds)') s | $((rss_kb / 1024)) MB | $limit_mb MB | $tiled_estimate |" \
     "$untiled_estimate | $(tail -1 "$work/stderr.txt" | sed -n 's/^nst: \([0-9]*\) iterations.*/\1/p') |"
echo
echo "log rows per size (size: rows): $(awk -F, 'NR > 1 { n[$8]++ } END { for (s in n) printf "%s: %d  ", s, n[s] }' "$work/loss.csv")"
echo
tail -1 "$work/stderr.txt"
if (( rss_kb / 1024 > limit_mb )); then echo "tiling.sh: peak RSS above the limit" >&2; exit 1; fi
if [[ -n ${KEEP:-} ]]; then mkdir -p "$KEEP" && cp "$work/out.png" "$work/loss.csv" "$KEEP/"; fi
