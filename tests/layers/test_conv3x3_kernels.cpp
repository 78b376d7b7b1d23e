// The fast float convolutions (nst's own SIMD kernels: implicit GEMM, conv3x3_implicit.hpp, and
// Winograd F(4x4, 3x3), conv3x3_winograd.hpp) against the plain reference path (im2col + BLAS,
// conv3x3_gemm.hpp), forward and backward, on every VGG19 layer shape and on odd sizes; plus
// checks that do not trust the reference (the backward is the adjoint of the forward; a float
// layer's gradient matches finite differences).
//
// Tolerances, as max |fast - reference| / max |reference|:
//   implicit GEMM 1e-5 (float32 sums of up to 9 * 512 = 4608 products in another order);
//   Winograd 1e-4 (its transforms amplify float rounding; ~2e-5 measured on VGG19 shapes).
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <thread>
#include <vector>

#include "conv_cases.hpp"
#include "test_helpers.hpp"

using namespace nst;
using nst::test::conv_case;
using nst::test::relative_difference;

namespace {

constexpr double path_tolerance = 1e-5;
constexpr double winograd_tolerance = 1e-4;

#if NST_SIMD_FLOAT_WIDTH > 0  // (without the own kernels only the last test case remains)
// Reference path: forward (adjoint == false) or backward (adjoint == true).
std::vector<float> reference(const conv_case& c, bool adjoint, bool relu) {
    std::vector<float> packed(9 * c.c_in * c.c_out);
    detail::conv3x3_gemm_pack(c.weights.data(), c.c_in, c.c_out, adjoint, packed.data());
    const std::size_t in = adjoint ? c.c_out : c.c_in, out = adjoint ? c.c_in : c.c_out;
    std::vector<float> y(out * c.h * c.w);
    detail::conv3x3_same(adjoint ? c.dy.data() : c.x.data(), in, c.h, c.w, packed.data(),
                         adjoint ? nullptr : c.bias.data(), relu, y.data(), out);
    return y;
}

// Fast path; rows, channel_block and outputs_per_task of 0 choose the automatic blocking.
std::vector<float> fast(const conv_case& c, bool adjoint, bool relu, std::size_t rows = 0,
                        std::size_t channel_block = 0, int threads = num_threads(),
                        std::size_t outputs_per_task = 0) {
    std::vector<float> packed(adjoint ? detail::conv3x3_implicit_packed_size(c.c_out, c.c_in)
                                      : detail::conv3x3_implicit_packed_size(c.c_in, c.c_out));
    detail::conv3x3_implicit_pack(c.weights.data(), c.c_in, c.c_out, adjoint, packed.data());
    const std::size_t in = adjoint ? c.c_out : c.c_in, out = adjoint ? c.c_in : c.c_out;
    std::vector<float> y(out * c.h * c.w);
    const detail::conv3x3_implicit_plan plan(in, out, c.h, c.w, threads, rows, channel_block,
                                             outputs_per_task);
    detail::conv3x3_implicit(adjoint ? c.dy.data() : c.x.data(), in, c.h, c.w, packed.data(),
                             adjoint ? nullptr : c.bias.data(), relu, y.data(), out, plan);
    return y;
}

// Where Winograd's transformed weights are made: the plan's choice, one shared buffer, or per
// task in chunks of one micro-tile of outputs (the most chunks).
enum class filters { automatic, shared, fused };

// Winograd; tiles_per_block of 0 chooses the automatic blocking; stream forces non-temporal
// output stores (otherwise chosen for outputs over 40 MB only); channel_chunk, when nonzero, the
// input channels per GEMM pass (AVX2 makes one pass up to 512 channels, AVX-512 128 at a time).
std::vector<float> winograd(const conv_case& c, bool adjoint, bool relu,
                            std::size_t tiles_per_block = 0, int threads = num_threads(),
                            filters mode = filters::automatic, bool stream = false,
                            std::size_t channel_chunk = 0) {
    const std::size_t in = adjoint ? c.c_out : c.c_in, out = adjoint ? c.c_in : c.c_out;
    // A 64-byte aligned output, as nst's tensors are (only aligned rows are streamed).
    std::vector<float> storage(out * c.h * c.w + 16);
    float* y = storage.data();
    while (reinterpret_cast<std::uintptr_t>(y) % 64 != 0) ++y;
    detail::conv3x3_winograd_plan plan(in, out, c.h, c.w, threads, tiles_per_block);
    if (mode != filters::automatic) plan.fused_filters = mode == filters::fused;
    if (mode == filters::fused) plan.filter_chunk = std::size_t(detail::conv3x3_mr);
    if (stream) plan.stream_output = true;
    if (channel_chunk) plan.channel_chunk = channel_chunk;
    // (Winograd reads the layer's weights as they are, transposed for the adjoint)
    detail::conv3x3_winograd(adjoint ? c.dy.data() : c.x.data(), in, c.h, c.w, c.weights.data(),
                             adjoint, adjoint ? nullptr : c.bias.data(), relu, y, out, plan);
    return std::vector<float>(y, y + out * c.h * c.w);
}

void require_winograd_agrees(const conv_case& c, std::size_t tiles_per_block = 0,
                             int threads = num_threads(), filters mode = filters::automatic,
                             bool stream = false, std::size_t channel_chunk = 0) {
    CAPTURE(c.c_in, c.c_out, c.h, c.w, tiles_per_block, threads, int(mode), stream, channel_chunk);
    for (bool relu : {false, true}) {
        CAPTURE(relu);
        REQUIRE(relative_difference(
                    winograd(c, false, relu, tiles_per_block, threads, mode, stream, channel_chunk),
                    reference(c, false, relu)) < winograd_tolerance);
    }
    REQUIRE(relative_difference(
                winograd(c, true, false, tiles_per_block, threads, mode, stream, channel_chunk),
                reference(c, true, false)) < winograd_tolerance);
}

void require_paths_agree(const conv_case& c, std::size_t rows = 0, std::size_t channel_block = 0,
                         int threads = num_threads(), std::size_t outputs_per_task = 0) {
    CAPTURE(c.c_in, c.c_out, c.h, c.w, rows, channel_block, threads, outputs_per_task);
    for (bool relu : {false, true}) {
        CAPTURE(relu);
        REQUIRE(relative_difference(fast(c, false, relu, rows, channel_block, threads, outputs_per_task),
                                    reference(c, false, relu)) < path_tolerance);
    }
    REQUIRE(relative_difference(fast(c, true, false, rows, channel_block, threads, outputs_per_task),
                                reference(c, true, false)) < path_tolerance);
}
#endif

}  // namespace

#if NST_SIMD_FLOAT_WIDTH > 0

TEST_CASE("fast conv equals the reference path on every VGG19 layer shape", "[conv][paths]") {
    std::mt19937 rng(41);
    const std::size_t shapes[][2] = {{3, 64},    {64, 64},   {64, 128},  {128, 128},
                                     {128, 256}, {256, 256}, {256, 512}, {512, 512}};
    for (const auto& s : shapes) {
        const conv_case c(s[0], s[1], 12, 9, rng);
        require_paths_agree(c);
        require_winograd_agrees(c);
    }
}

TEST_CASE("fast conv equals the reference path on odd sizes", "[conv][paths]") {
    std::mt19937 rng(42);
    // Heights and widths around and between vector widths (8, 16) and tile widths (16, 48).
    const std::size_t sizes[][2] = {{1, 1}, {3, 5}, {7, 7}, {5, 17}, {4, 33}, {2, 16},
                                    {1, 47}, {9, 1}, {3, 48}, {2, 63}};
    for (const auto& s : sizes) {
        const conv_case a(5, 7, s[0], s[1], rng), b(19, 3, s[0], s[1], rng);
        require_paths_agree(a);
        require_paths_agree(b);
        require_winograd_agrees(a);
        require_winograd_agrees(b);
    }
}

TEST_CASE("Winograd conv equals the reference path across tile blocks and image edges",
          "[conv][paths][winograd]") {
    std::mt19937 rng(46);
    // Widths of 64+ put 16 tiles in one tile row (AVX-512; 8 tiles with AVX2: widths of 32+),
    // the vector load path, at the image's edges and inside it; others mix rows and edges.
    // Blocks of 16..48 tiles give several tasks and partial GEMM tiles.
    const std::size_t sizes[][2] = {{8, 64}, {9, 70}, {4, 131}, {13, 29}, {6, 66}};
    for (const auto& s : sizes) {
        const conv_case c(11, 13, s[0], s[1], rng);
        for (std::size_t block : {0, 16, 48})
            for (int threads : {1, 2})
                for (filters mode : {filters::shared, filters::fused})
                    require_winograd_agrees(c, block, threads, mode);
        // Non-temporal output stores (whole aligned tile rows only; the rest stored plainly).
        require_winograd_agrees(c, 0, 2, filters::automatic, true);
    }
    // Few tiles, many outputs: the outputs are split between tasks.
    require_winograd_agrees(conv_case(24, 40, 8, 8, rng), 0, 2);
    require_winograd_agrees(conv_case(24, 40, 8, 8, rng), 0, 2, filters::shared);
    require_winograd_agrees(conv_case(24, 40, 8, 8, rng), 0, 2, filters::fused);
    // Input channels over one filter-transform chunk (32) and not a multiple of it, on
    // images down to one pixel.
    for (const auto& s : sizes) require_winograd_agrees(conv_case(37, 21, s[0], s[1], rng), 16, 2);
    require_winograd_agrees(conv_case(70, 9, 1, 1, rng));
    // Fewer output blocks than threads in the shared filter transform (the adjoint of 3 -> 64
    // has one block of 8 outputs: the second thread's share is empty).
    require_winograd_agrees(conv_case(3, 64, 12, 70, rng), 16, 2, filters::shared);
    // Input channels over one GEMM pass and not a multiple of it, both filter paths: passes
    // of 128 (AVX-512's for 256+ channels) and of 8 (both directions: 37 and 21 channels).
    for (filters mode : {filters::shared, filters::fused}) {
        require_winograd_agrees(conv_case(200, 12, 9, 70, rng), 16, 2, mode, false, 128);
        require_winograd_agrees(conv_case(37, 21, 9, 70, rng), 16, 2, mode, false, 8);
    }
    require_winograd_agrees(conv_case(33, 70, 1, 5, rng), 0, 2);
    // A shared U of 16 MB and more (conv4_x's) is written with non-temporal stores.
    require_winograd_agrees(conv_case(256, 512, 5, 17, rng), 0, 2, filters::shared);
}

TEST_CASE("Winograd on several threads keeps a small image in one block split over the outputs",
          "[conv][paths][winograd]") {
    // conv2_2 of a 128 x 96 image (192 tiles, 5.3 MB of V and M per thread): one block, each
    // thread transforming its own outputs' filters; one thread shares U between blocks.
    for (int threads : {2, 3}) {
        const detail::conv3x3_winograd_plan plan(128, 128, 48, 64, threads);
        CAPTURE(threads);
        REQUIRE(plan.blocks == 1);
        REQUIRE(plan.fused_filters);
        REQUIRE(plan.splits == std::size_t(threads));
    }
    REQUIRE(detail::conv3x3_winograd_plan(128, 128, 48, 64, 1).blocks > 1);
    // Above 12 MB per thread the blocks share U: conv2_2 of a 256 x 192 image (768 tiles) and
    // conv4_2 of a 512 x 384 one (192 tiles of 512 channels).
    REQUIRE(detail::conv3x3_winograd_plan(128, 128, 96, 128, 2).blocks > 1);
    REQUIRE(detail::conv3x3_winograd_plan(512, 512, 48, 64, 2).blocks > 1);
    std::mt19937 rng(47);
    require_winograd_agrees(conv_case(64, 128, 48, 64, rng), 0, 2);
}

TEST_CASE("fast conv is independent of its blocking and thread count", "[conv][paths]") {
    std::mt19937 rng(43);
    // Several bands (one or two rows each) and channel blocks that do not divide the channel
    // count exercise the accumulation across blocks and the band edges.
    const conv_case c(37, 20, 11, 13, rng);
    for (std::size_t rows : {1, 2, 5})
        for (std::size_t block : {1, 4, 16})
            for (int threads : {1, 2}) require_paths_agree(c, rows, block, threads);
    // Output ranges per task: one micro-tile of outputs, two, and a count that is not a multiple
    // of the micro-tile (rounded up to one); a range past the last output is partly padding.
    for (std::size_t outputs : {1, 8, 16})
        for (std::size_t rows : {0, 4}) require_paths_agree(c, rows, 4, 2, outputs);
    // The automatic plan on few rows and many channels keeps whole bands and splits the outputs.
    for (int threads : {1, 2, 3}) {
        const detail::conv3x3_implicit_plan plan(64, 72, 5, 7, threads);
        REQUIRE(plan.rows == 5);
        REQUIRE(plan.splits > 1);
        require_paths_agree(conv_case(64, 72, 5, 7, rng), 0, 0, threads);
    }
}

TEST_CASE("fast conv backward is the adjoint of its forward", "[conv][paths]") {
    // <conv(x), dy> == <x, conv^T(dy)> without bias: checks the backward packing without the
    // reference path, for both own kernels. Sums in double of float results.
    std::mt19937 rng(44);
    for (const auto& s : {std::array<std::size_t, 4>{3, 64, 6, 7},
                          std::array<std::size_t, 4>{64, 3, 5, 17},
                          std::array<std::size_t, 4>{40, 24, 9, 9}}) {
        conv_case c(s[0], s[1], s[2], s[3], rng);
        std::fill(c.bias.begin(), c.bias.end(), 0.0f);
        for (bool use_winograd : {false, true}) {
            const auto y = use_winograd ? winograd(c, false, false) : fast(c, false, false);
            const auto dx = use_winograd ? winograd(c, true, false) : fast(c, true, false);
            double lhs = 0, rhs = 0, scale = 0;
            for (std::size_t i = 0; i < y.size(); ++i) {
                lhs += double(y[i]) * c.dy[i];
                scale += std::abs(double(y[i]) * c.dy[i]);
            }
            for (std::size_t i = 0; i < dx.size(); ++i) rhs += double(dx[i]) * c.x[i];
            CAPTURE(s[0], s[1], s[2], s[3], use_winograd, lhs, rhs);
            REQUIRE(std::abs(lhs - rhs) < (use_winograd ? 1e-4 : 1e-5) * scale);
        }
    }
}

TEST_CASE("float conv3x3 layer runs the fast path and its gradient matches finite differences",
          "[conv][paths][gradient]") {
    REQUIRE(detail::conv3x3_engine<float>::uses_own_kernel);
    std::mt19937 rng(45);
    conv3x3<float, 6, 10> conv;
    test::set_random_weights(conv, rng);
    const auto x0 = test::random_tensor<float, 3>({6, 7, 19}, rng);
    const auto r = test::random_tensor<float, 3>({10, 7, 19}, rng);
    tensor3<float> y;
    conv.forward(x0, y);
    tensor3<float> dy = r;
    const tensor3<float> dx = conv.backward(x0, y, std::move(dy), shape_of(x0));
    // L(x) = sum(r * conv(x)) is linear in x, so a large step has no truncation error and the
    // float rounding of the differences stays small: 1e-3 relative is a float-level check.
    std::function<double(const tensor3<float>&)> f = [&](const tensor3<float>& x) {
        tensor3<float> out;
        conv.forward(x, out);
        double s = 0;
        for (std::size_t i = 0; i < out.size(); ++i) s += double(out.data()[i]) * r.data()[i];
        return s;
    };
    double worst = 0, scale = 1e-30;
    tensor3<float> x = x0;
    for (std::size_t i = 0; i < x.size(); i += 7) {
        const float keep = x.data()[i];
        x.data()[i] = keep + 0.5f;
        const double up = f(x);
        x.data()[i] = keep - 0.5f;
        const double down = f(x);
        x.data()[i] = keep;
        const double numeric = (up - down) / 1.0;
        worst = std::max(worst, std::abs(numeric - double(dx.data()[i])));
        scale = std::max(scale, std::abs(numeric));
    }
    REQUIRE(worst < 1e-3 * scale);
}

namespace {

// VGG19 with max pooling as a one-parameter template (clang does not match vgg19's defaulted
// pooling parameter against `template <class> class`).
template <class T> using vgg19_max = vgg19<T>;

// Relative errors of the float network's input gradient against the double network's (which runs
// the reference path, checked against finite differences in test_conv3x3.cpp): {max, 2-norm}.
template <template <class> class Net>
std::array<double, 2> float_gradient_error(std::size_t side, const std::vector<std::string>& at,
                                           std::uint32_t seed, conv_algorithm algorithm) {
    std::mt19937 rng(seed);
    Net<double> dnet;
    test::randomize_weights(dnet, rng);
    Net<float> fnet;
    test::copy_weights(fnet, dnet);
    fnet.set_conv_algorithm(algorithm);
    const auto x = test::random_tensor<double, 3>({3, side, side}, rng, -50, 50);
    std::size_t deepest = 0;
    for (const auto& name : at) deepest = std::max(deepest, dnet.index_of(name));
    dnet.forward(x, deepest);
    fnet.forward(xt::cast<float>(x), deepest);
    for (const auto& name : at) {
        const auto r = test::random_tensor<double, 3>(shape_of(dnet.output(dnet.index_of(name))),
                                                      rng);
        dnet.add_gradient(name, r);
        fnet.add_gradient(name, tensor3<float>(xt::cast<float>(r)));
    }
    const tensor3<double> gd = dnet.backward();
    const tensor3<double> diff = xt::cast<double>(fnet.backward()) - gd;
    return {xt::amax(xt::abs(diff))() / xt::amax(xt::abs(gd))(),
            std::sqrt(double(xt::sum(xt::square(diff))())) /
                std::sqrt(double(xt::sum(xt::square(gd))()))};
}

// Five linear layers (no ReLU): rounding errors propagate but nothing can flip.
template <class T>
using linear_net = sequential<conv3x3<T, 3, 64>, conv3x3<T, 64, 64>, pool2x2<T, pooling::average>,
                              conv3x3<T, 64, 128>, conv3x3<T, 128, 128>>;

}  // namespace

TEST_CASE("float gradients through the own kernels match the double reference path",
          "[conv][paths][vgg19]") {
    // At 128 x 128 conv1_2 .. conv2_2 run Winograd, conv1_1 the implicit GEMM (as do layers
    // with fewer than 12 tiles of 4 x 4 pixels: 8 x 8 and less).
    using engine = detail::conv3x3_engine<float>;
    REQUIRE(engine::prefer_winograd(64, 64, 128, 128));
    REQUIRE(engine::prefer_winograd(128, 128, 64, 64));
    REQUIRE(engine::prefer_winograd(512, 512, 32, 24));
    REQUIRE(engine::prefer_winograd(512, 512, 16, 12));
    REQUIRE_FALSE(engine::prefer_winograd(512, 512, 12, 9));
    REQUIRE_FALSE(engine::prefer_winograd(512, 512, 8, 8));
    REQUIRE_FALSE(engine::prefer_winograd(3, 64, 128, 128));
    REQUIRE(conv3x3<float, 3, 64>().algorithm() == conv_algorithm::fastest);  // the default

    SECTION("linear layers, fastest algorithm: float precision") {
        const auto e =
            float_gradient_error<linear_net>(128, {"layer4"}, 48, conv_algorithm::fastest);
        CAPTURE(e[0], e[1]);
        REQUIRE(e[0] < 1e-4);  // ~5e-6 measured
    }
    SECTION("VGG19 with ReLUs, direct algorithm: float precision") {
        const auto e = float_gradient_error<vgg19_max>(
            128, {"relu2_2", "relu4_2", "conv5_1"}, 47, conv_algorithm::direct);
        CAPTURE(e[0], e[1]);
        REQUIRE(e[0] < 1e-4);  // ~3e-6 measured
    }
    SECTION("VGG19 with ReLUs, fastest algorithm") {
        // Winograd's ~1e-5 forward rounding flips a few near-zero ReLU inputs, each moving a
        // whole gradient entry, so the largest single difference is luck: bound the 2-norm
        // (~6e-4 measured; a wrong kernel gives O(1)).
        const auto e = float_gradient_error<vgg19_max>(
            128, {"relu2_2", "relu4_2", "conv5_1"}, 47, conv_algorithm::fastest);
        CAPTURE(e[0], e[1]);
        REQUIRE(e[1] < 1e-2);
    }
}

#else

TEST_CASE("fast conv path", "[conv][paths]") {
    WARN("compiled without AVX-512 or AVX2+FMA: conv3x3 uses the reference path only "
         "(configure with -DNST_NATIVE=ON)");
    REQUIRE_FALSE(detail::conv3x3_engine<float>::uses_own_kernel);
}

#endif
