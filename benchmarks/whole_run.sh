#!/usr/bin/env bash
# What a user waits for, nst against PyTorch CPU (issue 8.6). In one run, the engines alternating
# (order flipped every round, so drift of a shared machine hits both alike), it measures:
#   (a) one objective evaluation at SIZE x SIZE: benchmarks/nst_eval vs benchmarks/reference_pytorch.py
#       (hashed weights and images, the same work; see compare_pytorch.sh);
#   (b) one Adam iteration at SIZE x SIZE through the `nst` program vs benchmarks/stylize_pytorch.py
#       running the same style transfer: tubingen.jpg + starry_night.jpg resized to SIZE x SIZE,
#       the real VGG19 weights, nst's default layers, loss weights and learning rate (nst with
#       --no-size-invariant, a no-op at 512 px, so that at any other SIZE it sums the content and TV
#       terms as stylize_pytorch.py does, unscaled). Per-iteration time comes from both programs'
#       per-iteration CSV (elapsed_seconds), from iteration SKIP to the last, so start-up (weights,
#       targets, first evaluations) is excluded; peak RSS from
#       /usr/bin/time;
#   (d) README command 1 cut to LBFGS_ITERS L-BFGS iterations (512 px, i.e. 512x384), THREADS
#       threads and 1 thread: wall, user, sys, sys share of CPU time, CPU %, minor page faults per
#       iteration, peak RSS (/usr/bin/time, the figures `-v` prints), the CPU time of each thread
#       of the nst process (sampled from /proc/PID/task/*/stat), and the serial fraction;
#   (c) with --demo: README command 1 itself (500 L-BFGS iterations, several minutes), same figures;
#   (e) README command 1 with --iterations 0 (start-up and the first evaluation), once: its minor
#       page faults are subtracted from (c)'s and (d)'s to give the faults per iteration after start-up.
# Then it prints a summary and a markdown block for README.md's Performance section; with
# --write-readme it replaces the text between <!-- perf:begin --> and <!-- perf:end --> in README.md
# (README_BLOCK=NAME: between <!-- NAME:begin --> and <!-- NAME:end -->, a block per kind of machine).
#
# Usage:  benchmarks/whole_run.sh [--demo] [--write-readme] [BUILD_DIR]   (default: <repo>/build-bench)
# It configures BUILD_DIR (Release) if needed and builds the nst_cli and nst_eval targets.
# Settings (environment variables, defaults in brackets):
#   SIZE [512] THREADS [2] ROUNDS [3]
#   EVALS [3]          timed evaluations per (a) process, after 1 warm-up
#   ADAM_ITERS [12]    Adam iterations per (b) process; SKIP [2]: the first ones, not timed
#   LBFGS_ITERS [60]   iterations of the (d) run with THREADS threads
#   AMDAHL_ITERS [20]  iterations of the (d) run with 1 thread (0: skip it)
#   DEMO_ITERS []      iterations of (c); empty: README's default (500)
#   README_BLOCK [perf]  the README block --write-readme replaces (see above)
#   DATA_DIR [the build's NST_DATA_DIR, else <repo>/../shared]   images/ and weights/vgg19_imagenet_notop.h5
#   PYTHON [/usr/bin/python3]     with torch, numpy, h5py, PIL (python3-torch python3-h5py python3-pil)
# Raw results: BUILD_DIR/whole_run/ (one key=value line per process in whole_run.log, the CSVs).
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
demo=0 write_readme=0 build_dir=
for arg in "$@"; do
  case $arg in
    --demo) demo=1 ;;
    --write-readme) write_readme=1 ;;
    -h|--help) bench_help; exit 0 ;;
    -*) echo "whole_run.sh: unknown option $arg (see --help)" >&2; exit 2 ;;
    *) build_dir=$arg ;;
  esac
done
build_dir=${build_dir:-${BUILD_DIR:-$repo/build-bench}}
SIZE=${SIZE:-512}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-3}
EVALS=${EVALS:-3}
ADAM_ITERS=${ADAM_ITERS:-12}
SKIP=${SKIP:-2}
LBFGS_ITERS=${LBFGS_ITERS:-60}
AMDAHL_ITERS=${AMDAHL_ITERS:-20}
DEMO_ITERS=${DEMO_ITERS:-}
README_BLOCK=${README_BLOCK:-perf}
bench_whole whole_run.sh 1 SIZE THREADS ROUNDS EVALS ADAM_ITERS LBFGS_ITERS
bench_whole whole_run.sh 0 SKIP AMDAHL_ITERS
[[ -z $DEMO_ITERS ]] || bench_whole whole_run.sh 0 DEMO_ITERS
(( ADAM_ITERS > SKIP && LBFGS_ITERS > SKIP )) || { echo "whole_run.sh: need ADAM_ITERS, LBFGS_ITERS > SKIP" >&2; exit 2; }
if (( write_readme )) && ! grep -qxF "<!-- $README_BLOCK:begin -->" "$repo/README.md"; then
  echo "whole_run.sh: README_BLOCK=$README_BLOCK: no <!-- $README_BLOCK:begin --> line in $repo/README.md" >&2; exit 2
fi
DATA_DIR=$(bench_data_dir "$build_dir")
PYTHON=${PYTHON:-/usr/bin/python3}

weights=$DATA_DIR/weights/vgg19_imagenet_notop.h5
content=$DATA_DIR/images/tubingen.jpg
style=$DATA_DIR/images/starry_night.jpg
bench_require whole_run.sh "$weights" "$content" "$style"
"$PYTHON" -c "import torch, numpy, h5py, PIL" 2>/dev/null || {
  echo "whole_run.sh: $PYTHON lacks torch/numpy/h5py/PIL" \
       "(apt-get install python3-torch python3-h5py python3-pil)" >&2; exit 1; }

echo "building nst_cli and nst_eval in $build_dir ..." >&2
bench_build "$build_dir" "$DATA_DIR" nst_cli nst_eval -j "$(bench_cores)"
nst=$build_dir/examples/nst
nst_eval=$build_dir/benchmarks/nst_eval
work=$build_dir/whole_run
mkdir -p "$work"
log=$work/whole_run.log
: >"$log"
export OMP_NUM_THREADS=$THREADS

# The (b) inputs: both images resized once to SIZE x SIZE, read by both engines.
"$PYTHON" - "$SIZE" "$content" "$work/content.png" "$style" "$work/style.png" <<'EOF'
import sys
from PIL import Image
n = int(sys.argv[1])
for src, dst in zip(sys.argv[2::2], sys.argv[3::2]):
    Image.open(src).convert("RGB").resize((n, n), Image.LANCZOS).save(dst)
EOF

commit=$(bench_commit)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# thread_times <pid> <ticks per second>: sets thread_times_now to the CPU time (user + system,
# seconds) of each thread of the process, the main thread first, then the others busiest first,
# comma-separated (empty if the process is gone). Bash
# builtins only: forking a sampler beside a 2-thread run preempts one of its OpenMP threads and
# stalls the other at the next barrier (a 0.5 s awk/sort sampler made a 40-iteration run up to
# 1.2x slower in alternated pairs).
thread_times() {
  local pid=$1 tck=$2 f line tid main=-1 others=() fields i j t
  for f in /proc/"$pid"/task/*/stat; do
    { read -r line <"$f"; } 2>/dev/null || continue
    tid=${line%% *}
    read -ra fields <<<"${line##*) }"
    t=$(( ${fields[11]:-0} + ${fields[12]:-0} ))  # utime, stime (fields 14 and 15 of the line)
    if [[ $tid == "$pid" ]]; then main=$t; else others+=("$t"); fi
  done
  thread_times_now=
  (( main >= 0 )) || return 0
  for (( i = 1; i < ${#others[@]}; i++ )); do  # insertion sort, busiest first
    t=${others[i]}
    for (( j = i - 1; j >= 0 && others[j] < t; j-- )); do others[j+1]=${others[j]}; done
    others[j+1]=$t
  done
  printf -v thread_times_now '%d.%02d' $(( main / tck )) $(( main % tck * 100 / tck ))
  for t in "${others[@]}"; do
    printf -v thread_times_now '%s,%d.%02d' "$thread_times_now" $(( t / tck )) $(( t % tck * 100 / tck ))
  done
}

# timed <name> <command...>: runs the command under /usr/bin/time, sampling the CPU time of each of
# its threads every second; prints "wall_s=.. user_s=.. sys_s=.. cpu_pct=.. max_rss_kb=..
# minor_faults=.. thread_cpu_s=main,other,..." (the threads' last sample before the exit).
timed() {
  local name=$1; shift
  local out=$work/$name
  /usr/bin/time -o "$out.time" -f 'wall_s=%e user_s=%U sys_s=%S cpu_pct=%P max_rss_kb=%M minor_faults=%R exit=%x' \
    "$@" >"$out.stdout" 2>"$out.stderr" &
  local time_pid=$! pid='' tck nap
  # A background process ignores Ctrl-C (nst_eval and Python keep it ignored): stop it here, or it
  # would run on after the script has ended.
  trap 'pkill -TERM -P "$time_pid"; wait "$time_pid"; exit 130' INT
  trap 'pkill -TERM -P "$time_pid"; wait "$time_pid"; exit 143' TERM
  tck=$(getconf CLK_TCK)
  exec {nap}<> <(:)  # `read -t` on this never gets data: a sleep without starting a process
  : >"$out.threads"
  while kill -0 "$time_pid" 2>/dev/null; do
    [[ -n $pid ]] || pid=$(pgrep -P "$time_pid" | head -1 || true)
    if [[ -n $pid ]]; then
      thread_times "$pid" "$tck"
      [[ -n $thread_times_now ]] && printf '%s\n' "$thread_times_now" >"$out.threads"
    fi
    read -r -t 1 -u "$nap" || true
  done
  exec {nap}<&-
  wait "$time_pid" || { echo "whole_run.sh: '$*' failed, see $out.stderr" >&2; cat "$out.stderr" >&2; exit 1; }
  sed 's/%//' "$out.time" | tr -d '\n'
  echo " thread_cpu_s=$(cat "$out.threads")"
}

record() {  # record <key=value...>: one result line
  echo "$* load=$(cut -d' ' -f1 /proc/loadavg)" >>"$log"
}

eval_run() {  # (a): engine round
  echo "  round $2: (a) $1 evaluation ${SIZE}x$SIZE" >&2
  local cmd=("$nst_eval" --size "$SIZE" --evals "$EVALS" --warmup 1 --threads "$THREADS")
  [[ $1 == torch ]] && cmd=("$PYTHON" "$repo/benchmarks/reference_pytorch.py" --size "$SIZE" --evals "$EVALS" --warmup 1 --threads "$THREADS")
  local t; t=$(timed "eval_$1_$2" "${cmd[@]}")
  record "part=eval engine=$1 round=$2 $(grep '^engine=' "$work/eval_$1_$2.stdout" | sed 's/^engine=[a-z]* //') $t"
}

adam_run() {  # (b): engine round
  echo "  round $2: (b) $1 Adam ${SIZE}x$SIZE, $ADAM_ITERS iterations" >&2
  local csv=$work/adam_$1_$2.csv
  local cmd=("$nst" --content "$work/content.png" --style "$work/style.png" --output "$work/adam_$2.png"
             --weights "$weights" --size "$SIZE" --optimizer adam --iterations "$ADAM_ITERS" --threads "$THREADS" --quiet --log "$csv"
             --no-size-invariant)
  [[ $1 == torch ]] && cmd=("$PYTHON" "$repo/benchmarks/stylize_pytorch.py" --content "$work/content.png"
             --style "$work/style.png" --weights "$weights" --iterations "$ADAM_ITERS" --threads "$THREADS" --log "$csv")
  local t; t=$(timed "adam_$1_$2" "${cmd[@]}")
  record "part=adam engine=$1 round=$2 csv=$csv $t"
}

lbfgs_run() {  # (c), (d), (e): part threads iterations round
  echo "  round $4: ($1) nst L-BFGS, README command 1, ${3:-500} iteration(s), $2 thread(s)" >&2
  local csv=$work/$1_$2_$4.csv
  local cmd=("$nst" --content "$content" --style "$style" --output "$work/$1.png" --weights "$weights" --log "$csv")
  [[ $1 == demo ]] || cmd+=(--quiet --threads "$2")
  [[ -n $3 ]] && cmd+=(--iterations "$3")
  local t; t=$(OMP_NUM_THREADS=$2 timed "$1_$2_$4" "${cmd[@]}")
  record "part=$1 engine=nst threads=$2 round=$4 csv=$csv $t"
}

echo "whole_run.sh: SIZE=$SIZE THREADS=$THREADS ROUNDS=$ROUNDS demo=$demo; load $load_before" >&2
for (( r = 1; r <= ROUNDS; ++r )); do
  engines=(nst torch)
  (( r % 2 == 0 )) && engines=(torch nst)
  for e in "${engines[@]}"; do eval_run "$e" "$r"; done
  for e in "${engines[@]}"; do adam_run "$e" "$r"; done
  if (( AMDAHL_ITERS > 0 && THREADS > 1 && r % 2 == 0 )); then lbfgs_run lbfgs 1 "$AMDAHL_ITERS" "$r"; fi
  lbfgs_run lbfgs "$THREADS" "$LBFGS_ITERS" "$r"
  if (( AMDAHL_ITERS > 0 && THREADS > 1 && r % 2 == 1 )); then lbfgs_run lbfgs 1 "$AMDAHL_ITERS" "$r"; fi
done
lbfgs_run startup "$THREADS" 0 1
if (( demo )); then lbfgs_run demo "$THREADS" "$DEMO_ITERS" 1; fi
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

export WR_LOG=$log WR_SKIP=$SKIP WR_THREADS=$THREADS WR_SIZE=$SIZE WR_COMMIT=$commit WR_LOAD_BEFORE=$load_before \
       WR_LOAD_AFTER=$load_after WR_README=$repo/README.md WR_WRITE=$write_readme WR_MARKER=$README_BLOCK WR_BLOCK=$work/readme_block.md \
       WR_CPU="$(bench_cpu), $(bench_cores) CPUs" \
       WR_TORCH="$("$PYTHON" -c 'import torch; print(torch.__version__)')" \
       WR_OPENBLAS="$(env | grep '^OPENBLAS_' | sort | paste -sd' ' || true)" \
       WR_SETTINGS="SIZE=$SIZE THREADS=$THREADS ROUNDS=$ROUNDS EVALS=$EVALS ADAM_ITERS=$ADAM_ITERS SKIP=$SKIP LBFGS_ITERS=$LBFGS_ITERS AMDAHL_ITERS=$AMDAHL_ITERS${DEMO_ITERS:+ DEMO_ITERS=$DEMO_ITERS}"
"$PYTHON" "$repo/benchmarks/whole_run_summary.py"
