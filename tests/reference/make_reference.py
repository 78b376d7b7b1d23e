#!/usr/bin/python3
"""Writes tests/reference/vgg19_reference.h5: an independent PyTorch computation of VGG19
activations, Gram matrices, a style-transfer loss and its image gradient, which
tests/models/test_vgg19.cpp compares nst against (so CI needs no PyTorch).

Independent of nst: the weights are read here with h5py (following Keras' layer_names and
weight_names attributes), the network is built from torch's own conv2d/relu/avg_pool2d, and
the losses are written from their formulas (the ones documented in include/nst/loss/*.hpp):
  content  E_c = 1/2 sum (F - P)^2                       at relu4_2
  style    G = F F^T / M (M = H W), E_l = sum (G - A)^2 / (4 N^2)   at relu1_1 .. relu5_1
  tv       sum of squared differences of horizontal and vertical neighbours of the image
  total    = content_weight E_c + sum_l style_weights[l] E_l + tv_weight tv
All arithmetic is float64 on the float32 weights and on the float32-rounded inputs stored in
the file, so the reference is exact to float64 for exactly the data the C++ test reads.

Run (Debian's python with numpy, h5py, torch and PIL: apt install python3-torch python3-h5py
python3-pil):
    /usr/bin/python3 tests/reference/make_reference.py
"""
import argparse
import pathlib

import h5py
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

HERE = pathlib.Path(__file__).resolve().parent
SHARED = HERE.parent.parent.parent / "shared"

# VGG19 up to relu5_1 (average pooling, the paper's choice and nst's default).
CONVS = [("conv1_1", "block1_conv1"), ("conv1_2", "block1_conv2"), "pool1",
         ("conv2_1", "block2_conv1"), ("conv2_2", "block2_conv2"), "pool2",
         ("conv3_1", "block3_conv1"), ("conv3_2", "block3_conv2"), ("conv3_3", "block3_conv3"),
         ("conv3_4", "block3_conv4"), "pool3",
         ("conv4_1", "block4_conv1"), ("conv4_2", "block4_conv2"), ("conv4_3", "block4_conv3"),
         ("conv4_4", "block4_conv4"), "pool4",
         ("conv5_1", "block5_conv1")]
COMPARED = ["conv1_1", "relu3_1", "conv4_2", "relu5_1"]  # activations and Grams written out
CONTENT_LAYER = "relu4_2"
STYLE_LAYERS = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]
# Fixed loss weights, chosen so that every term (content, each style layer, TV) contributes
# a weighted value of about 1: a mistake in any one of them shows in the total and gradient.
CONTENT_WEIGHT = 1e-9
STYLE_WEIGHTS = [3e-6, 2e-8, 3e-8, 1e-9, 3e-5]
TV_WEIGHT = 1e-8

MEAN_BGR = np.array([103.939, 116.779, 123.68])


def read_keras_weights(path):
    """{keras layer name: (kernel (3,3,in,out), bias (out,))} following the attributes."""
    weights = {}
    with h5py.File(path, "r") as f:
        for raw in f.attrs["layer_names"]:
            name = raw.decode() if isinstance(raw, bytes) else raw
            group = f[name]
            names = [n.decode() if isinstance(n, bytes) else n for n in group.attrs["weight_names"]]
            if names:
                weights[name] = (np.asarray(group[names[0]]), np.asarray(group[names[1]]))
    return weights


def crop_bgr(path, scale, box):
    """The image downscaled by `scale` (PIL bicubic), cropped to box = (left, top, w, h),
    in the caffe convention: BGR, 0..255 minus the mean, C x H x W, rounded to float32."""
    image = Image.open(path).convert("RGB")
    image = image.resize((image.width // scale, image.height // scale), Image.BICUBIC)
    left, top, w, h = box
    rgb = np.asarray(image.crop((left, top, left + w, top + h)), dtype=np.float64)
    bgr = rgb[:, :, ::-1] - MEAN_BGR
    return np.ascontiguousarray(bgr.transpose(2, 0, 1)).astype(np.float32)


def features(x, params):
    """Every layer's output by nst name, from an image 3 x H x W (float64 tensor)."""
    out = {}
    h = x.unsqueeze(0)
    for entry in CONVS:
        if isinstance(entry, str):  # a pooling layer
            h = F.avg_pool2d(h, 2)
            out[entry] = h[0]
            continue
        nst_name, keras_name = entry
        w, b = params[keras_name]
        h = F.conv2d(h, w, b, padding=1)
        out[nst_name] = h[0]
        h = F.relu(h)
        out[nst_name.replace("conv", "relu")] = h[0]
    return out


def gram(f):
    c = f.shape[0]
    m = f.shape[1] * f.shape[2]
    flat = f.reshape(c, m)
    return flat @ flat.T / m


def content_loss(f, p):
    return 0.5 * ((f - p) ** 2).sum()


def style_loss(f, a):
    n = f.shape[0]
    return ((gram(f) - a) ** 2).sum() / (4.0 * n * n)


def tv_loss(x):
    return ((x[:, :, 1:] - x[:, :, :-1]) ** 2).sum() + ((x[:, 1:, :] - x[:, :-1, :]) ** 2).sum()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default=str(SHARED / "weights/vgg19_imagenet_notop.h5"))
    parser.add_argument("--images", default=str(SHARED / "images"))
    parser.add_argument("--output", default=str(HERE / "vgg19_reference.h5"))
    args = parser.parse_args()
    torch.set_num_threads(2)

    keras = read_keras_weights(args.weights)
    # Keras (row, column, in, out) -> torch (out, in, row, column), in float64.
    params = {k: (torch.from_numpy(w.astype(np.float64)).permute(3, 2, 0, 1).contiguous(),
                  torch.from_numpy(b.astype(np.float64))) for k, (w, b) in keras.items()}

    # Tubingen and Starry Night at a quarter / an eighth of their size, so a small crop still
    # shows structure. The content target is the same view shifted by 8 pixels each way; the
    # style crop has another size (80 x 80) so the per-size Gram normalisation is exercised.
    images = pathlib.Path(args.images)
    image = crop_bgr(images / "tubingen.jpg", 4, (96, 64, 64, 64))
    content_image = crop_bgr(images / "tubingen.jpg", 4, (104, 72, 64, 64))
    style_image = crop_bgr(images / "starry_night.jpg", 8, (24, 0, 80, 80))

    with torch.no_grad():
        content_target = features(torch.from_numpy(content_image.astype(np.float64)), params)[CONTENT_LAYER]
        style_feats = features(torch.from_numpy(style_image.astype(np.float64)), params)
        style_targets = [gram(style_feats[l]) for l in STYLE_LAYERS]

    x = torch.from_numpy(image.astype(np.float64)).requires_grad_(True)
    feats = features(x, params)
    terms = {"content": CONTENT_WEIGHT * content_loss(feats[CONTENT_LAYER], content_target)}
    for layer, weight, target in zip(STYLE_LAYERS, STYLE_WEIGHTS, style_targets):
        terms["style_" + layer] = weight * style_loss(feats[layer], target)
    terms["tv"] = TV_WEIGHT * tv_loss(x)
    total = sum(terms.values())
    total.backward()

    for name, value in terms.items():
        print(f"{name:16s} {value.item():.6e}")
    print(f"{'total':16s} {total.item():.6e}   |grad|max {x.grad.abs().max().item():.6e}")

    def put(f, name, array):
        array = np.asarray(array, dtype=np.float32)
        if array.ndim == 0:
            f.create_dataset(name, data=array)
        else:
            f.create_dataset(name, data=array, compression="gzip", compression_opts=9, shuffle=True)

    with h5py.File(args.output, "w") as f:
        f.attrs["description"] = ("nst cross-check reference made by tests/reference/make_reference.py "
                                  "with PyTorch " + torch.__version__ + " in float64")
        f.attrs["weights_file"] = pathlib.Path(args.weights).name
        f.attrs["pooling"] = "average"
        f.attrs["content_layer"] = CONTENT_LAYER
        f.attrs["content_normalization"] = "half_sum_squares"
        f.attrs["style_layers"] = np.array([s.encode() for s in STYLE_LAYERS])
        f.attrs["style_normalization"] = "gatys"
        f.attrs["content_weight"] = np.float64(CONTENT_WEIGHT)
        f.attrs["style_weights"] = np.array(STYLE_WEIGHTS, dtype=np.float64)
        f.attrs["tv_weight"] = np.float64(TV_WEIGHT)
        f.attrs["image_crop"] = "tubingen.jpg / 4 (PIL bicubic), left 96 top 64, 64 x 64"
        f.attrs["content_crop"] = "tubingen.jpg / 4 (PIL bicubic), left 104 top 72, 64 x 64"
        f.attrs["style_crop"] = "starry_night.jpg / 8 (PIL bicubic), left 24 top 0, 80 x 80"

        # Inputs, caffe convention (BGR minus mean), C x H x W.
        put(f, "inputs/image", image)
        put(f, "inputs/content_image", content_image)
        put(f, "inputs/style_image", style_image)
        for layer in COMPARED:
            put(f, "activations/" + layer, feats[layer].detach().numpy())
            put(f, "grams/" + layer, gram(feats[layer]).detach().numpy())
        f.create_dataset("loss", data=np.float64(total.item()))
        for name, value in terms.items():
            f.create_dataset("loss_terms/" + name, data=np.float64(value.item()))
        put(f, "gradient", x.grad.numpy())
        # A few weights in nst's layout (out, in, row, column), for spot checks of the loader.
        for nst_name, keras_name, n_out, n_in in [("conv1_1", "block1_conv1", 64, 3),
                                                  ("conv3_2", "block3_conv2", 4, 5),
                                                  ("conv5_4", "block5_conv4", 4, 5)]:
            w, b = keras[keras_name]
            put(f, "weights/" + nst_name + "_kernel", w.transpose(3, 2, 0, 1)[:n_out, :n_in])
            put(f, "weights/" + nst_name + "_bias", b)
    print("wrote", args.output, pathlib.Path(args.output).stat().st_size, "bytes")


if __name__ == "__main__":
    main()
