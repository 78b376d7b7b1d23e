// libFuzzer target: any bytes as a PyTorch .pth file (legacy pickle container or zip) through
// nst::read_pytorch_weights_from_memory: the zip directory, the pickle reader (which must refuse
// anything but a plain state dict), storage bounds, strides and value checks. A clean
// nst::error is the expected outcome for bad input; a crash, sanitizer report, leak or any other
// exception is a bug.
#include <cstddef>
#include <cstdint>

#include <nst/io/pytorch_weights.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        const nst::model_weights w = nst::read_pytorch_weights_from_memory(data, size, "fuzz.pth");
        volatile float sink = 0;
        for (const auto& c : w.convs) sink = sink + c.weights.data()[0] + c.bias(0);
    } catch (const nst::error&) {
    }
    return 0;
}
