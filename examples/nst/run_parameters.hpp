// How an output was made, as JSON: every option of the run with its effective value (defaults
// included, the 1/K and 1/L layer weights and the normalised style blend spelled out), nst's
// version and the weights file's path, size, name, SHA-256 and (when computed) MD5. Recorded in
// every image the program writes (PNG iTXt chunk "nst-parameters", JPEG COM segment) and, with
// --params-json, in a file.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <nst/core/memory_limit.hpp>
#include <nst/core/number_text.hpp>
#include <nst/core/threads.hpp>
#include <nst/core/version.hpp>
#include <nst/io/weights_identity.hpp>
#include <nst/style_transfer.hpp>

#include "options.hpp"

namespace nst::cli {

namespace json {
// What starts at text[i]: a well-formed UTF-8 sequence (1-4 bytes), or else a maximal invalid
// subpart (the Unicode Standard, 3.9: the lead byte and the continuation bytes that could still
// have begun a sequence, at least one byte). Overlong forms, surrogates (U+D800..U+DFFF) and code
// points above U+10FFFF are not well-formed (table 3-7 restricts the second byte against them).
struct utf8_span {
    std::size_t length;
    bool valid;
};
inline utf8_span utf8_at(const std::string& text, std::size_t i) {
    const auto byte = [&](std::size_t k) { return k < text.size() ? unsigned(static_cast<unsigned char>(text[k])) : 0u; };
    const unsigned lead = byte(i);
    if (lead < 0x80) return {1, true};
    std::size_t n = 0;
    unsigned low = 0x80, high = 0xBF;  // the second byte's range
    if (lead >= 0xC2 && lead <= 0xDF) {
        n = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        n = 3;
        if (lead == 0xE0) low = 0xA0;   // else overlong
        if (lead == 0xED) high = 0x9F;  // else a surrogate
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        n = 4;
        if (lead == 0xF0) low = 0x90;   // else overlong
        if (lead == 0xF4) high = 0x8F;  // else above U+10FFFF
    }
    if (n == 0) return {1, false};  // a continuation byte, C0, C1 (overlong) or F5..FF
    std::size_t good = 1;
    for (; good < n; ++good) {
        const unsigned b = byte(i + good);
        if (b < (good == 1 ? low : 0x80u) || b > (good == 1 ? high : 0xBFu)) break;
    }
    return {good, good == n};
}

// A JSON string. Its text is UTF-8 whatever bytes `s` holds (a Linux file name may be any bytes,
// e.g. a Latin-1 "caf\xe9.jpg"): valid UTF-8 is kept as it is and each maximal invalid subpart
// becomes U+FFFD, as Python's errors="replace" and browsers decode, so strict readers accept it.
inline std::string quote(const std::string& s) {
    std::string out = "\"";
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        const utf8_span span = utf8_at(s, i);
        if (!span.valid) {
            out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
        } else if (c == '"' || c == '\\') {
            out += '\\';
            out += s[i];
        } else if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else {
            out.append(s, i, span.length);
        }
        i += span.length;
    }
    return out + "\"";
}
// The shortest text that reads back as v (0.999, not 0.99899999999999999).
inline std::string number(double v) { return number_text(v); }
inline std::string integer(std::uint64_t v) { return std::to_string(v); }
inline std::string strings(const std::vector<std::string>& v) {
    std::string out = "[";
    for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + quote(v[i]);
    return out + "]";
}
inline std::string numbers(const std::vector<double>& v) {
    std::string out = "[";
    for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + number(v[i]);
    return out + "]";
}
// Each entry: "key": value (value already JSON), one per line.
inline std::string object(const std::vector<std::pair<std::string, std::string>>& entries, const std::string& indent) {
    std::string out = "{\n";
    for (std::size_t i = 0; i < entries.size(); ++i)
        out += indent + "  " + quote(entries[i].first) + ": " + entries[i].second + (i + 1 < entries.size() ? ",\n" : "\n");
    return out + indent + "}";
}
}  // namespace json

// The weights to name when the run's own report is not there yet (snapshots): hashes the file.
inline weights_info identify_weights_file(const std::string& path) {
    return nst::detail::identify_weights(path, nst::detail::digests_of_file(path), {});  // no pin: never throws for it
}

// w_k as stylize uses them: the given weights, or 1/n each.
inline std::vector<double> effective_layer_weights(const std::vector<double>& given, std::size_t n) {
    return given.empty() ? std::vector<double>(n, n ? 1.0 / double(n) : 0.0) : given;
}

/*  The run's parameters as a JSON object (see the file comment). */
inline std::string parameters_json(const command_line& c, const weights_info& weights) {
    const stylize_options& o = c.options;
    using json::number;
    using json::quote;
    const std::string threads = number(o.threads > 0 ? o.threads : nst::num_threads());
    const std::uint64_t memory_limit = o.memory_limit ? o.memory_limit : default_memory_limit();
    const std::string init = o.init == init_kind::image ? c.init : to_string(o.init);
    // The sizes asked for, ascending (--multiscale's pyramid spelled out; a size the budget gives
    // no steps stays: the same options reproduce the run, and the program named it in a notice).
    const std::vector<std::size_t> scales = requested_scales(o);
    // The MD5 only when it was computed (a file of a size nst knows by MD5: weights_identity.hpp).
    std::vector<std::pair<std::string, std::string>> weights_entries = {
        {"path", quote(weights.path)}, {"bytes", json::integer(weights.size)}, {"sha256", quote(weights.sha256)}};
    if (!weights.md5.empty()) weights_entries.push_back({"md5", quote(weights.md5)});
    weights_entries.push_back({"known_name", quote(weights.known_name)});
    const std::string weights_object = json::object(weights_entries, "  ");
    return json::object(
        {{"program", quote(c.program)},
         {"version", quote(NST_VERSION_STRING)},
         {"content", quote(c.content)},
         {"styles", json::strings(c.styles)},
         {"style_blend", json::numbers(nst::detail::normalised_blend(o, c.styles.size()))},
         {"output", quote(c.output)},
         {"weights", weights_object},
         {"size", json::integer(o.size)},
         {"scales", json::numbers(std::vector<double>(scales.begin(), scales.end()))},
         {"size_invariant", o.size_invariant ? "true" : "false"},
         {"tile", json::integer(o.tile)},
         {"style_scale", number(o.style_scale)},
         {"iterations", json::integer(o.iterations)},
         {"optimizer", quote(to_string(o.optimizer))},
         {"learning_rate", number(o.learning_rate)},
         {"lbfgs_history", json::integer(o.lbfgs_history)},
         {"pyramid_levels", o.pyramid_levels ? json::integer(*o.pyramid_levels) : quote("auto")},
         {"adam_beta1", number(o.adam_beta1)},
         {"adam_beta2", number(o.adam_beta2)},
         {"adam_epsilon", number(o.adam_epsilon)},
         {"content_weight", number(o.content_weight)},
         {"style_weight", number(o.style_weight)},
         {"tv_weight", number(o.tv_weight)},
         {"content_layers", json::strings(o.content_layers)},
         {"content_layer_weights", json::numbers(effective_layer_weights(o.content_layer_weights, o.content_layers.size()))},
         {"style_layers", json::strings(o.style_layers)},
         {"style_layer_weights", json::numbers(effective_layer_weights(o.style_layer_weights, o.style_layers.size()))},
         {"normalize_gradients", o.normalize_gradients ? "true" : "false"},
         {"pooling", quote(to_string(o.pooling_mode))},
         {"init", quote(init)},
         {"init_noise", number(o.init_noise)},
         {"seed", json::integer(o.seed)},
         {"original_colors", o.original_colors ? "true" : "false"},
         {"colors", quote(c.colors.empty() ? (o.original_colors ? "luminance" : "style") : c.colors)},
         {"style_masks", json::strings(c.style_masks)},
         {"content_mask", quote(c.content_mask)},
         {"model", quote(c.model.empty() ? "from the weights file" : c.model)},
         {"weights_preprocessing", quote(c.weights_preprocessing.empty() ? "from the weights file" : c.weights_preprocessing)},
         {"threads", threads},
         {"precision", quote(to_string(conv_precision_in_use(o.precision)))},
         {"max_input_pixels", json::integer(o.input_limits.max_pixels)},
         {"memory_limit", json::integer(memory_limit)},
         {"bit_depth", number(c.bit_depth)},
         {"jpeg_quality", number(c.jpeg_quality)}},
        "") + "\n";
}

}  // namespace nst::cli
