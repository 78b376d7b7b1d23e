// Minimal raster drawing on an nst::image (H x W x 3 RGB, 0..255) for the `nst` program's loss
// plot and contact sheet: filled rectangles, anti-aliased thick lines, and text in a built-in
// 5 x 7 pixel font (digits, lowercase a-z and a few symbols).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <string>

#include <nst/core/tensor.hpp>

namespace nst::cli::draw {

struct rgb {
    float r, g, b;
};

inline constexpr rgb black{0, 0, 0}, white{255, 255, 255}, grey{150, 150, 150},
    light_grey{225, 225, 225}, blue{31, 119, 180}, red{214, 39, 40}, green{44, 160, 44},
    orange{255, 127, 14};

// A blank canvas (height x width, one colour).
inline xt::xtensor<float, 3> canvas(std::size_t height, std::size_t width, rgb colour = white) {
    xt::xtensor<float, 3> img = xt::empty<float>({height, width, std::size_t(3)});
    for (std::size_t i = 0; i < height * width; ++i) {
        img.data()[3 * i] = colour.r;
        img.data()[3 * i + 1] = colour.g;
        img.data()[3 * i + 2] = colour.b;
    }
    return img;
}

// Mixes `colour` into pixel (x, y) with opacity alpha in [0, 1]; outside the image: ignored.
inline void blend(xt::xtensor<float, 3>& img, long x, long y, rgb colour, float alpha) {
    if (x < 0 || y < 0 || y >= long(img.shape(0)) || x >= long(img.shape(1)) || alpha <= 0) return;
    alpha = std::min(alpha, 1.0f);
    float* p = &img(std::size_t(y), std::size_t(x), 0);
    p[0] += alpha * (colour.r - p[0]);
    p[1] += alpha * (colour.g - p[1]);
    p[2] += alpha * (colour.b - p[2]);
}

// Fills columns x0..x1-1, rows y0..y1-1 (clipped).
inline void fill_rect(xt::xtensor<float, 3>& img, long x0, long y0, long x1, long y1, rgb colour) {
    for (long y = std::max(0L, y0); y < std::min(long(img.shape(0)), y1); ++y)
        for (long x = std::max(0L, x0); x < std::min(long(img.shape(1)), x1); ++x)
            blend(img, x, y, colour, 1.0f);
}

// A segment of the given width with anti-aliased edges: each pixel is covered by how far its
// centre lies inside the stroke (distance to the segment compared with half the width).
inline void line(xt::xtensor<float, 3>& img, double x0, double y0, double x1, double y1, rgb colour,
                 double width = 1.0) {
    const double half = width / 2;
    const long xa = long(std::floor(std::min(x0, x1) - half - 1)), xb = long(std::ceil(std::max(x0, x1) + half + 1));
    const long ya = long(std::floor(std::min(y0, y1) - half - 1)), yb = long(std::ceil(std::max(y0, y1) + half + 1));
    const double dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy;
    for (long y = std::max(0L, ya); y <= std::min(long(img.shape(0)) - 1, yb); ++y)
        for (long x = std::max(0L, xa); x <= std::min(long(img.shape(1)) - 1, xb); ++x) {
            double t = len2 > 0 ? ((x - x0) * dx + (y - y0) * dy) / len2 : 0.0;
            t = std::clamp(t, 0.0, 1.0);
            const double ex = x - (x0 + t * dx), ey = y - (y0 + t * dy);
            const double coverage = half + 0.5 - std::sqrt(ex * ex + ey * ey);
            if (coverage > 0) blend(img, x, y, colour, float(std::min(coverage, 1.0)));
        }
}

namespace detail {
// 7 rows of 5 bits (bit 4 = leftmost column) per glyph; unknown characters draw a box.
inline const std::array<std::uint8_t, 7>& glyph(char c) {
    struct entry {
        char c;
        std::array<std::uint8_t, 7> rows;
    };
    static const entry font[] = {
        {'0', {14, 17, 19, 21, 25, 17, 14}}, {'1', {4, 12, 4, 4, 4, 4, 14}},
        {'2', {14, 17, 1, 2, 4, 8, 31}},     {'3', {31, 2, 4, 2, 1, 17, 14}},
        {'4', {2, 6, 10, 18, 31, 2, 2}},     {'5', {31, 16, 30, 1, 1, 17, 14}},
        {'6', {6, 8, 16, 30, 17, 17, 14}},   {'7', {31, 1, 2, 4, 8, 8, 8}},
        {'8', {14, 17, 17, 14, 17, 17, 14}}, {'9', {14, 17, 17, 15, 1, 2, 12}},
        {'.', {0, 0, 0, 0, 0, 12, 12}},      {'-', {0, 0, 0, 31, 0, 0, 0}},
        {'+', {0, 4, 4, 31, 4, 4, 0}},       {':', {0, 12, 12, 0, 12, 12, 0}},
        {'(', {2, 4, 8, 8, 8, 4, 2}},        {')', {8, 4, 2, 2, 2, 4, 8}},
        {'/', {1, 1, 2, 4, 8, 16, 16}},      {'=', {0, 0, 31, 0, 31, 0, 0}},
        {' ', {0, 0, 0, 0, 0, 0, 0}},        {'a', {0, 0, 14, 1, 15, 17, 15}},
        {'b', {16, 16, 22, 25, 17, 17, 30}}, {'c', {0, 0, 14, 16, 16, 17, 14}},
        {'d', {1, 1, 13, 19, 17, 17, 15}},   {'e', {0, 0, 14, 17, 31, 16, 14}},
        {'g', {0, 15, 17, 17, 15, 1, 14}},   {'h', {16, 16, 22, 25, 17, 17, 17}},
        {'i', {4, 0, 12, 4, 4, 4, 14}},      {'l', {12, 4, 4, 4, 4, 4, 14}},
        {'m', {0, 0, 26, 21, 21, 17, 17}},   {'n', {0, 0, 22, 25, 17, 17, 17}},
        {'o', {0, 0, 14, 17, 17, 17, 14}},   {'p', {0, 0, 30, 17, 30, 16, 16}},
        {'r', {0, 0, 22, 25, 16, 16, 16}},   {'s', {0, 0, 14, 16, 14, 1, 30}},
        {'t', {8, 8, 28, 8, 8, 9, 6}},       {'u', {0, 0, 17, 17, 17, 19, 13}},
        {'v', {0, 0, 17, 17, 17, 10, 4}},    {'x', {0, 0, 17, 10, 4, 10, 17}},
        {'y', {0, 0, 17, 17, 15, 1, 14}},    {'f', {6, 9, 8, 28, 8, 8, 8}},
        {'j', {2, 0, 6, 2, 2, 18, 12}},      {'k', {16, 16, 18, 20, 24, 20, 18}},
        {'q', {0, 0, 13, 19, 15, 1, 1}},     {'w', {0, 0, 17, 17, 21, 21, 10}},
        {'z', {0, 0, 31, 2, 4, 8, 31}},
    };
    static const std::array<std::uint8_t, 7> box{31, 17, 17, 17, 17, 17, 31};
    for (const auto& e : font)
        if (e.c == c) return e.rows;
    return box;
}
}  // namespace detail

// Width in pixels of `text` drawn at `scale` (6 columns per character including spacing).
inline long text_width(const std::string& text, int scale = 1) { return long(text.size()) * 6 * scale - scale; }
inline long text_height(int scale = 1) { return 7L * scale; }

// Draws text with its top-left corner at (x, y); each font pixel becomes scale x scale pixels.
inline void text(xt::xtensor<float, 3>& img, long x, long y, const std::string& s, rgb colour, int scale = 1) {
    for (std::size_t k = 0; k < s.size(); ++k) {
        const auto& rows = detail::glyph(s[k]);
        const long gx = x + long(k) * 6 * scale;
        for (int r = 0; r < 7; ++r)
            for (int c = 0; c < 5; ++c)
                if (rows[std::size_t(r)] & (16 >> c))
                    fill_rect(img, gx + c * scale, y + r * scale, gx + (c + 1) * scale, y + (r + 1) * scale, colour);
    }
}

}  // namespace nst::cli::draw
