// The loss curve as an image (what the TensorFlow tutorial draws with matplotlib): iterations on
// x, loss on a log-scale y axis with a gridline and label per decade, one line per series
// (total, content, style, TV), and a legend.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include <nst/core/error.hpp>
#include "canvas.hpp"

namespace nst::cli {

struct plot_series {
    std::string name;
    draw::rgb colour;
    std::vector<double> values;  // values <= 0 or non-finite are skipped
    // The iteration of each value; empty: values[i] at iteration i. (A coarse-to-fine run reports
    // the iteration of a scale change twice: the previous scale's end, then the new size's start.)
    std::vector<double> iterations = {};
};

namespace detail {
// A "nice" tick step (1, 2 or 5 times a power of ten) giving at most `max_ticks` ticks over span.
inline double nice_step(double span, int max_ticks) {
    const double raw = span / std::max(1, max_ticks);
    const double p = std::pow(10.0, std::floor(std::log10(std::max(raw, 1e-12))));
    for (double m : {1.0, 2.0, 5.0, 10.0})
        if (m * p >= raw) return m * p;
    return 10 * p;
}
// The step between the iteration axis' ticks: whole iterations (a 3-step run got ticks at halves
// labelled "0 1 1 2 2 3 3").
inline double iteration_tick_step(std::size_t last) { return std::max(1.0, nice_step(double(last), 8)); }

inline double iteration_of(const plot_series& s, std::size_t i) {
    return s.iterations.empty() ? double(i) : s.iterations[i];
}

// The last iteration with a value to plot (at least 1: the axis' end).
inline double last_iteration(const std::vector<plot_series>& series) {
    double last = 1;
    for (const auto& s : series)
        for (std::size_t i = 0; i < s.values.size(); ++i)
            if (s.values[i] > 0 && std::isfinite(s.values[i])) last = std::max(last, iteration_of(s, i));
    return last;
}

inline std::string decade_label(int exponent) {
    if (exponent >= 0 && exponent <= 3) {
        return std::to_string(int(std::lround(std::pow(10.0, exponent))));
    }
    return "1e" + std::to_string(exponent);
}
}  // namespace detail

/*  requires: width >= 200, height >= 150 (else invalid_argument); at least one positive value
              in some series (else invalid_argument).
    ensures:  a height x width RGB image of the curves; the y range spans whole decades around
              the positive values. */
inline xt::xtensor<float, 3> draw_loss_plot(const std::vector<plot_series>& series, std::size_t width = 800,
                                            std::size_t height = 500) {
    if (width < 200 || height < 150) throw invalid_argument("loss plot: the image must be at least 200 x 150");
    double lo = std::numeric_limits<double>::infinity(), hi = 0;
    for (const auto& s : series) {
        if (!s.iterations.empty() && s.iterations.size() != s.values.size())
            throw invalid_argument("loss plot: series " + s.name + " has " + std::to_string(s.values.size()) +
                                   " values for " + std::to_string(s.iterations.size()) + " iterations");
        for (const double v : s.values)
            if (v > 0 && std::isfinite(v)) {
                lo = std::min(lo, v);
                hi = std::max(hi, v);
            }
    }
    const double last = detail::last_iteration(series);
    if (!(hi > 0)) throw invalid_argument("loss plot: no positive loss values to plot");

    int e_lo = int(std::floor(std::log10(lo))), e_hi = int(std::ceil(std::log10(hi)));
    if (e_hi == e_lo) ++e_hi;

    auto img = draw::canvas(height, width);
    const long left = 70, right = long(width) - 20, top = 30, bottom = long(height) - 45;
    const auto px = [&](double it) { return double(left) + (right - left) * it / last; };
    const auto py = [&](double v) {
        return double(bottom) - (bottom - top) * (std::log10(v) - e_lo) / double(e_hi - e_lo);
    };

    // Grid and labels: one horizontal line per decade (labels thinned when crowded).
    const int decade_step = std::max(1, (e_hi - e_lo + 7) / 8);
    for (int e = e_lo; e <= e_hi; ++e) {
        const double y = py(std::pow(10.0, e));
        draw::line(img, double(left), y, double(right), y, draw::light_grey, 1.0);
        if ((e - e_lo) % decade_step == 0) {
            const std::string label = detail::decade_label(e);
            draw::text(img, left - 8 - draw::text_width(label, 1), long(y) - 3, label, draw::black);
        }
    }
    const double step = detail::iteration_tick_step(std::size_t(last));
    for (double it = 0; it <= last + 1e-9; it += step) {
        const double x = px(it);
        draw::line(img, x, double(top), x, double(bottom), draw::light_grey, 1.0);
        const std::string label = std::to_string(long(std::lround(it)));
        draw::text(img, long(x) - draw::text_width(label) / 2, bottom + 8, label, draw::black);
    }
    // Axes.
    draw::line(img, double(left), double(top), double(left), double(bottom), draw::black, 1.5);
    draw::line(img, double(left), double(bottom), double(right), double(bottom), draw::black, 1.5);
    draw::text(img, (left + right) / 2 - draw::text_width("iteration", 2) / 2, bottom + 22, "iteration",
               draw::black, 2);
    draw::text(img, left - 60, 8, "loss (log scale)", draw::black, 2);

    // Curves: segments between consecutive positive values.
    for (const auto& s : series) {
        for (std::size_t i = 1; i < s.values.size(); ++i) {
            const double a = s.values[i - 1], b = s.values[i];
            if (!(a > 0 && b > 0 && std::isfinite(a) && std::isfinite(b))) continue;
            draw::line(img, px(detail::iteration_of(s, i - 1)), py(a), px(detail::iteration_of(s, i)), py(b),
                       s.colour, 2.0);
        }
        if (s.values.size() == 1 && s.values[0] > 0) {
            const double x = px(detail::iteration_of(s, 0));
            draw::line(img, x, py(s.values[0]), x, py(s.values[0]), s.colour, 4.0);
        }
    }

    // Legend, top right.
    long ly = top + 8;
    for (const auto& s : series) {
        const long lx = right - 10 - draw::text_width(s.name, 2) - 34;
        draw::fill_rect(img, lx - 6, ly - 4, right - 4, ly + 18, draw::white);
        draw::line(img, double(lx), double(ly + 7), double(lx + 24), double(ly + 7), s.colour, 3.0);
        draw::text(img, lx + 32, ly, s.name, draw::black, 2);
        ly += 22;
    }
    return img;
}

}  // namespace nst::cli
