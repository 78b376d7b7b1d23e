#!/usr/bin/env bash
# check_settings.sh STATUS EXPECTED SCRIPT [--option...] [NAME=VALUE...]
# Runs the benchmark script SCRIPT with the options and, in an otherwise empty environment, the
# settings, against a build folder that does not exist. Passes when it exits with STATUS, its
# output contains EXPECTED, and the build folder still does not exist: a mistyped setting stops a
# benchmark before it configures, builds or runs anything (benchmarks/lib.sh's bench_whole,
# bench_switch), and --help prints the script's header without touching a build.
set -euo pipefail
status=$1 expected=$2 script=$3; shift 3
options=() settings=()
for arg in "$@"; do
  if [[ $arg == --* ]]; then options+=("$arg"); else settings+=("$arg"); fi
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
build=$tmp/build
got=0
env -i PATH="$PATH" "${settings[@]}" bash "$script" "${options[@]}" "$build" >"$tmp/out" 2>&1 || got=$?
fail() { echo "FAIL: $(basename "$script") ${options[*]} ${settings[*]}: $1" >&2; cat "$tmp/out" >&2; exit 1; }
(( got == status )) || fail "exit $got, expected $status"
grep -qF -- "$expected" "$tmp/out" || fail "the output does not contain: $expected"
[[ ! -e $build ]] || fail "it created the build folder $build"
echo "ok: $(basename "$script") ${options[*]} ${settings[*]}: exit $got, \"$expected\""
