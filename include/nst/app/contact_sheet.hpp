// A contact sheet: labelled thumbnails of the snapshots of a run on one image, in reading order
// (what the TensorFlow tutorial shows with a matplotlib grid).
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../io/image.hpp"
#include "canvas.hpp"

namespace nst {

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
    const std::size_t margin = 10, label_h = 18;
    const std::size_t cell_w = thumb + margin, cell_h = thumb + label_h + margin;
    auto sheet = draw::canvas(rows * cell_h + margin, columns * cell_w + margin);
    for (std::size_t k = 0; k < items.size(); ++k) {
        const nst::image t = resize_longer_side(items[k].picture, thumb);
        const std::size_t cx = margin + (k % columns) * cell_w, cy = margin + (k / columns) * cell_h;
        const std::size_t ox = cx + (thumb - t.shape(1)) / 2, oy = cy + (thumb - t.shape(0)) / 2;
        for (std::size_t y = 0; y < t.shape(0); ++y)
            for (std::size_t x = 0; x < t.shape(1); ++x)
                for (std::size_t c = 0; c < 3; ++c)
                    sheet(oy + y, ox + x, c) = std::clamp(t(y, x, c), 0.0f, 255.0f);
        const long tx = long(cx + thumb / 2) - draw::text_width(items[k].label) / 2;
        draw::text(sheet, tx, long(cy + thumb + 5), items[k].label, draw::black);
    }
    return sheet;
}

}  // namespace nst
