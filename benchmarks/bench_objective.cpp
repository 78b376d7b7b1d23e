// Whole-iteration costs: one evaluation of the style-transfer objective (forward through relu5_1,
// content + 5 style losses + TV, backward to the image; style_workload.hpp) at 256 and 512 px,
// and one L-BFGS / Adam iteration on it, plus the optimizers' own vector work on a cheap function.
//
// Counters:
//   conv_FLOP/s  direct-convolution flops of one evaluation (forward + backward) / the whole
//                evaluation's time (an effective rate: Winograd layers do fewer flops)
//   peak_RSS_MB  the process's peak resident memory while this benchmark ran: the kernel's
//                high-water mark is reset (/proc/self/clear_refs) before the network is built,
//                so it covers weights, targets and evaluations, and nothing earlier benchmarks
//                left behind beyond base_RSS_MB (run one benchmark alone for the cleanest figure)
//   base_RSS_MB  resident memory when the benchmark started
#include <chrono>
#include <fstream>
#include <string>

#include <benchmark/benchmark.h>

#include <nst/optim/optim.hpp>

#include "style_workload.hpp"

namespace {

using nst::tensor3;

// Resident memory in MB from /proc/self/status: "VmHWM" (peak) or "VmRSS" (current); 0 if
// unavailable.
double status_mb(const std::string& key) {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.compare(0, key.size() + 1, key + ":") == 0)
            return std::stod(line.substr(key.size() + 1)) / 1024.0;  // reported in kB
    return 0;
}

// Restarts the peak-RSS measurement from the current RSS (Linux >= 4.0).
void reset_peak_rss() { std::ofstream("/proc/self/clear_refs") << "5"; }

// Convolution flops of one evaluation at side x side: forward through conv5_1 and backward to
// the input through the same convolutions.
double evaluation_conv_flops(std::size_t side) {
    struct conv { std::size_t in, out, scale; };  // scale: map side = side / scale
    const conv convs[] = {{3, 64, 1},    {64, 64, 1},   {64, 128, 2},  {128, 128, 2}, {128, 256, 4},
                          {256, 256, 4}, {256, 256, 4}, {256, 256, 4}, {256, 512, 8}, {512, 512, 8},
                          {512, 512, 8}, {512, 512, 8}, {512, 512, 16}};
    double flops = 0;
    for (const auto& c : convs)
        flops += 2 * nst::bench::conv3x3_flops(c.in, c.out, side / c.scale, side / c.scale);
    return flops;
}

// state.range(0): image side.
void objective_evaluation(benchmark::State& state) {
    const std::size_t side = std::size_t(state.range(0));
    const double base = status_mb("VmRSS");
    reset_peak_rss();
    nst::vgg19<float> net;
    nst::bench::hashed_weights(net);
    auto obj = nst::bench::style_objective(net, side);
    const tensor3<float> x = nst::bench::hashed_image<float>(side, nst::bench::start_seed);
    tensor3<float> grad = xt::zeros<float>(x.shape());
    obj(x, grad);  // warm-up: first-touch page faults, OpenBLAS buffers
    for (auto _ : state) {
        benchmark::DoNotOptimize(obj(x, grad));
        benchmark::ClobberMemory();
    }
    state.counters["conv_FLOP/s"] = benchmark::Counter(
        evaluation_conv_flops(side), benchmark::Counter::kIsIterationInvariantRate);
    state.counters["peak_RSS_MB"] = status_mb("VmHWM");
    state.counters["base_RSS_MB"] = base;
}
BENCHMARK(objective_evaluation)->Arg(256)->Iterations(5)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(objective_evaluation)->Arg(512)->Iterations(3)->UseRealTime()->Unit(benchmark::kMillisecond);

// Times optimizer iterations 1..k of one minimize() call (iteration 0 only evaluates the start;
// the first step of L-BFGS is a steepest-descent probe, so steady-state iterations are 2..k) and
// reports the mean time of one iteration, with evaluations per iteration as a counter. Every
// run starts from x0.
template <class Optimizer, class F>
void time_iterations(benchmark::State& state, const Optimizer& solver, F& f,
                     const tensor3<float>& x0, std::size_t first, std::size_t last) {
    using clock = std::chrono::steady_clock;
    std::size_t evaluations = 0, iterations = 0;
    for (auto _ : state) {
        clock::time_point start;
        std::size_t start_evaluations = 0;
        auto timer = [&](const auto& s) {
            if (s.iteration == first) {
                start = clock::now();
                start_evaluations = s.evaluations;
            } else if (s.iteration == last) {
                const double seconds = std::chrono::duration<double>(clock::now() - start).count();
                state.SetIterationTime(seconds / double(last - first));
                evaluations += s.evaluations - start_evaluations;
                iterations += last - first;
            }
        };
        tensor3<float> x = x0;
        const auto result = solver.minimize(f, x, timer);
        if (result.iterations != last) {
            state.SkipWithError(("the optimizer stopped early: " + nst::to_string(result.reason)).c_str());
            return;
        }
    }
    state.counters["evaluations_per_iteration"] = double(evaluations) / double(iterations);
}

// L-BFGS and Adam on the workload at side x side; the convergence tests are off so every run
// makes exactly `steps` iterations.
void lbfgs_iteration(benchmark::State& state) {
    const std::size_t side = std::size_t(state.range(0)), steps = 4;
    nst::vgg19<float> net;
    nst::bench::hashed_weights(net);
    auto obj = nst::bench::style_objective(net, side);
    const tensor3<float> x = nst::bench::hashed_image<float>(side, nst::bench::start_seed);
    nst::lbfgs<float>::options o;
    o.max_iterations = steps;
    o.gradient_tolerance = 0;
    o.loss_change_tolerance = 0;
    time_iterations(state, nst::lbfgs<float>(o), obj, x, 1, steps);
}
BENCHMARK(lbfgs_iteration)->Arg(256)->Iterations(2)->UseManualTime()->Unit(benchmark::kMillisecond);

void adam_iteration(benchmark::State& state) {
    const std::size_t side = std::size_t(state.range(0)), steps = 3;
    nst::vgg19<float> net;
    nst::bench::hashed_weights(net);
    auto obj = nst::bench::style_objective(net, side);
    const tensor3<float> x = nst::bench::hashed_image<float>(side, nst::bench::start_seed);
    nst::adam<float>::options o;
    o.learning_rate = 1.0;
    o.max_iterations = steps;
    o.gradient_tolerance = 0;
    time_iterations(state, nst::adam<float>(o), obj, x, 0, steps);
}
BENCHMARK(adam_iteration)->Arg(256)->Iterations(2)->UseManualTime()->Unit(benchmark::kMillisecond);

// The optimizers' own work per iteration at an image of side x side (3 channels), measured on
// f(x) = 1/2 sum d_i x_i^2 with d spread over [1, 100] so that nothing converges: this is what
// an iteration costs beyond its objective evaluations.
struct diagonal_quadratic {
    tensor3<float> d;
    float operator()(const tensor3<float>& x, tensor3<float>& g) const {
        double sum = 0;
        const float* px = x.data();
        const float* pd = d.data();
        float* pg = g.data();
        for (std::size_t i = 0; i < x.size(); ++i) {
            pg[i] = pd[i] * px[i];
            sum += 0.5 * double(pg[i]) * px[i];
        }
        return float(sum);
    }
};

diagonal_quadratic make_quadratic(std::size_t side) {
    diagonal_quadratic q{xt::empty<float>({std::size_t(3), side, side})};
    nst::bench::fill_hashed(q.d, 11, 1.0, 100.0);
    return q;
}

void lbfgs_overhead(benchmark::State& state) {
    const std::size_t side = std::size_t(state.range(0)), steps = 30;
    auto f = make_quadratic(side);
    const tensor3<float> x = nst::bench::hashed_image<float>(side, nst::bench::start_seed);
    nst::lbfgs<float>::options o;
    o.max_iterations = steps;
    o.gradient_tolerance = 0;
    o.loss_change_tolerance = 0;
    time_iterations(state, nst::lbfgs<float>(o), f, x, 10, steps);  // history full from 10 on
}
BENCHMARK(lbfgs_overhead)->Arg(512)->UseManualTime()->Unit(benchmark::kMillisecond);

void adam_overhead(benchmark::State& state) {
    const std::size_t side = std::size_t(state.range(0)), steps = 20;
    auto f = make_quadratic(side);
    const tensor3<float> x = nst::bench::hashed_image<float>(side, nst::bench::start_seed);
    nst::adam<float>::options o;
    o.max_iterations = steps;
    o.gradient_tolerance = 0;
    time_iterations(state, nst::adam<float>(o), f, x, 0, steps);
}
BENCHMARK(adam_overhead)->Arg(512)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace
