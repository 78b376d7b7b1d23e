// Memory that stays mapped. An evaluation of a network allocates the same large tensors
// (activations, gradients) every time; the C library hands blocks that large straight to the
// kernel (mmap) and takes them back on free, so each use pays for mapping and page-faulting
// fresh pages. buffer_pool keeps the segments it mapped: a freed block returns to their free
// ranges (merged with free neighbours) and later requests are cut from them, best fit first.
// So from the second evaluation at a given image size on nothing new is mapped, and, since
// a segment serves requests of any size, it holds about what the C library's heap would.
//
// Segments of 2 MB or more start on a 2 MB boundary and are offered to the kernel for huge
// pages (madvise; Linux's default THP mode "madvise" needs the hint): first-touching one then
// costs one page fault per 2 MB instead of 512, which on a virtual machine is most of a run's
// start-up time. Where huge pages are off the hint does nothing.
//
// Bounded: before mapping a new segment the pool unmaps wholly idle ones while what it holds
// would exceed (1 + slack) times the most memory ever in use at once. release_idle() gives
// every wholly idle segment back, e.g. after a run.
//
// nst's tensors (core/tensor.hpp) allocate through pooled_allocator, which uses the process-wide
// pool; blocks under min_pooled_bytes go straight to the C++ allocator.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <map>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <sys/mman.h>
#endif

#include "isa_namespace.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {

class buffer_pool {
public:
    static constexpr std::size_t min_pooled_bytes = std::size_t(256) << 10;
    static constexpr std::size_t alignment = 64;  // a cache line; also AVX-512's vector size
    static constexpr std::size_t huge_page_bytes = std::size_t(2) << 20;  // x86-64's, ARM64's

    struct statistics {
        std::size_t fresh_blocks = 0;     // segments mapped from the system
        std::size_t reused_blocks = 0;    // requests served from memory already mapped
        std::size_t released_blocks = 0;  // segments given back to the system
        std::size_t in_use_bytes = 0;     // handed out now
        std::size_t mapped_bytes = 0;     // held from the system now (in use + idle)
        std::size_t peak_in_use_bytes = 0;  // most bytes ever handed out at once
    };

    // requires: slack >= 0: mapped memory stays within (1 + slack) times the most memory ever
    // in use at once (plus the one block being mapped when nothing cached can go).
    explicit buffer_pool(double slack = 0.1) : slack_(std::max(0.0, slack)) {}
    buffer_pool(const buffer_pool&) = delete;
    buffer_pool& operator=(const buffer_pool&) = delete;
    ~buffer_pool() { release_idle(); }

    // The process-wide pool. Never destroyed, so tensors with static storage may outlive
    // any other object; its idle segments stay reachable until exit.
    static buffer_pool& instance() {
        static buffer_pool* pool = new buffer_pool();
        return *pool;
    }

    // ensures: `alignment`-aligned storage of at least `bytes` bytes; throws std::bad_alloc.
    void* allocate(std::size_t bytes) {
        if (bytes < min_pooled_bytes) return small_allocate(bytes);
        const std::size_t size = rounded(bytes);
        std::vector<range> to_unmap;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            in_use_ += size;
            peak_in_use_ = std::max(peak_in_use_, in_use_);
            if (char* p = take_free(size)) return p;
            to_unmap = make_room(size);
            ++stats_.fresh_blocks;
            mapped_ += size;  // reserved now, so concurrent misses see it in the budget
        }
        for (const range& r : to_unmap) unmap(r.data, r.bytes);
        char* p = nullptr;
        try {
            p = static_cast<char*>(map(size));
            std::lock_guard<std::mutex> lock(mutex_);
            segments_.emplace(p, size);
            held_.emplace(p, size);
            return p;
        } catch (...) {
            std::lock_guard<std::mutex> lock(mutex_);
            if (p) segments_.erase(p);
            if (p) unmap(p, size);
            in_use_ -= size;
            mapped_ -= size;
            --stats_.fresh_blocks;
            throw;
        }
    }

    // requires: p came from allocate(bytes) of this pool, with the same bytes.
    void deallocate(void* p, std::size_t bytes) noexcept {
        if (!p) return;
        if (bytes < min_pooled_bytes) return small_free(p);
        std::lock_guard<std::mutex> lock(mutex_);
        const auto it = held_.find(static_cast<char*>(p));
        if (it == held_.end()) return;  // not ours: a broken precondition; leak, don't crash
        const range r{it->first, it->second};
        held_.erase(it);
        in_use_ -= r.bytes;
        give_back(r);
    }

    // Gives every wholly idle segment back to the system.
    void release_idle() noexcept {
        std::vector<range> idle;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            idle = take_idle_segments(std::numeric_limits<std::size_t>::max());
        }
        for (const range& r : idle) unmap(r.data, r.bytes);
    }

    // Memory straight from the system, outside the pool: page-aligned, and from huge_page_bytes
    // on 2 MB-aligned with the huge-page hint. The pool's segments come from here, so that a
    // released one really leaves the process (the C library could keep it in its heap, holding
    // the memory twice); so do buffers kept for good beside it (thread_scratch.hpp).
    // requires for unmap: p and bytes as given to and returned by map.
    static void* map(std::size_t bytes) {
        bytes = rounded(bytes);
#if defined(__unix__) || defined(__APPLE__)
        // A large block is cut on a huge-page boundary out of a mapping one huge page longer;
        // the ends outside it are given back at once.
        const std::size_t extra = bytes < huge_page_bytes ? 0 : huge_page_bytes;
        void* p = mmap(nullptr, bytes + extra, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                       -1, 0);
        if (p == MAP_FAILED) throw std::bad_alloc();
        if (extra == 0) return p;
        char* const mapped = static_cast<char*>(p);
        const std::uintptr_t address = reinterpret_cast<std::uintptr_t>(mapped);
        char* const start = mapped + (huge_page_bytes - address % huge_page_bytes) % huge_page_bytes;
        if (start > mapped) munmap(mapped, std::size_t(start - mapped));
        if (start < mapped + extra) munmap(start + bytes, std::size_t(mapped + extra - start));
#if defined(MADV_HUGEPAGE)
        madvise(start, bytes, MADV_HUGEPAGE);
#endif
        return start;
#else
        return ::operator new(bytes, std::align_val_t(4096));
#endif
    }
    static void unmap(void* p, std::size_t bytes) noexcept {
#if defined(__unix__) || defined(__APPLE__)
        munmap(p, rounded(bytes));
#else
        (void)bytes;
        ::operator delete(p, std::align_val_t(4096));
#endif
    }

    statistics stats() const {
        std::lock_guard<std::mutex> lock(mutex_);
        statistics s = stats_;
        s.in_use_bytes = in_use_;
        s.mapped_bytes = mapped_;
        s.peak_in_use_bytes = peak_in_use_;
        return s;
    }

private:
    struct range {
        char* data;
        std::size_t bytes;
    };

    // Best fit among the free ranges (the smallest that holds size; its start is handed out,
    // the rest stays free). Null if none fits. Mutex held.
    char* take_free(std::size_t size) {
        auto best = free_.end();
        for (auto it = free_.begin(); it != free_.end(); ++it)
            if (it->second >= size && (best == free_.end() || it->second < best->second))
                best = it;
        if (best == free_.end()) return nullptr;
        char* p = best->first;
        const std::size_t rest = best->second - size;
        free_.erase(best);
        if (rest) free_.emplace(p + size, rest);
        held_.emplace(p, size);
        ++stats_.reused_blocks;
        return p;
    }

    // Returns r to the free ranges, merged with free neighbours of the same segment.
    void give_back(range r) noexcept {
        auto next = free_.lower_bound(r.data);
        if (next != free_.end() && next->first == r.data + r.bytes && !segments_.count(next->first)) {
            r.bytes += next->second;
            next = free_.erase(next);
        }
        if (next != free_.begin()) {
            auto prev = std::prev(next);
            if (prev->first + prev->second == r.data && !segments_.count(r.data)) {
                prev->second += r.bytes;
                return;
            }
        }
        free_.emplace_hint(next, r.data, r.bytes);
    }

    // Wholly free segments, up to `want` bytes of them, taken out for unmapping. Mutex held.
    std::vector<range> take_idle_segments(std::size_t want) {
        std::vector<range> out;
        std::size_t got = 0;
        for (auto it = free_.begin(); it != free_.end() && got < want;) {
            const auto seg = segments_.find(it->first);
            if (seg == segments_.end() || seg->second != it->second) {
                ++it;
                continue;
            }
            out.push_back({it->first, it->second});
            got += it->second;
            mapped_ -= it->second;
            segments_.erase(seg);
            it = free_.erase(it);
        }
        stats_.released_blocks += out.size();
        return out;
    }

    // Idle segments to unmap so that mapping `size` more bytes stays within the budget.
    std::vector<range> make_room(std::size_t size) {
        const auto budget = std::size_t(double(peak_in_use_) * (1.0 + slack_));
        if (mapped_ + size <= budget) return {};
        return take_idle_segments(mapped_ + size - budget);
    }

    // Page granularity keeps every handed-out range page-aligned.
    static std::size_t rounded(std::size_t bytes) {
        constexpr std::size_t page = 4096;
        if (bytes > std::numeric_limits<std::size_t>::max() - page) throw std::bad_alloc();
        return (bytes + page - 1) / page * page;
    }
    static void* small_allocate(std::size_t bytes) {
        return ::operator new(std::max<std::size_t>(bytes, 1), std::align_val_t(alignment));
    }
    static void small_free(void* p) noexcept { ::operator delete(p, std::align_val_t(alignment)); }

    mutable std::mutex mutex_;
    std::map<char*, std::size_t> segments_;        // mapped segment start -> its size
    std::map<char*, std::size_t> free_;            // free range start -> its size
    std::unordered_map<char*, std::size_t> held_;  // handed-out range start -> its size
    std::size_t in_use_ = 0;
    std::size_t mapped_ = 0;
    std::size_t peak_in_use_ = 0;
    double slack_;
    statistics stats_;
};

// A standard allocator drawing on buffer_pool::instance(); all instances are interchangeable.
template <class T> class pooled_allocator {
public:
    using value_type = T;
    pooled_allocator() noexcept = default;
    template <class U> pooled_allocator(const pooled_allocator<U>&) noexcept {}

    T* allocate(std::size_t n) {
        if (n > std::numeric_limits<std::size_t>::max() / sizeof(T)) throw std::bad_array_new_length();
        return static_cast<T*>(buffer_pool::instance().allocate(n * sizeof(T)));
    }
    void deallocate(T* p, std::size_t n) noexcept {
        buffer_pool::instance().deallocate(p, n * sizeof(T));
    }

    template <class U> bool operator==(const pooled_allocator<U>&) const noexcept { return true; }
    template <class U> bool operator!=(const pooled_allocator<U>&) const noexcept { return false; }
};

}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
