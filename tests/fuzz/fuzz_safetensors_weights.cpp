// libFuzzer target: any bytes as a safetensors file through
// nst::read_safetensors_weights_from_memory: the header length, the strict JSON reader
// (io/detail/json.hpp), the tensor entries, the offsets' coverage of the data buffer, and the
// VGG tensors' shapes, dtypes and values. A clean nst::error is the expected outcome for bad
// input; a crash, sanitizer report, leak or any other exception is a bug, and so is a load that
// returns a value the reader promises to refuse.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include <nst/io/safetensors_weights.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        const nst::model_weights w = nst::read_safetensors_weights_from_memory(data, size, "fuzz.safetensors");
        for (const auto& c : w.convs) {
            for (const float v : c.weights)
                if (!(std::abs(v) <= 1e4f)) std::abort();  // max_abs_weight's default
            for (const float v : c.bias)
                if (!(std::abs(v) <= 1e4f)) std::abort();
        }
    } catch (const nst::error&) {
    }
    return 0;
}
