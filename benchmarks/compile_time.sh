#!/usr/bin/env bash
# What a consumer's compiler pays for nst (README, "Compile time"): the units of a program that
# uses nst the way README's "Without CMake" line does (g++ -O2 -march=native), each compiled
# alone (-c) under /usr/bin/time -v:
#   include only          a unit that includes <nst/nst.hpp> and calls nothing
#   calls stylize          examples/stylize_minimal.cpp: compiles the four stylisation pipelines
#   calls stylize, extern  the same unit with -DNST_EXTERN_STYLIZE_NET: the pipelines come from
#                          the unit below, compiled once for the program
#   the pipelines, once    a unit holding only `#include <nst/stylize_instances.hpp>`
# The script fails when the extern unit defines any pipeline or the instances' unit not all four
# (nm), so the figures are of the split they claim. Nothing of the project's build is used.
#
# Usage:  benchmarks/compile_time.sh
# Settings (environment): CXX [g++], OPT [-O2], ROUNDS [3] (the table shows each unit's median
# wall and user time over the rounds and its largest peak RSS; units alternate within a round).
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
case ${1:-} in -h|--help) bench_help; exit 0 ;; esac
CXX=${CXX:-g++}
OPT=${OPT:--O2}
ROUNDS=${ROUNDS:-3}
bench_whole compile_time.sh 1 ROUNDS
[[ $OPT =~ ^-O[0-3sg]$ ]] || { echo "compile_time.sh: OPT=\"$OPT\": expected -O0, -O1, -O2, -O3, -Os or -Og" >&2; exit 2; }
command -v "$CXX" >/dev/null || { echo "compile_time.sh: CXX=$CXX not found" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "compile_time.sh: /usr/bin/time not found (apt-get install time)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '#include <nst/nst.hpp>\nint main() {}\n' >"$work/include_only.cpp"
printf '#include <nst/stylize_instances.hpp>\n' >"$work/instances.cpp"
flags=(-std=c++17 "$OPT" -march=native -fopenmp -I"$repo/include" -I/usr/include/hdf5/serial -I/usr/include/stb)

units=(include_only stylize stylize_extern instances)
declare -A label=([include_only]="include only" [stylize]="calls stylize (stylize_minimal.cpp)"
                  [stylize_extern]="calls stylize, -DNST_EXTERN_STYLIZE_NET"
                  [instances]="the pipelines, once (stylize_instances.hpp)")
compile() {  # UNIT ROUND: compiles it, time -v output in $work/UNIT.ROUND.time
  local unit=$1 source extra=()
  case $unit in
    include_only) source=$work/include_only.cpp ;;
    stylize) source=$repo/examples/stylize_minimal.cpp ;;
    stylize_extern) source=$repo/examples/stylize_minimal.cpp; extra=(-DNST_EXTERN_STYLIZE_NET) ;;
    instances) source=$work/instances.cpp ;;
  esac
  /usr/bin/time -v -o "$work/$unit.$2.time" "$CXX" "${flags[@]}" "${extra[@]}" -c "$source" -o "$work/$unit.o" ||
    { echo "compile_time.sh: compiling $unit failed" >&2; exit 1; }
}
for (( round = 0; round < ROUNDS; ++round )); do
  for unit in "${units[@]}"; do compile "$unit" "$round"; done
done

pipelines() { nm -C --defined-only "$work/$1.o" | grep -c 'detail::stylize_net<' || true; }
if (( $(pipelines stylize_extern) != 0 || $(pipelines instances) != 4 )); then
  echo "compile_time.sh: the extern unit defines $(pipelines stylize_extern) pipelines (expected 0)," \
       "the instances' unit $(pipelines instances) (expected 4)" >&2
  exit 1
fi

declare -A wall user rss
for unit in "${units[@]}"; do
  wall[$unit]=$(for (( r = 0; r < ROUNDS; ++r )); do wall_seconds "$work/$unit.$r.time"; echo; done | bench_median)
  user[$unit]=$(for (( r = 0; r < ROUNDS; ++r )); do time_field "$work/$unit.$r.time" "User time"; done | bench_median)
  rss[$unit]=$(for (( r = 0; r < ROUNDS; ++r )); do peak_rss_mb "$work/$unit.$r.time"; done | sort -n | tail -1)
done

echo "# nst: compile time of a consumer's units ($($CXX --version | head -1), $OPT -march=native, each unit alone, median of $ROUNDS)"
bench_stamp
echo
echo "| unit | wall | user CPU | compiler peak RSS |"
echo "|---|---:|---:|---:|"
for unit in "${units[@]}"; do
  printf '| %s | %.1f s | %.1f s | %s MB |\n' "${label[$unit]}" "${wall[$unit]}" "${user[$unit]}" "${rss[$unit]}"
done
awk -v e="${user[stylize_extern]}" -v s="${user[stylize]}" \
  'BEGIN { printf "\nA unit that calls stylize, with the pipelines compiled elsewhere: %.2fx the user CPU time\n", e / s }'
echo "reproduce: ROUNDS=$ROUNDS OPT=$OPT CXX=$CXX benchmarks/compile_time.sh"
