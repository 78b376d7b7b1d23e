#!/usr/bin/env bash
# How nst's OpenMP threads should wait between parallel regions: the whole `nst` run (wall time,
# /usr/bin/time -v) under three waiting policies, on a machine with nothing else running, beside
# one busy core (another program's single-threaded work), and beside a second nst run of the same
# job (two jobs at once):
#   spin 3 ms  GOMP_SPINCOUNT=300000: libgomp's own default when neither variable is set (a
#              waiting thread spins up to ~3 ms, then sleeps)
#   spin 0.3 ms GOMP_SPINCOUNT=30000
#   passive    OMP_WAIT_POLICY=passive: sleeps at once
# An evaluation runs hundreds of short parallel regions; on a busy machine a spinning thread holds
# the core its descheduled partner needs. Each round runs the policies in turn (rotated by round).
#
# Usage:  benchmarks/wait_policy.sh [BUILD_DIR]     (default BUILD_DIR: <repo>/build-bench)
# Settings (environment): SIZES [256 512] (longer sides, one row each per condition), ITERS [20]
# (L-BFGS), ROUNDS [3], THREADS [all cores], CONDITIONS ["alone busy twice"],
# DATA_DIR [the build's NST_DATA_DIR, else <repo>/../shared].
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
case ${1-} in -h | --help) bench_help; exit 0 ;; esac
build_dir=${1:-${BUILD_DIR:-$repo/build-bench}}
SIZES=${SIZES:-"256 512"}
ITERS=${ITERS:-20}
ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-$(bench_cores)}
CONDITIONS=${CONDITIONS:-"alone busy twice"}
bench_whole wait_policy.sh 128 SIZES
bench_whole wait_policy.sh 1 ITERS ROUNDS THREADS
for condition in $CONDITIONS; do
  case $condition in alone | busy | twice) ;;
    *) echo "wait_policy.sh: CONDITIONS=\"$CONDITIONS\": '$condition' is not alone, busy or twice" >&2; exit 2 ;;
  esac
done
DATA_DIR=$(bench_data_dir "$build_dir")
bench_require wait_policy.sh "$DATA_DIR/images/tubingen.jpg" "$DATA_DIR/images/starry_night.jpg" \
  "$DATA_DIR/weights/vgg19_imagenet_notop.h5"

bench_build "$build_dir" "$DATA_DIR" nst_cli
nst=$build_dir/examples/nst
work=$(mktemp -d)
background=()
stop_background() {
  local pid
  # each loop is a process group of its own (set -m below): the group, the running job with it
  for pid in "${background[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for pid in "${background[@]}"; do wait "$pid" 2>/dev/null || true; done
  background=()
}
trap 'stop_background; rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

policies=("spin 3 ms" "spin 0.3 ms" "passive")
policy_env() {
  case $1 in
    "spin 3 ms") echo GOMP_SPINCOUNT=300000 ;;
    "spin 0.3 ms") echo GOMP_SPINCOUNT=30000 ;;
    passive) echo OMP_WAIT_POLICY=passive ;;
  esac
}
# nst_job SETTING SIZE OUTPUT [PREFIX...]: the job under the policy's setting, behind PREFIX (a timer)
nst_job() {
  env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT "$1" "${@:4}" "$nst" \
    --content "$DATA_DIR/images/tubingen.jpg" --style "$DATA_DIR/images/starry_night.jpg" \
    --weights "$DATA_DIR/weights/vgg19_imagenet_notop.h5" --size "$2" --iterations "$ITERS" \
    --threads "$THREADS" --quiet --output "$3"
}

# run_once CONDITION POLICY SIZE: sets wall to the timed run's wall seconds (not run in a
# subshell: the background jobs are this shell's, stopped by its EXIT trap whatever happens)
run_once() {
  local condition=$1 setting size=$3
  setting=$(policy_env "$2")
  set -m  # (background jobs in process groups of their own, stopped as wholes)
  case $condition in
    busy) (trap - INT TERM; while :; do :; done) & background+=($!) ;;
    twice)
      (trap - INT TERM; while nst_job "$setting" "$size" "$work/other.png"; do :; done) >/dev/null 2>&1 &
      background+=($!) ;;
  esac
  set +m
  [[ $condition == twice ]] && sleep 2  # the other job past its start-up, into its iterations
  local status=0
  nst_job "$setting" "$size" "$work/out.png" /usr/bin/time -v -o "$work/time.txt" \
    >/dev/null 2>"$work/err.txt" || status=$?
  if (( status != 0 )); then
    stop_background
    (( status == 130 || status == 143 )) && exit "$status"  # Ctrl-C / SIGTERM: stopped, not failed
    cat "$work/err.txt" >&2
    echo "wait_policy.sh: nst failed ($2, $condition, $size px)" >&2
    exit 1
  fi
  stop_background
  wall=$(wall_seconds "$work/time.txt")
}

echo "# nst: OpenMP waiting policies, whole runs (tubingen + starry_night, L-BFGS, $ITERS iterations, $THREADS threads, median of $ROUNDS)"
bench_stamp
echo
echo "| condition | size | spin 3 ms (libgomp's default) | spin 0.3 ms | passive | passive / spin 3 ms |"
echo "|---|---:|---:|---:|---:|---:|"
for condition in $CONDITIONS; do
  for size in $SIZES; do
    declare -A times=()
    for ((round = 0; round < ROUNDS; round++)); do
      for ((k = 0; k < ${#policies[@]}; k++)); do
        policy=${policies[(k + round) % ${#policies[@]}]}
        run_once "$condition" "$policy" "$size"
        times[$policy]+=" $wall"
      done
    done
    row="| $condition | $size px |"
    for policy in "${policies[@]}"; do
      m=$(bench_median <<<"${times[$policy]}")
      row+=" $m s |"
      [[ $policy == "spin 3 ms" ]] && base=$m
      [[ $policy == passive ]] && passive=$m
    done
    echo "$row $(awk -v p="$passive" -v b="$base" 'BEGIN { printf "%.2f", p / b }') |"
    unset times
  done
done
