// The three 3x3 convolution kernels side by side on every VGG19 conv shape up to conv5_1 at a
// 512 x 512 input, forward and backward to the input (the backward is the same kernel with the
// adjoint weights):
//   reference  im2col + BLAS sgemm (depends on the OpenBLAS core: compare OPENBLAS_CORETYPE),
//   implicit   nst's own SIMD implicit GEMM,
//   winograd   nst's own Winograd F(4x4, 3x3) (FLOP/s counts direct-convolution flops, so it
//              reads as "effective" speed),
//   bf16       the implicit GEMM with bf16 products and float sums (conv_precision::bf16; only
//              when compiled with AVX512_BF16).
// Names: <layer>/<direction>/<kernel>, e.g. conv4_2/backward/winograd. The layer itself picks
// implicit or winograd per shape (conv3x3_engine.hpp); this shows why.
// NST_BENCH_INPUT=N (environment) takes the shapes at an N x N input instead (a multiple of 16:
// e.g. 128, the coarsest scale of a coarse-to-fine run, where conv4_x is 16 x 16 pixels).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include <nst/layers/detail/conv3x3_engine.hpp>

namespace {

struct conv_shape {
    const char* name;
    std::size_t in, out, side;
};

constexpr conv_shape shapes[] = {
    {"conv1_1", 3, 64, 512},     {"conv1_2", 64, 64, 512},    {"conv2_1", 64, 128, 256},
    {"conv2_2", 128, 128, 256},  {"conv3_1", 128, 256, 128},  {"conv3_2-4", 256, 256, 128},
    {"conv4_1", 256, 512, 64},   {"conv4_2-4", 512, 512, 64}, {"conv5_1", 512, 512, 32}};

enum class kernel { reference, implicit, winograd, bf16 };

// The input side the shapes are taken at (NST_BENCH_INPUT, default 512).
std::size_t input_side() {
    const char* text = std::getenv("NST_BENCH_INPUT");
    const long side = text ? std::atol(text) : 512;
    return side >= 16 && side % 16 == 0 ? std::size_t(side) : 512;
}

void run(benchmark::State& state, conv_shape s, bool backward, kernel k) {
    const std::size_t in = backward ? s.out : s.in, out = backward ? s.in : s.out;
    const std::size_t n = s.side * input_side() / 512;
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> dist(-1, 1);
    std::vector<float> weights(s.out * s.in * 9), bias(out), x(in * n * n), y(out * n * n);
    for (auto& v : weights) v = 0.1f * dist(rng);
    for (auto& v : bias) v = dist(rng);
    for (auto& v : x) v = dist(rng);

    std::vector<float> packed;
#ifdef NST_CONV3X3_BF16
    std::vector<std::uint32_t> pairs(nst::detail::conv3x3_bf16_packed_size(in, out));
    nst::detail::conv3x3_bf16_pack(weights.data(), s.in, s.out, backward, pairs.data());
#endif
    if (k == kernel::reference) {
        packed.resize(9 * s.in * s.out);
        nst::detail::conv3x3_gemm_pack(weights.data(), s.in, s.out, backward, packed.data());
    } else {
        packed.resize(nst::detail::conv3x3_implicit_packed_size(in, out));
        nst::detail::conv3x3_implicit_pack(weights.data(), s.in, s.out, backward, packed.data());
    }
    for (auto _ : state) {
        switch (k) {
            case kernel::reference:
                nst::detail::conv3x3_same(x.data(), in, n, n, packed.data(), bias.data(), false,
                                          y.data(), out);
                break;
            case kernel::implicit:
#if NST_SIMD_FLOAT_WIDTH > 0
                nst::detail::conv3x3_implicit(x.data(), in, n, n, packed.data(), bias.data(),
                                              false, y.data(), out);
#endif
                break;
            case kernel::winograd:
#if NST_SIMD_FLOAT_WIDTH > 0
                nst::detail::conv3x3_winograd(x.data(), in, n, n, weights.data(), backward,
                                              bias.data(), false, y.data(), out);
#endif
                break;
            case kernel::bf16:
#ifdef NST_CONV3X3_BF16
                nst::detail::conv3x3_implicit_bf16(x.data(), in, n, n, pairs.data(),
                                                   bias.data(), false, y.data(), out);
#endif
                break;
        }
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    state.counters["FLOP/s"] = benchmark::Counter(2.0 * 9 * double(in * out * n * n),
                                                  benchmark::Counter::kIsIterationInvariantRate);
}

bool register_all() {
    const std::pair<kernel, const char*> kernels[] = {{kernel::reference, "reference"},
                                                      {kernel::implicit, "implicit"},
                                                      {kernel::winograd, "winograd"},
                                                      {kernel::bf16, "bf16"}};
    for (const auto& s : shapes)
        for (bool backward : {false, true})
            for (const auto& [k, kernel_name] : kernels) {
                if (k != kernel::reference && !nst::detail::conv3x3_implicit_available) continue;
                if (k == kernel::bf16 && !nst::conv_bf16_available) continue;
                const std::string name = std::string(s.name) + (backward ? "/backward/" : "/forward/") +
                                         kernel_name;
                benchmark::RegisterBenchmark(name.c_str(), run, s, backward, k)
                    ->Unit(benchmark::kMillisecond)
                    ->UseRealTime();
            }
    return true;
}

const bool registered = register_all();

}  // namespace
