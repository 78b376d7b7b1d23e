// Gram matrix forward and backward at every VGG19 style layer's shape for a 512 x 512 input:
// the library's blocked version (one call per thread's share, distributed over nst's OpenMP
// team: nst's AVX-512 kernels for float where compiled in, else BLAS) against the single BLAS
// call it replaced (one syrk or gemm on OpenBLAS's own threads), kept here as the reference.
//
// FLOP/s convention: forward counts C^2 M flops (the multiply-adds of a symmetric product, i.e.
// syrk's work, half of gemm's 2 C^2 M); backward counts the 2 C^2 M flops of the C x C by C x M
// product. Both are real flops (no Winograd-style effective count).
//
// The yardstick: conv_direct/C:../side:.. runs the C -> C 3x3 convolution of the same block
// (conv1_2, conv2_2, conv3_2, conv4_2, conv5_2) with conv_algorithm::direct, nst's implicit-GEMM
// kernel, whose counted flops are all performed: the real FLOP rate of the project's own
// convolution kernel on that layer, measured in the same run next to the Gram rows. Compare
// FLOP/cpu_s (flops per CPU second of all threads), which load on a shared machine disturbs
// less than the wall-time FLOP/s.
//
// Note on the reference forward: OpenBLAS 0.3.21 runs the syrk of these shapes on one thread
// even when it may use two (its process CPU time equals the main thread's), so its FLOP/cpu_s is
// a one-thread rate; compare wall times on a quiet machine before preferring it.
//
// What the OpenBLAS kernel set gave the blocked rows while they were per-thread BLAS calls
// (2026-11-30, on top of commit a7ca932, 2 threads, machine at load ~7, so provisional): 1.3-4x
// below the implicit-GEMM convolution per CPU second whatever the kernel set. Haswell (AVX2,
// what this machine's environment sets) was the slowest: forward 2.3-4.1x, backward 2.0-3.5x
// below the convolution. Unset (OpenBLAS picks Cooperlake here) and SkylakeX (both AVX-512)
// brought the backward at C = 256, 512 within 1.3-1.7x; the forward and the C = 64, 128 shapes
// (long M, where syrk's per-call rate stays near 40-60 GFLOP per CPU second in every kernel set)
// stayed 1.7-3.8x below.
//
// Since then, in units compiled for AVX-512 the float blocked rows run nst's own kernels
// (loss/detail/gram_avx512.hpp) and no longer depend on OPENBLAS_CORETYPE; the reference rows
// still do. Measured 2026-11-30 on top of commit aa331c8, 2 threads, load 4-7, with
// OMP_WAIT_POLICY=passive so that CPU time counts work, not threads spinning at a barrier while
// the machine's other load holds their partner (with the default policy the short Gram calls
// suffer that far more than the convolution, and the ratios double): conv_over_gram forward
// 1.60 / 1.29 / 1.03 / 1.05 / 1.68 and backward 1.27 / 1.10 / 0.92 / 0.92 / 1.23 for C = 64,
// 128, 256, 512, 512 (sides 512 .. 32); the reference rows (Haswell) 1.75-3.0 and 1.8-2.0 at
// the C = 256, 512 backward. Left above 1.5: the C = 64 forward (packing its chunks reads F
// from memory, a third of its time) and C = 512 at side 32 (M = 1024: the per-thread partial
// sums and their reduction weigh on so short a product).
//
// In units compiled for AVX2 only (no AVX-512) the float rows are OpenBLAS's. Measured
// 2026-12-01 on a Zen 3 host (AMD EPYC family 25 model 1, OpenBLAS kernel set Zen), commit
// 414a51a, 2 threads, load ~1: conv_over_gram forward 1.69 / 1.70 / 1.04 / 0.97 / 0.92 and
// backward 1.43 / 1.25 / 1.08 / 0.86 / 0.91 for C = 64, 128, 256, 512, 512: the C = 64, 128
// forward is the one above 1.5. Two own AVX2 kernels were tried and were no faster (the AVX-512
// dot-product tiles with 8-float vectors: 8 accumulators do not hide the FMA latency; a packed
// GEMM on the Winograd micro-kernel with A read unpacked), so neither was kept.
#include <time.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include <benchmark/benchmark.h>

#include "style_workload.hpp"

namespace {

using nst::tensor2;
using nst::tensor3;

// The Gram matrix as one syrk call on OpenBLAS's threads, then a serial mirror.
tensor2<float> reference_gram(const tensor3<float>& f, float scale) {
    const std::size_t c = f.shape(0), m = f.shape(1) * f.shape(2);
    tensor2<float> g = xt::empty<float>({c, c});
    nst::blas::syrk_upper(int(c), int(m), 1.0f / scale, f.data(), int(m), 0.0f, g.data(), int(c));
    for (std::size_t i = 0; i < c; ++i)
        for (std::size_t j = 0; j < i; ++j) g(i, j) = g(j, i);
    return g;
}

// Its backward: dG + dG^T through an xtensor expression, then one gemm on OpenBLAS's threads.
tensor3<float> reference_gram_backward(const tensor3<float>& f, const tensor2<float>& dg,
                                       float scale) {
    const std::size_t c = f.shape(0), m = f.shape(1) * f.shape(2);
    tensor2<float> sym = dg + xt::transpose(dg);
    tensor3<float> df = xt::empty<float>(f.shape());
    nst::blas::gemm(false, false, int(c), int(m), int(c), 1.0f / scale, sym.data(), int(c),
                    f.data(), int(m), 0.0f, df.data(), int(m));
    return df;
}

enum class variant { reference, blocked, blocked_into };

const char* name(variant v) {
    if (v == variant::reference) return "reference";
    return v == variant::blocked ? "blocked" : "blocked_into";
}

tensor3<float> activations(const benchmark::State& state) {
    const std::size_t c = std::size_t(state.range(0)), side = std::size_t(state.range(1));
    tensor3<float> f = xt::empty<float>({c, side, side});
    nst::bench::fill_hashed(f, 1, 0.0, 1.0);  // non-negative, like ReLU outputs
    return f;
}

// CPU time of the whole process (all threads), in seconds.
double process_seconds() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

// The conv_direct row's FLOP/cpu_s of each shape (C, side), set when that row has run.
std::map<std::pair<std::int64_t, std::int64_t>, double>& conv_rates() {
    static std::map<std::pair<std::int64_t, std::int64_t>, double> rates;
    return rates;
}

// FLOP/s per wall second, and FLOP per CPU second of all threads together (cpu_started: the
// process CPU time before the timed loop): on a loaded machine the second shows the work's
// efficiency when the first mostly shows the load. Gram rows also get conv_over_gram: the
// conv_direct row's FLOP/cpu_s at the same shape over this row's (the target is <= 1.5).
void set_flops(benchmark::State& state, double flops_per_iteration, double cpu_started,
               bool is_conv = false) {
    const double flops = flops_per_iteration * double(state.iterations());
    const double per_cpu_second = flops / (process_seconds() - cpu_started);
    state.counters["FLOP/s"] = benchmark::Counter(flops, benchmark::Counter::kIsRate);
    state.counters["FLOP/cpu_s"] = per_cpu_second;
    const auto shape = std::make_pair(state.range(0), state.range(1));
    if (is_conv) {
        conv_rates()[shape] = per_cpu_second;
    } else if (const auto conv = conv_rates().find(shape); conv != conv_rates().end()) {
        state.counters["conv_over_gram"] = conv->second / per_cpu_second;
    }
}

void gram_forward(benchmark::State& state, variant v) {
    const tensor3<float> f = activations(state);
    const float scale = float(f.shape(1) * f.shape(2));
    const double cpu_started = process_seconds();
    for (auto _ : state) {
        tensor2<float> g = v == variant::reference ? reference_gram(f, scale) : nst::gram(f, scale);
        benchmark::DoNotOptimize(g.data());
        benchmark::ClobberMemory();
    }
    const double c = double(f.shape(0)), m = double(f.shape(1) * f.shape(2));
    set_flops(state, c * c * m, cpu_started);
}

// blocked_into writes into the same output every iteration (no fresh pages); the other two
// return a new tensor each time, as the old interface did, and so include the page faults of
// a fresh output.
void gram_backward(benchmark::State& state, variant v) {
    const tensor3<float> f = activations(state);
    const std::size_t c = f.shape(0);
    tensor2<float> dg = xt::empty<float>({c, c});
    nst::bench::fill_hashed(dg, 3, -1.0, 1.0);
    const float scale = float(f.shape(1) * f.shape(2));
    tensor3<float> into;
    nst::gram_backward(f, dg, scale, into);  // maps its pages before the timing
    const double cpu_started = process_seconds();
    for (auto _ : state) {
        if (v == variant::blocked_into) {
            nst::gram_backward(f, dg, scale, into);
            benchmark::DoNotOptimize(into.data());
        } else {
            tensor3<float> df = v == variant::reference ? reference_gram_backward(f, dg, scale)
                                                        : nst::gram_backward(f, dg, scale);
            benchmark::DoNotOptimize(df.data());
        }
        benchmark::ClobberMemory();
    }
    set_flops(state, 2.0 * double(c) * double(c) * double(f.shape(1) * f.shape(2)), cpu_started);
}

// The C -> C convolution of the block, implicit GEMM (every counted flop performed), forward.
template <std::size_t C> void conv_direct(benchmark::State& state) {
    const std::size_t side = std::size_t(state.range(1));
    nst::conv3x3<float, C, C> conv;
    nst::tensor4<float> w = xt::empty<float>({C, C, std::size_t(3), std::size_t(3)});
    nst::tensor1<float> b = xt::empty<float>({C});
    nst::bench::fill_hashed(w, 7, -0.05, 0.05);
    nst::bench::fill_hashed(b, 8, -0.1, 0.1);
    conv.set_weights(std::move(w), std::move(b));
    conv.set_conv_algorithm(nst::conv_algorithm::direct);
    const tensor3<float> x = activations(state);
    tensor3<float> y;
    conv.forward(x, y);  // maps the output before the timing
    const double cpu_started = process_seconds();
    for (auto _ : state) {
        conv.forward(x, y);
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    set_flops(state, nst::bench::conv3x3_flops(C, C, side, side), cpu_started, true);
}

using conv_function = void (*)(benchmark::State&);
conv_function conv_for(std::int64_t c) {
    if (c == 64) return conv_direct<64>;
    if (c == 128) return conv_direct<128>;
    if (c == 256) return conv_direct<256>;
    return conv_direct<512>;
}

// Style-layer shapes (channels, side) at a 512 x 512 input, relu1_1 .. relu5_1. The variants of
// one shape run next to each other, so that load drifting on a shared machine hits them alike.
const bool registered = [] {
    const std::int64_t shapes[5][2] = {{64, 512}, {128, 256}, {256, 128}, {512, 64}, {512, 32}};
    for (const auto& s : shapes) {
        const auto shape = [&s](benchmark::internal::Benchmark* b) {
            b->ArgNames({"C", "side"})->Args({s[0], s[1]})->UseRealTime();
            b->Unit(benchmark::kMicrosecond);
        };
        shape(benchmark::RegisterBenchmark("conv_direct", conv_for(s[0])));
        for (const variant v : {variant::reference, variant::blocked})
            shape(benchmark::RegisterBenchmark(("gram_forward/" + std::string(name(v))).c_str(),
                                               gram_forward, v));
        for (const variant v : {variant::reference, variant::blocked, variant::blocked_into})
            shape(benchmark::RegisterBenchmark(("gram_backward/" + std::string(name(v))).c_str(),
                                               gram_backward, v));
    }
    return true;
}();

}  // namespace
