// Per-layer costs of the style-transfer workload at a 512 x 512 input, through the public layer
// templates (so they measure whichever convolution path the library currently uses):
//   - every distinct VGG19 conv shape up to conv5_1, forward and backward to the input, with a
//     FLOP/s counter of direct-convolution flops (2 * 9 * Cin * Cout * H * W per pass): where the
//     library uses Winograd (fewer multiplications) this is an effective rate and can exceed the
//     machine's FMA peak;
//   - ReLU and 2x2 average pooling, forward and backward, at each block's shape, with bytes/s;
//   - Gram matrix forward (syrk) and backward (gemm) at each style layer's shape.
// The benchmark names carry the layer and the image side the shape occurs at, e.g.
// conv3_2-4/forward/128 is conv3_2..conv3_4 (256 -> 256 channels) on a 128 x 128 map.
// Every FLOP/s counter comes with "of_peak": the rate over the machine's fp32 FMA peak on nst's
// threads, measured once at start-up (fma_peak_flops; on a busy machine both shrink alike).
// Winograd layers count direct-convolution flops, so their of_peak is effective and can pass 1.
#include <benchmark/benchmark.h>

#include <chrono>

#include <nst/layers/detail/simd_float.hpp>

#include "style_workload.hpp"

namespace {

using nst::tensor3;
using nst::bench::fill_hashed;

template <std::size_t In, std::size_t Out> nst::conv3x3<float, In, Out> hashed_conv() {
    nst::conv3x3<float, In, Out> conv;
    nst::tensor4<float> w = xt::empty<float>({Out, In, std::size_t(3), std::size_t(3)});
    nst::tensor1<float> b = xt::empty<float>({Out});
    const double bound = std::sqrt(6.0 / (9.0 * double(In)));
    fill_hashed(w, 7, -bound, bound);
    fill_hashed(b, 8, -0.1, 0.1);
    conv.set_weights(std::move(w), std::move(b));
    return conv;
}

tensor3<float> hashed_activations(std::size_t c, std::size_t side, std::uint64_t seed) {
    tensor3<float> t = xt::empty<float>({c, side, side});
    fill_hashed(t, seed, -1.0, 1.0);
    return t;
}

// fp32 FMA peak on nst's threads: independent chains of vector multiply-adds (enough to cover
// the FMA latency on two pipes), best of five runs of ~20 ms.
double fma_peak_flops() {
    static const double peak = [] {
#if NST_SIMD_FLOAT_WIDTH > 0
        using V = nst::detail::simd_float;
        constexpr int chains = 12;
        constexpr long steps = 1 << 21;
        double best = 0;
        for (int run = 0; run < 5; ++run) {
            const auto start = std::chrono::steady_clock::now();
            float sink = 0;
#pragma omp parallel num_threads(nst::num_threads()) reduction(+ : sink)
            {
                typename V::reg acc[chains];
                for (auto& a : acc) a = V::broadcast(1.0f);
                const auto scale = V::broadcast(0.999999f), step = V::broadcast(1e-7f);
                for (long i = 0; i < steps; ++i)
                    for (auto& a : acc) a = V::fmadd(a, scale, step);
                alignas(64) float lanes[V::width];
                for (auto& a : acc) {
                    V::storeu(lanes, a);
                    sink += lanes[0];
                }
            }
            const double seconds =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            benchmark::DoNotOptimize(sink);
            best = std::max(best, 2.0 * V::width * chains * double(steps) * nst::num_threads() /
                                      seconds);
        }
        return best;
#else
        return 0.0;
#endif
    }();
    return peak;
}

void set_flops(benchmark::State& state, double flops_per_iteration) {
    state.counters["FLOP/s"] =
        benchmark::Counter(flops_per_iteration, benchmark::Counter::kIsIterationInvariantRate);
    if (fma_peak_flops() > 0)
        state.counters["of_peak"] =
            benchmark::Counter(flops_per_iteration / fma_peak_flops(),
                               benchmark::Counter::kIsIterationInvariantRate);
}

void set_bytes(benchmark::State& state, double bytes_per_iteration) {
    state.SetBytesProcessed(std::int64_t(bytes_per_iteration) * state.iterations());
}

// state.range(0): side of the (square) feature map.
template <std::size_t In, std::size_t Out> void conv_forward(benchmark::State& state) {
    const std::size_t side = std::size_t(state.range(0));
    const auto conv = hashed_conv<In, Out>();
    const tensor3<float> x = hashed_activations(In, side, 1);
    tensor3<float> y;
    for (auto _ : state) {
        conv.forward(x, y);
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    set_flops(state, nst::bench::conv3x3_flops(In, Out, side, side));
}

template <std::size_t In, std::size_t Out> void conv_backward(benchmark::State& state) {
    const std::size_t side = std::size_t(state.range(0));
    const auto conv = hashed_conv<In, Out>();
    const tensor3<float> x = hashed_activations(In, side, 1);
    tensor3<float> y;
    conv.forward(x, y);
    const tensor3<float> dy_source = hashed_activations(Out, side, 2);
    tensor3<float> dy = dy_source;
    for (auto _ : state) {
        if (dy.size() != dy_source.size()) {  // a layer may consume dy's storage
            state.PauseTiming();
            dy = dy_source;
            state.ResumeTiming();
        }
        tensor3<float> dx = conv.backward(x, y, std::move(dy), nst::shape_of(x));
        benchmark::DoNotOptimize(dx.data());
        benchmark::ClobberMemory();
    }
    set_flops(state, nst::bench::conv3x3_flops(In, Out, side, side));
}

// One conv shape at a given map side, forward and backward.
#define NST_CONV_BENCHMARKS(label, in, out, side)                                              \
    BENCHMARK_TEMPLATE(conv_forward, in, out)                                                   \
        ->Name(label "/forward")->Arg(side)->UseRealTime()->Unit(benchmark::kMillisecond);     \
    BENCHMARK_TEMPLATE(conv_backward, in, out)                                                  \
        ->Name(label "/backward")->Arg(side)->UseRealTime()->Unit(benchmark::kMillisecond)

NST_CONV_BENCHMARKS("conv1_1", 3, 64, 512);
NST_CONV_BENCHMARKS("conv1_2", 64, 64, 512);
NST_CONV_BENCHMARKS("conv2_1", 64, 128, 256);
NST_CONV_BENCHMARKS("conv2_2", 128, 128, 256);
NST_CONV_BENCHMARKS("conv3_1", 128, 256, 128);
NST_CONV_BENCHMARKS("conv3_2-4", 256, 256, 128);
NST_CONV_BENCHMARKS("conv4_1", 256, 512, 64);
NST_CONV_BENCHMARKS("conv4_2-4", 512, 512, 64);
NST_CONV_BENCHMARKS("conv5_1", 512, 512, 32);

// Block shapes (channels, side) at a 512 x 512 input: the ReLU, pool and Gram inputs.
// Pooling runs after blocks 1-4 only: the workload stops at relu5_1.
constexpr std::array<std::array<std::int64_t, 2>, 5> block_shape_list{
    {{64, 512}, {128, 256}, {256, 128}, {512, 64}, {512, 32}}};

void block_shapes(benchmark::internal::Benchmark* b) {
    b->ArgNames({"C", "side"});
    for (const auto& shape : block_shape_list) b->Args({shape[0], shape[1]});
}

void pool_shapes(benchmark::internal::Benchmark* b) {
    b->ArgNames({"C", "side"});
    for (std::size_t i = 0; i + 1 < block_shape_list.size(); ++i)
        b->Args({block_shape_list[i][0], block_shape_list[i][1]});
}

void relu_forward(benchmark::State& state) {
    const tensor3<float> x = hashed_activations(std::size_t(state.range(0)), std::size_t(state.range(1)), 1);
    tensor3<float> y;
    const nst::relu<float> layer;
    for (auto _ : state) {
        layer.forward(x, y);
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    set_bytes(state, 2.0 * double(x.size()) * sizeof(float));
}
BENCHMARK(relu_forward)->Apply(block_shapes)->UseRealTime()->Unit(benchmark::kMicrosecond);

void relu_backward(benchmark::State& state) {
    const tensor3<float> x = hashed_activations(std::size_t(state.range(0)), std::size_t(state.range(1)), 1);
    tensor3<float> y;
    const nst::relu<float> layer;
    layer.forward(x, y);
    const tensor3<float> dy_source = hashed_activations(x.shape(0), x.shape(1), 2);
    for (auto _ : state) {
        state.PauseTiming();  // relu's backward reuses dy's storage: give it a fresh copy
        tensor3<float> dy = dy_source;
        state.ResumeTiming();
        tensor3<float> dx = layer.backward(x, y, std::move(dy), nst::shape_of(x));
        benchmark::DoNotOptimize(dx.data());
        benchmark::ClobberMemory();
    }
    set_bytes(state, 3.0 * double(x.size()) * sizeof(float));
}
BENCHMARK(relu_backward)->Apply(block_shapes)->UseRealTime()->Unit(benchmark::kMicrosecond);

using avg_pool = nst::pool2x2<float, nst::pooling::average>;

void pool_forward(benchmark::State& state) {
    const tensor3<float> x = hashed_activations(std::size_t(state.range(0)), std::size_t(state.range(1)), 1);
    tensor3<float> y;
    const avg_pool layer;
    for (auto _ : state) {
        layer.forward(x, y);
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    set_bytes(state, 1.25 * double(x.size()) * sizeof(float));
}
BENCHMARK(pool_forward)->Apply(pool_shapes)->UseRealTime()->Unit(benchmark::kMicrosecond);

void pool_backward(benchmark::State& state) {
    const tensor3<float> x = hashed_activations(std::size_t(state.range(0)), std::size_t(state.range(1)), 1);
    tensor3<float> y;
    const avg_pool layer;
    layer.forward(x, y);
    const tensor3<float> dy_source = hashed_activations(y.shape(0), y.shape(1), 2);
    tensor3<float> dy = dy_source;
    for (auto _ : state) {
        if (dy.size() != dy_source.size()) {
            state.PauseTiming();
            dy = dy_source;
            state.ResumeTiming();
        }
        tensor3<float> dx = layer.backward(x, y, std::move(dy), nst::shape_of(x));
        benchmark::DoNotOptimize(dx.data());
        benchmark::ClobberMemory();
    }
    set_bytes(state, 1.25 * double(x.size()) * sizeof(float));
}
BENCHMARK(pool_backward)->Apply(pool_shapes)->UseRealTime()->Unit(benchmark::kMicrosecond);

// Gram forward: C x C from C x M, counted as the C^2 M multiply-adds a syrk needs (C^2 M flops
// of a symmetric product, half of gemm's 2 C^2 M).
void gram_forward(benchmark::State& state) {
    const tensor3<float> f = hashed_activations(std::size_t(state.range(0)), std::size_t(state.range(1)), 1);
    const float scale = float(f.shape(1) * f.shape(2));
    for (auto _ : state) {
        nst::tensor2<float> g = nst::gram(f, scale);
        benchmark::DoNotOptimize(g.data());
        benchmark::ClobberMemory();
    }
    const double c = double(f.shape(0)), m = double(f.shape(1) * f.shape(2));
    set_flops(state, c * c * m);
}
BENCHMARK(gram_forward)->Apply(block_shapes)->UseRealTime()->Unit(benchmark::kMicrosecond);

// Gram backward: (dG + dG^T) F, a C x C by C x M product, 2 C^2 M flops.
void gram_backward(benchmark::State& state) {
    const tensor3<float> f = hashed_activations(std::size_t(state.range(0)), std::size_t(state.range(1)), 1);
    const std::size_t c = f.shape(0);
    nst::tensor2<float> dg = xt::empty<float>({c, c});
    fill_hashed(dg, 3, -1.0, 1.0);
    const float scale = float(f.shape(1) * f.shape(2));
    for (auto _ : state) {
        tensor3<float> df = nst::gram_backward(f, dg, scale);
        benchmark::DoNotOptimize(df.data());
        benchmark::ClobberMemory();
    }
    const double m = double(f.shape(1) * f.shape(2));
    set_flops(state, 2.0 * double(c) * double(c) * m);
}
BENCHMARK(gram_backward)->Apply(block_shapes)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
