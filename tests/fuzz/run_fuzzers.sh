#!/bin/sh
# Runs each libFuzzer target for SECONDS with its seed corpus (builds nothing).
#   tests/fuzz/run_fuzzers.sh SECONDS [BUILD_DIR] [TARGET...]   (targets: decode_image keras_weights caffe_weights pytorch_weights batch_manifest safetensors_weights;
#   SECONDS 0 only runs the committed seeds and regressions through the fuzz binary; BUILD_DIR: default build-fuzz, configured
#   with CXX=clang++-14 cmake -DNST_FUZZ=ON ...; then cmake --build BUILD_DIR --target fuzz_decode_image fuzz_keras_weights fuzz_caffe_weights fuzz_pytorch_weights fuzz_batch_manifest fuzz_safetensors_weights)
# New inputs go to a scratch corpus under BUILD_DIR, never into the committed seeds. A finding
# stops the run with a nonzero exit and leaves crash-*/leak-*/oom-* files in BUILD_DIR/fuzz-findings:
# fix it, then copy the file into tests/fuzz/regressions/<target>/ so ctest replays it.
set -eu
seconds=${1:?usage: run_fuzzers.sh SECONDS [BUILD_DIR]}
here=$(cd "$(dirname "$0")" && pwd)
build=${2:-$here/../../build-fuzz}
[ $# -ge 2 ] && shift 2 || shift $#
targets=${*:-decode_image keras_weights caffe_weights pytorch_weights batch_manifest safetensors_weights}
findings=$build/fuzz-findings
mkdir -p "$findings"
status=0
for name in $targets; do
  binary=$build/tests/fuzz/fuzz_$name
  if [ ! -x "$binary" ]; then
    echo "run_fuzzers.sh: $binary is missing (configure with -DNST_FUZZ=ON and build it)" >&2
    exit 2
  fi
  scratch=$build/fuzz-corpus/$name
  mkdir -p "$scratch"
  # libhdf5 1.10 (not ours to fix) leaks inside H5Fopen and asks for petabytes on some
  # damaged files: see hdf5_findings/README.md.
  # Memory errors that AddressSanitizer's memcpy interceptor sees inside libhdf5 itself are
  # suppressed for the same reason (hdf5_asan.supp); errors in nst's own code still stop the run.
  # libhdf5 can also spend minutes in one damaged file (hdf5_findings): that target runs in
  # libFuzzer's fork mode, which records such timeouts and goes on (its children report leaks
  # through ASAN_OPTIONS, so leak detection is switched off there too).
  leaks=1 malloc_limit=512 asan=allocator_may_return_null=1 fork=
  [ "$name" = keras_weights ] && leaks=0 malloc_limit=16777216 asan=$asan:suppressions=$here/hdf5_asan.supp \
    fork="-fork=1 -ignore_timeouts=1" asan=$asan:detect_leaks=0
  echo "== fuzz_$name for $seconds s"
  # Image decoding allocations beyond 512 MB are findings: the target decodes with a small limit.
  regressions=
  [ -d "$here/regressions/$name" ] && regressions=$here/regressions/$name
  mode="-max_total_time=$seconds"
  [ "$seconds" = 0 ] && mode="-runs=0" fork=
  if ! ASAN_OPTIONS=${ASAN_OPTIONS:-$asan} "$binary" "$scratch" "$here/corpus/$name" $regressions \
      $mode $fork -timeout=20 -rss_limit_mb=2048 -malloc_limit_mb=$malloc_limit \
      -max_len=65536 -detect_leaks=$leaks -print_final_stats=1 -artifact_prefix="$findings/$name-"; then
    echo "run_fuzzers.sh: fuzz_$name found a problem (see $findings)" >&2
    status=1
  fi
done
exit $status
