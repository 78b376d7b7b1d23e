#!/usr/bin/python3
"""PyTorch CPU side of benchmarks/compare_pytorch.sh: the same work as benchmarks/nst_eval.

VGG19 through relu5_1 with average pooling, content loss (1/2 sum (F-P)^2) at relu4_2, Gram style
losses (G = F F^T / M, E = sum (G-A)^2 / (4 N^2)) at relu1_1..relu5_1, total variation, and the
gradient with respect to the image only (the weights do not require gradients). Weights and
images come from the same counter-based hash as benchmarks/style_workload.hpp, so the loss printed
here equals nst's up to float rounding.

Prints one line of key=value pairs, like nst_eval:
  engine=torch size=512 threads=2 blas_core=Haswell evals=5 median_s=... min_s=... max_s=... peak_rss_mb=...
  base_rss_mb=... loss=...
peak_rss_mb is the process peak from getrusage (as in nst_eval); base_rss_mb is the peak right
after `import torch`, before any work.

Run with Debian's /usr/bin/python3 (python3-torch 1.13):
  /usr/bin/python3 benchmarks/reference_pytorch.py --size 512 --evals 5 --warmup 1 --threads 2
"""
import argparse
import ctypes
import resource
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F

MASK64 = (1 << 64) - 1

# VGG19 convolutions through conv5_1 (in, out) and where the 2x2 pools sit.
VGG19_PREFIX = [
    ("conv1_1", 3, 64), ("conv1_2", 64, 64), "pool",
    ("conv2_1", 64, 128), ("conv2_2", 128, 128), "pool",
    ("conv3_1", 128, 256), ("conv3_2", 256, 256), ("conv3_3", 256, 256), ("conv3_4", 256, 256), "pool",
    ("conv4_1", 256, 512), ("conv4_2", 512, 512), ("conv4_3", 512, 512), ("conv4_4", 512, 512), "pool",
    ("conv5_1", 512, 512),
]
CONTENT_LAYER = "relu4_2"
STYLE_LAYERS = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]
CONTENT_WEIGHT, STYLE_WEIGHT, TV_WEIGHT = 1.0, 1e3, 1e-3
CONTENT_SEED, STYLE_SEED, START_SEED = 1, 2, 3


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


BASE_RSS_MB = peak_rss_mb()


def blas_core_name():
    """The kernel set of the OpenBLAS this torch loaded ("Haswell", "Prescott", ...), as nst reports."""
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "libopenblas" in line}
    for path in sorted(paths):
        try:
            get = ctypes.CDLL(path).openblas_get_corename
            get.restype = ctypes.c_char_p
            return get().decode()
        except (OSError, AttributeError):
            pass
    return "unknown"


def hashed_uniform(seed, count, lo, hi):
    """float32 array of `count` values; the same function as nst::bench::hashed_uniform."""
    z = (np.arange(count, dtype=np.uint64) + np.uint64((seed * 0x9E3779B97F4A7C15) & MASK64))
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z ^= z >> np.uint64(31)
    unit = (z >> np.uint64(40)).astype(np.float64) * (1.0 / (1 << 24))
    return (lo + (hi - lo) * unit).astype(np.float32)


def hashed_weights():
    params = []
    for k, layer in enumerate(l for l in VGG19_PREFIX if l != "pool"):
        _, cin, cout = layer
        bound = np.sqrt(6.0 / (9.0 * cin))
        w = hashed_uniform(1000 + k, cout * cin * 9, -bound, bound).reshape(cout, cin, 3, 3)
        b = hashed_uniform(2000 + k, cout, -0.1, 0.1)
        params.append((torch.from_numpy(w), torch.from_numpy(b)))  # requires_grad=False: frozen
    return params


def hashed_image(size, seed):
    return torch.from_numpy(hashed_uniform(seed, 3 * size * size, -50.0, 50.0).reshape(1, 3, size, size))


def features(x, params, wanted):
    """Activations of the wanted relu layers; stops after the deepest one."""
    out, convs = {}, iter(params)
    for layer in VGG19_PREFIX:
        if layer == "pool":
            x = F.avg_pool2d(x, 2)
            continue
        w, b = next(convs)
        x = F.relu(F.conv2d(x, w, b, padding=1))
        name = layer[0].replace("conv", "relu")
        if name in wanted:
            out[name] = x
            if len(out) == len(wanted):
                break
    return out


def gram(f):
    c = f.shape[1]
    m = f.shape[2] * f.shape[3]
    fm = f.reshape(c, m)
    return fm @ fm.t() / m


def total_variation(x):
    return ((x[:, :, :, 1:] - x[:, :, :, :-1]) ** 2).sum() + ((x[:, :, 1:, :] - x[:, :, :-1, :]) ** 2).sum()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--evals", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=0, help="0: keep torch's default")
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)

    params = hashed_weights()
    with torch.no_grad():
        content_target = features(hashed_image(args.size, CONTENT_SEED), params, {CONTENT_LAYER})[CONTENT_LAYER]
        style_acts = features(hashed_image(args.size, STYLE_SEED), params, set(STYLE_LAYERS))
        style_targets = {name: gram(style_acts[name]) for name in STYLE_LAYERS}
        del style_acts

    wanted = set(STYLE_LAYERS) | {CONTENT_LAYER}

    def objective(x):
        acts = features(x, params, wanted)
        loss = CONTENT_WEIGHT * 0.5 * ((acts[CONTENT_LAYER] - content_target) ** 2).sum()
        for name in STYLE_LAYERS:
            n = acts[name].shape[1]
            loss = loss + STYLE_WEIGHT * ((gram(acts[name]) - style_targets[name]) ** 2).sum() / (4.0 * n * n)
        return loss + TV_WEIGHT * total_variation(x)

    x = hashed_image(args.size, START_SEED).requires_grad_(True)

    def evaluate():
        loss = objective(x)
        (grad,) = torch.autograd.grad(loss, x)
        return float(loss), grad

    for _ in range(args.warmup):
        evaluate()
    seconds = []
    for _ in range(args.evals):
        start = time.perf_counter()
        loss, grad = evaluate()
        seconds.append(time.perf_counter() - start)

    print(f"engine=torch size={args.size} threads={torch.get_num_threads()} blas_core={blas_core_name()} "
          f"evals={args.evals} "
          f"median_s={statistics.median(seconds):.4f} min_s={min(seconds):.4f} max_s={max(seconds):.4f} "
          f"peak_rss_mb={peak_rss_mb():.1f} base_rss_mb={BASE_RSS_MB:.1f} loss={loss:.7g} "
          f"grad_abs_sum={float(grad.abs().sum()):.7g} torch={torch.__version__} "
          f"times={','.join(f'{s:.6f}' for s in seconds)}")


if __name__ == "__main__":
    main()
