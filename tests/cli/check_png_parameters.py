#!/usr/bin/env python3
"""Reads nst's PNG output with tools independent of nst: Python's zlib for the chunks' CRCs
and the pixel data (unfiltered here), PIL for the text chunk. Checks that a 16-bit PNG holds
the same image as the 8-bit one of the same run (|v16 / 257 - v8| <= 0.5 + 1/257) and that both record
the run's parameters as JSON in the iTXt chunk "nst-parameters", equal to --params-json's file.

usage: check_png_parameters.py NST_BINARY DATA_DIR WORK_DIR   (exit 77: skipped)
"""
import json
import os
import struct
import subprocess
import sys
import zlib

try:
    import numpy as np
    from PIL import Image
except ImportError as e:
    print(f"skipped: {e}")
    sys.exit(77)


def chunks(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
    at, out = 8, []
    while at < len(data):
        (length,) = struct.unpack(">I", data[at:at + 4])
        kind, body = data[at + 4:at + 8], data[at + 8:at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length:at + 12 + length])
        assert crc == zlib.crc32(kind + body), f"bad CRC in {kind}"
        out.append((kind.decode(), body))
        at += 12 + length
    return out


def pixels(data):
    """The samples of an RGB PNG (8 or 16 bit), unfiltered (PNG spec, section 9)."""
    parts = chunks(data)
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", parts[0][1])
    assert colour == 2 and interlace == 0
    raw = zlib.decompress(b"".join(body for kind, body in parts if kind == "IDAT"))
    bpp, stride = 3 * depth // 8, width * 3 * depth // 8
    rows, previous, at = [], bytearray(stride), 0
    for _ in range(height):
        kind, line = raw[at], bytearray(raw[at + 1:at + 1 + stride])
        at += 1 + stride
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = previous[i]
            c = previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
            else:
                assert kind == 0, f"unknown filter {kind}"
        rows.append(bytes(line))
        previous = line
    dtype = ">u2" if depth == 16 else "u1"
    return depth, np.frombuffer(b"".join(rows), dtype=dtype).reshape(height, width, 3).astype(np.int64)


def main():
    nst, data, work = sys.argv[1:4]
    weights = os.path.join(data, "weights", "vgg19_imagenet_notop.h5")
    if not os.path.exists(weights):
        print("skipped: no shared data")
        sys.exit(77)
    os.makedirs(work, exist_ok=True)
    texts, images = {}, {}
    for depth in (8, 16):
        out, params = os.path.join(work, f"out{depth}.png"), os.path.join(work, f"params{depth}.json")
        subprocess.run([nst, "-c", os.path.join(data, "images", "tubingen.jpg"),
                        "-s", os.path.join(data, "images", "starry_night.jpg"), "--weights", weights,
                        "-o", out, "--size", "32", "-i", "2", "-q", "--threads", "1",
                        "--bit-depth", str(depth), "--params-json", params], check=True)
        with open(out, "rb") as f:
            png = f.read()
        got_depth, images[depth] = pixels(png)
        assert got_depth == depth, f"asked {depth} bits, got {got_depth}"
        text = Image.open(out).info["nst-parameters"]
        with open(params, encoding="utf-8") as f:
            assert f.read() == text, "--params-json differs from the PNG's text"
        record = json.loads(text)
        assert record["bit_depth"] == depth and record["program"] == "nst"
        assert len(record["weights"]["sha256"]) == 64
        assert record["weights"]["bytes"] == os.path.getsize(weights), record["weights"]
        # nst computes the MD5 only for sizes it knows by MD5 (Keras' published files).
        assert "md5" not in record["weights"] or len(record["weights"]["md5"]) == 32, record["weights"]
        assert record["scales"] == [32] and record["tile"] == 0, (record["scales"], record["tile"])
        texts[depth] = record
    # Both round the same float image: v16 = round(257 v), v8 = round(v).
    assert np.abs(images[16] / 257 - images[8]).max() <= 0.5 + 1 / 257, "the 16-bit image is not the 8-bit one"
    assert images[16].max() > 255, "16-bit samples use the full range"
    print("ok:", images[16].shape, "16-bit max", images[16].max())


if __name__ == "__main__":
    main()
