#!/usr/bin/python3
"""Summary of benchmarks/whole_run.sh: reads its log (one key=value line per process) and the
per-iteration CSVs, prints the figures and the markdown block for README.md, and with
WR_WRITE=1 puts that block between <!-- NAME:begin --> and <!-- NAME:end --> in README.md
(NAME: WR_MARKER, default perf; one block per kind of machine).
Settings come from the WR_* environment variables that whole_run.sh exports."""
import csv
import datetime
import os
import re
import statistics
import sys
import textwrap

env = os.environ
SKIP, THREADS, SIZE = int(env["WR_SKIP"]), int(env["WR_THREADS"]), int(env["WR_SIZE"])


def parse(line):
    return dict(field.split("=", 1) for field in line.split())


runs = [parse(line) for line in open(env["WR_LOG"]) if line.strip()]


def select(part, engine="nst", threads=None):
    return [r for r in runs if r["part"] == part and r["engine"] == engine
            and (threads is None or int(r.get("threads", THREADS)) == threads)]


def rows(run):
    with open(run["csv"]) as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


def seconds_per(run, column):
    """Wall time per unit of `column` (iteration or evaluations) from iteration SKIP to the last:
    start-up (weights, targets, the first evaluations) is not counted."""
    r = rows(run)
    first, last = r[min(SKIP, len(r) - 1)], r[-1]
    return (last["elapsed_seconds"] - first["elapsed_seconds"]) / max(last[column] - first[column], 1)


def rss_mb(run):
    return float(run["max_rss_kb"]) / 1024


def by_round(rs, value):
    return {int(r["round"]): value(r) for r in rs}


def paired(a, b):
    """Per-round ratios a/b of two engines run back to back, in round order."""
    return [a[k] / b[k] for k in sorted(a) if k in b]


def rel_diff(x, y):
    return abs(x - y) / max(abs(y), 1e-30)


def duration(s):
    return f"{int(s // 60)} min {s % 60:.0f} s" if s >= 60 else f"{s:.1f} s"


def count(n):
    return f"{n / 1e6:.1f} M" if n >= 1e6 else f"{n:,.0f}"


def rounds_text(ratios):
    return " / ".join(f"{x:.2f}" for x in ratios)


def compare(part, value, unit_fmt):
    """Row of the nst vs torch table: best round of each engine, median of the paired ratios."""
    n, t = by_round(select(part, "nst"), value), by_round(select(part, "torch"), value)
    if not n or not t:
        return None
    ratios = paired(n, t)
    return (unit_fmt(min(n.values())), unit_fmt(min(t.values())), statistics.median(ratios), ratios)


def cli_figures(run):
    """/usr/bin/time figures of one nst run plus its iterations and evaluations from the CSV."""
    r = rows(run)
    user, sys_s, wall = float(run["user_s"]), float(run["sys_s"]), float(run["wall_s"])
    iterations, evaluations = int(r[-1]["iteration"]), int(r[-1]["evaluations"])
    threads = [float(x) for x in run["thread_cpu_s"].split(",") if x]
    return {"wall": wall, "user": user, "sys": sys_s, "sys_share": sys_s / max(user + sys_s, 1e-9),
            "cpu": float(run["cpu_pct"]), "faults": int(run["minor_faults"]), "rss": rss_mb(run),
            "iterations": iterations, "evaluations": evaluations, "threads": threads,
            "per_eval": seconds_per(run, "evaluations")}


# The (e) run: start-up and the first evaluation only. Its faults are what every run pays once
# (first touch of the weights and of the working set); the rest is per iteration.
startup = select("startup", threads=THREADS)
startup_faults = int(startup[0]["minor_faults"]) if startup else None


def after_startup(f):
    if startup_faults is None or f["iterations"] == 0:
        return "–"
    return count(max(f["faults"] - startup_faults, 0) / f["iterations"])


def cli_row(label, f):
    return (f"| {label} | {duration(f['wall'])} | {f['user']:.0f} s | {f['sys']:.0f} s | {100 * f['sys_share']:.0f}% "
            f"| {f['cpu']:.0f}% | {count(f['faults'])} | {count(f['faults'] / f['iterations']) if f['iterations'] else '–'} "
            f"| {after_startup(f)} | {f['rss']:.0f} MB |")


out = []  # the README block
details = []  # printed only
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
n_rounds = max(int(r["round"]) for r in runs)
out.append(f"Measured by `benchmarks/whole_run.sh` on {now}, commit {env['WR_COMMIT']}, {env['WR_CPU']}, "
           f"{THREADS} threads; PyTorch {env['WR_TORCH']} (Debian python3-torch); "
           f"{(env['WR_OPENBLAS'] + ' for both engines') if env['WR_OPENBLAS'] else 'no OPENBLAS_* variables set'}. Load average "
           f"{env['WR_LOAD_BEFORE']} before, {env['WR_LOAD_AFTER']} after (about {THREADS} is this benchmark "
           f"alone). Times: the least disturbed of {n_rounds} round(s); ratios: median over rounds of the two "
           f"engines run back to back (engines alternate, order flipped every round).")
out.append("")
out.append("| " + f"{THREADS} threads | nst | PyTorch | nst / PyTorch | per round |")
out.append("|---|---:|---:|---:|---|")
secs = lambda s: f"{s:.2f} s"
mb = lambda m: f"{m:.0f} MB"
table = [
    (f"one objective evaluation, {SIZE}×{SIZE} (`nst_eval` vs `reference_pytorch.py`)",
     compare("eval", lambda r: float(r["median_s"]), secs)),
    ("its peak RSS", compare("eval", rss_mb, mb)),
    (f"one Adam iteration, {SIZE}×{SIZE} (`nst --optimizer adam` vs `stylize_pytorch.py`)",
     compare("adam", lambda r: seconds_per(r, "iteration"), secs)),
    ("its peak RSS", compare("adam", rss_mb, mb)),
]
for label, row in table:
    if row:
        n, t, ratio, ratios = row
        out.append(f"| {label} | {n} | {t} | **{ratio:.2f}** | {rounds_text(ratios)} |")

checks = []
ev_n, ev_t = select("eval", "nst"), select("eval", "torch")
if ev_n and ev_t:
    checks.append(f"evaluation {rel_diff(float(ev_n[0]['loss']), float(ev_t[0]['loss'])):.0e}")
ad_n, ad_t = select("adam", "nst"), select("adam", "torch")
if ad_n and ad_t:
    rn, rt = rows(ad_n[0]), rows(ad_t[0])
    checks.append(f"Adam start {rel_diff(rn[0]['loss'], rt[0]['loss']):.0e}, after {int(rn[-1]['iteration'])} "
                  f"iterations {rel_diff(rn[-1]['loss'], rt[-1]['loss']):.0e}")
if checks:
    out.append("")
    out.append("Same work: the losses of nst and PyTorch differ by " + "; ".join(checks) + " (relative). "
               f"Adam time per iteration excludes start-up (iterations {SKIP} to the last of each run's CSV).")

lbfgs = select("lbfgs", threads=THREADS)
demo = select("demo", threads=THREADS)
if lbfgs or demo:
    out.append("")
    out.append("| `nst` L-BFGS, tubingen + starry_night, 512×384 | wall | user | sys | sys share | CPU | minor faults "
               "| per iteration (incl. start-up) | per iteration after start-up | peak RSS |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for d in demo:
    f = cli_figures(d)
    out.append(cli_row(f"README command 1 ({f['iterations']} iterations, {f['evaluations']} evaluations)", f))
if lbfgs:
    figs = [cli_figures(r) for r in lbfgs]
    best = min(figs, key=lambda f: f["wall"])
    label = f"{best['iterations']} iterations ({best['evaluations']} evaluations), least disturbed of {len(figs)}"
    out.append(cli_row(label, best))
    details.append("L-BFGS runs, wall per round: " + " / ".join(duration(f["wall"]) for f in figs))
if startup:
    out.append(cli_row("start-up and first evaluation (`--iterations 0`)", cli_figures(startup[0])))
if lbfgs:
    # Serial fraction, three ways.
    serial = []
    one = by_round(select("lbfgs", threads=1), lambda r: seconds_per(r, "evaluations"))
    many = by_round(lbfgs, lambda r: seconds_per(r, "evaluations"))
    if one and THREADS > 1:
        speedups = paired(one, many)
        # The least disturbed run of each thread count (as for the times above): a run slowed by
        # another process says nothing about nst's own serial share, and pairing by round lets a
        # slowed 1-thread run pass for a speed-up above the thread count.
        s = min(one.values()) / min(many.values())
        amdahl = (THREADS / s - 1) / (THREADS - 1)
        serial.append(f"Amdahl from 1 vs {THREADS} threads (time per evaluation, start-up excluded, the least "
                      f"disturbed run of each): speed-up {s:.2f}× (per round {rounds_text(speedups)}), serial "
                      f"fraction **{amdahl:.2f}**")
    if THREADS > 1:
        one_core = min(max((THREADS - best["cpu"] / 100) / (THREADS - 1), 0.0), 1.0)
        serial.append(f"the CPU use of {best['cpu']:.0f}% means about {100 * one_core:.0f}% of the wall time ran on "
                      f"one core (whole run, start-up included)")
    if len(best["threads"]) > 1:
        main, others = best["threads"][0], best["threads"][1:]
        serial.append(f"per-thread CPU time {' / '.join(f'{x:.1f}' for x in best['threads'])} s (main thread first): "
                      f"the main thread used {main / max(max(others), 1e-9):.2f}× the CPU time of the busiest other "
                      f"thread (nst's OpenMP workers sleep while they wait, its default, so their CPU time is work)")
    if serial:
        out.append("")
        out.append(f"Serial fraction ({best['iterations']}-iteration run): " + "; ".join(serial) + ".")

out.append("")
marker_setting = "" if (env.get("WR_MARKER") or "perf") == "perf" else f"README_BLOCK={env['WR_MARKER']} "
out.append(f"Settings: {env['WR_SETTINGS']}. Reproduce: "
           f"`{marker_setting}benchmarks/whole_run.sh {'--demo ' if demo else ''}--write-readme` "
           "(needs `python3-torch python3-h5py python3-pil`).")
# Paragraphs wrapped like the rest of README.md; tables stay one row per line.
block = "\n".join(line if line.startswith("|") else textwrap.fill(line, 100, break_on_hyphens=False)
                  for line in out)

print()
print(block)
print()
for r in runs:
    if r["part"] in ("eval", "adam"):
        details.append(f"{r['part']} {r['engine']} round {r['round']}: peak RSS {rss_mb(r):.0f} MB, "
                       f"load after {r['load']}")
print("\n".join(details))
with open(env["WR_BLOCK"], "w") as f:
    f.write(block + "\n")
print(f"\nmarkdown block written to {env['WR_BLOCK']}")

if env.get("WR_WRITE") == "1":
    readme = open(env["WR_README"]).read()
    marker = re.escape(env.get("WR_MARKER") or "perf")
    pattern = re.compile(rf"(<!-- {marker}:begin -->\n).*?(<!-- {marker}:end -->)", re.S)
    if not pattern.search(readme):
        sys.exit(f"whole_run.sh: no <!-- {env.get('WR_MARKER') or 'perf'}:begin --> ... :end --> "
                 f"markers in {env['WR_README']}")
    with open(env["WR_README"], "w") as f:
        f.write(pattern.sub(lambda m: m.group(1) + block + "\n" + m.group(2), readme, count=1))
    print(f"README.md updated: {env['WR_README']}")
