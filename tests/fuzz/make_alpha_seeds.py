#!/usr/bin/python3
"""Writes fuzz_decode_image's seeds with alpha or transparency (the paths decode_mask_image reads
as coverage) into corpus/decode_image/: Pillow where it writes the format, by hand where it
cannot (16-bit grey+alpha, 16-bit RGB with tRNS). Tiny images whose pixels mix alpha 0, partial
and 255 over colours that are not white, so a mask read differs from the picture read.

    /usr/bin/python3 tests/fuzz/make_alpha_seeds.py   (Pillow 9.4 wrote the committed files)
"""
import os
import struct
import zlib

from PIL import Image

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "decode_image")


def png(width, height, bit_depth, colour_type, rows, extra_chunks=()):
    """A PNG from raw rows (filter type 0 on each), with chunks placed before IDAT."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    raw = b"".join(b"\x00" + row for row in rows)
    body = b"".join(chunk(kind, data) for kind, data in extra_chunks)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + body + chunk(b"IDAT", zlib.compress(raw, 9)) +
            chunk(b"IEND", b""))


def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def main():
    os.makedirs(OUT, exist_ok=True)
    rgba = Image.new("RGBA", (3, 2))
    rgba.putdata([(255, 0, 0, 0), (0, 255, 0, 128), (0, 0, 255, 255),
                  (255, 255, 255, 64), (10, 20, 30, 255), (200, 100, 50, 1)])
    rgba.save(os.path.join(OUT, "rgba.png"))
    rgba.save(os.path.join(OUT, "rgba_rle.tga"), compression="tga_rle")
    rgba.save(os.path.join(OUT, "rgba.bmp"))

    # Palette and grey with a tRNS chunk: stb adds the alpha channel itself.
    palette = Image.new("P", (3, 2))
    palette.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255])
    palette.putdata([0, 1, 2, 3, 0, 1])
    palette.save(os.path.join(OUT, "palette_trns.png"), transparency=bytes([0, 128, 255, 255]))
    palette.save(os.path.join(OUT, "transparent.gif"), transparency=1)
    grey = Image.new("L", (3, 2))
    grey.putdata([0, 77, 200, 255, 77, 128])
    grey.save(os.path.join(OUT, "grey_trns.png"), transparency=77)

    # 16 bits: grey+alpha (colour type 4) and RGB with a 16-bit tRNS key (colour type 2).
    write("grey_alpha16.png", png(2, 2, 16, 4, [struct.pack(">4H", 65535, 0, 0x1234, 0x8000),
                                                 struct.pack(">4H", 0, 65535, 40000, 65535)]))
    write("rgb16_trns.png", png(2, 1, 16, 2, [struct.pack(">6H", 1000, 2000, 3000, 65535, 0, 257)],
                                [(b"tRNS", struct.pack(">3H", 1000, 2000, 3000))]))


if __name__ == "__main__":
    main()
