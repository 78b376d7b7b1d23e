// nst's side of benchmarks/compare_pytorch.sh: builds the style workload (style_workload.hpp) at
// one image size, runs warm-up + timed objective evaluations (forward + losses + backward to the
// image) and prints one line of key=value pairs that the script parses:
//   engine=nst size=512 threads=2 blas_core=Haswell evals=5 median_s=... min_s=... max_s=...
//   peak_rss_mb=... base_rss_mb=... loss=... precision=fp32 median_cpu_s=...
// --precision bf16 runs the convolutions' backward pass in bf16, bf16_all both passes
// (conv_precision.hpp; fp32 where unsupported: the printed precision is the one in use).
// median_cpu_s is process CPU time per evaluation, which a busy machine disturbs less than wall
// time.
// peak_rss_mb is the whole process's peak (getrusage), measured the same way as the PyTorch side.
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "style_workload.hpp"

namespace {

struct options {
    std::size_t size = 512;
    int evals = 5;
    int warmup = 1;
    int threads = 0;  // 0: keep the OpenMP default (OMP_NUM_THREADS or all cores)
    nst::conv_precision precision = nst::conv_precision::fp32;
};

[[noreturn]] void usage(const char* why) {
    std::fprintf(stderr,
                 "nst_eval: %s\nusage: nst_eval [--size N] [--evals N] [--warmup N] [--threads N] "
                 "[--precision fp32|bf16|bf16_all]\n",
                 why);
    std::exit(2);
}

options parse(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (i + 1 >= argc) usage(("missing value after " + arg).c_str());
        if (arg == "--precision") {
            const std::string p = argv[++i];
            if (p != "fp32" && p != "bf16" && p != "bf16_all") usage(("bad precision: " + p).c_str());
            o.precision = p == "bf16"       ? nst::conv_precision::bf16
                          : p == "bf16_all" ? nst::conv_precision::bf16_all
                                            : nst::conv_precision::fp32;
            continue;
        }
        const long value = std::strtol(argv[++i], nullptr, 10);
        if (arg == "--size" && value >= 32) o.size = std::size_t(value);
        else if (arg == "--evals" && value >= 1) o.evals = int(value);
        else if (arg == "--warmup" && value >= 0) o.warmup = int(value);
        else if (arg == "--threads" && value >= 0) o.threads = int(value);
        else usage(("bad option or value: " + arg + " " + argv[i]).c_str());
    }
    return o;
}

}  // namespace

int main(int argc, char** argv) {
    const options opt = parse(argc, argv);
    const double base_rss = nst::bench::peak_rss_mb();
    if (opt.threads > 0) nst::set_num_threads(opt.threads);

    nst::vgg19<float> net;
    nst::bench::hashed_weights(net);
    net.set_precision(opt.precision);
    auto obj = nst::bench::style_objective(net, opt.size);
    const nst::tensor3<float> x = nst::bench::hashed_image<float>(opt.size, nst::bench::start_seed);
    nst::tensor3<float> grad = xt::zeros<float>(x.shape());

    double loss = 0;
    for (int i = 0; i < opt.warmup; ++i) loss = obj(x, grad);
    std::vector<double> seconds, cpu;
    for (int i = 0; i < opt.evals; ++i) {
        const auto start = std::chrono::steady_clock::now();
        const std::clock_t cpu_start = std::clock();
        loss = obj(x, grad);
        cpu.push_back(double(std::clock() - cpu_start) / CLOCKS_PER_SEC);
        seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    std::sort(cpu.begin(), cpu.end());
    std::vector<double> sorted = seconds;
    std::sort(sorted.begin(), sorted.end());
    const std::size_t n = sorted.size();
    const double median = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);

    std::string all;
    for (double s : seconds) all += (all.empty() ? "" : ",") + std::to_string(s);
    std::printf("engine=nst size=%zu threads=%d blas_core=%s evals=%d median_s=%.4f min_s=%.4f "
                "max_s=%.4f peak_rss_mb=%.1f base_rss_mb=%.1f loss=%.7g grad_abs_sum=%.7g times=%s "
                "precision=%s median_cpu_s=%.4f\n",
                opt.size, nst::num_threads(), nst::blas_core_name().c_str(), opt.evals, median,
                sorted.front(), sorted.back(), nst::bench::peak_rss_mb(), base_rss, loss,
                double(xt::sum(xt::abs(grad))()), all.c_str(),
                nst::to_string(nst::conv_precision_in_use(opt.precision)), cpu[cpu.size() / 2]);
    return 0;
}
