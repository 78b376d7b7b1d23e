// The `nst` program's own parts (examples/nst/), tested directly: byte sizes, time formatting,
// the progress display's plain lines, drawing, the loss plot, the contact sheet and the JSON
// strings of the recorded parameters.
#include <cstdio>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "../../examples/nst/byte_size.hpp"
#include "../../examples/nst/contact_sheet.hpp"
#include "../../examples/nst/loss_plot.hpp"
#include "../../examples/nst/progress.hpp"
#include "../../examples/nst/run_parameters.hpp"
#include "strict_json.hpp"

namespace cli = nst::cli;

namespace {
// Everything written to a std::tmpfile, which is then closed.
std::string read_and_close(std::FILE* file) {
    std::rewind(file);
    std::string text;
    for (int ch; (ch = std::fgetc(file)) != EOF;) text += char(ch);
    std::fclose(file);
    return text;
}
}  // namespace

TEST_CASE("program: byte sizes parse with binary units and reject anything else", "[cli][program]") {
    REQUIRE(cli::parse_byte_size("8G") == (std::uint64_t(8) << 30));
    REQUIRE(cli::parse_byte_size("512MiB") == (std::uint64_t(512) << 20));
    REQUIRE(cli::parse_byte_size("1.5gb") == (std::uint64_t(3) << 29));
    REQUIRE(cli::parse_byte_size("4096") == 4096);
    REQUIRE_THROWS_AS(cli::parse_byte_size("lots"), nst::invalid_argument);
    REQUIRE_THROWS_AS(cli::parse_byte_size("3 parsecs"), nst::invalid_argument);
    REQUIRE_THROWS_AS(cli::parse_byte_size("-1G"), nst::invalid_argument);
    REQUIRE_THROWS_AS(cli::parse_byte_size("0x10G"), nst::invalid_argument);  // std::stod reads hexadecimal
    REQUIRE(cli::parse_byte_size("1e3K") == 1024000);
    REQUIRE(cli::parse_byte_size("0.5") == 0);  // bytes: the command line names what that means
}

TEST_CASE("program: durations and losses format for people", "[cli][program]") {
    REQUIRE(cli::format_duration(12.4) == "12s");
    REQUIRE(cli::format_duration(187) == "3m07s");
    REQUIRE(cli::format_duration(3720) == "1h02m");
    REQUIRE(cli::format_duration(-1) == "--");
    REQUIRE(cli::format_loss(12345.0) == "1.234e+04");
}

TEST_CASE("program: off a terminal, progress is plain lines every 5% of the run", "[cli][program]") {
    std::FILE* out = std::tmpfile();
    REQUIRE(out != nullptr);
    cli::progress_display display(100, out);
    REQUIRE_FALSE(display.is_terminal());
    for (std::size_t i = 0; i <= 10; ++i) display.update(i, 1.0, 0.5, 0.25, 0.25, 0.1 * double(i));
    const std::string text = read_and_close(out);
    INFO(text);
    REQUIRE(text.find("nst: iteration 0/100") != std::string::npos);
    REQUIRE(text.find("nst: iteration 5/100") != std::string::npos);
    REQUIRE(text.find("nst: iteration 10/100") != std::string::npos);
    REQUIRE(text.find("nst: iteration 3/100") == std::string::npos);
    REQUIRE(text.find("10.00 it/s") != std::string::npos);  // 10 iterations in 1 s
    REQUIRE(text.find('\r') == std::string::npos);
    REQUIRE(text.find(" px") == std::string::npos);  // no size given: none shown
}

TEST_CASE("program: a run of no iterations shows 0/0 (it showed 0/1)", "[cli][program]") {
    std::FILE* out = std::tmpfile();
    REQUIRE(out != nullptr);
    cli::progress_display display(0, out);
    display.update(0, 1.0, 0.5, 0.25, 0.25, 0.0);
    const std::string text = read_and_close(out);
    INFO(text);
    REQUIRE(text.find("nst: iteration 0/0 loss") != std::string::npos);
}

TEST_CASE("program: coarse-to-fine progress lines name the size", "[cli][program]") {
    std::FILE* out = std::tmpfile();
    REQUIRE(out != nullptr);
    cli::progress_display display(10, out);
    display.update(0, 1.0, 0.5, 0.25, 0.25, 0.0, 128);
    display.update(5, 1.0, 0.5, 0.25, 0.25, 1.0, 256);
    const std::string text = read_and_close(out);
    INFO(text);
    REQUIRE(text.find("nst: iteration 0/10 at 128 px, loss 1.000e+00") != std::string::npos);
    REQUIRE(text.find("nst: iteration 5/10 at 256 px, loss") != std::string::npos);
}

TEST_CASE("program: the time left prices the steps still to come (coarse-to-fine: the costly ones)", "[cli][program]") {
    struct part {
        std::size_t steps;
        double cost;
    };
    std::FILE* out = std::tmpfile();
    REQUIRE(out != nullptr);
    cli::progress_display display(20, out);
    display.print_every(5);
    // 10 small steps, then 10 ten times as costly: after 1 s for the small ones 10 s are left (the
    // average speed alone would say 1 s); after 5 of the costly ones in 5 s more, 5 s.
    display.price_steps(std::vector<part>{{10, 0.1}, {10, 1.0}});
    display.update(0, 1.0, 0.5, 0.25, 0.25, 0.0, 128);
    display.update(10, 1.0, 0.5, 0.25, 0.25, 1.0, 512);
    display.update(15, 1.0, 0.5, 0.25, 0.25, 6.0, 512);
    const std::string text = read_and_close(out);
    INFO(text);
    REQUIRE(text.find("iteration 10/20 at 512 px, loss 1.000e+00 (content 5.000e-01, style 2.500e-01, tv "
                      "2.500e-01), 10.00 it/s, 10s left") != std::string::npos);
    REQUIRE(text.find("iteration 15/20 at 512 px, loss 1.000e+00 (content 5.000e-01, style 2.500e-01, tv "
                      "2.500e-01), 2.50 it/s, 5s left") != std::string::npos);
}

TEST_CASE("program: --print-every N gives a line every N iterations and no 10 s lines", "[cli][program][peers]") {
    std::FILE* out = std::tmpfile();
    REQUIRE(out != nullptr);
    cli::progress_display display(100, out);
    display.print_every(3);
    for (std::size_t i = 0; i <= 10; ++i) display.update(i, 1.0, 0.5, 0.25, 0.25, 20.0 * double(i));
    const std::string text = read_and_close(out);
    INFO(text);
    for (const char* shown : {"iteration 0/100", "iteration 3/100", "iteration 6/100", "iteration 9/100"})
        REQUIRE(text.find(shown) != std::string::npos);
    for (const char* hidden : {"iteration 1/100", "iteration 5/100", "iteration 10/100"})
        REQUIRE(text.find(hidden) == std::string::npos);
}

TEST_CASE("program: drawing fills rectangles and lines within the image", "[cli][program]") {
    auto img = cli::draw::canvas(20, 30, cli::draw::white);
    cli::draw::fill_rect(img, 2, 3, 5, 6, cli::draw::red);
    REQUIRE(img(3, 2, 0) == 214.0f);
    REQUIRE(img(5, 4, 1) == 39.0f);
    REQUIRE(img(6, 4, 0) == 255.0f);  // row 6 is outside
    cli::draw::fill_rect(img, -10, -10, 100, 1, cli::draw::black);  // clipped, no crash
    REQUIRE(img(0, 29, 2) == 0.0f);
    cli::draw::line(img, 0, 10, 29, 10, cli::draw::blue, 2.0);
    REQUIRE(img(10, 15, 2) == Approx(180.0f));
    REQUIRE(img(15, 15, 2) == 255.0f);  // far from the line: untouched
}

TEST_CASE("program: the loss plot has the asked size and refuses nothing to plot", "[cli][program]") {
    const auto plot = cli::draw_loss_plot({{"total", cli::draw::black, {100.0, 10.0, 1.0}}}, 400, 300);
    REQUIRE(plot.shape(0) == 300);
    REQUIRE(plot.shape(1) == 400);
    REQUIRE(xt::amin(plot)() == 0.0f);  // something was drawn in black
    REQUIRE_THROWS_AS(cli::draw_loss_plot({{"total", cli::draw::black, {0.0, -1.0}}}), nst::invalid_argument);
    REQUIRE_THROWS_AS(cli::draw_loss_plot({{"total", cli::draw::black, {1.0}}}, 100, 100), nst::invalid_argument);
    // Ticks on whole iterations, at most about eight of them.
    CHECK(cli::detail::iteration_tick_step(1) == 1.0);
    CHECK(cli::detail::iteration_tick_step(3) == 1.0);
    CHECK(cli::detail::iteration_tick_step(16) == 2.0);
    CHECK(cli::detail::iteration_tick_step(500) == 100.0);
    const auto short_run = cli::draw_loss_plot({{"total", cli::draw::black, {100.0, 10.0, 5.0, 1.0}}}, 400, 300);
    CHECK(short_run.shape(1) == 400);
    // Values at their iterations: a coarse-to-fine run reports iteration 2 twice (the small
    // scale's end, the new size's start), and its axis ends at its last iteration, 3 (by count: 4).
    const cli::plot_series scales{"total", cli::draw::black, {100.0, 10.0, 5.0, 50.0, 1.0}, {0, 1, 2, 2, 3}};
    CHECK(cli::detail::last_iteration({scales}) == 3.0);
    CHECK(cli::detail::last_iteration({{"total", cli::draw::black, {100.0, 10.0, 5.0, 50.0, 1.0}}}) == 4.0);
    CHECK(cli::draw_loss_plot({scales}, 400, 300).shape(0) == 300);
    REQUIRE_THROWS_AS(cli::draw_loss_plot({{"total", cli::draw::black, {1.0, 2.0}, {0}}}), nst::invalid_argument);
}

TEST_CASE("program: the contact sheet lays thumbnails out in rows", "[cli][program]") {
    const nst::image picture = xt::zeros<float>({50, 100, 3});
    std::vector<cli::labelled_image> items(5, {picture, "iteration 1"});
    const nst::image sheet = cli::contact_sheet(items, 40, 4);
    // Cells of 40 x 20 thumbnails + 10 px margins, 24 px labels: 4 columns, 2 rows.
    REQUIRE(sheet.shape(1) == 4 * (40 + 10) + 10);
    REQUIRE(sheet.shape(0) == 2 * (20 + 24 + 10) + 10);
    REQUIRE_THROWS_AS(cli::contact_sheet({}), nst::invalid_argument);
}

// A Linux file name is any bytes: one that is not UTF-8 (a Latin-1 "caf\xe9.jpg") went into the
// JSON text as it was, which strict readers refuse (Python decoding the bytes as UTF-8, PIL
// dropping the PNG's iTXt chunk). What is not UTF-8 becomes U+FFFD, one per maximal invalid
// subpart (as Python's errors="replace" and WHATWG decoders); valid UTF-8 stays as it is.
TEST_CASE("program: JSON strings are valid UTF-8 whatever bytes a file name holds", "[cli][program]") {
    const std::string r = "\xEF\xBF\xBD";  // U+FFFD in UTF-8
    const auto inside = [](const std::string& s) { return "\"" + s + "\""; };
    // valid: 2-, 3- and 4-byte sequences, the edges around the surrogates, U+10FFFF, DEL
    for (const std::string& valid : std::vector<std::string>{"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9D\x84\x9E.jpg", "\xED\x9F\xBF",
                                                             "\xEE\x80\x80", "\xF4\x8F\xBF\xBF", "\x7F"})
        CHECK(cli::json::quote(valid) == inside(valid));
    const std::vector<std::pair<std::string, std::string>> invalid{
        {"caf\xE9.jpg", "caf" + r + ".jpg"},              // Latin-1
        {"\x80", r},                                       // a continuation byte alone
        {"\xC0\xAF", r + r},                               // overlong '/' (C0 and C1 never lead)
        {"\xC1\xBF", r + r},
        {"\xE0\x80\xAF", r + r + r},                       // overlong, 3 bytes
        {"\xF0\x80\x80\x80", r + r + r + r},                // overlong, 4 bytes
        {"\xED\xA0\x80", r + r + r},                       // a surrogate (U+D800)
        {"\xF4\x90\x80\x80", r + r + r + r},                // above U+10FFFF
        {"\xF5\x80", r + r},                               // F5..FF never lead
        {"a\xE2\x82", "a" + r},                            // cut short at the end: one U+FFFD
        {"\xE2\x82" "A", r + "A"},                         // cut short by ASCII, which stays
        {"\xF0\x9F\x98" "x\xC3\xA9", r + "x\xC3\xA9"},      // cut short, then valid UTF-8
    };
    for (const auto& [bytes, shown] : invalid) {
        INFO("bytes " << bytes);
        CHECK(cli::json::quote(bytes) == inside(shown));
        CHECK(nst::test::well_formed_utf8(cli::json::quote(bytes)));
    }
    // The escapes stay as they were.
    CHECK(cli::json::quote("a\"b\\c\n\xE9") == "\"a\\\"b\\\\c\\u000a" + r + "\"");
}

TEST_CASE("program: --size-invariant and --no-size-invariant, the last one given wins", "[cli][program]") {
    // Two flags since the help line is theirs each: parsed in command-line order as one flag was.
    const auto invariant_after = [](const std::string& flags) {
        cli::command_line c;
        CLI::App app;
        cli::detail::add_stylisation_options(app, c);
        app.parse(flags, false);
        return c.options.size_invariant;
    };
    CHECK(invariant_after(""));
    CHECK(invariant_after("--size-invariant"));
    CHECK_FALSE(invariant_after("--no-size-invariant"));
    CHECK(invariant_after("--no-size-invariant --size-invariant"));
    CHECK_FALSE(invariant_after("--size-invariant --no-size-invariant"));
    CHECK_FALSE(invariant_after("--no-size-invariant --size-invariant --no-size-invariant"));
    CHECK_FALSE(invariant_after("--size-invariant=false"));
    CHECK(invariant_after("--no-size-invariant=false"));
}
