// libFuzzer target: any bytes as a .caffemodel through nst::read_caffe_weights_from_memory (the
// protobuf wire reader, the NetParameter/layer/blob decoding, shape and value checks), then the
// result loaded by name into a VGG16 (a mismatch is a clean error). A clean nst::error is the
// expected outcome for bad input; a crash, sanitizer report or any other exception is a bug.
#include <cstddef>
#include <cstdint>

#include <nst/io/caffe_weights.hpp>
#include <nst/models/vgg16.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        const nst::model_weights w = nst::read_caffe_weights_from_memory(data, size, "fuzz.caffemodel");
        for (const auto& c : w.convs)
            if (c.weights.shape(0) != c.bias.size()) __builtin_trap();  // the reader promised equal counts
        static nst::vgg16<float> net;  // built once: the target runs millions of times
        (void)nst::load_model_weights(net, w);
    } catch (const nst::error&) {
    }
    return 0;
}
