#!/usr/bin/env bash
# Coarse-to-fine against single-scale (issue 10 part 1), through the `nst` program: for each size,
# README command 1 (tubingen.jpg + starry_night.jpg, default weights and layers, L-BFGS) cut to
# ITERS iterations, once single-scale and once with --scales (halving down to >= SMALLEST px, e.g.
# 512 -> 128,256,512) or --multiscale (MULTISCALE=1), both under /usr/bin/time -v, alternating
# which runs first (or side by side: SIDE_BY_SIDE=1). It prints per run wall, user and sys time and
# peak RSS, and from the --log CSVs:
#   - the final-size loss (lowest total loss logged at the output size) and, for coarse-to-fine, its
#     ratio to the single-scale one (ratio; the issue asks for <= 1);
#   - the optimisation time (elapsed_seconds of the last row: from the first optimizer start on,
#     so loading the weights and the first targets are not counted, alike for both);
#   - for coarse-to-fine: the time until a row at the output size first has a loss <= the
#     single-scale run's final loss, and that as a share of the single-scale optimisation time
#     (the issue's goal: <= 40%); and that reach in evaluations weighted by their size's cost
#     (reach_cost), which the machine's load does not change;
#   - for coarse-to-fine: its lead at equal steps at the output size (lead_at_step: after 15, 45, 90
#     and 135 steps there, lib.sh's lead_at_steps).
#
# Usage:  benchmarks/coarse_to_fine.sh [BUILD_DIR]    (default: <repo>/build; builds nst_cli there)
# Settings (environment variables, defaults in brackets):
#   SIZES ["256 512"]   output sizes (longer side); 1024 takes ~4x the time of 512
#   ITERS [150]         --iterations of every run (the coarse-to-fine run's whole budget): one
#                       number for all sizes, or one per size in SIZES' order (SIZES="512 1024"
#                       ITERS="150 100": the README's comparison)
#   SMALLEST [128]      the coarsest scale is the smallest halving of the size that is >= this
#   MULTISCALE [0]      1: the coarse-to-fine run uses --multiscale (sqrt(2) steps from ~128 px)
#   THREADS [2]  ROUNDS [1]  EXTRA []  (more nst flags for every run, e.g. "--optimizer adam")
#   SEEDED [0]          1: round r passes --seed r to both runs, so each round is another start
#                       (--init random, or the content with EXTRA="--init-noise 0.01": that blend
#                       alone moved the single-scale final loss by up to 0.26% at 512 px) and the
#                       summary adds, per size, the ratio's mean, lowest and highest over the
#                       rounds: whether the coarse-to-fine run ends lower is then a distribution
#   SIDE_BY_SIDE [0]    1: each pair runs at the same time (with THREADS=1 on 2 cores: half the wall
#                       time; the losses do not depend on it, the reach share compares runs that
#                       shared the machine alike)
#   CONTENT [tubingen.jpg]  STYLE [starry_night.jpg]  (a path, or a file name in DATA_DIR/images)
#   DATA_DIR [the build's NST_DATA_DIR, else <repo>/../shared]
# Raw results: BUILD_DIR/coarse_to_fine/ (CSV logs, time -v outputs, images); summary.txt there
# also has the settings and, at the start and the end, the date, commit and load average.
# What such runs chose in the plan (style_transfer/scale_plan.hpp), and what did no better:
# benchmarks/coarse_to_fine.md.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
case ${1:-} in -h|--help) bench_help; exit 0 ;; esac
build_dir=${1:-$repo/build}
SIZES=${SIZES:-"256 512"}
ITERS=${ITERS:-150}
SMALLEST=${SMALLEST:-128}
MULTISCALE=${MULTISCALE:-0}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-1}
EXTRA=${EXTRA:-}
SIDE_BY_SIDE=${SIDE_BY_SIDE:-0}
SEEDED=${SEEDED:-0}
bench_whole coarse_to_fine.sh 1 SMALLEST ROUNDS
bench_switch coarse_to_fine.sh MULTISCALE SIDE_BY_SIDE SEEDED
bench_command1_setup coarse_to_fine.sh "$build_dir" coarse_to_fine

# 512 -> 128,256,512 (SMALLEST 128), 256,512 (SMALLEST 256)
scales_for() {
  local s=$1 list=$1
  while (( s / 2 >= SMALLEST )); do s=$((s / 2)); list="$s,$list"; done
  echo "$list"
}

# run NAME SIZE ITERATIONS [nst flags...]: one timed run, its CSV in $work/NAME.csv, time -v in NAME.time
run() {
  local name=$1 size=$2 iterations=$3 seed_flags=(); shift 3
  [[ $SEEDED == 1 ]] && seed_flags=(--seed "${name##*_r}")
  # shellcheck disable=SC2086
  /usr/bin/time -v -o "$work/$name.time" "$nst" -q -c "$content" -s "$style" --weights "$weights" \
    --size "$size" --iterations "$iterations" --threads "$THREADS" -o "$work/$name.png" --log "$work/$name.csv" \
    $EXTRA "${seed_flags[@]}" "$@"
}

# reach_cost CSV SIZE LOSS: the same reach in load-independent units: objective evaluations until
# then, each weighted by its size's cost against SIZE ((s^2 + 128^2) / (SIZE^2 + 128^2), as
# scale_plan.hpp's relative_step_cost), as a share of the single-scale run's evaluations (SINGLE_EVALS)
reach_cost() {
  awk -F, -v s="$2" -v l="$3" -v n="$SINGLE_EVALS" 'NR > 1 {
      c += ($7 - e) * ($8 * $8 + 16384) / (s * s + 16384); e = $7
      if ($8 == s && $2 <= l) { printf "%.0f%%", 100 * c / n; found = 1; exit } }
    END { if (!found) printf "never" }' "$1"
}

summary=$work/summary.txt
: >"$summary"
echo "coarse_to_fine.sh: SIZES=\"$SIZES\" ITERS=\"$ITERS\" SMALLEST=$SMALLEST MULTISCALE=$MULTISCALE THREADS=$THREADS ROUNDS=$ROUNDS SIDE_BY_SIDE=$SIDE_BY_SIDE SEEDED=$SEEDED EXTRA=\"$EXTRA\" CONTENT=$(basename "$content") STYLE=$(basename "$style")" | tee -a "$summary"
bench_stamp | tee -a "$summary"
# One row of the table (the header uses it too, so the columns line up).
row_format='%-6s %-5s %5s %-22s %8s %8s %7s %8s %12s %7s %9s %14s %6s %10s  %s\n'
printf "$row_format" size round iters run wall_s user_s sys_s rss_MB \
  final_loss ratio optim_s reach_s/share evals reach_cost lead_at_step | tee -a "$summary"
for k in "${!size_list[@]}"; do
  size=${size_list[k]}
  iters=$(bench_iters_at "$k")
  scales=$(scales_for "$size")
  scaled_flags=(--scales "$scales")
  if [[ $MULTISCALE == 1 ]]; then scales=multiscale; scaled_flags=(--multiscale); fi
  ratios=()
  for round in $(seq 1 "$ROUNDS"); do
    single=single_${size}_r$round scaled=scaled_${size}_r$round
    echo "size $size, round $round: single-scale and ${scaled_flags[*]}, $iters iterations each ..." >&2
    if [[ $SIDE_BY_SIDE == 1 ]]; then
      run "$single" "$size" "$iters" & pid=$!
      run "$scaled" "$size" "$iters" "${scaled_flags[@]}"
      wait "$pid"
    elif (( round % 2 == 1 )); then
      run "$single" "$size" "$iters"; run "$scaled" "$size" "$iters" "${scaled_flags[@]}"
    else
      run "$scaled" "$size" "$iters" "${scaled_flags[@]}"; run "$single" "$size" "$iters"
    fi
    target=$(final_loss "$work/$single.csv" "$size")
    single_optim=$(last_elapsed "$work/$single.csv")
    SINGLE_EVALS=$(awk -F, 'NR > 1 { e = $7 } END { print e }' "$work/$single.csv")
    for name in "$single" "$scaled"; do
      t=$work/$name.time
      reach=- cost=- ratio=- leads=-
      loss=$(final_loss "$work/$name.csv" "$size")
      if [[ $name == "$scaled" ]]; then
        ratio=$(awk -v a="$loss" -v b="$target" 'BEGIN { printf "%.4f", a / b }')
        ratios+=("$ratio")
        r=$(reach_time "$work/$name.csv" "$size" "$target")
        if [[ $r == never ]]; then reach=never
        else reach="$r/$(awk -v a="$r" -v b="$single_optim" 'BEGIN { printf "%.0f%%", 100 * a / b }')"; fi
        cost=$(reach_cost "$work/$name.csv" "$size" "$target")
        leads=$(lead_at_steps "$work/$single.csv" "$work/$name.csv" "$size" "15 45 90 135")
      fi
      label=single
      [[ $name == "$scaled" ]] && label=${scaled_flags[*]#--}
      printf "$row_format" "$size" "$round" "$iters" "$label" \
        "$(wall_seconds "$t")" "$(time_field "$t" "User time")" "$(time_field "$t" "System time")" \
        "$(( $(time_field "$t" "Maximum resident set size") / 1024 ))" \
        "$loss" "$ratio" "$(last_elapsed "$work/$name.csv")" "$reach" \
        "$(awk -F, 'NR > 1 { e = $7 } END { print e }' "$work/$name.csv")" "$cost" "$leads" | tee -a "$summary"
    done
  done
  if (( ROUNDS > 1 )); then
    printf '%s\n' "${ratios[@]}" | awk -v s="$size" '{ n++; t += $1; if (n == 1 || $1 < lo) lo = $1; if (n == 1 || $1 > hi) hi = $1; if ($1 <= 1) b++ }
      END { printf "size %s, %d rounds: ratio mean %.4f, lowest %.4f, highest %.4f, %d of %d at or below 1\n", s, n, t / n, lo, hi, b, n }' | tee -a "$summary"
  fi
done
echo "finished: $(bench_stamp)" | tee -a "$summary"
echo "raw results and this summary: $work" >&2
