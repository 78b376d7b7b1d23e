// The vector operations behind the optimizers (optim/vector_ops.hpp): parallel above a size
// threshold, equal to serial double sums to rounding, independent of the thread count.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <limits>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

#ifdef _OPENMP
#include <omp.h>
#endif

#include <nst/optim/optim.hpp>

namespace {

// Runs body with omp_get_max_threads() == threads, restoring the caller's count after.
template <class Body> void with_threads(int threads, Body&& body) {
#ifdef _OPENMP
    const int before = omp_get_max_threads();
    omp_set_num_threads(threads);
    body();
    omp_set_num_threads(before);
#else
    (void)threads;
    body();
#endif
}

std::vector<float> random_floats(std::size_t n, unsigned seed) {
    std::mt19937 engine(seed);
    std::uniform_real_distribution<float> uniform(-2.0f, 3.0f);
    std::vector<float> v(n);
    for (float& e : v) e = uniform(engine);
    return v;
}

}  // namespace

TEST_CASE("vector operations: parallel reductions equal a serial double sum to rounding", "[optim][vector_ops]") {
    namespace od = nst::optim_detail;
    const std::size_t n = 3 * od::parallel_threshold + 7;  // odd: chunks of unequal length
    const std::vector<float> a = random_floats(n, 1), b = random_floats(n, 2);
    double dot = 0.0, dist = 0.0, magnitude = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
        dot += double(a[i]) * double(b[i]);
        dist += (double(a[i]) - double(b[i])) * (double(a[i]) - double(b[i]));
        magnitude += std::abs(double(a[i]) * double(b[i]));
    }
    for (const int threads : {1, 2, 3}) {
        INFO("threads = " << threads);
        with_threads(threads, [&] {
            // Each chunk sees its own contiguous range; together they cover [0, n) once.
            std::vector<int> covered(n, 0);
            std::atomic<int> chunks{0};
            od::for_chunks(n, [&](std::size_t begin, std::size_t end) {
                ++chunks;
                for (std::size_t i = begin; i < end; ++i) ++covered[i];
            });
            CHECK(std::count(covered.begin(), covered.end(), 1) == std::ptrdiff_t(n));
#ifdef _OPENMP
            CHECK(chunks == threads);
#endif
            const double d = od::dot(a.data(), b.data(), n);
            CHECK(std::abs(d - dot) <= 2.0 * double(n) * std::numeric_limits<double>::epsilon() * magnitude);
            CHECK(od::dot(a.data(), b.data(), n) == d);  // deterministic for a thread count
            CHECK(od::distance(a.data(), b.data(), n) == Approx(std::sqrt(dist)).epsilon(1e-13));
            CHECK(od::all_finite(a.data(), n));
            std::vector<float> c = a;
            c[n - 1] = std::numeric_limits<float>::quiet_NaN();  // in the last chunk only
            CHECK_FALSE(od::all_finite(c.data(), n));
            CHECK_FALSE(od::equal(a.data(), c.data(), n));
            CHECK(od::equal(a.data(), a.data(), n));
        });
    }
}

TEST_CASE("vector operations: element-wise updates do not depend on the thread count", "[optim][vector_ops]") {
    namespace od = nst::optim_detail;
    const std::size_t n = 2 * od::parallel_threshold + 3;
    const std::vector<float> a = random_floats(n, 3), b = random_floats(n, 4);
    auto apply_all = [&] {
        std::vector<float> y = b, ray(n), m(n, 0.5f), v(n, 0.25f), x = a, x_prev(n);
        od::axpy(0.3, a.data(), y.data(), n);
        od::point_on_ray(a.data(), -1.5, y.data(), ray.data(), n);
        od::scale(0.7, ray.data(), n);
        const od::adam_step<float> step{0.9f, 0.999f, 0.01f, 1.2f, 1e-8f};
        od::adam_update(step, b.data(), m.data(), v.data(), x.data(), x_prev.data(), n);
        return std::vector<std::vector<float>>{y, ray, m, v, x, x_prev};
    };
    std::vector<std::vector<float>> serial, parallel;
    with_threads(1, [&] { serial = apply_all(); });
    with_threads(3, [&] { parallel = apply_all(); });
    CHECK(serial == parallel);
    CHECK(serial[0][n - 1] == Approx(b[n - 1] + 0.3f * a[n - 1]));  // spot check of axpy
    CHECK(serial[5] == a);  // adam_update hands back the old x
}
