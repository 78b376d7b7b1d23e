// A contact sheet: labelled thumbnails of the snapshots of a run on one image, in reading order
// (what the TensorFlow tutorial shows with a matplotlib grid).
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <nst/core/error.hpp>
#include <nst/io/image.hpp>
#include "canvas.hpp"

namespace nst::cli {

struct labelled_image {
    nst::image picture;  // H x W x 3
    std::string label;   // drawn under it, e.g. "iteration 50"
};

/*  requires: at least one picture, each H x W x 3 (else invalid_argument / shape_error);
              thumb >= 16, columns >= 1.
    ensures:  pictures scaled so the longer side is `thumb` pixels, laid out `columns` per row
              (fewer when there are fewer pictures) on white with a margin, label below each. */
inline nst::image contact_sheet(const std::vector<labelled_image>& items, std::size_t thumb = 200,
                                std::size_t columns = 4) {
    if (items.empty()) throw invalid_argument("contact sheet: no snapshots to show");
    if (thumb < 16 || columns < 1) throw invalid_argument("contact sheet: thumbnails >= 16 px, >= 1 column");
    columns = std::min(columns, items.size());
    const std::size_t rows = (items.size() + columns - 1) / columns;
    std::vector<nst::image> thumbs;
    std::size_t tw = 0, th = 0;  // cell size: the largest thumbnail (no empty bands for landscapes)
    for (const auto& item : items) {
        thumbs.push_back(resize_longer_side(item.picture, thumb));
        th = std::max(th, thumbs.back().shape(0));
        tw = std::max(tw, thumbs.back().shape(1));
    }
    const std::size_t margin = 10, label_h = 24;
    const std::size_t cell_w = tw + margin, cell_h = th + label_h + margin;
    auto sheet = draw::canvas(rows * cell_h + margin, columns * cell_w + margin);
    for (std::size_t k = 0; k < items.size(); ++k) {
        const nst::image& t = thumbs[k];
        const std::size_t cx = margin + (k % columns) * cell_w, cy = margin + (k / columns) * cell_h;
        const std::size_t ox = cx + (tw - t.shape(1)) / 2, oy = cy + (th - t.shape(0)) / 2;
        for (std::size_t y = 0; y < t.shape(0); ++y)
            for (std::size_t x = 0; x < t.shape(1); ++x)
                for (std::size_t c = 0; c < 3; ++c)
                    sheet(oy + y, ox + x, c) = std::clamp(t(y, x, c), 0.0f, 255.0f);
        const int scale = draw::text_width(items[k].label, 2) <= long(tw) ? 2 : 1;  // large when it fits
        const long tx = long(cx + tw / 2) - draw::text_width(items[k].label, scale) / 2;
        draw::text(sheet, tx, long(cy + th + 6), items[k].label, draw::black, scale);
    }
    return sheet;
}

}  // namespace nst::cli
