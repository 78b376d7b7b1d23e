// Helpers shared by the test programs: random networks and images, shared-data lookup with a
// clean skip.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <string_view>

#include <nst/nst.hpp>

#include "gradient_check.hpp"
#include "temp_folder.hpp"

namespace nst::test {

// nst's thread count set for one scope (a test that splits work unevenly), restored on exit.
class thread_count {
public:
    explicit thread_count(int threads) { set_num_threads(threads); }
    ~thread_count() { set_num_threads(before_); }
    thread_count(const thread_count&) = delete;
    thread_count& operator=(const thread_count&) = delete;

private:
    int before_ = num_threads();
};

// Uniform random weights in [w_lo, w_hi) and bias in [b_lo, b_hi) for one conv3x3. Two draws,
// two statements: a call's arguments are evaluated in an unspecified order (GCC right to left,
// clang left to right), so draws inside one call would give each compiler other weights. The
// bias comes first, as GCC drew it.
template <class Conv, class T = typename Conv::value_type>
void set_random_weights(Conv& conv, std::mt19937& rng, T w_lo = T(-1), T w_hi = T(1), T b_lo = T(-1),
                        T b_hi = T(1)) {
    auto bias = random_tensor<T, 1>({Conv::out_channels}, rng, b_lo, b_hi);
    conv.set_weights(random_tensor<T, 4>({Conv::out_channels, Conv::in_channels, 3, 3}, rng, w_lo, w_hi),
                     std::move(bias));
}

// He-initialised random weights for every conv3x3 of a network (keeps activations O(1) deep
// into VGG19 so gradient checks exercise every layer).
template <class Net> void randomize_weights(Net& net, std::mt19937& rng) {
    net.for_each_layer([&](auto& layer, std::size_t, const std::string&) {
        using L = std::decay_t<decltype(layer)>;
        if constexpr (is_conv3x3_v<L>) {
            using T = typename L::value_type;
            const T s = T(std::sqrt(6.0 / (9.0 * L::in_channels)));
            set_random_weights(layer, rng, -s, s, T(-0.1), T(0.1));
        }
    });
}

// Copies conv weights between two networks of the same layout but different scalar types.
template <class To, class From> void copy_weights(To& to, const From& from) {
    to.for_each_layer([&](auto& layer, std::size_t index, const std::string&) {
        using L = std::decay_t<decltype(layer)>;
        if constexpr (is_conv3x3_v<L>) {
            using T = typename L::value_type;
            from.for_each_layer([&](const auto& source, std::size_t j, const std::string&) {
                using S = std::decay_t<decltype(source)>;
                if constexpr (is_conv3x3_v<S>) {
                    if (j == index)
                        layer.set_weights(xt::cast<T>(source.weights()),
                                          xt::cast<T>(source.bias()));
                }
            });
        }
    });
}

// A random h x w RGB image with integer levels 0..255.
inline image random_image(std::size_t h, std::size_t w, std::mt19937& rng) {
    image img({h, w, 3});
    std::uniform_int_distribution<int> level(0, 255);
    for (auto& v : img) v = float(level(rng));
    return img;
}

inline float max_abs_diff(const image& a, const image& b) {
    REQUIRE(a.shape() == b.shape());
    float worst = 0;
    for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a.data()[i] - b.data()[i]));
    return worst;
}

// Two very different styles for the mask tests (tiled and CLI): 64 x 64 blue stripes on white,
// or red dots on cream.
inline image stripes_or_dots_image(bool stripes) {
    image img({64, 64, 3});
    for (std::size_t y = 0; y < 64; ++y)
        for (std::size_t x = 0; x < 64; ++x) {
            const double dy = double(y % 10) - 5, dx = double(x % 10) - 5;
            const bool ink = stripes ? y % 8 < 3 : dy * dy + dx * dx < 9;
            const std::array<float, 3> colour = stripes ? (ink ? std::array<float, 3>{20, 40, 200}
                                                               : std::array<float, 3>{230, 230, 240})
                                                        : (ink ? std::array<float, 3>{220, 20, 20}
                                                               : std::array<float, 3>{250, 240, 200});
            for (std::size_t c = 0; c < 3; ++c) img(y, x, c) = colour[c];
        }
    return img;
}

// Mean blue minus red of the left and right halves of an image (which half took which style).
inline std::array<double, 2> blue_minus_red_by_half(const image& img) {
    std::array<double, 2> sums{0, 0};
    const std::size_t h = img.shape(0), w = img.shape(1);
    for (std::size_t y = 0; y < h; ++y)
        for (std::size_t x = 0; x < w; ++x) sums[x < w / 2 ? 0 : 1] += img(y, x, 2) - img(y, x, 0);
    return {sums[0] / double(h * (w / 2)), sums[1] / double(h * (w - w / 2))};
}

// Folder with the shared data (weights/, images/) or "" when absent.
inline std::string shared_data_dir() {
    const char* env = std::getenv("NST_DATA_DIR");
    const std::string dir = env ? env : NST_TEST_DATA_DIR;
    return std::filesystem::exists(dir + "/weights/vgg19_imagenet_notop.h5") ? dir : "";
}

// Ends the test process with ctest's "skipped" code (77, see tests/CMakeLists.txt) and a reason.
[[noreturn]] inline void skip(const std::string& why) {
    std::printf("SKIPPED: %s\n", why.c_str());
    std::fflush(stdout);
    std::_Exit(77);
}

// Built with AddressSanitizer: freed memory stays mapped in its quarantine and every block has
// redzones, so a test of resident memory measures the sanitizer, not nst.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool address_sanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool address_sanitizer = true;
#else
inline constexpr bool address_sanitizer = false;
#endif
#else
inline constexpr bool address_sanitizer = false;
#endif

inline std::string require_shared_data() {
    const std::string dir = shared_data_dir();
    if (dir.empty())
        skip("shared data not found at " + std::string(NST_TEST_DATA_DIR) +
             " (set NST_DATA_DIR or the CMake cache variable NST_DATA_DIR)");
    return dir;
}

// Whether the OpenMP runtime's own printout of its settings (OMP_DISPLAY_ENV=verbose, on stderr)
// says its threads sleep at once while they wait: a spin time of 0, GCC libgomp's GOMP_SPINCOUNT
// or LLVM libomp's KMP_BLOCKTIME (the clang builds).
inline bool openmp_sleeps_at_once(const std::string& runtime_printout) {
    return runtime_printout.find("GOMP_SPINCOUNT = '0'") != std::string::npos ||
           runtime_printout.find("KMP_BLOCKTIME='0'") != std::string::npos;
}

// The VGG19 weights in the shared data folder `shared`.
inline std::string weights_path(const std::string& shared) { return shared + "/weights/vgg19_imagenet_notop.h5"; }

}  // namespace nst::test
