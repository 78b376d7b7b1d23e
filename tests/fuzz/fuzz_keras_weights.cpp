// libFuzzer target: any bytes as an HDF5 file image through nst::keras_weight_file (opened from
// memory with HDF5's core driver): the layer list, every layer's weight listing, and each
// layer read as a 3x3 convolution of the shape its kernel declares (bounded, so a huge
// declared shape is a clean error, not an allocation). A clean nst::error is the expected
// outcome for bad input; a crash, sanitizer report or any other exception is a bug.
#include <cstddef>
#include <cstdint>

#include <nst/io/keras_weights.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        const auto file = nst::keras_weight_file::from_memory(data, size, "fuzz.h5");
        for (const auto& layer : file.contents()) {
            if (layer.weights.empty() || layer.weights[0].shape.size() != 4) continue;
            const auto& shape = layer.weights[0].shape;
            if (shape[2] > 512 || shape[3] > 512) continue;  // VGG's largest layers
            try {
                (void)file.read_conv3x3<float>(layer.name, shape[2], shape[3]);
            } catch (const nst::error&) {
            }
        }
    } catch (const nst::error&) {
    }
    return 0;
}
