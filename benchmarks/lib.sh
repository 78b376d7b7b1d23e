# What the benchmark scripts share; sourced (after `set -euo pipefail`), never run:
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# Sets `repo` (the repository's root) and defines:
#   bench_help                      prints the calling script's header comment (its --help)
#   bench_whole SCRIPT MIN NAME...  exits 2 naming the variable unless each of its words is a whole
#                                   number >= MIN (at least one word); run before building anything
#   bench_switch SCRIPT NAME...     exits 2 naming the variable unless it is 0 or 1
#   bench_cores                     the machine's CPUs (nproc, which OMP_NUM_THREADS would lower)
#   bench_data_dir BUILD_DIR        $DATA_DIR, else BUILD_DIR's configured NST_DATA_DIR, else <repo>/../shared
#   bench_require NAME FILE...      exits 1 naming the first missing file
#   bench_build BUILD_DIR DATA_DIR TARGET... [-j N]
#                                   configures a Release build in BUILD_DIR unless one is there, then
#                                   builds the targets (their output hidden)
#   bench_commit                    the checked-out commit, short, "(with uncommitted changes)" when
#                                   the tree differs from it; "unknown" outside git
#   bench_cpu                       "<CPU model> (family F model M, AVX-512|AVX2|none)"
#   bench_stamp                     "date: ... UTC, commit ..., <bench_cpu>, N cores, load average ...":
#                                   where a figure comes from
#   bench_median                    the median of the numbers on stdin (separated by spaces or newlines)
#   time_field FILE LABEL           a value from /usr/bin/time -v's output (LABEL: the start of its line)
#   wall_seconds FILE               its wall clock time (h:mm:ss or m:ss.ss) in seconds
#   peak_rss_mb FILE                its peak resident set size in MB
#   bench_command1_setup SCRIPT BUILD_DIR WORK_NAME
#                                   for scripts that run README command 1 (tubingen + starry_night,
#                                   or CONTENT / STYLE: a path, or a file name in DATA_DIR/images)
#                                   at SIZES with ITERS iterations (one number, or one per size):
#                                   sets size_list, iters_list (exits 2 when a value is not a whole
#                                   number or their counts differ; SIZES, ITERS and THREADS are
#                                   checked before anything is built),
#                                   DATA_DIR, weights, content, style, builds nst_cli in BUILD_DIR,
#                                   sets nst to it and work to BUILD_DIR/WORK_NAME (created), and
#                                   exports OMP_NUM_THREADS=$THREADS
#   bench_iters_at K                ITERS for the K-th size (0-based) of SIZES
#   final_loss CSV SIZE             from an `nst --log` CSV: the lowest total loss logged at SIZE
#   last_elapsed CSV                its last row's elapsed_seconds (the optimisation time)
#   seconds_per_evaluation CSV      its last row's elapsed_seconds / evaluations
#   reach_time CSV SIZE LOSS        elapsed_seconds of its first row at SIZE with a loss <= LOSS, or "never"
#   lead_at_steps BASE_CSV CSV SIZE "K..."
#                                   how far the run of CSV is ahead of the run of BASE_CSV at equal steps:
#                                   after K of its steps at SIZE (counted from its first row there), the
#                                   first iteration of BASE_CSV with a loss <= its loss then, minus K;
#                                   "K:+lead ..." ("K:never" when BASE_CSV never gets there; "-": no K reached)

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

bench_help() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

# A mistyped value (SIZES="256,512", ROUNDS=0, ITERS=abc) must stop the script before it builds
# or runs anything, not leave an empty table or a bash arithmetic error minutes later.
bench_whole() {
  local script=$1 min=$2 name word words; shift 2
  for name in "$@"; do
    read -r -a words <<<"${!name-}"
    (( ${#words[@]} )) || { echo "$script: $name is empty" >&2; exit 2; }
    for word in "${words[@]}"; do
      if [[ ! $word =~ ^[0-9]+$ ]] || (( 10#$word < min )); then
        echo "$script: $name=\"${!name}\": '$word' is not a whole number >= $min" >&2; exit 2
      fi
    done
  done
}

bench_switch() {
  local script=$1 name; shift
  for name in "$@"; do
    [[ ${!name-} == [01] ]] || { echo "$script: $name=\"${!name-}\": expected 0 or 1" >&2; exit 2; }
  done
}

bench_cores() { env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc; }

bench_data_dir() {
  local configured
  configured=$(sed -n 's/^NST_DATA_DIR:[A-Z]*=//p' "$1/CMakeCache.txt" 2>/dev/null | head -1)
  echo "${DATA_DIR:-${configured:-$repo/../shared}}"
}

bench_require() {
  local name=$1 f; shift
  for f in "$@"; do
    [[ -f $f ]] || { echo "$name: $f not found (set DATA_DIR)" >&2; exit 1; }
  done
  [[ -x /usr/bin/time ]] || { echo "$name: /usr/bin/time not found (apt-get install time)" >&2; exit 1; }
}

bench_build() {
  local build_dir=$1 data_dir=$2; shift 2
  if [[ ! -f $build_dir/CMakeCache.txt ]]; then
    cmake -S "$repo" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DNST_DATA_DIR="$data_dir" >/dev/null
  fi
  cmake --build "$build_dir" --target "$@" >/dev/null
}

bench_commit() {
  local commit
  commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null) || { echo unknown; return; }
  git -C "$repo" diff --quiet HEAD 2>/dev/null || commit="$commit (with uncommitted changes)"
  echo "$commit"
}

# The CPU, told apart from others of the same name (cloud hosts all say "AMD EPYC"): family and
# model number, and the widest vector set nst's kernels use on it, e.g.
# "AMD EPYC (family 25 model 1, AVX2)".
bench_cpu() {
  local name family model isa=none
  name=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
  family=$(lscpu | sed -n 's/^CPU family: *//p' | head -1)
  model=$(lscpu | sed -n 's/^Model: *//p' | head -1)
  if grep -qw avx512f /proc/cpuinfo; then isa=AVX-512
  elif grep -qw avx2 /proc/cpuinfo; then isa=AVX2
  fi
  echo "$name (family $family model $model, $isa)"
}

bench_stamp() {
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(bench_commit)," \
       "$(bench_cpu), $(bench_cores) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
}

bench_median() {
  tr ' ' '\n' | sed '/^$/d' | sort -g |
    awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

time_field() { grep -F "$2" "$1" | head -1 | sed 's/.*: //'; }

wall_seconds() {
  awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.2f", s }' <<<"$(time_field "$1" "Elapsed (wall clock)")"
}

peak_rss_mb() { echo $(( $(time_field "$1" "Maximum resident set size") / 1024 )); }

# bench_image NAME: NAME itself when it is a file, else DATA_DIR/images/NAME
bench_image() { if [[ -f $1 ]]; then echo "$1"; else echo "$DATA_DIR/images/$1"; fi; }

bench_command1_setup() {
  local script=$1 build_dir=$2
  bench_whole "$script" 1 SIZES THREADS
  bench_whole "$script" 0 ITERS
  read -r -a size_list <<<"$SIZES"
  read -r -a iters_list <<<"$ITERS"
  if (( ${#iters_list[@]} != 1 && ${#iters_list[@]} != ${#size_list[@]} )); then
    echo "$script: ITERS=\"$ITERS\" needs one number or one per size in SIZES=\"$SIZES\"" >&2; exit 2
  fi
  DATA_DIR=$(bench_data_dir "$build_dir")
  weights=$DATA_DIR/weights/vgg19_imagenet_notop.h5
  content=$(bench_image "${CONTENT:-tubingen.jpg}")
  style=$(bench_image "${STYLE:-starry_night.jpg}")
  bench_require "$script" "$weights" "$content" "$style"
  bench_build "$build_dir" "$DATA_DIR" nst_cli -j1
  nst=$build_dir/examples/nst
  work=$build_dir/$3
  mkdir -p "$work"
  export OMP_NUM_THREADS=$THREADS
}

bench_iters_at() { if (( ${#iters_list[@]} > 1 )); then echo "${iters_list[$1]}"; else echo "${iters_list[0]}"; fi; }

final_loss() { awk -F, -v s="$2" 'NR > 1 && $8 == s && (m == "" || $2 < m) { m = $2 } END { printf "%.6g", m }' "$1"; }
last_elapsed() { awk -F, 'NR > 1 { t = $6 } END { printf "%.1f", t }' "$1"; }
seconds_per_evaluation() { awk -F, 'NR > 1 { t = $6; n = $7 } END { printf "%.3f", t / n }' "$1"; }
reach_time() {
  awk -F, -v s="$2" -v l="$3" 'NR > 1 && $8 == s && $2 <= l { printf "%.1f", $6; found = 1; exit }
                               END { if (!found) printf "never" }' "$1"
}

lead_at_steps() {
  awk -F, -v s="$3" -v ks="$4" 'BEGIN { n = split(ks, list, " "); for (q = 1; q <= n; q++) at[list[q]] = 1 }
    FNR == 1 { f++; next }
    f == 1 { loss[$1] = $2; last = $1; next }
    $8 == s { if (first == "") first = $1; k = $1 - first
      if (k in at) {
        j = -1; for (i = 0; i <= last; i++) if (loss[i] <= $2) { j = i; break }
        out = out (out == "" ? "" : " ") k ":" (j < 0 ? "never" : sprintf("%+d", j - k)) } }
    END { print (out == "" ? "-" : out) }' "$1" "$2"
}
