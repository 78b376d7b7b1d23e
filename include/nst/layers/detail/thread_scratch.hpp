// Per-thread scratch memory that outlives a call. The convolutions' temporaries are large
// (Winograd's transformed weights alone are 38 MB for 512 x 512 channels); freshly allocated
// on every call they are mapped and page-faulted each time, which cost ~25% of a deep layer.
// Each thread keeps one 64-byte-aligned buffer per slot, grown to the largest request and freed
// at thread exit: retained memory depends on the layer shapes, not on the image size. They are
// mapped as the buffer pool maps its segments (buffer_pool::map), in huge pages where the kernel
// has them: first touching Winograd's U alone took ~10,000 page faults in 4 KB pages. (Not cut
// from the pool's segments: a buffer outgrown there stayed resident as a free range, and which
// thread grew first decided the peak RSS: 422-486 MB for nst_eval --size 512.)
#pragma once

#include <algorithm>
#include <cstddef>

#include "../../core/buffer_pool.hpp"
#include "../../core/isa_namespace.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {
namespace detail {

enum class scratch_slot {
    packed_weights,  // conv3x3_engine: a layer's weights packed for the implicit GEMM
    implicit_slab,
    implicit_band,
    winograd_weights,
    winograd_input,
    winograd_products,
    count
};

// ensures: 64-byte aligned storage for n floats, valid until the next call with the same slot
// on this thread. Contents are unspecified.
inline float* thread_scratch(scratch_slot slot, std::size_t n) {
    // One slot's buffer; unmapped at thread exit.
    struct buffer {
        float* data = nullptr;
        std::size_t size = 0;  // floats
        buffer() = default;
        buffer(const buffer&) = delete;
        buffer& operator=(const buffer&) = delete;
        ~buffer() { release(); }
        void release() noexcept {
            if (data) buffer_pool::unmap(data, size * sizeof(float));
            data = nullptr;
            size = 0;
        }
    };
    thread_local buffer buffers[std::size_t(scratch_slot::count)];
    buffer& b = buffers[std::size_t(slot)];
    if (b.size < n || !b.data) {
        b.release();
        const std::size_t size = std::max<std::size_t>(n, 1);
        b.data = static_cast<float*>(buffer_pool::map(size * sizeof(float)));
        b.size = size;
    }
    return b.data;
}

}  // namespace detail
}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
