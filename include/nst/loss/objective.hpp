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
// and writing its gradient: content_loss, style_loss, total_variation_loss, or your own. A layer
// term may also offer `T accumulate(const tensor3<T>& input, T weight, tensor3<T>& d_input) const`,
// returning its value and adding weight * its gradient to d_input (input's shape), as
// content_loss and style_loss do: the objective then adds it straight into the gradient the
// network's backward pass has gathered at that layer (sequential::pending_gradient), instead of
// writing a term gradient, scaling it and adding it in three passes over memory. Such a term's
// call operator must be const too (both forms share one const term); add refuses at compile
// time a term whose call operator or accumulate is not const.
// Each term carries a group name ("content", "style", "tv", ...). An evaluation returns a
// loss_value: the total and every term's weighted part, so whoever receives it (an optimizer
// callback, see optim/state.hpp) knows the parts of exactly that point.
//
// normalize_gradients(true) (jcjohnson/neural-style's -normalize_gradients): each layer term's
// gradient is divided by its L1 norm (+ 1e-8) before it is weighted and injected, so a term's
// weight sets the size of its pull whatever its loss scale. The image-level terms (total
// variation) are not normalised, as in neural-style. The returned value stays the unnormalised
// weighted loss, so the returned gradient is then no longer that value's gradient, and not
// always a descent direction for it (an unnormalised TV term of weight 1 dominates it at the
// default weights: use neural-style's 1e-3). nst::lbfgs with options::backtracking accepts only
// steps that lower the true loss.
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/isa_namespace.hpp"
#include "../core/elementwise.hpp"
#include "../core/error.hpp"
#include "../core/tensor.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

// The loss at one point: the total and the weighted value of each term. Converts to T (the
// total) where a number is expected, so `T value = objective(x, grad);` keeps working.
template <class T> struct loss_value {
    struct part {
        std::string group;  // the group the term was added with
        T value;            // weight * term value
    };
    T total = 0;
    std::vector<part> parts;  // one per term, in the order the terms were added

    // Sum of the parts of one group (0 if the group is absent).
    T group(const std::string& name) const {
        T sum = 0;
        for (const part& p : parts)
            if (p.group == name) sum += p.value;
        return sum;
    }
    operator T() const { return total; }
};

namespace detail {
// grad += weight * d over raw memory, in parallel (no temporary for the scaled term gradient).
// sum |d_i| in double, in parallel.
template <class T> double l1_norm(const tensor3<T>& d) {
    const T* p = d.data();
    const std::ptrdiff_t n = std::ptrdiff_t(d.size());
    double sum = 0;
#pragma omp parallel for schedule(static) reduction(+ : sum) if (n > 65536)
    for (std::ptrdiff_t i = 0; i < n; ++i) sum += double(p[i] < 0 ? -p[i] : p[i]);
    return sum;
}

template <class T> void add_scaled(tensor3<T>& grad, T weight, const tensor3<T>& d, const std::string& group) {
    if (d.shape() != grad.shape())
        throw shape_error("objective: the image term '" + group + "' wrote a gradient of shape " +
                          shape_string(d.shape()) + ", expected the image's " + shape_string(grad.shape()));
    T* g = grad.data();
    const T* s = d.data();
    const std::ptrdiff_t n = std::ptrdiff_t(grad.size());
#pragma omp parallel for schedule(static) if (n > 65536)
    for (std::ptrdiff_t i = 0; i < n; ++i) g[i] += weight * s[i];
}
}  // namespace detail

namespace detail {
// Whether Object (a term, const or not) has the accumulate form.
template <class Object, class T, class = void> struct has_accumulate : std::false_type {};
template <class Object, class T>
struct has_accumulate<Object, T,
                      std::void_t<decltype(std::declval<Object&>().accumulate(
                          std::declval<const tensor3<T>&>(), T(1), std::declval<tensor3<T>&>()))>>
    : std::true_type {};
}  // namespace detail

template <class Net> class objective {
public:
    using value_type = typename Net::value_type;
    using T = value_type;
    using term_function = std::function<T(const tensor3<T>&, tensor3<T>&)>;
    // A term's accumulate form (see above).
    using accumulate_function = std::function<T(const tensor3<T>&, T, tensor3<T>&)>;

    explicit objective(Net& net) : net_(&net) {}

    // Adds weight * loss(activations of `layer`). Throws invalid_argument for an unknown layer.
    template <class Term> void add(const std::string& layer, T weight, Term loss, std::string group) {
        // One readable error for a term of another form (not pages of std::function's).
        constexpr bool is_term = std::is_invocable_r_v<T, Term&, const tensor3<T>&, tensor3<T>&>;
        static_assert(is_term, "objective::add: a loss term must be callable as "
                               "`T term(const tensor3<T>& f, tensor3<T>& df)`, returning its value and "
                               "writing d value / d f into df (loss/objective.hpp)");
        // Both forms of a term share one const object (below): a term with an accumulate form
        // must be callable const too, and an accumulate that is not const would go unused.
        constexpr bool accumulates = detail::has_accumulate<const Term, T>::value;
        constexpr bool const_call = std::is_invocable_r_v<T, const Term&, const tensor3<T>&, tensor3<T>&>;
        static_assert(!is_term || !accumulates || const_call,
                      "objective::add: a loss term with an accumulate form needs a const call operator, "
                      "`T operator()(const tensor3<T>& f, tensor3<T>& df) const` (loss/objective.hpp)");
        constexpr bool non_const_accumulate = !accumulates && detail::has_accumulate<Term, T>::value;
        static_assert(!is_term || !non_const_accumulate,
                      "objective::add: a loss term's accumulate must be const, "
                      "`T accumulate(const tensor3<T>& f, T weight, tensor3<T>& df) const` (loss/objective.hpp)");
        const std::size_t index = net_->index_of(layer);
        if constexpr (!is_term || (accumulates && !const_call) || non_const_accumulate) {
            // (reported above)
        } else if constexpr (accumulates) {
            // Both forms share one term (a content term holds a layer's activations).
            auto shared = std::make_shared<const Term>(std::move(loss));
            terms_.push_back({index, weight,
                              [shared](const tensor3<T>& f, tensor3<T>& d) { return (*shared)(f, d); },
                              std::move(group),
                              [shared](const tensor3<T>& f, T w, tensor3<T>& d) {
                                  return shared->accumulate(f, w, d);
                              }});
        } else {
            terms_.push_back({index, weight, term_function(std::move(loss)), std::move(group), {}});
        }
    }
    // Adds weight * loss(image).
    void add_image_term(T weight, term_function loss, std::string group) {
        terms_.push_back({image_level, weight, std::move(loss), std::move(group), {}});
    }

    // Loss at image x (C x H x W) with its parts; writes d loss / d x into grad.
    loss_value<T> operator()(const tensor3<T>& x, tensor3<T>& grad) {
        if (terms_.empty()) throw invalid_argument("objective: no loss terms were added");
        last_.total = 0;
        last_.parts.clear();
        for (const auto& t : terms_) last_.parts.push_back({t.group, T(0)});
        layer_terms(x, grad);
        image_terms(x, grad);
        for (const auto& p : last_.parts) last_.total += p.value;
        ++evaluations_;
        return last_;
    }

    // On: each layer term's gradient is divided by its L1 norm before weighting (see above).
    void normalize_gradients(bool on) { normalize_ = on; }
    bool normalizes_gradients() const { return normalize_; }

    // The value returned by the last evaluation.
    const loss_value<T>& last_value() const { return last_; }
    // Sum of the weighted values of one group at the last evaluation (0 if the group is absent).
    T group_value(const std::string& group) const { return last_.group(group); }
    std::size_t evaluations() const { return evaluations_; }

private:
    static constexpr std::size_t image_level = std::size_t(-1);
    struct term {
        std::size_t layer;  // index in the network, or image_level
        T weight;
        term_function function;
        std::string group;
        accumulate_function accumulate;  // empty when the term has no such form
    };

    // Forward to the deepest layer read, then one backward pass injecting the layer terms'
    // gradients; grad = zeros when no term reads a layer.
    void layer_terms(const tensor3<T>& x, tensor3<T>& grad) {
        std::vector<std::size_t> read;
        for (const auto& t : terms_)
            if (t.layer != image_level) read.push_back(t.layer);
        if (read.empty()) {
            grad.resize(x.shape());
            grad.fill(T(0));
            return;
        }
        net_->keep_only(read);
        net_->forward(x, *std::max_element(read.begin(), read.end()));
        // Each layer's terms run when the reverse pass reaches that layer: only one term gradient
        // exists at a time, and the layer's output is released right after (the backward keeps
        // what it needs of it in compact form).
        grad = net_->backward([&](std::size_t layer) {
            bool reads = false;
            for (std::size_t i = 0; i < terms_.size(); ++i) {
                const auto& t = terms_[i];
                if (t.layer != layer) continue;
                reads = true;
                const tensor3<T>& f = net_->output(layer);
                // Added in place to what deeper layers sent back, where the term can (a
                // normalised gradient needs the term's own first).
                tensor3<T>* const gathered =
                    t.accumulate && !normalize_ ? net_->pending_gradient(layer) : nullptr;
                if (gathered) {
                    last_.parts[i].value = t.weight * named(t, [&] { return t.accumulate(f, t.weight, *gathered); });
                    continue;
                }
                tensor3<T> d;
                last_.parts[i].value = t.weight * named(t, [&] { return t.function(f, d); });
                if (d.shape() != f.shape())
                    throw shape_error("objective: the term '" + t.group + "' at layer '" + net_->name(layer) +
                                      "' wrote a gradient of shape " + shape_string(d.shape()) +
                                      ", expected its layer output's " + shape_string(f.shape()));
                // In parallel: at relu1_1 d has 16.7 M elements (512 px), a serial pass idles
                // the other cores.
                const T w = normalize_ ? T(double(t.weight) / (detail::l1_norm(d) + 1e-8)) : t.weight;
                if (w != T(1)) scale_by(d, w);
                net_->add_gradient(layer, std::move(d));
            }
            if (reads) net_->release_output(layer);
        });
    }

    void image_terms(const tensor3<T>& x, tensor3<T>& grad) {
        for (std::size_t i = 0; i < terms_.size(); ++i) {
            const auto& t = terms_[i];
            if (t.layer != image_level) continue;
            // Its own, as for layer terms: a term that wrote no gradient would otherwise have
            // added the previous image term's, unnoticed.
            tensor3<T> d;
            last_.parts[i].value = t.weight * named(t, [&] { return t.function(x, d); });
            detail::add_scaled(grad, t.weight, d, t.group);
        }
    }

    // Runs a term; a shape_error it throws (e.g. a content target taken at another layer) names
    // the term and its layer.
    template <class Run> T named(const term& t, Run&& run) const {
        try {
            return run();
        } catch (const shape_error& e) {
            throw shape_error("objective: the term '" + t.group + "' at " +
                              (t.layer == image_level ? std::string("the image") : "layer '" + net_->name(t.layer) + "'") +
                              ": " + e.what());
        }
    }

    Net* net_;
    std::vector<term> terms_;
    loss_value<T> last_;
    std::size_t evaluations_ = 0;
    bool normalize_ = false;
};

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
