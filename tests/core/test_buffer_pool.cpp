// The buffer pool behind nst's tensors: freed large blocks are handed out again instead of
// being mapped afresh, concurrently used safely, and the memory it holds stays bounded; a
// network evaluated repeatedly at one size maps nothing new after its first evaluations.
#include <cstdint>
#include <iterator>
#include <random>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <nst/core/buffer_pool.hpp>
#include <nst/nst.hpp>

using namespace nst;

namespace {

constexpr std::size_t mb = std::size_t(1) << 20;

bool aligned(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % buffer_pool::alignment == 0; }

}  // namespace

TEST_CASE("buffer_pool hands a freed block out again for the same size", "[core][pool]") {
    buffer_pool pool;
    void* a = pool.allocate(3 * mb + 5);
    REQUIRE(aligned(a));
    pool.deallocate(a, 3 * mb + 5);
    void* b = pool.allocate(3 * mb + 5);
    CHECK(b == a);
    const auto s = pool.stats();
    CHECK(s.fresh_blocks == 1);
    CHECK(s.reused_blocks == 1);
    CHECK(s.in_use_bytes >= 3 * mb + 5);
    pool.deallocate(b, 3 * mb + 5);
    CHECK(pool.stats().in_use_bytes == 0);
}

TEST_CASE("buffer_pool serves smaller blocks from a freed larger one and merges them back",
          "[core][pool]") {
    buffer_pool pool;
    void* big = pool.allocate(8 * mb);
    pool.deallocate(big, 8 * mb);
    void* h1 = pool.allocate(4 * mb);
    void* h2 = pool.allocate(4 * mb);
    REQUIRE((aligned(h1) && aligned(h2)));
    CHECK(h1 != h2);
    CHECK(pool.stats().fresh_blocks == 1);
    pool.deallocate(h1, 4 * mb);
    pool.deallocate(h2, 4 * mb);
    CHECK(pool.allocate(8 * mb) == big);  // the halves merged into the whole segment again
    CHECK(pool.stats().fresh_blocks == 1);
    pool.deallocate(big, 8 * mb);
}

TEST_CASE("buffer_pool starts segments of 2 MB and more on a huge-page boundary",
          "[core][pool]") {
    // (so the kernel can back them with 2 MB pages; smaller ones need only the cache line)
    buffer_pool pool;
    const std::size_t sizes[] = {2 * mb, 3 * mb + 4096, 5 * mb + 1, mb};
    std::vector<char*> blocks;
    for (std::size_t bytes : sizes) {
        CAPTURE(bytes);
        char* p = static_cast<char*>(pool.allocate(bytes));
        blocks.push_back(p);
        CHECK(aligned(p));
        if (bytes >= buffer_pool::huge_page_bytes)
            CHECK(reinterpret_cast<std::uintptr_t>(p) % buffer_pool::huge_page_bytes == 0);
        // the whole block is mapped: its first and last bytes can be written and read back
        p[0] = 1;
        p[bytes - 1] = 2;
        CHECK(p[0] + p[bytes - 1] == 3);
    }
    CHECK(pool.stats().fresh_blocks == std::size(sizes));
    for (std::size_t i = 0; i < blocks.size(); ++i) pool.deallocate(blocks[i], sizes[i]);
    pool.release_idle();
    CHECK(pool.stats().mapped_bytes == 0);
    // The same from buffer_pool::map, which the pool's segments and thread scratch come from.
    for (std::size_t bytes : {std::size_t(1000), 3 * mb + 5}) {
        CAPTURE(bytes);
        char* p = static_cast<char*>(buffer_pool::map(bytes));
        const std::size_t boundary = bytes >= buffer_pool::huge_page_bytes ? buffer_pool::huge_page_bytes : 4096;
        CHECK(reinterpret_cast<std::uintptr_t>(p) % boundary == 0);
        p[0] = 1;
        p[bytes - 1] = 2;
        CHECK(p[0] + p[bytes - 1] == 3);
        buffer_pool::unmap(p, bytes);
    }
}

TEST_CASE("buffer_pool leaves small requests to the C++ allocator", "[core][pool]") {
    buffer_pool pool;
    void* p = pool.allocate(1000);
    REQUIRE(aligned(p));
    const auto s = pool.stats();
    CHECK(s.fresh_blocks == 0);
    CHECK(s.in_use_bytes == 0);
    pool.deallocate(p, 1000);
}

TEST_CASE("buffer_pool keeps what it holds within its slack of the peak use", "[core][pool]") {
    buffer_pool pool(0.1);
    void* a = pool.allocate(4 * mb);
    void* b = pool.allocate(4 * mb);
    pool.deallocate(a, 4 * mb);
    pool.deallocate(b, 4 * mb);
    // Peak use 8 MB; a 10 MB request fits nowhere: mapping it beside 8 idle MB would hold 18 MB,
    // so idle segments go first.
    void* c = pool.allocate(10 * mb);
    auto s = pool.stats();
    CHECK(s.released_blocks == 2);
    CHECK(s.mapped_bytes == 10 * mb);
    pool.deallocate(c, 10 * mb);
    pool.release_idle();
    s = pool.stats();
    CHECK(s.mapped_bytes == 0);

    // Random traffic: held memory never exceeds (1 + slack) x peak use plus the largest block.
    std::mt19937 rng(7);
    std::uniform_int_distribution<std::size_t> size_of(1, 12);
    std::vector<std::pair<void*, std::size_t>> live;
    for (int step = 0; step < 2000; ++step) {
        if (live.size() < 6 && (live.empty() || rng() % 2)) {
            const std::size_t bytes = size_of(rng) * mb / 2;
            live.emplace_back(pool.allocate(bytes), bytes);
        } else {
            const std::size_t i = rng() % live.size();
            pool.deallocate(live[i].first, live[i].second);
            live.erase(live.begin() + std::ptrdiff_t(i));
        }
        s = pool.stats();
        REQUIRE(s.mapped_bytes <= std::size_t(1.1 * double(s.peak_in_use_bytes)) + 6 * mb + 4096);
    }
    for (auto& [p, bytes] : live) pool.deallocate(p, bytes);
    CHECK(pool.stats().in_use_bytes == 0);
}

TEST_CASE("buffer_pool is safe to use from several threads at once", "[core][pool]") {
    buffer_pool pool;
    constexpr int threads = 4, rounds = 300;
    std::vector<int> failures(threads, 0);
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t)
        workers.emplace_back([&, t] {
            std::mt19937 rng(static_cast<unsigned>(t));
            for (int r = 0; r < rounds; ++r) {
                const std::size_t n = (1 + rng() % 4) * (mb / 4) / sizeof(int);
                int* p = static_cast<int*>(pool.allocate(n * sizeof(int)));
                for (std::size_t i = 0; i < n; i += 1024) p[i] = t * rounds + r;
                std::this_thread::yield();
                for (std::size_t i = 0; i < n; i += 1024) failures[t] += p[i] != t * rounds + r;
                pool.deallocate(p, n * sizeof(int));
            }
        });
    for (auto& w : workers) w.join();
    for (int t = 0; t < threads; ++t) CHECK(failures[t] == 0);
    const auto s = pool.stats();
    CHECK(s.in_use_bytes == 0);
    CHECK(s.fresh_blocks + s.reused_blocks == std::size_t(threads * rounds));
    CHECK(s.reused_blocks > 10 * s.fresh_blocks);  // mostly served from blocks mapped before
    CHECK(s.mapped_bytes <= std::size_t(1.1 * double(s.peak_in_use_bytes)) + mb);
}

TEST_CASE("pooled tensors: a third evaluation at a fixed size maps nothing new",
          "[core][pool][objective]") {
    using net_type = sequential<conv3x3<float, 3, 16>, relu<float>, pool2x2<float, pooling::average>,
                                conv3x3<float, 16, 32>, relu<float>>;
    net_type net({"c1", "r1", "p1", "c2", "r2"});
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> dist(-0.3f, 0.3f);
    net.for_each_layer([&](auto& layer, std::size_t, const std::string&) {
        using L = std::decay_t<decltype(layer)>;
        if constexpr (L::out_channels > 0) {
            auto w = tensor4<float>::from_shape({L::out_channels, L::in_channels, 3, 3});
            auto b = tensor1<float>::from_shape({L::out_channels});
            for (auto& v : w) v = dist(rng);
            for (auto& v : b) v = dist(rng);
            layer.set_weights(std::move(w), std::move(b));
        }
    });
    const std::size_t size = 96;  // c1's output: 16 x 96 x 96 floats = 576 KB, a pooled block
    auto image = [&] {
        auto x = tensor3<float>::from_shape({3, size, size});
        for (auto& v : x) v = 50 * dist(rng);
        return x;
    };
    net.keep_only({net.index_of("r2")});
    objective<net_type> obj(net);
    obj.add("r2", 1.0f, content_loss<float>(tensor3<float>(net.forward(image(), 4))), "content");
    net.keep_only({net.index_of("r1")});
    obj.add("r1", 1e-3f, style_loss<float>(style_target(tensor3<float>(net.forward(image(), 1)))),
            "style");
    obj.add_image_term(1e-3f, total_variation_loss<float>(), "tv");

    const tensor3<float> x = image();
    tensor3<float> grad;
    auto& pool = buffer_pool::instance();
    obj(x, grad);
    obj(x, grad);
    const auto before = pool.stats();
    const float loss = obj(x, grad);
    const auto after = pool.stats();
    CHECK(std::isfinite(loss));
    CHECK(after.reused_blocks > before.reused_blocks);  // the evaluation did use pooled blocks
    CHECK(after.fresh_blocks == before.fresh_blocks);
    CHECK(after.mapped_bytes == before.mapped_bytes);
}
