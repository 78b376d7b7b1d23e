// stb_image's decoders compiled into the libFuzzer build of fuzz_decode_image (the executable's
// definitions take precedence over Debian's prebuilt, uninstrumented libstb), so libFuzzer sees
// their coverage and AddressSanitizer checks their memory accesses. Same header, same version.
// UBSan is off for this file: stb's benign undefined behaviour (shifts of negative values) is
// not what this fuzzing looks for.
#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>
