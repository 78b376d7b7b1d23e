#!/usr/bin/env bash
# L-BFGS on the image's resolution levels against L-BFGS on its pixels (style_transfer/
# pyramid_parametrization.hpp), through the `nst` program: for each size, README command 1
# (tubingen.jpg + starry_night.jpg, default weights and layers, L-BFGS) cut to ITERS iterations,
# once with --pyramid-levels 0 (the pixels) and once with LEVELS, under /usr/bin/time -v,
# alternating which runs first each round (or side by side: SIDE_BY_SIDE=1). It prints per run wall,
# user and sys time, peak RSS, the optimisation time per evaluation (s_per_eval: what the levels'
# own passes and longer L-BFGS vectors add to an evaluation), the final loss, and for the levels run:
#   - ratio: its final loss / the pixel run's (below 1: the levels end lower);
#   - reach_step: its first step with a loss <= the pixel run's final loss ("never" if none): the
#     steps the levels need for what the pixels reach in ITERS, which the machine's load does not
#     change; reach_s/share: the time until then, and as a share of the pixel run's optimisation
#     time (elapsed_seconds of the CSVs: loading the weights and the targets not counted);
#   - lead_at_step: after k steps (k = ITERS/5, 2/5, 3/5, 4/5 of ITERS), the pixel run's first
#     step with a loss <= the levels run's, minus k (lib.sh's lead_at_steps).
#
# Usage:  benchmarks/pyramid_levels.sh [BUILD_DIR]    (default: <repo>/build; builds nst_cli there)
# Settings (environment variables, defaults in brackets):
#   SIZES ["256 512"]   output sizes (longer side); 1024 takes ~4x the time of 512
#   ITERS [150]         --iterations: one number for all sizes, or one per size in SIZES' order
#   LEVELS [auto]       --pyramid-levels of the levels run
#   THREADS [2]  ROUNDS [1]  EXTRA []  (more nst flags for every run)
#   SIDE_BY_SIDE [0]    1: each pair runs at the same time (with THREADS=1 on 2 cores)
#   CONTENT [tubingen.jpg]  STYLE [starry_night.jpg]  (a path, or a file name in DATA_DIR/images)
#   DATA_DIR [the build's NST_DATA_DIR, else <repo>/../shared]
# Raw results: BUILD_DIR/pyramid_levels/ (CSV logs, time -v outputs, images); summary.txt there
# also has the settings and, at the start and the end, the date, commit and load average.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
case ${1:-} in -h|--help) bench_help; exit 0 ;; esac
build_dir=${1:-$repo/build}
SIZES=${SIZES:-"256 512"}
ITERS=${ITERS:-150}
LEVELS=${LEVELS:-auto}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-1}
EXTRA=${EXTRA:-}
SIDE_BY_SIDE=${SIDE_BY_SIDE:-0}
bench_whole pyramid_levels.sh 1 ROUNDS
bench_switch pyramid_levels.sh SIDE_BY_SIDE
bench_command1_setup pyramid_levels.sh "$build_dir" pyramid_levels

# run NAME SIZE ITERATIONS LEVELS: one timed run, its CSV in $work/NAME.csv, time -v in NAME.time
run() {
  # shellcheck disable=SC2086
  /usr/bin/time -v -o "$work/$1.time" "$nst" -q -c "$content" -s "$style" --weights "$weights" \
    --size "$2" --iterations "$3" --pyramid-levels "$4" --threads "$THREADS" -o "$work/$1.png" \
    --log "$work/$1.csv" $EXTRA
}

# first_step CSV LOSS: the first iteration with a loss <= LOSS, or "never"
first_step() { awk -F, -v l="$2" 'NR > 1 && $2 <= l { print $1; found = 1; exit } END { if (!found) print "never" }' "$1"; }

summary=$work/summary.txt
: >"$summary"
echo "pyramid_levels.sh: SIZES=\"$SIZES\" ITERS=\"$ITERS\" LEVELS=$LEVELS THREADS=$THREADS ROUNDS=$ROUNDS SIDE_BY_SIDE=$SIDE_BY_SIDE EXTRA=\"$EXTRA\" CONTENT=$(basename "$content") STYLE=$(basename "$style")" | tee -a "$summary"
bench_stamp | tee -a "$summary"
# One row of the table (the header uses it too, so the columns line up).
row_format='%-6s %-5s %5s %-12s %8s %8s %7s %8s %10s %12s %7s %10s %14s  %s\n'
printf "$row_format" size round iters run wall_s user_s sys_s \
  rss_MB s_per_eval final_loss ratio reach_step reach_s/share lead_at_step | tee -a "$summary"
for k in "${!size_list[@]}"; do
  size=${size_list[k]}
  iters=$(bench_iters_at "$k")
  for round in $(seq 1 "$ROUNDS"); do
    pixels=pixels_${size}_r$round levels=levels_${size}_r$round
    echo "size $size, round $round: --pyramid-levels 0 and $LEVELS, $iters iterations each ..." >&2
    if [[ $SIDE_BY_SIDE == 1 ]]; then
      run "$pixels" "$size" "$iters" 0 & pid=$!
      run "$levels" "$size" "$iters" "$LEVELS"
      wait "$pid"
    elif (( round % 2 == 1 )); then
      run "$pixels" "$size" "$iters" 0; run "$levels" "$size" "$iters" "$LEVELS"
    else
      run "$levels" "$size" "$iters" "$LEVELS"; run "$pixels" "$size" "$iters" 0
    fi
    target=$(final_loss "$work/$pixels.csv" "$size")
    pixels_optim=$(last_elapsed "$work/$pixels.csv")
    for name in "$pixels" "$levels"; do
      t=$work/$name.time
      loss=$(final_loss "$work/$name.csv" "$size")
      ratio=- step=- reach=- leads=- label="levels 0"
      if [[ $name == "$levels" ]]; then
        label="levels $LEVELS"
        ratio=$(awk -v a="$loss" -v b="$target" 'BEGIN { printf "%.4f", a / b }')
        step=$(first_step "$work/$name.csv" "$target")
        r=$(reach_time "$work/$name.csv" "$size" "$target")
        if [[ $r == never ]]; then reach=never
        else reach="$r/$(awk -v a="$r" -v b="$pixels_optim" 'BEGIN { printf "%.0f%%", 100 * a / b }')"; fi
        leads=$(lead_at_steps "$work/$pixels.csv" "$work/$name.csv" "$size" \
          "$((iters / 5)) $((2 * iters / 5)) $((3 * iters / 5)) $((4 * iters / 5))")
      fi
      printf "$row_format" "$size" "$round" "$iters" "$label" \
        "$(wall_seconds "$t")" "$(time_field "$t" "User time")" "$(time_field "$t" "System time")" \
        "$(peak_rss_mb "$t")" "$(seconds_per_evaluation "$work/$name.csv")" "$loss" "$ratio" "$step" "$reach" "$leads" | tee -a "$summary"
    done
  done
done
echo "finished: $(bench_stamp)" | tee -a "$summary"
echo "raw results and this summary: $work" >&2
