// What MD5 (RFC 1321 3.1-3.2) and SHA-256 (FIPS 180-4 5.1.1) share: the input cut into 64-byte
// blocks for the hash's compression function, then the padding (0x80, zeros up to byte 56 of the
// last block, the message length in bits in 8 bytes: little-endian for MD5, big-endian for SHA-256).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../../core/isa_namespace.hpp"

namespace nst {
inline namespace NST_SIMD_NAMESPACE {
namespace detail {

// Hash derives from block_stream<Hash> and has compress(const unsigned char* block).
template <class Hash> class block_stream {
public:
    void update(const void* data, std::size_t size) {
        const auto* bytes = static_cast<const unsigned char*>(data);
        length_ += std::uint64_t(size);
        // Whole blocks straight from the input; only a block's leftover goes through block_.
        if (used_ > 0) {
            const std::size_t n = std::min(size, block_.size() - used_);
            std::memcpy(block_.data() + used_, bytes, n);
            used_ += n, bytes += n, size -= n;
            if (used_ < block_.size()) return;
            static_cast<Hash*>(this)->compress(block_.data());
            used_ = 0;
        }
        for (; size >= block_.size(); bytes += block_.size(), size -= block_.size())
            static_cast<Hash*>(this)->compress(bytes);
        std::memcpy(block_.data(), bytes, size);
        used_ = size;
    }

protected:
    enum class length_order { little_endian, big_endian };

    // Appends the padding and the length: the stream ends, every block compressed.
    void finish(length_order order) {
        const std::uint64_t bits = length_ * 8;
        const unsigned char one = 0x80, zero = 0;
        update(&one, 1);
        while (used_ != 56) update(&zero, 1);
        unsigned char tail[8];
        for (int i = 0; i < 8; ++i)
            tail[i] = static_cast<unsigned char>(bits >> (order == length_order::little_endian ? 8 * i : 56 - 8 * i));
        update(tail, 8);
    }

private:
    std::array<unsigned char, 64> block_{};
    std::size_t used_ = 0;
    std::uint64_t length_ = 0;
};

}  // namespace detail
}  // namespace NST_SIMD_NAMESPACE
}  // namespace nst
