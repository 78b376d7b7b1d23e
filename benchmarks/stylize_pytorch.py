#!/usr/bin/python3
"""PyTorch CPU side of benchmarks/whole_run.sh: the style transfer that `nst --optimizer adam` runs.

Same work as nst's defaults (include/nst/style_transfer.hpp): VGG19 through relu5_1 with average
pooling and the real ImageNet weights (Keras HDF5, read with h5py), Caffe-convention input (BGR,
0..255, ImageNet mean subtracted), content loss 1/2 sum (F-P)^2 at relu4_2 (weight 1), Gram style
losses G = F F^T / M, E = sum (G-A)^2 / (4 N^2) at relu1_1..relu5_1 (weight 5e3 * 1/5 each), total
variation sum of squared neighbour differences (weight 1), Adam with learning rate 10 from the
content image, the lowest-loss image kept. The content and style images must already have the
working size (whole_run.sh resizes both to SIZE x SIZE once, for both engines).

Writes a CSV with nst's --log columns (iteration, loss, content, style, tv, elapsed_seconds,
evaluations): iteration 0 is the starting image, elapsed_seconds counts from the start of the
optimisation, so both engines' per-iteration time comes from the same two columns.

  /usr/bin/python3 benchmarks/stylize_pytorch.py --content c.png --style s.png --iterations 12 \
      --threads 2 --log torch.csv
"""
import argparse
import time

import h5py
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

# The loss pieces are the evaluation benchmark's (same folder), so both compute the same thing.
from reference_pytorch import gram, total_variation

VGG19_PREFIX = ["conv1_1", "conv1_2", "pool", "conv2_1", "conv2_2", "pool",
                "conv3_1", "conv3_2", "conv3_3", "conv3_4", "pool",
                "conv4_1", "conv4_2", "conv4_3", "conv4_4", "pool", "conv5_1"]
CONTENT_LAYER = "relu4_2"
STYLE_LAYERS = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]
CONTENT_WEIGHT, STYLE_WEIGHT, TV_WEIGHT = 1.0, 5e3, 1.0
MEAN_BGR = torch.tensor([103.939, 116.779, 123.68]).reshape(1, 3, 1, 1)


def load_weights(path):
    """(weight, bias) per conv of VGG19_PREFIX; Keras stores kernels (3, 3, C_in, C_out)."""
    params = []
    with h5py.File(path, "r") as f:
        for layer in (l for l in VGG19_PREFIX if l != "pool"):
            group = f["block%s_conv%s" % tuple(layer[4:].split("_"))]
            kernel_name, bias_name = (n.decode() if isinstance(n, bytes) else n for n in group.attrs["weight_names"])
            kernel = torch.from_numpy(np.asarray(group[kernel_name], dtype=np.float32))
            bias = torch.from_numpy(np.asarray(group[bias_name], dtype=np.float32))
            params.append((kernel.permute(3, 2, 0, 1).contiguous(), bias))
    return params


def vgg_input(path):
    rgb = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32)
    return torch.from_numpy(rgb[:, :, ::-1].copy()).permute(2, 0, 1).unsqueeze(0) - MEAN_BGR


def features(x, params, wanted):
    """Activations of the wanted relu layers; stops after the deepest one."""
    out, convs = {}, iter(params)
    for layer in VGG19_PREFIX:
        if layer == "pool":
            x = F.avg_pool2d(x, 2)
            continue
        w, b = next(convs)
        x = F.relu(F.conv2d(x, w, b, padding=1))
        name = layer.replace("conv", "relu")
        if name in wanted:
            out[name] = x
            if len(out) == len(wanted):
                break
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--content", required=True)
    parser.add_argument("--style", required=True)
    parser.add_argument("--weights", required=True, help="Keras HDF5 VGG19 weights")
    parser.add_argument("--iterations", type=int, default=12)
    parser.add_argument("--learning-rate", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=0, help="0: keep torch's default")
    parser.add_argument("--log", required=True, help="CSV with nst's --log columns")
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)

    params = load_weights(args.weights)
    content = vgg_input(args.content)
    with torch.no_grad():
        content_target = features(content, params, {CONTENT_LAYER})[CONTENT_LAYER]
        style_acts = features(vgg_input(args.style), params, set(STYLE_LAYERS))
        style_targets = {name: gram(style_acts[name]) for name in STYLE_LAYERS}
        del style_acts
    wanted = set(STYLE_LAYERS) | {CONTENT_LAYER}

    def objective(x):
        acts = features(x, params, wanted)
        c = CONTENT_WEIGHT * 0.5 * ((acts[CONTENT_LAYER] - content_target) ** 2).sum()
        s = sum(STYLE_WEIGHT / len(STYLE_LAYERS) * ((gram(acts[n]) - style_targets[n]) ** 2).sum()
                / (4.0 * acts[n].shape[1] ** 2) for n in STYLE_LAYERS)
        tv = TV_WEIGHT * total_variation(x)
        return c + s + tv, (c, s, tv)

    x = content.clone().requires_grad_(True)
    adam = torch.optim.Adam([x], lr=args.learning_rate)
    best_loss, best = float("inf"), None
    rows = ["iteration,loss,content,style,tv,elapsed_seconds,evaluations"]
    start = time.perf_counter()
    for iteration in range(args.iterations + 1):  # evaluate, log, step: as nst's Adam loop
        adam.zero_grad(set_to_none=True)
        loss, parts = objective(x)
        loss.backward()
        value = float(loss)
        if value < best_loss:
            best_loss, best = value, x.detach().clone()
        rows.append(f"{iteration},{value:.9g},{float(parts[0]):.9g},{float(parts[1]):.9g},{float(parts[2]):.9g},"
                    f"{time.perf_counter() - start:.3f},{iteration + 1}")
        if iteration < args.iterations:
            adam.step()
    with open(args.log, "w") as f:
        f.write("\n".join(rows) + "\n")
    assert best is not None


if __name__ == "__main__":
    main()
