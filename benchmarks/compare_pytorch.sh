#!/usr/bin/env bash
# Side-by-side timing and memory of one style-transfer objective evaluation in nst and in
# PyTorch CPU (issue 4): VGG19 through relu5_1, average pooling, content loss at relu4_2, Gram
# style losses at relu1_1..relu5_1, total variation, gradient with respect to the image only.
# Both engines build the same weights and images from one hash (benchmarks/style_workload.hpp,
# benchmarks/reference_pytorch.py), so the losses they print must agree; the script checks that.
# Whole runs (the `nst` program with Adam against PyTorch, the README demo under /usr/bin/time, the
# serial fraction) and README's Performance table: benchmarks/whole_run.sh.
#
# Usage:  benchmarks/compare_pytorch.sh [BUILD_DIR]        (default BUILD_DIR: <repo>/build-bench)
# It configures BUILD_DIR (Release) if needed and builds the nst_eval target, then alternates the
# two engines (the order flips every round, so drift of the shared machine hits both alike) and
# prints a summary table. Raw result lines go to $LOG (default BUILD_DIR/compare_pytorch.log).
#
# Settings (environment variables, defaults in brackets):
#   SIZES [256 512 1024]   image sides compared
#   THREADS [2]            threads of both engines (OMP_NUM_THREADS, torch.set_num_threads)
#   EVALS [5] WARMUP [1]   timed and warm-up evaluations per process
#   ROUNDS [3]             alternations per size
#   BIG_SIZE [1024] BIG_EVALS [3] BIG_ROUNDS [2]   lighter settings for sizes >= BIG_SIZE
#   SCALING_SIZE [512] SCALING_EVALS [3]   nst with 1 thread at this size, once per round,
#                          for the 1 vs THREADS speed-up (empty SCALING_SIZE skips it)
#   MEMORY_SIZES [2048]    nst only, 1 evaluation: peak memory of large images (empty: skip)
#   TORCH_MEMORY [0]       1: run PyTorch at MEMORY_SIZES too (slow)
#   PYTHON [/usr/bin/python3]  a Python with torch and numpy (Debian python3-torch)
# OPENBLAS_* variables are passed unchanged to both engines and printed; each engine also
# reports the OpenBLAS kernel set it runs (nst::blas_core_name(), openblas_get_corename).
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
case ${1:-} in -h|--help) bench_help; exit 0 ;; esac
build_dir=${1:-${BUILD_DIR:-$repo/build-bench}}
SIZES=${SIZES:-"256 512 1024"}
THREADS=${THREADS:-2}
EVALS=${EVALS:-5}
WARMUP=${WARMUP:-1}
ROUNDS=${ROUNDS:-3}
BIG_SIZE=${BIG_SIZE:-1024}
BIG_EVALS=${BIG_EVALS:-3}
BIG_ROUNDS=${BIG_ROUNDS:-2}
SCALING_SIZE=${SCALING_SIZE-512}
SCALING_EVALS=${SCALING_EVALS:-3}
MEMORY_SIZES=${MEMORY_SIZES-2048}
TORCH_MEMORY=${TORCH_MEMORY:-0}
PYTHON=${PYTHON:-/usr/bin/python3}
LOG=${LOG:-$build_dir/compare_pytorch.log}
bench_whole compare_pytorch.sh 1 SIZES THREADS EVALS ROUNDS BIG_SIZE BIG_EVALS BIG_ROUNDS SCALING_EVALS
bench_whole compare_pytorch.sh 0 WARMUP
[[ -z $SCALING_SIZE ]] || bench_whole compare_pytorch.sh 1 SCALING_SIZE
[[ -z $MEMORY_SIZES ]] || bench_whole compare_pytorch.sh 1 MEMORY_SIZES
bench_switch compare_pytorch.sh TORCH_MEMORY

if [[ ! -f $build_dir/CMakeCache.txt ]]; then
  cmake -S "$repo" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$build_dir" --target nst_eval >/dev/null
nst_eval=$build_dir/benchmarks/nst_eval
reference=$repo/benchmarks/reference_pytorch.py
"$PYTHON" -c "import torch, numpy" 2>/dev/null ||
  { echo "compare_pytorch.sh: $PYTHON lacks torch/numpy (apt-get install python3-torch)" >&2; exit 1; }

export OMP_NUM_THREADS=$THREADS

echo "# nst vs PyTorch CPU: one style-transfer objective evaluation (forward + losses + backward to the image)"
echo "date:     $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine:  $(bench_cpu), $(bench_cores) CPUs" \
     "($(lscpu | sed -n 's/^Core(s) per socket: *//p' | head -1) cores/socket," \
     "$(lscpu | sed -n 's/^Thread(s) per core: *//p' | head -1) thread/core)," \
     "$(free -g | awk '/^Mem:/ {print $2}') GB RAM"
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?')
git -C "$repo" diff --quiet HEAD 2>/dev/null || commit="$commit (with uncommitted changes)"
echo "nst:      commit $commit, $(c++ --version | head -1)"
echo "torch:    $("$PYTHON" -c 'import torch; print(torch.__version__)') ($PYTHON)"
echo "threads:  $THREADS (OMP_NUM_THREADS=$OMP_NUM_THREADS, torch.set_num_threads($THREADS))"
echo "openblas: $(env | grep '^OPENBLAS_' | sort | tr '\n' ' ' || true)(same environment for both)"
echo "settings: SIZES='$SIZES' EVALS=$EVALS WARMUP=$WARMUP ROUNDS=$ROUNDS BIG_SIZE=$BIG_SIZE" \
     "BIG_EVALS=$BIG_EVALS BIG_ROUNDS=$BIG_ROUNDS SCALING_SIZE=$SCALING_SIZE MEMORY_SIZES='$MEMORY_SIZES'"
echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) at start"
echo "reproduce: benchmarks/compare_pytorch.sh [BUILD_DIR]"
echo

: >"$LOG"
run() {  # run <label> <command...>: one process, its result line appended to the log
  local label=$1; shift
  echo "  $label" >&2
  local line
  line=$("$@" | grep '^engine=') || { echo "compare_pytorch.sh: '$*' failed" >&2; exit 1; }
  echo "$line load=$(cut -d' ' -f1 /proc/loadavg)" >>"$LOG"
}
nst() { run "nst   size=$1 threads=$2" "$nst_eval" --size "$1" --evals "$3" --warmup "$WARMUP" --threads "$2"; }
torch() { run "torch size=$1 threads=$2" "$PYTHON" "$reference" --size "$1" --evals "$3" --warmup "$WARMUP" --threads "$2"; }

for size in $SIZES; do
  evals=$EVALS rounds=$ROUNDS
  if (( size >= BIG_SIZE )); then evals=$BIG_EVALS rounds=$BIG_ROUNDS; fi
  for (( r = 0; r < rounds; ++r )); do
    if (( r % 2 == 0 )); then nst "$size" "$THREADS" "$evals"; torch "$size" "$THREADS" "$evals"
    else torch "$size" "$THREADS" "$evals"; nst "$size" "$THREADS" "$evals"; fi
    if [[ $size == "$SCALING_SIZE" && $THREADS != 1 ]]; then nst "$size" 1 "$SCALING_EVALS"; fi
  done
done
for size in $MEMORY_SIZES; do
  nst "$size" "$THREADS" 1
  if [[ $TORCH_MEMORY == 1 ]]; then torch "$size" "$THREADS" 1; fi
done
echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) at end"
echo

"$PYTHON" - "$LOG" "$THREADS" "$SIZES" <<'EOF'
import math, statistics, sys
log, threads, sizes = sys.argv[1], int(sys.argv[2]), [int(s) for s in sys.argv[3].split()]
runs = []
for line in open(log):
    kv = dict(field.split("=", 1) for field in line.split())
    runs.append(kv)

def select(engine, size, nthreads):
    return [r for r in runs if r["engine"] == engine and int(r["size"]) == size and int(r["threads"]) == nthreads]

def times(rs):  # every timed evaluation of every round, pooled
    return [float(t) for r in rs for t in r["times"].split(",")]

def summary(engine, size, nthreads):
    rs = select(engine, size, nthreads)
    if not rs:
        return None
    round_medians = [float(r["median_s"]) for r in rs]
    return {"median": statistics.median(times(rs)),
            # Other work on the machine only ever adds time: the least disturbed process is the
            # best estimate of the engine's own speed.
            "best": min(round_medians),
            "round_medians": round_medians,
            "rss": max(float(r["peak_rss_mb"]) for r in rs),
            "base": max(float(r["base_rss_mb"]) for r in rs),
            "loss": float(rs[0]["loss"]), "core": rs[0]["blas_core"], "n": len(times(rs))}

def paired(a, b):
    """Ratios a/b of the per-process medians of the same round (run back to back)."""
    return [x / y for x, y in zip(a["round_medians"], b["round_medians"])]

cores = sorted({f'{r["engine"]}={r["blas_core"]}' for r in runs})
print("OpenBLAS kernels in use: " + ", ".join(cores))
loads = [float(r["load"]) for r in runs]
print(f"1-min load average after each process: {min(loads):.1f}..{max(loads):.1f} "
      f"(about {threads} is this script alone; more means other work shared the CPUs)")
print()
print("time: median per evaluation of the least disturbed process (best round); nst/torch: median over")
print("rounds of the ratio of the two engines' medians, each round running both back to back")
print()
print(f"| size | nst s | torch s | nst/torch time | per round | nst peak RSS MB | torch peak RSS MB | nst/torch RSS |")
print(f"|---:|---:|---:|---:|---:|---:|---:|---:|")
fits = {"nst": [], "torch": []}
loss_checks = []
for size in sizes:
    n, t = summary("nst", size, threads), summary("torch", size, threads)
    if not n or not t:
        continue
    ratios = paired(n, t)
    print(f"| {size}x{size} | {n['best']:.3f} | {t['best']:.3f} | {statistics.median(ratios):.2f} | "
          f"{' / '.join(f'{r:.2f}' for r in ratios)} "
          f"| {n['rss']:.0f} | {t['rss']:.0f} | {n['rss'] / t['rss']:.2f} |")
    fits["nst"].append((size * size, n["best"]))
    fits["torch"].append((size * size, t["best"]))
    loss_checks.append((size, abs(n["loss"] - t["loss"]) / abs(t["loss"])))
print()
for size in sizes:
    n, t = summary("nst", size, threads), summary("torch", size, threads)
    if n and t:
        spread = lambda s: "/".join(f"{m:.3f}" for m in s["round_medians"])
        print(f"{size}: per-process medians nst {spread(n)} s, torch {spread(t)} s ({n['n']} + {t['n']} evaluations)")
print("same work: relative loss difference nst vs torch " +
      ", ".join(f"{s}: {d:.1e}" for s, d in loss_checks))
base_n = [summary("nst", s, threads)["base"] for s in sizes if summary("nst", s, threads)]
base_t = [summary("torch", s, threads)["base"] for s in sizes if summary("torch", s, threads)]
if base_n and base_t:
    print(f"process RSS before any work: nst {max(base_n):.0f} MB, torch {max(base_t):.0f} MB (after import torch)")

def exponent(points):  # least-squares slope of log t against log pixels
    if len(points) < 2:
        return float("nan")
    xs, ys = [math.log(p) for p, _ in points], [math.log(t) for _, t in points]
    mx, my = statistics.mean(xs), statistics.mean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)

print()
print(f"time exponent (best-round t ~ pixels^k, {min(sizes)}..{max(sizes)} px): nst k = {exponent(fits['nst']):.2f}, "
      f"torch k = {exponent(fits['torch']):.2f}")

scaling = sorted({int(r["size"]) for r in runs if r["engine"] == "nst" and int(r["threads"]) == 1})
for size in scaling:
    one, many = summary("nst", size, 1), summary("nst", size, threads)
    if one and many:
        speedups = [1 / r for r in paired(many, one)]
        print(f"thread scaling at {size}x{size}: nst 1 thread {one['best']:.3f} s, {threads} threads "
              f"{many['best']:.3f} s (best rounds); speed-up per round "
              f"{' / '.join(f'{x:.2f}' for x in speedups)}, median {statistics.median(speedups):.2f}x")

print()
print("nst peak RSS by image size (one process each; includes weights and style/content targets):")
all_sizes = sorted({int(r["size"]) for r in runs if r["engine"] == "nst"})
rows = []
for size in all_sizes:
    s = summary("nst", size, threads)
    if s:
        rows.append((size, s))
        t = summary("torch", size, threads)
        torch_part = f", torch {t['rss']:.0f} MB" if t else ""
        print(f"  {size:>5}x{size:<5} {s['rss']:7.0f} MB   ({s['best']:.2f} s per evaluation{torch_part})")
if len(rows) >= 2:
    steps = ", ".join(f"{b['rss'] / a['rss']:.2f}x" for (_, a), (_, b) in zip(rows, rows[1:]))
    (s0, a), (s1, b) = rows[0], rows[-1]
    per_pixel = (b["rss"] - a["rss"]) * 1024 * 1024 / (s1 * s1 - s0 * s0)
    print(f"  growth per 4x pixels: {steps}; {per_pixel:.0f} bytes per added pixel ({s0}->{s1} px)")

# The engines compute the same loss up to float rounding (1e-7..1e-5 relative): a larger difference
# means they no longer do the same work, and the times above compare different things.
different = [f"{s} px: {d:.1e}" for s, d in loss_checks if not d <= 1e-3]
if different:
    sys.exit("compare_pytorch.sh: nst and PyTorch computed different losses (" + ", ".join(different) +
             " relative): not the same work")
EOF
