#!/usr/bin/env bash
# bf16 against fp32 convolutions (issue 8 part 5), two views:
#   1. per layer: bench_conv_kernels on every VGG19 conv shape at a 512 px input, forward and
#      backward, with the fp32 kernels (implicit GEMM, Winograd) and the bf16 implicit GEMM;
#      fp32/bf16 = the faster fp32 kernel's time over bf16's. A layer set to bf16 keeps Winograd
#      where conv3x3_engine's prefer_winograd picks it (not for conv1_1's 3 channels, nor under
#      32 tiles) and runs bf16 instead of the fp32 implicit GEMM elsewhere;
#   2. per objective evaluation at SIZE px: nst_eval with --precision fp32, bf16 (the backward
#      pass in bf16) and bf16_all (both passes), alternated ROUNDS times; median process CPU time
#      per evaluation (less disturbed by a busy machine than wall time) and wall time.
# Prints nothing about bf16 on a build without AVX512_BF16 (nst_eval then says precision=fp32).
#
# Usage:  benchmarks/bf16_speed.sh [BUILD_DIR]    (default: <repo>/build; builds the two programs)
# Settings (environment variables, defaults in brackets):
#   SIZE [512]  EVALS [3]  ROUNDS [2]  THREADS [1] (1: per-core speed, least disturbed by load)
#   LAYERS [1]  0: skip the per-layer part
# Output: the stamp (date, commit, CPU, load) at the start and the end, then the tables.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
case ${1:-} in -h|--help) bench_help; exit 0 ;; esac
build_dir=${1:-$repo/build}
SIZE=${SIZE:-512} EVALS=${EVALS:-3} ROUNDS=${ROUNDS:-2} THREADS=${THREADS:-1} LAYERS=${LAYERS:-1}
bench_whole bf16_speed.sh 1 SIZE EVALS ROUNDS THREADS
bench_switch bf16_speed.sh LAYERS
bench_build "$build_dir" "$(bench_data_dir "$build_dir")" nst_eval bench_conv_kernels -j1
echo "# $(bench_stamp)"
echo "# threads $THREADS"

if [[ $LAYERS == 1 ]]; then
  echo "## per layer (ms per call, ${THREADS} thread(s)); fastest fp32 kernel vs bf16"
  OMP_NUM_THREADS=$THREADS "$build_dir/benchmarks/bench_conv_kernels" \
    --benchmark_filter='/(implicit|winograd|bf16)(/|$)' --benchmark_min_time=0.3 \
    --benchmark_format=csv 2>/dev/null |
    awk -F, 'NR > 1 { gsub(/"/, "", $1); split($1, p, "/"); key = p[1] "/" p[2];
                      t[key, p[3]] = $4; if (!(key in seen)) { seen[key] = 1; order[++n] = key } }
             END { printf "%-22s %10s %10s %10s %8s\n", "layer/direction", "implicit", "winograd", "bf16", "fp32/bf16";
                   for (i = 1; i <= n; i++) { k = order[i]; f = t[k, "implicit"];
                     if (t[k, "winograd"] != "" && t[k, "winograd"] + 0 < f + 0) f = t[k, "winograd"];
                     printf "%-22s %10.2f %10.2f %10.2f %8.2f\n", k, t[k, "implicit"], t[k, "winograd"], t[k, "bf16"],
                            (t[k, "bf16"] > 0 ? f / t[k, "bf16"] : 0) } }'
fi

echo "## per evaluation at ${SIZE} px: median CPU s / median wall s (${THREADS} thread(s), $EVALS evals, $ROUNDS rounds alternated)"
for round in $(seq 1 "$ROUNDS"); do
  for p in fp32 bf16 bf16_all; do
    line=$("$build_dir/benchmarks/nst_eval" --size "$SIZE" --evals "$EVALS" --threads "$THREADS" --precision "$p")
    cpu=$(sed -n 's/.*median_cpu_s=\([^ ]*\).*/\1/p' <<<"$line")
    wall=$(sed -n 's/.*median_s=\([^ ]*\).*/\1/p' <<<"$line")
    used=$(sed -n 's/.*precision=\([^ ]*\).*/\1/p' <<<"$line")
    printf "round %d  %-8s (in use: %-8s) cpu %s s  wall %s s\n" "$round" "$p" "$used" "$cpu" "$wall"
  done
done
echo "# $(bench_stamp)"
