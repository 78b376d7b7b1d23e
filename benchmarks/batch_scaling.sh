#!/usr/bin/env bash
# nst-batch throughput scaling (issue 12.2): the same JOBS jobs (JOBS content images x one style)
# run by nst-batch alone, and under mpirun with 1 and with 2 ranks of 1 thread each, alternating
# the order every round so the drift of a shared machine hits all alike. For each run it prints
# /usr/bin/time -v's wall, user and system time, peak RSS (the largest single process) and
# throughput in jobs per minute, then the speed-up of 2 ranks over 1.
#
# Usage:  benchmarks/batch_scaling.sh [BUILD_DIR]   (default: <repo>/build; builds target nst_batch)
# Settings (environment variables, defaults in brackets):
#   JOBS [6] SIZE [128] ITERS [10] ROUNDS [2]
#   DATA_DIR [the build's NST_DATA_DIR, else <repo>/../shared]   images/*.jpg and weights/vgg19_imagenet_notop.h5
# Raw /usr/bin/time output: BUILD_DIR/batch_scaling/*.time
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
case ${1:-} in -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;; esac
build=${1:-$repo/build}
JOBS=${JOBS:-6} SIZE=${SIZE:-128} ITERS=${ITERS:-10} ROUNDS=${ROUNDS:-2}
# The data folder: $DATA_DIR, else the build's NST_DATA_DIR, else ../shared.
cached_data=$(sed -n 's/^NST_DATA_DIR:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null | head -1)
DATA_DIR=${DATA_DIR:-${cached_data:-$repo/../shared}}
weights=$DATA_DIR/weights/vgg19_imagenet_notop.h5
[ -f "$weights" ] || { echo "batch_scaling.sh: no weights at $weights" >&2; exit 2; }
command -v mpirun >/dev/null || { echo "batch_scaling.sh: mpirun not found (apt-get install openmpi-bin)" >&2; exit 2; }

[ -f "$build/CMakeCache.txt" ] || cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release -DNST_DATA_DIR="$DATA_DIR"
cmake --build "$build" --target nst_batch -j2 >/dev/null
batch=$build/examples/nst-batch
"$batch" --version | grep -q "with MPI" || { echo "batch_scaling.sh: $batch was built without MPI" >&2; exit 2; }

work=$build/batch_scaling
rm -rf "$work" && mkdir -p "$work/contents"
# JOBS distinct content files (the sample photos in turn, under new names) and one style.
mapfile -t photos < <(ls "$DATA_DIR"/images/*.jpg)
for i in $(seq 1 "$JOBS"); do ln -s "${photos[$(( (i - 1) % ${#photos[@]} ))]}" "$work/contents/c$i.jpg"; done
style=$DATA_DIR/images/starry_night.jpg
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1

# run NAME COMMAND...: one timed run into a fresh output folder.
run() {
  local name=$1; shift
  rm -rf "$work/out"
  /usr/bin/time -v -o "$work/$name.time" "$@" --contents "$work/contents" --styles "$style" --output-dir "$work/out" \
    --weights "$weights" --size "$SIZE" -i "$ITERS" --threads 1 -q
  [ "$(ls "$work/out" | wc -l)" = "$JOBS" ] || { echo "batch_scaling.sh: $name wrote $(ls "$work/out" | wc -l) of $JOBS images" >&2; exit 1; }
  awk -v name="$name" -v jobs="$JOBS" -F': ' '
    /Elapsed \(wall clock\)/ { n = split($2, t, ":"); wall = (n == 3) ? t[1] * 3600 + t[2] * 60 + t[3] : t[1] * 60 + t[2] }
    /User time/ { user = $2 } /System time/ { sys = $2 } /Maximum resident/ { rss = $2 }
    END { printf "%-8s wall %7.2f s  user %7.2f s  sys %5.2f s  peak RSS %5.0f MB  %6.2f jobs/min\n",
                 name, wall, user, sys, rss / 1024, jobs * 60 / wall }' "$work/$name.time" | tee -a "$work/summary.txt"
}

echo "nst-batch scaling: $JOBS jobs, ${SIZE} px, $ITERS L-BFGS iterations, 1 thread per rank, $(nproc) cores"
: > "$work/summary.txt"
for round in $(seq 1 "$ROUNDS"); do
  if [ $((round % 2)) = 1 ]; then order="alone np1 np2"; else order="np2 np1 alone"; fi
  for config in $order; do
    case $config in
      alone) run alone "$batch" ;;
      np1) run np1 mpirun --bind-to none -np 1 "$batch" ;;
      np2) run np2 mpirun --bind-to none -np 2 "$batch" ;;
    esac
  done
done
awk '{ rate[$1] += $(NF - 1); n[$1]++ }
     END { for (c in rate) printf "mean %-6s %.2f jobs/min\n", c, rate[c] / n[c];
           if (n["np1"] && n["np2"]) printf "2 ranks / 1 rank throughput: %.2fx\n", (rate["np2"] / n["np2"]) / (rate["np1"] / n["np1"]) }' \
  "$work/summary.txt"
