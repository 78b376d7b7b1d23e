#!/usr/bin/env bash
# nst-batch throughput scaling (issue 12.2): the same JOBS jobs (JOBS content images x one style)
# run by nst-batch alone, and under mpirun with 1 and with 2 ranks of 1 thread each, alternating
# the order every round so the drift of a shared machine hits all alike. For each run it prints
# /usr/bin/time -v's wall, user and system time, peak RSS (the largest single process) and
# CPU seconds (user + system) per job and throughput in jobs per minute; then each
# configuration's means and one line README can quote:
#   throughput of 2 ranks / 1 rank: 1.90x (... jobs/min; <settings>; <date>, commit <hash>)
# On a loaded machine the ranks compete with other work: such figures are provisional (the CPU
# seconds per job say what each rank's share of overhead costs, load or not).
#
# Usage:  benchmarks/batch_scaling.sh [BUILD_DIR]   (default: <repo>/build; builds target nst_batch)
# Settings (environment variables, defaults in brackets):
#   JOBS [6] SIZE [128] ITERS [10] ROUNDS [2]
#   DATA_DIR [the build's NST_DATA_DIR, else <repo>/../shared]   images/*.jpg and weights/vgg19_imagenet_notop.h5
# Raw /usr/bin/time output: BUILD_DIR/batch_scaling/*.time
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
case ${1:-} in -h|--help) bench_help; exit 0 ;; esac
build=${1:-$repo/build}
JOBS=${JOBS:-6} SIZE=${SIZE:-128} ITERS=${ITERS:-10} ROUNDS=${ROUNDS:-2}
bench_whole batch_scaling.sh 1 JOBS SIZE ROUNDS
bench_whole batch_scaling.sh 0 ITERS
DATA_DIR=$(bench_data_dir "$build")
weights=$DATA_DIR/weights/vgg19_imagenet_notop.h5
style=$DATA_DIR/images/starry_night.jpg
bench_require batch_scaling.sh "$weights" "$style"
command -v mpirun >/dev/null || { echo "batch_scaling.sh: mpirun not found (apt-get install openmpi-bin)" >&2; exit 2; }
bench_build "$build" "$DATA_DIR" nst_batch -j 2
batch=$build/examples/nst-batch
"$batch" --version | grep -q "with MPI" || { echo "batch_scaling.sh: $batch was built without MPI" >&2; exit 2; }

work=$build/batch_scaling
rm -rf "$work" && mkdir -p "$work/contents"
# JOBS distinct content files (the sample photos in turn, under new names) and one style.
mapfile -t photos < <(ls "$DATA_DIR"/images/*.jpg)
for i in $(seq 1 "$JOBS"); do ln -s "${photos[$(( (i - 1) % ${#photos[@]} ))]}" "$work/contents/c$i.jpg"; done
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1

# run NAME COMMAND...: one timed run into a fresh output folder.
run() {
  local name=$1; shift
  rm -rf "$work/out"
  /usr/bin/time -v -o "$work/$name.time" "$@" --contents "$work/contents" --styles "$style" --output-dir "$work/out" \
    --weights "$weights" --size "$SIZE" -i "$ITERS" --threads 1 -q
  [ "$(ls "$work/out" | wc -l)" = "$JOBS" ] || { echo "batch_scaling.sh: $name wrote $(ls "$work/out" | wc -l) of $JOBS images" >&2; exit 1; }
  local t=$work/$name.time wall user sys
  wall=$(wall_seconds "$t") user=$(time_field "$t" "User time") sys=$(time_field "$t" "System time")
  printf '%-6s %8.2f %8.2f %6.2f %7d %9.2f %8.2f\n' "$name" "$wall" "$user" "$sys" "$(peak_rss_mb "$t")" \
    "$(awk -v u="$user" -v s="$sys" -v j="$JOBS" 'BEGIN { print (u + s) / j }')" \
    "$(awk -v w="$wall" -v j="$JOBS" 'BEGIN { print j * 60 / w }')" | tee -a "$work/summary.txt"
}

setting="$JOBS jobs of $SIZE px, $ITERS L-BFGS iterations, 1 thread per rank"
echo "# nst-batch throughput: $setting"
bench_stamp
echo
printf '%-6s %8s %8s %6s %7s %9s %8s\n' run wall_s user_s sys_s rss_MB cpu_s/job jobs/min
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
# The means, then one line README can quote as it stands.
echo
awk -v setting="$setting" -v stamp="$(date -u '+%Y-%m-%d'), commit $(bench_commit)" '
  { rate[$1] += $NF; cpu[$1] += $(NF - 1); n[$1]++ }
  END {
    for (c in rate) printf "mean %-6s %.2f jobs/min, %.2f CPU s per job, over %d runs\n", c, rate[c] / n[c], cpu[c] / n[c], n[c]
    if (n["np1"] && n["np2"])
      printf "throughput of 2 ranks / 1 rank: %.2fx (%.2f vs %.2f jobs/min; %s; %s)\n",
             (rate["np2"] / n["np2"]) / (rate["np1"] / n["np1"]), rate["np2"] / n["np2"], rate["np1"] / n["np1"], setting, stamp
  }' "$work/summary.txt"
