// Per-thread scratch memory that outlives a call. The convolutions' temporaries are large
// (Winograd's transformed weights alone are 38 MB for 512 x 512 channels); freshly allocated
// on every call they are mapped and page-faulted each time, which cost ~25% of a deep layer.
// Each thread keeps one 64-byte-aligned buffer per slot, grown to the largest request and freed
// at thread exit: retained memory depends on the layer shapes, not on the image size.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>

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
    struct release {
        void operator()(float* p) const { std::free(p); }
    };
    constexpr std::size_t slots = std::size_t(scratch_slot::count);
    thread_local std::unique_ptr<float[], release> buffers[slots];
    thread_local std::size_t capacity[slots] = {};
    const std::size_t i = std::size_t(slot);
    if (capacity[i] < n || !buffers[i]) {
        buffers[i].reset();
        capacity[i] = 0;
        const std::size_t bytes = (std::max<std::size_t>(n, 1) * sizeof(float) + 63) / 64 * 64;
        buffers[i].reset(static_cast<float*>(std::aligned_alloc(64, bytes)));
        if (!buffers[i]) throw std::bad_alloc();
        capacity[i] = n;
    }
    return buffers[i].get();
}

}  // namespace detail
}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
