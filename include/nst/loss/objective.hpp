// The function an optimizer minimises: f(x, grad) -> loss over the image x.
//
// One evaluation runs the network forward to the deepest layer any term reads, then one backward
// pass that evaluates each layer's terms when it reaches that layer and injects their weighted
// gradients there (gradients from all depths accumulate), and adds the image-level terms'
// gradients. Memory: the network keeps only the outputs the terms read (plus compact backward
// state), and releases each one once its terms have run; one term gradient exists at a time.
//
// After an evaluation the outputs the terms read are released: read them with a new forward.
//
// A term is any callable `T(const tensor3<T>& input, tensor3<T>& d_input)` returning its value
// and writing its gradient: content_loss, style_loss, total_variation_loss, or your own.
// Each term carries a group name ("content", "style", "tv", ...) so progress reports can show
// the parts of the loss.
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/tensor.hpp"

namespace nst {

template <class Net> class objective {
public:
    using value_type = typename Net::value_type;
    using T = value_type;
    using term_function = std::function<T(const tensor3<T>&, tensor3<T>&)>;

    explicit objective(Net& net) : net_(&net) {}

    // Adds weight * term(activations of `layer`). Throws invalid_argument for an unknown layer.
    void add(const std::string& layer, T weight, term_function term, std::string group) {
        terms_.push_back({net_->index_of(layer), layer, weight, std::move(term), std::move(group)});
    }
    // Adds weight * term(image).
    void add_image_term(T weight, term_function term, std::string group) {
        terms_.push_back({image_level, "image", weight, std::move(term), std::move(group)});
    }

    // Loss at image x (C x H x W); writes d loss / d x into grad.
    T operator()(const tensor3<T>& x, tensor3<T>& grad) {
        if (terms_.empty()) throw invalid_argument("objective: no loss terms were added");
        std::vector<std::size_t> read;
        std::size_t deepest = 0;
        bool any_layer = false;
        for (const auto& t : terms_)
            if (t.layer != image_level) {
                read.push_back(t.layer);
                deepest = std::max(deepest, t.layer);
                any_layer = true;
            }
        T total = 0;
        values_.assign(terms_.size(), T(0));
        if (any_layer) {
            net_->keep_only(read);
            net_->forward(x, deepest);
            // Each layer's terms run when the reverse pass reaches that layer: only one term
            // gradient exists at a time, and the layer's output is released right after (the
            // backward keeps what it needs of it in compact form).
            grad = net_->backward([&](std::size_t layer) {
                bool reads = false;
                for (std::size_t i = 0; i < terms_.size(); ++i) {
                    const auto& t = terms_[i];
                    if (t.layer != layer) continue;
                    reads = true;
                    tensor3<T> d;
                    values_[i] = t.weight * t.function(net_->output(layer), d);
                    d *= t.weight;
                    net_->add_gradient(layer, std::move(d));
                }
                if (reads) net_->release_output(layer);
            });
        } else {
            grad = xt::zeros<T>(x.shape());
        }
        tensor3<T> d;
        for (std::size_t i = 0; i < terms_.size(); ++i) {
            const auto& t = terms_[i];
            if (t.layer != image_level) continue;
            values_[i] = t.weight * t.function(x, d);
            grad += t.weight * d;
        }
        for (const T v : values_) total += v;
        ++evaluations_;
        return total;
    }

    // Weighted value of each term at the last evaluation, in the order they were added.
    const std::vector<T>& term_values() const { return values_; }
    // Sum of the weighted values of one group at the last evaluation (0 if the group is absent).
    T group_value(const std::string& group) const {
        T sum = 0;
        for (std::size_t i = 0; i < terms_.size() && i < values_.size(); ++i)
            if (terms_[i].group == group) sum += values_[i];
        return sum;
    }
    std::size_t evaluations() const { return evaluations_; }
    std::size_t term_count() const { return terms_.size(); }
    Net& network() { return *net_; }

private:
    static constexpr std::size_t image_level = std::size_t(-1);
    struct term {
        std::size_t layer;
        std::string layer_name;
        T weight;
        term_function function;
        std::string group;
    };
    Net* net_;
    std::vector<term> terms_;
    std::vector<T> values_;
    std::size_t evaluations_ = 0;
};

}  // namespace nst
