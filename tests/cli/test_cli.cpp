// Runs the real `nst` binary (path NST_CLI_PATH from CMake) on fixtures made at test time in a
// fresh temporary folder per test:
//  - every bad input: exit code 2, one line on stderr naming the problem, no output file and no
//    temporary file left in the folder (these need no shared data: the weights are never read);
//  - the output options (snapshots, CSV log, loss plot, contact sheet) and the option variants on
//    the shared data at a tiny size (skipped without ../shared);
//  - Ctrl-C and SIGTERM after the first progress line give exit 130 / 143 and the best image so far;
//  - output failures: a folder as output, a read-only folder, a full disk (a preloaded shim, and a
//    real 64 KB tmpfs where the test may mount one), the output folder removed during the run.
#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "fixture_script.hpp"
#include "spawn.hpp"
#include "strict_json.hpp"
#include "test_helpers.hpp"

namespace {

namespace fs = std::filesystem;

using nst::test::temp_folder;

using nst::test::read_text;
using nst::test::spawned;

// Starts nst with `args` (nst::test::spawn: "NAME=" in `env` removes a variable).
spawned start_nst(const std::vector<std::string>& args, const std::string& stderr_path,
                  const std::vector<std::string>& env = {}) {
    return nst::test::spawn(NST_CLI_PATH, args, stderr_path, env);
}

int wait_for(const spawned& p) { return nst::test::exit_code(p); }

// Whether the started nst reports its first iteration within three minutes (it is killed if not),
// so that a signal sent next reaches the optimisation.
bool optimising(const spawned& p) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
    while (std::chrono::steady_clock::now() < deadline) {
        if (read_text(p.stderr_path).find("nst: iteration 0/") != std::string::npos) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    kill(p.pid, SIGKILL);
    wait_for(p);
    return false;
}

struct outcome {
    int code;
    std::string err;
};

outcome run_nst(const temp_folder& dir, const std::vector<std::string>& args, const std::vector<std::string>& env = {}) {
    const spawned p = start_nst(args, dir / "stderr.txt", env);
    const int code = wait_for(p);
    return {code, read_text(p.stderr_path)};
}

void write_bytes(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary);
    out << bytes;
}

// A small valid image (a colour gradient) written by nst itself.
std::string make_image(const temp_folder& dir, const std::string& name, std::size_t h = 40, std::size_t w = 60) {
    nst::image img({h, w, 3});
    for (std::size_t y = 0; y < h; ++y)
        for (std::size_t x = 0; x < w; ++x) {
            img(y, x, 0) = float(255 * x / w);
            img(y, x, 1) = float(255 * y / h);
            img(y, x, 2) = float((x * y) % 256);
        }
    nst::save_image(img, dir / name);
    return dir / name;
}

// Nothing but the fixtures and stderr.txt may be left: no output, no temporary file.
void require_no_output(const temp_folder& dir, const std::vector<std::string>& fixtures) {
    for (const auto& entry : fs::directory_iterator(dir.path)) {
        const std::string name = entry.path().filename().string();
        bool known = name == "stderr.txt";
        for (const auto& f : fixtures) known = known || fs::path(f).filename().string() == name;
        INFO("left behind: " << name);
        REQUIRE(known);
    }
}

// Exit 2, exactly one line on stderr, containing every needle, and no output file.
void require_rejected(const temp_folder& dir, const outcome& r, const std::vector<std::string>& needles,
                      const std::vector<std::string>& fixtures) {
    INFO("stderr: " << r.err);
    REQUIRE(r.code == 2);
    REQUIRE(r.err.rfind("nst: error: ", 0) == 0);
    REQUIRE(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    for (const auto& n : needles) REQUIRE(r.err.find(n) != std::string::npos);
    require_no_output(dir, fixtures);
}

// Fixtures shared by the bad-input tests: two valid images and a stand-in weights file (these
// tests must fail before the weights are read; a message about the weights would fail them).
struct bad_input_case {
    temp_folder dir;
    std::string content, style, weights, output;
    bad_input_case() {
        content = make_image(dir, "content.png");
        style = make_image(dir, "style.png", 50, 30);
        weights = dir / "weights.h5";
        write_bytes(weights, "not used");
        output = dir / "out.png";
    }
    std::vector<std::string> args(std::vector<std::string> extra = {}) const {
        std::vector<std::string> a{"--weights", weights, "-o", output, "-i", "2", "--size", "32"};
        a.insert(a.end(), extra.begin(), extra.end());
        return a;
    }
    std::vector<std::string> fixtures(std::vector<std::string> more = {}) const {
        more.insert(more.end(), {content, style, weights});
        return more;
    }
};

}  // namespace

TEST_CASE("cli: --help and --version exit 0", "[cli]") {
    temp_folder dir;
    auto r = run_nst(dir, {"--help"});
    REQUIRE(r.code == 0);
    r = run_nst(dir, {"--version"});
    REQUIRE(r.code == 0);
    // The help text (stdout) through a shell into the file run_nst reads.
    r = {wait_for(nst::test::spawn("/bin/sh", {"-c", "exec \"$0\" --help >&2", NST_CLI_PATH}, dir / "stderr.txt")),
         read_text(dir / "stderr.txt")};
    REQUIRE(r.code == 0);
    INFO(r.err);
    // The negated flag has a line of its own: CLI11's "--size-invariant,--no-size-invariant{false}"
    // read as if the default were off.
    REQUIRE(r.err.find("{false}") == std::string::npos);
    const std::size_t on = r.err.find("\n  --size-invariant "), off = r.err.find("\n  --no-size-invariant ");
    REQUIRE(on != std::string::npos);
    REQUIRE(off != std::string::npos);
    CHECK(r.err.substr(on, r.err.find('\n', on + 1) - on).find("(default: on)") != std::string::npos);
    // The masks' alpha is said where the mask flags are.
    CHECK(r.err.find("transparent = outside") != std::string::npos);
}

TEST_CASE("cli: OpenMP threads sleep at once while they wait, unless the user chose", "[cli]") {
    temp_folder dir;
    // OMP_DISPLAY_ENV=verbose: the OpenMP runtime prints its settings when it starts.
    using nst::test::openmp_sleeps_at_once;
    const std::vector<std::string> none{"OMP_WAIT_POLICY=", "GOMP_SPINCOUNT=", "KMP_BLOCKTIME=", "OMP_DISPLAY_ENV=verbose"};
    outcome r = run_nst(dir, {"--version"}, none);
    INFO(r.err);
    REQUIRE(r.code == 0);
    REQUIRE(openmp_sleeps_at_once(r.err));
    for (const std::string chosen : {"OMP_WAIT_POLICY=active", "GOMP_SPINCOUNT=1234", "KMP_BLOCKTIME=7"}) {
        std::vector<std::string> env = none;
        env.push_back(chosen);
        r = run_nst(dir, {"--version"}, env);
        INFO(chosen << "\n" << r.err);
        REQUIRE(r.code == 0);
        REQUIRE(r.err.find("OMP_WAIT_POLICY") != std::string::npos);  // (the runtime printed its settings)
        REQUIRE_FALSE(openmp_sleeps_at_once(r.err));
    }
}

TEST_CASE("cli: a missing content or style file", "[cli]") {
    bad_input_case c;
    auto r = run_nst(c.dir, c.args({"-c", c.dir / "nope.jpg", "-s", c.style}));
    require_rejected(c.dir, r, {"--content: cannot read image", "nope.jpg", "No such file"}, c.fixtures());
    r = run_nst(c.dir, c.args({"-c", c.content, "-s", c.style, "-s", c.dir / "missing_style.png"}));
    require_rejected(c.dir, r, {"--style: cannot read image", "missing_style.png", "No such file"}, c.fixtures());
    // Each image flag is named: the same file may be given to several.
    r = run_nst(c.dir, c.args({"-c", c.content, "-s", c.style, "--style-mask", c.dir / "mask.png"}));
    require_rejected(c.dir, r, {"--style-mask: cannot read image", "mask.png"}, c.fixtures());
    r = run_nst(c.dir, c.args({"-c", c.content, "-s", c.style, "--content-mask", c.dir / "mask.png"}));
    require_rejected(c.dir, r, {"--content-mask: cannot read image", "mask.png"}, c.fixtures());
}

TEST_CASE("cli: an unreadable content path (a folder)", "[cli]") {
    bad_input_case c;
    fs::create_directory(c.dir / "folder.jpg");
    const auto r = run_nst(c.dir, c.args({"-c", c.dir / "folder.jpg", "-s", c.style}));
    require_rejected(c.dir, r, {"folder.jpg", "Is a directory"}, c.fixtures({c.dir / "folder.jpg"}));
}

TEST_CASE("cli: an unreadable content file (no read permission)", "[cli][permissions]") {
    if (geteuid() == 0) nst::test::skip("running as root: file permissions do not stop root from reading");
    bad_input_case c;
    write_bytes(c.dir / "locked.png", read_text(c.content));
    fs::permissions(c.dir / "locked.png", fs::perms::none);
    const auto r = run_nst(c.dir, c.args({"-c", c.dir / "locked.png", "-s", c.style}));
    require_rejected(c.dir, r, {"locked.png", "Permission denied"}, c.fixtures({c.dir / "locked.png"}));
}

TEST_CASE("cli: a corrupt image", "[cli]") {
    bad_input_case c;
    std::string png = read_text(c.content);
    for (std::size_t i = 40; i < png.size(); ++i) png[i] = char(i * 7);  // keep the header, garble the rest
    write_bytes(c.dir / "corrupt.png", png);
    const auto r = run_nst(c.dir, c.args({"-c", c.dir / "corrupt.png", "-s", c.style}));
    require_rejected(c.dir, r, {"corrupt.png", "corrupt"}, c.fixtures({c.dir / "corrupt.png"}));
}

TEST_CASE("cli: a truncated JPEG and a truncated PNG", "[cli]") {
    bad_input_case c;
    nst::image noise({64, 64, 3});
    for (std::size_t i = 0; i < noise.size(); ++i) noise.data()[i] = float((i * 2654435761u) % 256);
    nst::save_image(noise, c.dir / "full.jpg");
    const std::string jpeg = read_text(c.dir / "full.jpg");
    write_bytes(c.dir / "cut.jpg", jpeg.substr(0, jpeg.size() * 6 / 10));
    auto r = run_nst(c.dir, c.args({"-c", c.content, "-s", c.dir / "cut.jpg"}));
    require_rejected(c.dir, r, {"cut.jpg", "truncated"}, c.fixtures({c.dir / "full.jpg", c.dir / "cut.jpg"}));

    const std::string png = read_text(c.content);
    write_bytes(c.dir / "cut.png", png.substr(0, png.size() / 2));
    r = run_nst(c.dir, c.args({"-c", c.dir / "cut.png", "-s", c.style}));
    require_rejected(c.dir, r, {"cut.png"}, c.fixtures({c.dir / "full.jpg", c.dir / "cut.jpg", c.dir / "cut.png"}));
}

TEST_CASE("cli: a text file named .jpg", "[cli]") {
    bad_input_case c;
    write_bytes(c.dir / "notes.jpg", "These are my holiday notes, not a picture.\n");
    const auto r = run_nst(c.dir, c.args({"-c", c.dir / "notes.jpg", "-s", c.style}));
    require_rejected(c.dir, r, {"notes.jpg", "not a supported image"}, c.fixtures({c.dir / "notes.jpg"}));
}

TEST_CASE("cli: an empty file and an image of zero width", "[cli]") {
    bad_input_case c;
    write_bytes(c.dir / "empty.png", "");
    auto r = run_nst(c.dir, c.args({"-c", c.dir / "empty.png", "-s", c.style}));
    require_rejected(c.dir, r, {"empty.png", "empty"}, c.fixtures({c.dir / "empty.png"}));
    write_bytes(c.dir / "zero.ppm", "P6\n0 8\n255\n");
    r = run_nst(c.dir, c.args({"-c", c.content, "-s", c.dir / "zero.ppm"}));
    require_rejected(c.dir, r, {"zero.ppm"}, c.fixtures({c.dir / "empty.png", c.dir / "zero.ppm"}));
}

TEST_CASE("cli: a working size above --memory-limit is refused with the estimate", "[cli]") {
    bad_input_case c;  // 500 MB: not even tiles fit (the whole 4096 x 2731 image's buffers alone do not)
    const auto r = run_nst(c.dir, {"-c", c.content, "-s", c.style, "--weights", c.weights, "-o", c.output, "--size",
                                   "4096", "--memory-limit", "500M"});
    require_rejected(c.dir, r, {"4096 x 2731", "needs about", "GB", "above the limit of 500.0 MB"}, c.fixtures());
}

TEST_CASE("cli: counts and sizes must be whole numbers in range", "[cli]") {
    // CLI11 alone read "-5" into an unsigned option as a huge number: --iterations -5 ran and exited 0.
    bad_input_case c;
    const auto run = [&](std::vector<std::string> extra) {
        std::vector<std::string> a{"-c", c.content, "-s", c.style, "--weights", c.weights, "-o", c.output};
        a.insert(a.end(), extra.begin(), extra.end());
        return run_nst(c.dir, a);
    };
    for (const char* option : {"--iterations", "--size", "--seed", "--save-every", "--print-every"}) {
        require_rejected(c.dir, run({option, "-5"}), {option, "expected a whole number, got '-5'"}, c.fixtures());
        require_rejected(c.dir, run({option, "1.5"}), {option, "'1.5'"}, c.fixtures());
    }
    require_rejected(c.dir, run({"--iterations", "99999999999999999999"}),
                     {"--iterations", "99999999999999999999", "more than the largest count"}, c.fixtures());
    require_rejected(c.dir, run({"--max-input-pixels", "0"}), {"--max-input-pixels", ">= 1", "got '0'"}, c.fixtures());
    require_rejected(c.dir, run({"--threads", "100000"}),
                     {"--threads: threads must be from 0 (keep the current counts) to 1024, got 100000"}, c.fixtures());
    require_rejected(c.dir, run({"--lbfgs-history", "9223372036854775807"}),
                     {"--lbfgs-history: L-BFGS history must be from 1 to 1000, got 9223372036854775807"}, c.fixtures());
    require_rejected(c.dir, run({"--threads", "-1"}), {"--threads", "got -1"}, c.fixtures());
}

TEST_CASE("cli: bad --tile values", "[cli][tiling]") {
    bad_input_case c;
    const std::vector<std::string> images{"-c", c.content, "-s", c.style};
    const auto with = [&](std::vector<std::string> extra) {
        std::vector<std::string> a = images;
        a.insert(a.end(), extra.begin(), extra.end());
        return c.args(a);
    };
    require_rejected(c.dir, run_nst(c.dir, with({"--tile", "64"})), {"tile", "128", "64"}, c.fixtures());
    require_rejected(c.dir, run_nst(c.dir, with({"--tile", "-5"})), {"--tile", "from 0 to 1048576", "'-5'"},
                     c.fixtures());
    require_rejected(c.dir, run_nst(c.dir, with({"--tile", "big"})), {"--tile"}, c.fixtures());
    // Tiles that do not fit the limit either: refused naming the tile size.
    const auto r = run_nst(c.dir, {"-c", c.content, "-s", c.style, "--weights", c.weights, "-o", c.output, "--size",
                                   "4096", "--tile", "512", "--memory-limit", "500M"});
    require_rejected(c.dir, r, {"tiles of 512 px", "above the limit of 500.0 MB"}, c.fixtures());
}

TEST_CASE("cli: bad option values", "[cli]") {
    bad_input_case c;
    const std::vector<std::string> images{"-c", c.content, "-s", c.style};
    const auto with = [&](std::vector<std::string> extra) {
        std::vector<std::string> a = images;
        a.insert(a.end(), extra.begin(), extra.end());
        return c.args(a);
    };
    require_rejected(c.dir, run_nst(c.dir, with({"--style-layers", "relu1_1,relu9_1"})), {"relu9_1"}, c.fixtures());
    require_rejected(c.dir, run_nst(c.dir, with({"--content-layers", "conv4_2x"})), {"conv4_2x"}, c.fixtures());
    require_rejected(c.dir, run_nst(c.dir, with({"-s", c.style, "--style-blend", "1,2,3"})),
                     {"3 weights for 2 style images"}, c.fixtures());
    require_rejected(c.dir, run_nst(c.dir, with({"--style-blend", "0.5,x"})), {"'x' is not a number"}, c.fixtures());
    require_rejected(c.dir, run_nst(c.dir, with({"--style-layer-weights", "1,1"})),
                     {"2 style layer weights for 5 style layers"}, c.fixtures());
    require_rejected(c.dir, run_nst(c.dir, with({"--optimizer", "sgd"})), {"--optimizer", "sgd"}, c.fixtures());
    require_rejected(c.dir, run_nst(c.dir, with({"--pooling", "median"})), {"--pooling"}, c.fixtures());
    require_rejected(c.dir, run_nst(c.dir, with({"--weights-preprocessing", "rgb"})), {"--weights-preprocessing"},
                     c.fixtures());
    require_rejected(c.dir, run_nst(c.dir, with({"--size", "8"})), {"size"}, c.fixtures());
    require_rejected(c.dir, run_nst(c.dir, with({"--memory-limit", "lots"})),
                     {"--memory-limit: not a memory size: 'lots'"}, c.fixtures());
    require_rejected(c.dir, run_nst(c.dir, with({"--memory-limit", "0.5"})),
                     {"--memory-limit '0.5' comes to 0 bytes", "e.g. 4G"}, c.fixtures());
    require_rejected(c.dir, run_nst(c.dir, with({"--style-weight", "-1"})), {"style weight"}, c.fixtures());
    require_rejected(c.dir, run_nst(c.dir, with({"--bogus"})), {"--bogus"}, c.fixtures());
    // A typo of a flag is named with the flag meant; images given without flags get the usage.
    require_rejected(c.dir, run_nst(c.dir, with({"--iteration", "5"})), {"did you mean --iterations?"}, c.fixtures());
    require_rejected(c.dir, run_nst(c.dir, with({"--content_weight=5"})), {"did you mean --content-weight?"},
                     c.fixtures());
    require_rejected(c.dir, run_nst(c.dir, {c.content, c.style, c.output}),
                     {"give the files by flag: nst -c CONTENT -s STYLE -o OUTPUT.png"}, c.fixtures());
    require_rejected(c.dir, run_nst(c.dir, with({"--init", c.dir / "no_init.png"})), {"no_init.png"}, c.fixtures());
    // A flag given twice says so in plain words, not CLI11's "At Most 1 required but received 2".
    require_rejected(c.dir, run_nst(c.dir, with({"--seed", "1", "--seed", "2"})),
                     {"--seed is given 2 times; give it once"}, c.fixtures());
    require_rejected(c.dir, run_nst(c.dir, c.args({"-s", c.style})), {"--content", "required"}, c.fixtures());
}

TEST_CASE("cli: bad --scales values", "[cli]") {
    bad_input_case c;  // content 60 x 40
    const auto with = [&](std::vector<std::string> extra, const char* iterations = "2") {
        std::vector<std::string> a{"-c", c.content, "-s", c.style, "--weights", c.weights, "-o", c.output, "-i", iterations};
        a.insert(a.end(), extra.begin(), extra.end());
        return a;
    };
    require_rejected(c.dir, run_nst(c.dir, with({"--scales", "64,32"})), {"strictly ascending", "64,32"}, c.fixtures());
    // Out of order with --size its first: the order is the mistake, not the last scale.
    require_rejected(c.dir, run_nst(c.dir, with({"--scales", "64,32", "--size", "64"})), {"strictly ascending", "64,32"},
                     c.fixtures());
    require_rejected(c.dir, run_nst(c.dir, with({"--scales", "0,32"})), {"at least 16", "got 0"}, c.fixtures());
    require_rejected(c.dir, run_nst(c.dir, with({"--scales", "32,x"})), {"--scales", "'x'"}, c.fixtures());
    require_rejected(c.dir, run_nst(c.dir, with({"--scales", "32,64,"})), {"--scales: '' is not a size"}, c.fixtures());
    // Empty (an unset shell variable): refused, not taken for the flag left out (it ran one scale, exit 0).
    require_rejected(c.dir, run_nst(c.dir, with({"--scales", ""})), {"--scales: '' is not a size"}, c.fixtures());
    require_rejected(c.dir, run_nst(c.dir, with({"--scales", "32,-64"})), {"--scales", "'-64'"}, c.fixtures());
    require_rejected(c.dir, run_nst(c.dir, with({"--scales", "32,64", "--size", "96"})),
                     {"--scales ends at 64 but --size is 96"}, c.fixtures());
    require_rejected(c.dir, run_nst(c.dir, with({"--scales", "32,64", "--multiscale"})),
                     {"--scales: scales (32,64) and multiscale were both given"}, c.fixtures());
    // 20 px gives a 20 x 13 content: too small for relu5_1 (16 on both sides), named with its scale
    // (refused although a budget of 2 gives that scale no steps).
    require_rejected(c.dir, run_nst(c.dir, with({"--scales", "20,64"})), {"at scale 20", "20 x 13", "too small"},
                     c.fixtures());
}

TEST_CASE("cli: bad output paths are refused before any work", "[cli]") {
    bad_input_case c;
    std::vector<std::string> a{"-c", c.content, "-s", c.style, "--weights", c.weights};
    auto with = [&](std::vector<std::string> extra) {
        std::vector<std::string> all = a;
        all.insert(all.end(), extra.begin(), extra.end());
        return all;
    };
    require_rejected(c.dir, run_nst(c.dir, with({"-o", c.dir / "out.gif"})), {"out.gif", "extension"}, c.fixtures());
    require_rejected(c.dir, run_nst(c.dir, with({"-o", c.dir / "no/such/folder/out.png"})), {"does not exist"},
                     c.fixtures());
    require_rejected(c.dir, run_nst(c.dir, with({"-o", c.output, "--loss-plot", c.dir / "plot.txt"})),
                     {"--loss-plot", "plot.txt"}, c.fixtures());
    require_rejected(c.dir, run_nst(c.dir, with({"-o", c.output, "--log", c.dir / "nowhere/log.csv"})),
                     {"--log", "does not exist"}, c.fixtures());
}

TEST_CASE("cli: a .pth whose pickle would run code is refused (exit 2), naming the GLOBAL", "[cli]") {
    bad_input_case c;
    const std::string pth = std::string(NST_TEST_SOURCE_DIR) + "/fixtures/pytorch/malicious_os_system_legacy.pth";
    const auto r = run_nst(c.dir, {"-c", c.content, "-s", c.style, "--weights", pth, "-o", c.output, "--size", "32"});
    require_rejected(c.dir, r, {"malicious_os_system_legacy.pth", "refusing GLOBAL 'posix.system'"}, c.fixtures());
}

TEST_CASE("cli: missing weights list every place looked at and how to get them", "[cli]") {
    bad_input_case c;
    auto r = run_nst(c.dir, {"-c", c.content, "-s", c.style, "-o", c.output, "--data-dir", c.dir / "no_data"},
                     {"HOME=" + c.dir.path.string(), "NST_WEIGHTS="});
    require_rejected(c.dir, r,
                     {"VGG19 weights not found", "$NST_WEIGHTS (not set)", c.dir / ".keras/models/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
                      c.dir / "no_data/weights/vgg19_imagenet_notop.h5", "fetch_weights.cmake", "storage.googleapis.com"},
                     c.fixtures());
    r = run_nst(c.dir, {"-c", c.content, "-s", c.style, "-o", c.output, "--weights", c.dir / "gone.h5"});
    require_rejected(c.dir, r, {"gone.h5", "does not exist"}, c.fixtures());
}

TEST_CASE("cli: a weights file that is not HDF5", "[cli]") {
    bad_input_case c;  // the stand-in weights file is text: reading it must fail cleanly
    const auto r = run_nst(c.dir, c.args({"-c", c.content, "-s", c.style}));
    require_rejected(c.dir, r, {c.weights}, c.fixtures());
}

TEST_CASE("cli: an earlier run's output and snapshots in a --style folder are left out of the styles",
          "[cli][data]") {
    const std::string data = nst::test::require_shared_data();
    const auto has = [](const std::string& text, const std::string& needle) { return text.find(needle) != std::string::npos; };
    temp_folder dir;
    fs::create_directory(dir.path / "styles");
    fs::copy_file(data + "/images/starry_night.jpg", dir.path / "styles/starry.jpg");
    fs::copy_file(data + "/images/starry_night.jpg", dir.path / "styles/.hidden.jpg");  // macOS's ._ files: not images
    write_bytes(dir / "styles/._junk.png", "resource fork");
    const std::vector<std::string> args{"-c", data + "/images/tubingen.jpg", "-s", dir / "styles",
                                        "--weights", data + "/weights/vgg19_imagenet_notop.h5", "-o",
                                        dir / "styles/out.png", "--size", "32", "-i", "2", "--save-every", "1",
                                        "--params-json", dir / "styles/params.json"};
    const outcome first = run_nst(dir, args);
    INFO("stderr: " << first.err);
    REQUIRE(first.code == 0);
    REQUIRE(fs::exists(dir / "styles/out_0001.png"));
    CHECK_FALSE(has(first.err, "left out"));
    // The same command again: out.png and its snapshots are this run's outputs, not styles (they
    // were taken as styles, and out.png refused as an output that is an input).
    const outcome again = run_nst(dir, args);
    INFO("stderr: " << again.err);
    CHECK(again.code == 0);
    CHECK(has(again.err, "notice: --style folder: out.png, out_0001.png, out_0002.png left out (this run's outputs"));
    const std::string params = read_text(dir / "styles/params.json");
    CHECK(has(params, "starry.jpg"));
    CHECK_FALSE(has(params, "out_0001.png"));
    CHECK_FALSE(has(params, "hidden"));
    CHECK_FALSE(has(params, "junk"));
}

TEST_CASE("cli: weights so large that the loss overflows at the start are named, exit 2", "[cli][data]") {
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    const auto r = run_nst(dir, {"-c", data + "/images/tubingen.jpg", "-s", data + "/images/starry_night.jpg",
                                 "--weights", nst::test::weights_path(data), "-o", dir / "out.png", "--size", "32",
                                 "-i", "2", "--style-weight", "1e36", "-q"});
    INFO("stderr: " << r.err);
    CHECK(r.code == 2);
    CHECK(r.err.find("the loss overflows float with the weights at this size (content ") != std::string::npos);
    CHECK(r.err.find("style 1e+36, tv ") != std::string::npos);
    // The overflowing terms, in the words of a run that goes non-finite later (the next test).
    CHECK(r.err.find("(loss = inf; non-finite loss terms: style)") != std::string::npos);
    CHECK_FALSE(fs::exists(dir / "out.png"));
}

TEST_CASE("cli: a scale the budget gives no step is named, not skipped silently", "[cli][data]") {
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    const auto r = run_nst(dir, {"-c", data + "/images/tubingen.jpg", "-s", data + "/images/starry_night.jpg",
                                 "--weights", nst::test::weights_path(data), "-o", dir / "out.png", "--scales",
                                 "32,64", "-i", "3", "--log", dir / "loss.csv"});
    INFO("stderr: " << r.err);
    REQUIRE(r.code == 0);
    CHECK(r.err.find("notice: --iterations 3 leaves no steps for 32 px") != std::string::npos);
    CHECK(read_text(dir / "loss.csv").find(",32\n") == std::string::npos);  // indeed not run
}

TEST_CASE("cli: --multiscale at a size with no smaller pyramid size says so", "[cli][data][scales]") {
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    // 96 px: the pyramid (from ~128 px) has nothing below it; it ran 96 px alone without a word.
    auto r = run_nst(dir, {"-c", data + "/images/tubingen.jpg", "-s", data + "/images/starry_night.jpg", "--weights",
                           nst::test::weights_path(data), "-o", dir / "out.png", "--multiscale", "--size", "96", "-i",
                           "1"});
    INFO("stderr: " << r.err);
    REQUIRE(r.code == 0);
    CHECK(r.err.find("notice: --multiscale has no size below --size 96") != std::string::npos);
    r = run_nst(dir, {"-c", data + "/images/tubingen.jpg", "-s", data + "/images/starry_night.jpg", "--weights",
                      nst::test::weights_path(data), "-o", dir / "out.png", "--multiscale", "--size", "182", "-i", "0"});
    INFO("stderr: " << r.err);
    REQUIRE(r.code == 0);
    CHECK(r.err.find("notice: --multiscale") == std::string::npos);  // 129, 182
}

TEST_CASE("cli: at a scale change the last snapshot of the smaller scale is kept", "[cli][data]") {
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    const auto r = run_nst(dir, {"-c", data + "/images/tubingen.jpg", "-s", data + "/images/starry_night.jpg",
                                 "--weights", nst::test::weights_path(data), "-o", dir / "out.png", "--scales",
                                 "32,64", "-i", "12", "--init", "random", "--save-every", "1", "--log", dir / "loss.csv",
                                 "-q"});  // from noise the smaller scale gets a few of the 12 steps
    INFO("stderr: " << r.err);
    REQUIRE(r.code == 0);
    // The first row at 64 px repeats the iteration of the last at 32 px (the upsampled start).
    std::size_t change = 0;
    std::istringstream rows(read_text(dir / "loss.csv"));
    for (std::string row; std::getline(rows, row) && change == 0;)
        if (row.size() > 3 && row.compare(row.size() - 3, 3, ",64") == 0) change = std::stoul(row);
    REQUIRE(change > 0);
    char name[32];
    std::snprintf(name, sizeof name, "out_%04zu.png", change);
    CHECK(nst::load_image(dir / name).shape(1) == 32);  // it was replaced by the upsampled 64 px start
    std::snprintf(name, sizeof name, "out_%04zu.png", change + 1);
    CHECK(nst::load_image(dir / name).shape(1) == 64);
}

TEST_CASE("cli: snapshots, CSV log, loss plot and contact sheet are written when asked", "[cli][data]") {
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    const auto r = run_nst(dir, {"-c", data + "/images/tubingen.jpg", "-s", data + "/images/starry_night.jpg",
                                 "--weights", data + "/weights/vgg19_imagenet_notop.h5", "-o", dir / "out.png",
                                 "--size", "64", "-i", "4", "--save-every", "2", "--log", dir / "loss.csv",
                                 "--loss-plot", dir / "loss.png", "--snapshot-grid", dir / "grid.png"});
    INFO("stderr: " << r.err);
    REQUIRE(r.code == 0);
    // Not a terminal: plain progress lines with speed and time left, then a summary.
    REQUIRE(r.err.find("nst: iteration 0/4") != std::string::npos);
    REQUIRE(r.err.find("it/s") != std::string::npos);
    REQUIRE(r.err.find("left") != std::string::npos);
    REQUIRE(r.err.find("\r") == std::string::npos);
    REQUIRE(r.err.find("wrote " + (dir / "out.png")) != std::string::npos);

    const nst::image out = nst::load_image(dir / "out.png");
    REQUIRE(out.shape(0) == 48);
    REQUIRE(out.shape(1) == 64);
    for (const char* snap : {"out_0002.png", "out_0004.png"}) {
        const nst::image s = nst::load_image(dir / snap);
        REQUIRE(s.shape(1) == 64);
    }
    REQUIRE_FALSE(fs::exists(dir / "out_0000.png"));
    REQUIRE_FALSE(fs::exists(dir / "out_0001.png"));

    std::istringstream csv(read_text(dir / "loss.csv"));
    std::string line;
    std::getline(csv, line);
    REQUIRE(line == "iteration,loss,content,style,tv,elapsed_seconds,evaluations,size");
    std::vector<double> losses;
    for (int expected = 0; std::getline(csv, line); ++expected) {
        REQUIRE(std::count(line.begin(), line.end(), ',') == 7);
        REQUIRE(line.substr(line.rfind(',')) == ",64");
        REQUIRE(std::stoi(line) == expected);
        const auto first = line.find(','), second = line.find(',', first + 1);
        losses.push_back(std::stod(line.substr(first + 1, second - first - 1)));
    }
    REQUIRE(losses.size() == 5);
    for (std::size_t i = 1; i < losses.size(); ++i) REQUIRE(losses[i] < losses[i - 1]);  // L-BFGS descends

    const nst::image plot = nst::load_image(dir / "loss.png");
    REQUIRE(plot.shape(0) == 500);
    REQUIRE(plot.shape(1) == 800);
    const nst::image grid = nst::load_image(dir / "grid.png");
    REQUIRE(grid.shape(1) > grid.shape(0));  // three thumbnails (iterations 0, 2, 4) in one row
    require_no_output(dir, {"out.png", "out_0002.png", "out_0004.png", "loss.csv", "loss.png", "grid.png"});
}

TEST_CASE("cli: --multiscale on a panorama starts where the strip is tall enough for the network", "[cli][data]") {
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    // 10:1: at the pyramid's usual 128 px it would be 128 x 13, too small (it was refused).
    const std::string panorama = make_image(dir, "panorama.png", 40, 400);
    const auto r = run_nst(dir, {"-c", panorama, "-s", data + "/images/starry_night.jpg", "--weights",
                                 nst::test::weights_path(data), "-o", dir / "out.png", "--size", "256", "-i", "4",
                                 "--multiscale", "--params-json", dir / "params.json", "-q"});
    INFO("stderr: " << r.err);
    REQUIRE(r.code == 0);
    CHECK(nst::load_image(dir / "out.png").shape(1) == 256);
    CHECK(read_text(dir / "params.json").find("\"scales\": [181, 256]") != std::string::npos);  // as run
}

// Linux file names are bytes: a Latin-1 "caf\xe9.png" went into the recorded parameters as it was,
// and the JSON text was not UTF-8 (Python's json refused the --params-json file decoded strictly,
// PIL dropped the PNG's iTXt chunk). What is not UTF-8 is recorded as U+FFFD.
TEST_CASE("cli: file names that are not UTF-8 are recorded as JSON that strict readers accept", "[cli][data]") {
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    const std::string content = make_image(dir, "caf\xe9.png"), style = make_image(dir, "\xff\xfe.png");
    const auto r = run_nst(dir, {"-c", content, "-s", style, "--weights", nst::test::weights_path(data), "-o",
                                 dir / "out\xe9.png", "--size", "32", "-i", "2", "--threads", "1", "-q",
                                 "--params-json", dir / "params.json"});
    INFO("stderr: " << r.err);
    REQUIRE(r.code == 0);
    const std::string json = read_text(dir / "params.json"), recorded = nst::test::png_itxt(dir / "out\xe9.png", "nst-parameters");
    CHECK(recorded == json);
    CHECK(nst::test::well_formed_utf8(json));
    CHECK(json.find("\"content\": \"" + (dir / "caf\xEF\xBF\xBD.png") + "\"") != std::string::npos);
    const std::string python = nst::test::python_strict_json(dir / "params.json", false);
    INFO("python: " << python);
    if (!python.empty()) {  // (without /usr/bin/python3, the check above)
        CHECK(python.rfind("ok ", 0) == 0);
        CHECK(python.find("caf\\ufffd.png") != std::string::npos);
        CHECK(python.find("\\ufffd\\ufffd.png") != std::string::npos);
        CHECK(python.find("out\\ufffd.png") != std::string::npos);
    }
}

// (--multiscale at 64 px is one scale: the pyramid starts at 128 px.)
TEST_CASE("cli: Adam, max pooling, random init, original colours, a style blend, JPEG output", "[cli][data]") {
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    const auto r = run_nst(dir, {"-c", data + "/images/tubingen.jpg", "-s", data + "/images/starry_night.jpg",
                                 "-s", data + "/images/the_scream.jpg", "--style-blend", "0.7,0.3",
                                 "--optimizer", "adam", "--pooling", "max", "--init", "random", "--seed", "3",
                                 "--original-colors", "--threads", "1", "-q", "-o", dir / "out.jpg",
                                 "--size", "64", "-i", "3", "--no-size-invariant", "--multiscale"},
                           {"NST_WEIGHTS=" + data + "/weights/vgg19_imagenet_notop.h5"});
    INFO("stderr: " << r.err);
    REQUIRE(r.code == 0);
    REQUIRE(r.err.find("iteration") == std::string::npos);  // --quiet
    const nst::image out = nst::load_image(dir / "out.jpg");
    REQUIRE(out.shape(0) == 48);
    REQUIRE(out.shape(1) == 64);
}

namespace {

// Starts a long run, waits for its first progress line (iteration 0), sends `signal`, and checks
// the run stops cleanly: exit code `code`, a message containing `word`, the best image so far
// and the CSV log written, nothing else left.
void check_stopped_by(int signal, int code, const std::string& word) {
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    const spawned p = start_nst({"-c", data + "/images/tubingen.jpg", "-s", data + "/images/starry_night.jpg",
                                 "--weights", data + "/weights/vgg19_imagenet_notop.h5", "-o", dir / "out.png",
                                 "--size", "64", "-i", "100000", "--log", dir / "loss.csv"},
                                dir / "stderr.txt");
    REQUIRE(optimising(p));
    REQUIRE(kill(p.pid, signal) == 0);
    const int exit_code = wait_for(p);
    const std::string err = read_text(p.stderr_path);
    INFO("stderr: " << err);
    REQUIRE(exit_code == code);
    REQUIRE(err.find(word) != std::string::npos);
    const nst::image out = nst::load_image(dir / "out.png");
    REQUIRE(out.shape(0) == 48);
    REQUIRE(out.shape(1) == 64);
    REQUIRE(read_text(dir / "loss.csv").rfind("iteration,loss", 0) == 0);
    require_no_output(dir, {"out.png", "loss.csv"});
}

}  // namespace

TEST_CASE("cli: Ctrl-C stops cleanly, saves the best image so far and exits 130", "[cli][data]") {
    check_stopped_by(SIGINT, 130, "interrupted");
}

TEST_CASE("cli: Ctrl-C below the output size says whose loss it reports and saves the output size", "[cli][data]") {
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    const spawned p = start_nst({"-c", data + "/images/tubingen.jpg", "-s", data + "/images/starry_night.jpg",
                                 "--weights", data + "/weights/vgg19_imagenet_notop.h5", "-o", dir / "out.png",
                                 "--scales", "64,96", "-i", "100000"},
                                dir / "stderr.txt");
    REQUIRE(optimising(p));  // at 64 px: a budget this large keeps it there for thousands of steps
    REQUIRE(kill(p.pid, SIGINT) == 0);
    const int exit_code = wait_for(p);
    const std::string err = read_text(p.stderr_path);
    INFO("stderr: " << err);
    REQUIRE(exit_code == 130);
    REQUIRE(err.find(" at 64 px, upsampled) to " + (dir / "out.png")) != std::string::npos);
    const nst::image out = nst::load_image(dir / "out.png");
    REQUIRE(out.shape(1) == 96);
}

TEST_CASE("cli: SIGTERM stops like Ctrl-C, saves the best image so far and exits 143", "[cli][data]") {
    check_stopped_by(SIGTERM, 143, "terminated");
}

TEST_CASE("cli: SIGHUP (the terminal closed) stops like Ctrl-C, saves the best image so far and exits 129",
          "[cli][data]") {
    check_stopped_by(SIGHUP, 129, "hung up");
}

TEST_CASE("cli: Ctrl-C with stderr piped into a program the Ctrl-C also ended saves the image, exit 130",
          "[cli][data]") {
    // `nst ... 2>&1 | tee run.log`: Ctrl-C reaches tee as well, which exits; nst's next message
    // then went into a pipe no one read, and SIGPIPE ended nst before it saved (exit 141, no image).
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    const nst::test::piped p = nst::test::spawn_into_pipe(
        NST_CLI_PATH, {"-c", data + "/images/tubingen.jpg", "-s", data + "/images/starry_night.jpg", "--weights",
                       data + "/weights/vgg19_imagenet_notop.h5", "-o", dir / "out.png", "--size", "64", "-i",
                       "100000", "--log", dir / "loss.csv"});
    std::string said;
    const bool started = nst::test::read_until(p, "nst: iteration 0/", 180, said);
    close(p.read_end);  // tee has ended
    if (started) REQUIRE(kill(p.process.pid, SIGINT) == 0);
    else kill(p.process.pid, SIGKILL);
    const int exit_code = wait_for(p.process);
    INFO("stderr until the pipe closed: " << said);
    REQUIRE(started);
    REQUIRE(exit_code == 130);
    const nst::image out = nst::load_image(dir / "out.png");
    REQUIRE(out.shape(1) == 64);
    REQUIRE(read_text(dir / "loss.csv").rfind("iteration,loss", 0) == 0);
    require_no_output(dir, {"out.png", "loss.csv"});
}

TEST_CASE("cli: a loss that becomes non-finite stops at once, saves the best finite image, exit 1",
          "[cli][data]") {
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    // Adam with an absurd step: the first step throws the image to ~1e9 and the Gram terms overflow.
    const auto r = run_nst(dir, {"-c", data + "/images/tubingen.jpg", "-s", data + "/images/starry_night.jpg",
                                 "--weights", data + "/weights/vgg19_imagenet_notop.h5", "-o", dir / "out.png",
                                 "--size", "64", "-i", "5", "--optimizer", "adam", "--learning-rate", "1e30"});
    INFO("stderr: " << r.err);
    REQUIRE(r.code == 1);
    REQUIRE(r.err.find("non-finite") != std::string::npos);
    REQUIRE(r.err.find("iteration 1") != std::string::npos);
    // Every term overflows (the image is ~1e30), named as at the start (the test above).
    CHECK(r.err.find("; non-finite loss terms: content, style, tv;") != std::string::npos);
    REQUIRE(r.err.find("best finite image") != std::string::npos);
    const nst::image out = nst::load_image(dir / "out.png");  // the start, which was finite
    REQUIRE(out.shape(0) == 48);
    REQUIRE(out.shape(1) == 64);
    require_no_output(dir, {"out.png"});  // and no temporary file
}

TEST_CASE("cli: --max-input-pixels refuses larger inputs before decoding them", "[cli]") {
    bad_input_case c;  // content 60 x 40 = 2400 pixels
    const auto r = run_nst(c.dir, c.args({"-c", c.content, "-s", c.style, "--max-input-pixels", "1000"}));
    require_rejected(c.dir, r, {"content.png", "2400", "1000", "--max-input-pixels"}, c.fixtures());
    require_rejected(c.dir, run_nst(c.dir, c.args({"-c", c.content, "-s", c.style, "--max-input-pixels", "0"})),
                     {"--max-input-pixels"}, c.fixtures());
    // The size asked for, above the limit the inputs meet: named as the working size, width first
    // (it was "resize_image: target size 133 x 200"), before the weights are read.
    require_rejected(c.dir,
                     run_nst(c.dir, {"-c", c.content, "-s", c.style, "--weights", c.weights, "-o", c.output, "--size",
                                     "200", "--max-input-pixels", "5000"}),
                     {"content working size 200 x 133 is more than the limit of 5000 pixels", "--max-input-pixels"},
                     c.fixtures());
}

TEST_CASE("cli: --weights-sha256 refuses any other weights file, the shared file is named", "[cli][data]") {
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    const std::vector<std::string> base{"-c", data + "/images/tubingen.jpg", "-s", data + "/images/starry_night.jpg",
                                        "--weights", data + "/weights/vgg19_imagenet_notop.h5",
                                        "-o", dir / "out.png", "--size", "32", "-i", "1"};
    std::vector<std::string> pinned = base;
    pinned.insert(pinned.end(), {"--weights-sha256", std::string(64, '0')});
    const auto refused = run_nst(dir, pinned);
    INFO("stderr: " << refused.err);
    REQUIRE(refused.code == 2);
    REQUIRE(refused.err.find("vgg19_imagenet_notop.h5") != std::string::npos);
    REQUIRE_FALSE(fs::exists(dir / "out.png"));

    const auto ok = run_nst(dir, base);
    INFO("stderr: " << ok.err);
    REQUIRE(ok.code == 0);
    REQUIRE(ok.err.find("nst: weights: ") != std::string::npos);
    REQUIRE(ok.err.find("notice") == std::string::npos);
}

namespace {

// A 48 x 64 mask (the shape of tubingen.jpg at --size 64): white on the left or the right half.
std::string make_half_mask(const temp_folder& dir, const std::string& name, bool left) {
    nst::image img = xt::zeros<float>({48, 64, 3});
    xt::view(img, xt::all(), left ? xt::range(0, 32) : xt::range(32, 64), xt::all()) = 255.0f;
    nst::save_image(img, dir / name);
    return dir / name;
}

// The two mask-test styles of test_helpers.hpp, saved as `name`.
std::string make_stripes_or_dots(const temp_folder& dir, const std::string& name, bool stripes) {
    nst::save_image(nst::test::stripes_or_dots_image(stripes), dir / name);
    return dir / name;
}

}  // namespace

TEST_CASE("cli: bad masks and colour options", "[cli]") {
    bad_input_case c;
    const std::string black = c.dir / "black.png", tall = c.dir / "tall.png";
    nst::save_image(xt::zeros<float>({40, 60, 3}), black);
    nst::save_image(xt::ones<float>({60, 30, 3}) * 255.0f, tall);
    const auto fixtures = c.fixtures({black, tall});
    const auto with = [&](std::vector<std::string> extra) {
        std::vector<std::string> a{"-c", c.content, "-s", c.style, "-s", c.style};
        a.insert(a.end(), extra.begin(), extra.end());
        return c.args(a);
    };
    require_rejected(c.dir, run_nst(c.dir, with({"--style-mask", c.content})), {"1 --style-mask for 2 --style"},
                     fixtures);
    // A --style folder of two images: its masks are counted per image (the message said "for 2
    // --style" to a command line with one).
    const std::string folder = c.dir / "styles";
    fs::create_directory(folder);
    fs::copy_file(c.style, folder + "/a.png");
    fs::copy_file(c.style, folder + "/b.png");
    require_rejected(c.dir,
                     run_nst(c.dir, c.args({"-c", c.content, "-s", folder, "--style-mask", c.content})),
                     {"got 1 --style-mask for 2 style images (1 --style, folders expanded"},
                     c.fixtures({black, tall, folder}));
    fs::remove_all(folder);
    require_rejected(c.dir, run_nst(c.dir, with({"--style-mask", "-", "--style-mask", c.dir / "gone.png"})),
                     {"gone.png"}, fixtures);
    require_rejected(c.dir, run_nst(c.dir, with({"--style-mask", "-", "--style-mask", black})),
                     {"style mask 2 ('" + black + "') is all black"}, fixtures);  // named by its file too
    require_rejected(c.dir, run_nst(c.dir, with({"--style-mask", tall, "--style-mask", "-"})),
                     {"style mask 1 ('" + tall + "') is 30 x 60", "60 x 40"}, fixtures);
    require_rejected(c.dir, run_nst(c.dir, with({"--content-mask", black})),
                     {"content mask ('" + black + "') is all black"}, fixtures);
    // A mask with alpha counts value x alpha: white, but all transparent, is an empty region
    // (composited on white as a picture is, it was everywhere).
    const std::string clear = c.dir / "clear.png";
    std::vector<unsigned char> pixels(40 * 60 * 2, 0);  // grey, alpha
    for (std::size_t i = 0; i < pixels.size(); i += 2) pixels[i] = 255;
    REQUIRE(stbi_write_png(clear.c_str(), 60, 40, 2, pixels.data(), 60 * 2));
    const auto with_clear = c.fixtures({black, tall, clear});
    require_rejected(c.dir, run_nst(c.dir, with({"--style-mask", "-", "--style-mask", clear})),
                     {"style mask 2 ('" + clear + "') is all black"}, with_clear);
    require_rejected(c.dir, run_nst(c.dir, with({"--content-mask", clear})),
                     {"content mask ('" + clear + "') is all black"}, with_clear);
    fs::remove(clear);
    // Empty: refused, not a run without a mask (exit 0, as if the flag were left out).
    require_rejected(c.dir, run_nst(c.dir, with({"--content-mask", ""})), {"--content-mask: '' is not a file"}, fixtures);
    require_rejected(c.dir, run_nst(c.dir, with({"--colors", "sepia"})), {"--colors", "sepia"}, fixtures);
    require_rejected(c.dir, run_nst(c.dir, with({"--colors", "histogram", "--original-colors"})),
                     {"--original-colors", "conflicts", "histogram"}, fixtures);
    // A style image too small at its working size: named by its file.
    const std::string thin = c.dir / "thin.png";
    nst::save_image(xt::ones<float>({2, 60, 3}) * 128.0f, thin);
    require_rejected(c.dir, run_nst(c.dir, c.args({"-c", c.content, "-s", c.style, "-s", thin})),
                     {"style image 2 ('" + thin + "') working size"}, c.fixtures({black, tall, thin}));
}

TEST_CASE("cli: two styles with left and right --style-mask land on their halves", "[cli][data]") {
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    const std::string stripes = make_stripes_or_dots(dir, "stripes.png", true);
    const std::string dots = make_stripes_or_dots(dir, "dots.png", false);
    const std::string left = make_half_mask(dir, "left.png", true), right = make_half_mask(dir, "right.png", false);
    // The same run with the masks swapped: the difference is the masks' doing, not the content's.
    std::array<std::array<double, 2>, 2> blue_minus_red;
    for (int swapped = 0; swapped < 2; ++swapped) {
        const auto r = run_nst(dir, {"-c", data + "/images/tubingen.jpg", "-s", stripes, "--style-mask",
                                     swapped ? right : left, "-s", dots, "--style-mask", swapped ? left : right,
                                     "--size", "64", "-i", "30", "--threads", "1", "-q", "-o", dir / "out.png"},
                               {"NST_WEIGHTS=" + data + "/weights/vgg19_imagenet_notop.h5"});
        INFO("stderr: " << r.err);
        REQUIRE(r.code == 0);
        blue_minus_red[swapped] = nst::test::blue_minus_red_by_half(nst::load_image(dir / "out.png"));
    }
    INFO("blue - red, left and right halves: stripes left " << blue_minus_red[0][0] << ", " << blue_minus_red[0][1]
                                                            << "; stripes right " << blue_minus_red[1][0] << ", "
                                                            << blue_minus_red[1][1]);
    // Measured at 64 px, 30 iterations: 41.8, 1.7 and 26.6, 17.9 (blue stripes bluer, red dots redder).
    REQUIRE(blue_minus_red[0][0] > blue_minus_red[1][0] + 7);
    REQUIRE(blue_minus_red[1][1] > blue_minus_red[0][1] + 7);
}

// Coarse-to-fine adds the photo's finer detail to each scale's upsampled start: only where the
// content loss applies. It was added everywhere, so a fine pattern under a --content-mask's black
// half showed in the output (correlation 0.62 with it there; 0.01 without --scales).
TEST_CASE("cli: --scales keeps the photo's detail out of a --content-mask's black region", "[cli][data][scales]") {
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    // The content: a gradient above, a 3 px checkerboard below; the mask: the upper half.
    nst::image content({96, 128, 3}), mask = xt::zeros<float>({96, 128, 3});
    std::vector<double> checker;
    for (std::size_t y = 0; y < 96; ++y)
        for (std::size_t x = 0; x < 128; ++x) {
            const float v = (x / 3 + y / 3) % 2 ? 0.0f : 255.0f;
            for (std::size_t c = 0; c < 3; ++c) {
                content(y, x, c) = y < 48 ? float(2 * x + 40 * c) : v;
                mask(y, x, c) = y < 48 ? 255.0f : 0.0f;
            }
            if (y >= 48) checker.push_back(v);
        }
    nst::save_image(content, dir / "content.png");
    nst::save_image(mask, dir / "mask.png");
    const auto r = run_nst(dir, {"-c", dir / "content.png", "-s", data + "/images/starry_night.jpg", "--content-mask",
                                 dir / "mask.png", "--init", "random", "--scales", "64,128", "-i", "30", "--threads",
                                 "1", "-q", "-o", dir / "out.png"},
                           {"NST_WEIGHTS=" + nst::test::weights_path(data)});
    INFO("stderr: " << r.err);
    REQUIRE(r.code == 0);
    const nst::image out = nst::load_image(dir / "out.png");
    REQUIRE(out.shape(0) == 96);
    std::vector<double> grey;
    for (std::size_t y = 48; y < 96; ++y)
        for (std::size_t x = 0; x < 128; ++x) grey.push_back((out(y, x, 0) + out(y, x, 1) + out(y, x, 2)) / 3.0);
    const auto centred = [](std::vector<double> v) {
        double mean = 0;
        for (double e : v) mean += e / double(v.size());
        for (double& e : v) e -= mean;
        return v;
    };
    const std::vector<double> a = centred(grey), b = centred(checker);
    double ab = 0, aa = 0, bb = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        ab += a[i] * b[i];
        aa += a[i] * a[i];
        bb += b[i] * b[i];
    }
    const double correlation = ab / std::sqrt(aa * bb);
    INFO("correlation of the lower half with the checkerboard: " << correlation);
    REQUIRE(std::abs(correlation) < 0.2);
}

TEST_CASE("cli: --colors histogram keeps the photo's colour statistics, luminance its chroma", "[cli][data]") {
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    // The content at the working size, as nst resizes it.
    const nst::image photo = nst::resize_longer_side(nst::load_image(data + "/images/tubingen.jpg"), 64);
    const auto statistics = [](const nst::image& img) {  // per channel mean and sd
        std::array<double, 6> s{};
        const std::size_t n = img.shape(0) * img.shape(1);
        for (std::size_t p = 0; p < n; ++p)
            for (std::size_t c = 0; c < 3; ++c) s[c] += img.data()[3 * p + c] / double(n);
        for (std::size_t p = 0; p < n; ++p)
            for (std::size_t c = 0; c < 3; ++c) s[3 + c] += std::pow(img.data()[3 * p + c] - s[c], 2) / double(n);
        for (std::size_t c = 3; c < 6; ++c) s[c] = std::sqrt(s[c]);
        return s;
    };
    const auto chroma_difference = [&](const nst::image& img) {  // mean |Cb - Cb'| + |Cr - Cr'|, BT.601
        double sum = 0;
        const std::size_t n = img.shape(0) * img.shape(1);
        for (std::size_t p = 0; p < n; ++p) {
            const float* a = img.data() + 3 * p;
            const float* b = photo.data() + 3 * p;
            sum += std::abs(-0.168736 * (a[0] - b[0]) - 0.331264 * (a[1] - b[1]) + 0.5 * (a[2] - b[2])) +
                   std::abs(0.5 * (a[0] - b[0]) - 0.418688 * (a[1] - b[1]) - 0.081312 * (a[2] - b[2]));
        }
        return sum / double(n);
    };
    const std::array<double, 6> target = statistics(photo);
    std::array<double, 3> deviation{}, chroma{};
    const char* modes[3] = {"style", "histogram", "luminance"};
    for (int m = 0; m < 3; ++m) {
        const auto r = run_nst(dir, {"-c", data + "/images/tubingen.jpg", "-s", data + "/images/starry_night.jpg",
                                     "--colors", modes[m], "--size", "64", "-i", "30", "--threads", "1", "-q", "-o",
                                     dir / "out.png"},
                               {"NST_WEIGHTS=" + data + "/weights/vgg19_imagenet_notop.h5"});
        INFO("stderr: " << r.err);
        REQUIRE(r.code == 0);
        const nst::image out = nst::load_image(dir / "out.png");
        REQUIRE(out.shape() == photo.shape());
        const std::array<double, 6> s = statistics(out);
        for (std::size_t i = 0; i < 6; ++i) deviation[m] += std::abs(s[i] - target[i]);
        chroma[m] = chroma_difference(out);
    }
    INFO("sum of |mean - photo's| + |sd - photo's| over RGB: style " << deviation[0] << ", histogram "
                                                                      << deviation[1]);
    INFO("mean chroma difference from the photo: style " << chroma[0] << ", luminance " << chroma[2]);
    // Measured at 64 px, 30 iterations (Python's resize of the photo): 54 and 11; chroma 15 and 0.3.
    REQUIRE(deviation[1] < 0.5 * deviation[0]);
    REQUIRE(chroma[2] < 1.0);  // 8-bit rounding and the clamp of a few saturated pixels
    REQUIRE(chroma[0] > 5.0);
}

TEST_CASE("cli: --model takes vgg19 or vgg16 and checks the layers against it before any work", "[cli][model]") {
    bad_input_case c;
    require_rejected(c.dir, run_nst(c.dir, c.args({"-c", c.content, "-s", c.style, "--model", "vgg13"})),
                     {"--model", "vgg13"}, c.fixtures());
    require_rejected(c.dir,
                     run_nst(c.dir, c.args({"-c", c.content, "-s", c.style, "--model", "vgg16", "--style-layers",
                                            "relu1_1,relu5_4"})),
                     {"unknown VGG16 layer 'relu5_4'", "relu5_3"}, c.fixtures());
}

TEST_CASE("cli: VGG16 runs end to end from a Keras .h5 and a .caffemodel, the model comes from the file or --model",
          "[cli][model]") {
    temp_folder dir;
    const std::string weights = dir / "vgg16_notop.h5";  // random weights, written at test time (58 MB)
    REQUIRE(nst::test::run_fixture_script("make_vgg_weights.py", {"vgg16-h5", weights}) == 0);
    const std::string content = make_image(dir, "content.png"), style = make_image(dir, "style.png", 50, 30);
    const std::vector<std::string> base{"-c", content, "-s", style, "--weights", weights, "--size", "32", "-i", "2",
                                        "-q"};
    auto run = [&](const std::string& output, std::vector<std::string> extra) {
        std::vector<std::string> args = base;
        args.insert(args.end(), {"-o", dir / output});
        args.insert(args.end(), extra.begin(), extra.end());
        return run_nst(dir, args);
    };
    for (const auto& [output, extra] : {std::pair<std::string, std::vector<std::string>>{"detected.png", {}},
                                        {"asked.png", {"--model", "vgg16", "--content-layers", "relu5_3"}}}) {
        const auto r = run(output, extra);
        INFO("stderr: " << r.err);
        REQUIRE(r.code == 0);
        // Random weights are no published file: a one-line notice names it, even with -q.
        REQUIRE(r.err.find("nst: notice: the weights file " + weights + " is not one nst knows (SHA-256 ") !=
                std::string::npos);
        const nst::image out = nst::load_image(dir / output);
        REQUIRE(out.shape(0) == 21);  // the 60 x 40 content at longer side 32
        REQUIRE(out.shape(1) == 32);
    }
    // VGG19 asked of a VGG16 file: refused (its names exist in VGG19, the weights would not fit).
    const auto refused = run("refused.png", {"--model", "vgg19"});
    INFO("stderr: " << refused.err);
    REQUIRE(refused.code == 2);
    REQUIRE(refused.err.find("holds vgg16 weights") != std::string::npos);
    REQUIRE_FALSE(fs::exists(dir / "refused.png"));
    // A layer only VGG19 has, with the model detected from the file.
    const auto layer = run("layer.png", {"--content-layers", "relu5_4"});
    INFO("stderr: " << layer.err);
    REQUIRE(layer.code == 2);
    REQUIRE(layer.err.find("unknown VGG16 layer 'relu5_4'") != std::string::npos);

    // The same weights as a Caffe .caffemodel (V1 layout, as VGG_ILSVRC_16_layers is): the same image.
    const std::string caffemodel = dir / "vgg16.caffemodel";
    REQUIRE(nst::test::run_fixture_script("make_vgg_weights.py", {"convert", weights, caffemodel, dir / "v2.caffemodel"}) ==
            0);
    const auto caffe = run_nst(dir, {"-c", content, "-s", style, "--weights", caffemodel, "--size", "32", "-i", "2",
                                     "-q", "-o", dir / "caffe.png", "--model", "vgg16"});
    INFO("stderr: " << caffe.err);
    REQUIRE(caffe.code == 0);
    REQUIRE(nst::test::max_abs_diff(nst::load_image(dir / "caffe.png"), nst::load_image(dir / "detected.png")) <= 1.0f);  // 8-bit rounding
    const auto caffe_refused = run_nst(dir, {"-c", content, "-s", style, "--weights", caffemodel, "--size", "32",
                                             "-o", dir / "caffe19.png", "--model", "vgg19"});
    INFO("stderr: " << caffe_refused.err);
    REQUIRE(caffe_refused.code == 2);
    REQUIRE(caffe_refused.err.find("holds vgg16 weights") != std::string::npos);
}

// --- The peers' flags (issue 11 part 5) --------------------------------------------------------

TEST_CASE("cli: bad values of the peers' flags", "[cli][peers]") {
    bad_input_case c;
    fs::create_directory(c.dir / "no_images");
    write_bytes(c.dir / "no_images/readme.txt", "not an image");
    const std::vector<std::string> fixtures = c.fixtures({c.dir / "no_images"});
    const auto with = [&](std::vector<std::string> extra) {
        std::vector<std::string> a{"-c", c.content, "-s", c.style};
        a.insert(a.end(), extra.begin(), extra.end());
        return c.args(a);
    };
    const auto rejected = [&](std::vector<std::string> extra, std::vector<std::string> needles) {
        INFO("flags: " << extra[0] << " " << (extra.size() > 1 ? extra[1] : ""));
        require_rejected(c.dir, run_nst(c.dir, with(std::move(extra))), needles, fixtures);
    };
    rejected({"--lbfgs-history", "0"}, {"--lbfgs-history", "a whole number >= 1, got '0'"});
    rejected({"--lbfgs-history", "many"}, {"--lbfgs-history"});
    rejected({"--pyramid-levels", "some"}, {"--pyramid-levels", "'some' is not auto or a count"});
    rejected({"--pyramid-levels", "-1"}, {"--pyramid-levels", "'-1' is not auto or a count"});
    rejected({"--adam-beta1", "1"}, {"--adam-beta1: adam beta1 must be in [0, 1)"});
    rejected({"--init", "Random"}, {"--init 'Random': no such file (--init takes content, random or an image file)"});
    rejected({"--learning-rate", "-5"}, {"--learning-rate: learning rate must be a finite number > 0, got -5"});
    rejected({"--style-scale", "0"}, {"--style-scale: style scale must be"});
    rejected({"--tile", "64"}, {"--tile: tile size must be 0 (automatic) or at least 128"});
    rejected({"--adam-beta2", "-0.5"}, {"beta2"});
    rejected({"--adam-epsilon", "0"}, {"epsilon"});
    rejected({"--init-noise", "2"}, {"init noise"});
    rejected({"--content-layer-weights", "1,2"}, {"2 content layer weights for 1 content layers"});
    rejected({"--content-layer-weights", "1,x"}, {"--content-layer-weights", "'x' is not a number"});
    rejected({"--content-layers", "block9_conv1"}, {"block9_conv1"});
    rejected({"--print-every", "often"}, {"--print-every"});
    rejected({"--bit-depth", "12"}, {"--bit-depth"});
    c.output = c.dir / "out.jpg";  // 16 bits asked of a JPEG: refused, not written at 8 unasked
    rejected({"--bit-depth", "16"}, {"--output '" + c.output + "' is a JPEG", "--bit-depth 16 needs a .png output"});
    c.output = c.dir / "out.png";
    rejected({"--params-json", c.dir / "nowhere/p.json"}, {"--params-json", "does not exist"});
    rejected({"--params-json", c.dir / "no_images"}, {"--params-json", "is a directory"});
    require_rejected(c.dir, run_nst(c.dir, c.args({"-c", c.content, "-s", c.dir / "no_images"})),
                     {"no_images", "holds no images"}, fixtures);
}

namespace {

std::vector<std::string> csv_without_times(const std::string& csv) {
    std::vector<std::string> rows;
    std::istringstream in(csv);
    for (std::string line; std::getline(in, line);) {
        // iteration,loss,content,style,tv,elapsed_seconds,evaluations: drop elapsed_seconds
        const auto fifth = line.find(',', line.find(',', line.find(',', line.find(',', line.find(',') + 1) + 1) + 1) + 1);
        const auto sixth = line.find(',', fifth + 1);
        rows.push_back(line.substr(0, fifth) + line.substr(sixth));
    }
    return rows;
}

// The text of a PNG's iTXt chunk with this keyword ("" if none).
std::string png_itxt(const std::string& png, const std::string& keyword) {
    for (std::size_t at = 8; at + 12 <= png.size();) {
        const std::size_t length = std::size_t(static_cast<unsigned char>(png[at])) << 24 |
                                   std::size_t(static_cast<unsigned char>(png[at + 1])) << 16 |
                                   std::size_t(static_cast<unsigned char>(png[at + 2])) << 8 |
                                   std::size_t(static_cast<unsigned char>(png[at + 3]));
        if (png.compare(at + 4, 4, "iTXt") == 0 && png.compare(at + 8, keyword.size() + 1, keyword + '\0') == 0)
            return png.substr(at + 8 + keyword.size() + 5, length - keyword.size() - 5);
        at += 12 + length;
    }
    return "";
}

}  // namespace

TEST_CASE("cli: Keras layer names give the same loss log as nst's names", "[cli][data][peers]") {
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    const auto run_with = [&](const std::string& name, const std::string& content_layers,
                              const std::string& style_layers) {
        const auto r = run_nst(dir, {"-c", data + "/images/tubingen.jpg", "-s", data + "/images/starry_night.jpg",
                                     "--weights", data + "/weights/vgg19_imagenet_notop.h5", "-o", dir / (name + ".png"),
                                     "--size", "32", "-i", "3", "-q", "--log", dir / (name + ".csv"),
                                     "--content-layers", content_layers, "--style-layers", style_layers});
        INFO("stderr: " << r.err);
        REQUIRE(r.code == 0);
        return csv_without_times(read_text(dir / (name + ".csv")));
    };
    const auto canonical = run_with("nst", "relu4_2", "relu1_1,relu2_1,relu3_1,relu4_1,relu5_1,pool1");
    const auto keras = run_with("keras", "block4_conv2",
                                "block1_conv1,block2_conv1,block3_conv1,block4_conv1,block5_conv1,block1_pool");
    REQUIRE(canonical.size() == 5);
    REQUIRE(keras == canonical);
}

TEST_CASE("cli: a --style folder, --print-every, 16-bit PNG and the parameters in every output", "[cli][data][peers]") {
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    fs::create_directory(dir / "styles");
    fs::copy_file(data + "/images/the_scream.jpg", dir / "styles/b_scream.jpg");
    fs::copy_file(data + "/images/starry_night.jpg", dir / "styles/a_starry.jpg");
    write_bytes(dir / "styles/notes.txt", "not an image");
    const std::string weights = data + "/weights/vgg19_imagenet_notop.h5";
    const auto r = run_nst(dir, {"-c", data + "/images/tubingen.jpg", "-s", dir / "styles", "--weights", weights,
                                 "-o", dir / "out.png", "--size", "32", "-i", "2", "--print-every", "1",
                                 "--bit-depth", "16", "--params-json", dir / "params.json", "--save-every", "2"});
    INFO("stderr: " << r.err);
    REQUIRE(r.code == 0);
    REQUIRE(r.err.find("nst: iteration 1/2") != std::string::npos);
    REQUIRE(r.err.find("nst: iteration 2/2") != std::string::npos);

    const std::string png = read_text(dir / "out.png");
    REQUIRE(stbi_is_16_bit_from_memory(reinterpret_cast<const unsigned char*>(png.data()), int(png.size())));
    const std::string params = read_text(dir / "params.json");
    REQUIRE(png_itxt(png, "nst-parameters") == params);
    for (const std::string& needle : std::vector<std::string>{"\"version\": \"" NST_VERSION_STRING "\"", "\"styles\": [\"" + (dir / "styles/a_starry.jpg") + "\", \"" +
                                                      (dir / "styles/b_scream.jpg") + "\"]",
          "\"style_blend\": [0.5, 0.5]", "\"path\": \"" + weights + "\"", "\"sha256\": \"", "\"bit_depth\": 16",
          "\"content_layer_weights\": [1]", "\"normalize_gradients\": false", "\"lbfgs_history\": 10",
          "\"pyramid_levels\": 0", "\"adam_beta2\": 0.999", "\"init_noise\": 0"}) {
        INFO("looking for " << needle << " in " << params);
        CHECK(params.find(needle) != std::string::npos);
    }
    // The snapshot records the same parameters (its weights identified before the run's report).
    REQUIRE(png_itxt(read_text(dir / "out_0002.png"), "nst-parameters") == params);
    require_no_output(dir, {"styles", "out.png", "out_0002.png", "params.json"});

    // JPEG: the same JSON in a COM segment.
    const auto j = run_nst(dir, {"-c", data + "/images/tubingen.jpg", "-s", data + "/images/starry_night.jpg",
                                 "--weights", weights, "-o", dir / "out.jpg", "--size", "32", "-i", "1", "-q"});
    REQUIRE(j.code == 0);
    const std::string jpeg = read_text(dir / "out.jpg");
    const auto com = jpeg.find("\xFF\xFE");
    REQUIRE(com != std::string::npos);
    REQUIRE(jpeg.find("\"output\": \"" + (dir / "out.jpg") + "\"", com) != std::string::npos);
}

namespace {

struct log_row {
    double loss;
    std::size_t size;
};

// The rows of a --log CSV: total loss and size.
std::vector<log_row> read_log(const std::string& path) {
    std::istringstream csv(read_text(path));
    std::string line;
    std::getline(csv, line);
    REQUIRE(line == "iteration,loss,content,style,tv,elapsed_seconds,evaluations,size");
    std::vector<log_row> rows;
    while (std::getline(csv, line)) {
        const auto first = line.find(','), second = line.find(',', first + 1);
        rows.push_back({std::stod(line.substr(first + 1, second - first - 1)),
                        std::size_t(std::stoul(line.substr(line.rfind(',') + 1)))});
    }
    return rows;
}

// The lowest total loss logged at `size` (the final size's loss of a coarse-to-fine run).
double best_loss_at(const std::vector<log_row>& rows, std::size_t size) {
    double best = std::numeric_limits<double>::infinity();
    for (const auto& row : rows)
        if (row.size == size) best = std::min(best, row.loss);
    return best;
}

// The --log rows of README command 1's images and weights with `flags`, run once single-scale
// (single.csv in dir) and once with --scales `scales` (scaled.csv, output scaled.png); both must
// exit 0.
struct scale_comparison {
    std::vector<log_row> single, scaled;
};
scale_comparison compare_with_single_scale(const std::string& data, const temp_folder& dir,
                                           const std::vector<std::string>& flags, const std::string& scales) {
    std::vector<std::string> base{"-c", data + "/images/tubingen.jpg", "-s", data + "/images/starry_night.jpg",
                                  "--weights", data + "/weights/vgg19_imagenet_notop.h5", "-q"};
    base.insert(base.end(), flags.begin(), flags.end());
    auto single_args = base, scaled_args = base;
    single_args.insert(single_args.end(), {"-o", dir / "single.png", "--log", dir / "single.csv"});
    scaled_args.insert(scaled_args.end(), {"--scales", scales, "-o", dir / "scaled.png", "--log", dir / "scaled.csv"});
    const auto single = run_nst(dir, single_args);
    INFO("single-scale stderr: " << single.err);
    REQUIRE(single.code == 0);
    const auto scaled = run_nst(dir, scaled_args);
    INFO("coarse-to-fine stderr: " << scaled.err);
    REQUIRE(scaled.code == 0);
    return {read_log(dir / "single.csv"), read_log(dir / "scaled.csv")};
}

}  // namespace

TEST_CASE("cli: --scales 128,256 logs both sizes and ends at or below the single-scale loss", "[cli][data][scales]") {
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    const auto [one, two] = compare_with_single_scale(data, dir, {"--size", "256", "--iterations", "150"}, "128,256");
    REQUIRE(one.size() == 151);
    for (const auto& row : one) REQUIRE(row.size == 256);
    // 128 px first, then 256 px: every row at one of them, in that order, both present.
    REQUIRE(two.front().size == 128);
    REQUIRE(two.back().size == 256);
    for (std::size_t i = 1; i < two.size(); ++i) REQUIRE(two[i].size >= two[i - 1].size);
    const double single_best = best_loss_at(one, 256), scaled_best = best_loss_at(two, 256);
    INFO("final-size loss: single-scale " << single_best << ", coarse-to-fine " << scaled_best);
    REQUIRE(scaled_best <= single_best);
    const nst::image out = nst::load_image(dir / "scaled.png");
    REQUIRE(out.shape(0) == 192);
    REQUIRE(out.shape(1) == 256);
}

// From noise the layout has yet to form, and coarse-to-fine forms it cheaply at low resolution
// (scale_plan.hpp: coarse_share). Measured on Zen 5: 0.895x the single-scale loss here with a
// fifth of the cost below (0.884x with a quarter, commit 4600b14; 0.911x before the finer content
// layers below, 0.956x with the small scales priced higher, 0.974x with a tenth of the cost
// below), 0.85x at 512 px.
TEST_CASE("cli: from noise, --scales 96,192 ends clearly below the single-scale loss", "[cli][data][scales]") {
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    const auto [single, scaled] =
        compare_with_single_scale(data, dir, {"--init", "random", "--size", "192", "--iterations", "100"}, "96,192");
    const double single_best = best_loss_at(single, 192), scaled_best = best_loss_at(scaled, 192);
    INFO("final-size loss: single-scale " << single_best << ", coarse-to-fine " << scaled_best);
    REQUIRE(scaled_best <= 0.98 * single_best);
}

// Output failures (issue 9 part 7): a path that can never be written is refused before any work
// (exit 2); a write that fails once the run has started (disk full, folder removed) ends with
// exit 1 and one line naming the file and the system's reason; never a partial or temporary file.
namespace {

// A small tmpfs mounted on `folder` for the test's lifetime, where the test may mount (root,
// and a container that allows it); mounted() is false elsewhere.
class small_tmpfs {
public:
    small_tmpfs(const std::string& folder, unsigned long flags, bool attempt = true)
        : folder_(folder), mounted_(attempt && ::mount("tmpfs", folder.c_str(), "tmpfs", flags, "size=64k") == 0) {}
    ~small_tmpfs() {
        if (mounted_) ::umount2(folder_.c_str(), MNT_DETACH);
    }
    small_tmpfs(const small_tmpfs&) = delete;
    small_tmpfs& operator=(const small_tmpfs&) = delete;
    bool mounted() const { return mounted_; }

private:
    std::string folder_;
    bool mounted_;
};

// The arguments of a tiny real run (shared data) writing `output`.
std::vector<std::string> tiny_run(const std::string& data, const std::string& output, std::vector<std::string> extra = {},
                                  const std::string& iterations = "2") {
    std::vector<std::string> a{"-c", data + "/images/tubingen.jpg", "-s", data + "/images/starry_night.jpg",
                               "--weights", data + "/weights/vgg19_imagenet_notop.h5", "-o", output,
                               "--size", "32", "-i", iterations, "-q"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
}

// Exit 1 and a last line "nst: error: ..." holding every needle.
void require_write_failure(const outcome& r, const std::vector<std::string>& needles) {
    INFO("stderr: " << r.err);
    REQUIRE(r.code == 1);
    const std::string last = r.err.substr(r.err.rfind('\n', r.err.size() - 2) + 1);
    REQUIRE(last.rfind("nst: error: ", 0) == 0);
    for (const auto& n : needles) REQUIRE(last.find(n) != std::string::npos);
}

std::size_t entries(const std::string& folder) {
    return std::size_t(std::distance(fs::directory_iterator(folder), fs::directory_iterator()));
}

}  // namespace

TEST_CASE("cli: an output path that is a folder is refused before any work", "[cli]") {
    bad_input_case c;
    fs::create_directory(c.dir / "taken.png");
    const std::vector<std::string> images{"-c", c.content, "-s", c.style, "--weights", c.weights};
    auto with = [&](std::vector<std::string> extra) {
        std::vector<std::string> all = images;
        all.insert(all.end(), extra.begin(), extra.end());
        return all;
    };
    const auto fixtures = c.fixtures({c.dir / "taken.png"});
    require_rejected(c.dir, run_nst(c.dir, with({"-o", c.dir / "taken.png"})), {"taken.png", "is a directory"}, fixtures);
    require_rejected(c.dir, run_nst(c.dir, with({"-o", c.output, "--log", c.dir / "taken.png"})),
                     {"--log", "taken.png", "is a directory"}, fixtures);
    require_rejected(c.dir, run_nst(c.dir, with({"-o", c.output, "--loss-plot", c.dir / "taken.png"})),
                     {"--loss-plot", "is a directory"}, fixtures);
}

TEST_CASE("cli: an output that is an input or another output is refused, the inputs untouched", "[cli]") {
    bad_input_case c;
    const auto bytes = [](const std::string& path) {
        std::ifstream in(path, std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), {});
    };
    const std::string content = bytes(c.content), style = bytes(c.style);
    fs::create_symlink(c.content, c.dir / "link.png");
    const auto fixtures = c.fixtures({c.dir / "link.png"});
    const auto run = [&](std::vector<std::string> extra) {
        std::vector<std::string> a{"-c", c.content, "-s", c.style, "--weights", c.weights, "-i", "2", "--size", "32"};
        a.insert(a.end(), extra.begin(), extra.end());
        return run_nst(c.dir, a);
    };
    require_rejected(c.dir, run({"-o", c.content}), {"--output", "is the --content file", "overwritten"}, fixtures);
    require_rejected(c.dir, run({"-o", c.dir / "link.png"}), {"--output", "link.png", "is the --content file"},
                     fixtures);  // the same file through a link
    require_rejected(c.dir, run({"-o", c.output, "--log", c.style}), {"--log", "is the --style file"}, fixtures);
    require_rejected(c.dir, run({"-o", c.output, "--params-json", c.weights}), {"--params-json", "is the --weights file"},
                     fixtures);
    require_rejected(c.dir, run({"-o", c.output, "--loss-plot", c.output}),
                     {"--loss-plot", "is also the --output file"}, fixtures);
    CHECK(bytes(c.content) == content);
    CHECK(bytes(c.style) == style);
    // Refining a result in place is allowed: this run gets past the check to the stand-in weights.
    fs::copy_file(c.content, c.output);
    const auto refine = run({"-o", c.output, "--init", c.output});
    INFO("stderr: " << refine.err);
    CHECK(refine.err.find("overwritten") == std::string::npos);
    CHECK(refine.err.find("weights.h5") != std::string::npos);
}

TEST_CASE("cli: a snapshot or output that would replace an input found or named late is refused", "[cli]") {
    bad_input_case c;
    const std::string snapshot = c.dir / "out_0002.png";  // --save-every 2's first snapshot of out.png
    fs::copy_file(c.content, snapshot);
    fs::copy_file(c.content, c.dir / "out_00002.png");  // a name --save-every never writes here
    fs::create_symlink(snapshot, c.dir / "link.png");
    const auto fixtures = c.fixtures({snapshot, c.dir / "out_00002.png", c.dir / "link.png"});
    const auto run = [&](const std::string& content, std::vector<std::string> extra, const char* iterations = "2") {
        std::vector<std::string> a{"-c", content, "-s", c.style, "--weights", c.weights, "-o", c.output,
                                   "-i", iterations, "--size", "32"};
        a.insert(a.end(), extra.begin(), extra.end());
        return run_nst(c.dir, a);
    };
    require_rejected(c.dir, run(snapshot, {"--save-every", "2"}),
                     {"--save-every 2 would overwrite the --content file", "out_0002.png", "iteration 2"}, fixtures);
    require_rejected(c.dir, run(c.dir / "link.png", {"--save-every", "1"}),
                     {"--content file", "link.png", "iteration 2"}, fixtures);  // the file behind a link
    require_rejected(c.dir, run(c.content, {"--save-every", "2", "-s", snapshot}), {"the --style file", "out_0002.png"},
                     fixtures);
    // Nor another output of the run (the snapshot replaced the log, or the log the snapshot).
    require_rejected(c.dir, run(c.content, {"--save-every", "2", "--log", c.dir / "out_0002.png"}),
                     {"would overwrite the --log file", "out_0002.png"}, fixtures);
    // Names the run never writes get past the check to the stand-in weights: another multiple
    // (--save-every 3), another number of digits (out_00002.png), or past the last iteration.
    struct allowed {
        std::string content;
        const char *every, *iterations;
    };
    for (const allowed& a : {allowed{snapshot, "3", "6"}, allowed{c.dir / "out_00002.png", "1", "2"},
                             allowed{snapshot, "1", "1"}}) {
        const auto r = run(a.content, {"--save-every", a.every}, a.iterations);
        INFO("stderr: " << r.err);
        CHECK(r.err.find("would overwrite") == std::string::npos);
        CHECK(r.err.find("weights.h5") != std::string::npos);
    }
    // Weights nst finds by itself ($NST_WEIGHTS here) are an input too.
    require_rejected(c.dir,
                     run_nst(c.dir, {"-c", c.content, "-s", c.style, "-o", c.output, "--log", c.weights, "-i", "2"},
                             {"NST_WEIGHTS=" + c.weights}),
                     {"--log", "weights.h5", "is the VGG19 weights file"}, fixtures);
}

TEST_CASE("cli: a read-only output folder is refused before any work", "[cli][permissions]") {
    bad_input_case c;
    const std::string locked = c.dir / "locked";
    fs::create_directory(locked);
    // Root writes into any folder whatever its mode: only a read-only file system stops it.
    small_tmpfs read_only(locked, MS_RDONLY, geteuid() == 0);
    if (geteuid() == 0 && !read_only.mounted()) nst::test::skip("running as root and may not mount a read-only tmpfs");
    if (geteuid() != 0) fs::permissions(locked, fs::perms::owner_read | fs::perms::owner_exec);
    const std::vector<std::string> images{"-c", c.content, "-s", c.style, "--weights", c.weights};
    auto with = [&](std::vector<std::string> extra) {
        std::vector<std::string> all = images;
        all.insert(all.end(), extra.begin(), extra.end());
        return all;
    };
    const auto fixtures = c.fixtures({locked});
    require_rejected(c.dir, run_nst(c.dir, with({"-o", locked + "/out.png"})),
                     {"out.png", "cannot create files in the folder", locked}, fixtures);
    require_rejected(c.dir, run_nst(c.dir, with({"-o", c.output, "--log", locked + "/loss.csv"})),
                     {"--log", "loss.csv", "cannot create files"}, fixtures);
    REQUIRE(entries(locked) == 0);
}

TEST_CASE("cli: outputs that can never be written whole are refused before any work", "[cli]") {
    bad_input_case c;
    const auto fixtures = c.fixtures();
    const auto run_with = [&](std::vector<std::string> extra) {
        std::vector<std::string> all{"-c", c.content, "-s", c.style, "--weights", c.weights};
        all.insert(all.end(), extra.begin(), extra.end());
        return run_nst(c.dir, all);
    };
    // A link to a device: the final rename would have replaced the link (as root, /dev/stdout).
    fs::create_symlink("/dev/null", c.dir.path / "stream.csv");
    require_rejected(c.dir, run_with({"-o", c.output, "--log", c.dir / "stream.csv"}),
                     {"--log", "stream.csv", "is not a regular file"}, c.fixtures({c.dir / "stream.csv"}));
    CHECK(fs::is_symlink(fs::symlink_status(c.dir.path / "stream.csv")));
    CHECK(fs::is_character_file("/dev/null"));
    fs::remove(c.dir.path / "stream.csv");
    // A name longer than the file system allows was found only when the image was written.
    const std::string too_long = c.dir / (std::string(252, 'n') + ".png");
    require_rejected(c.dir, run_with({"-o", too_long}), {"the name is 256 bytes long, its file system allows"},
                     fixtures);
    // A name that fits, but not with a snapshot's "_0002" (found at the first snapshot before).
    const std::string near_limit = c.dir / (std::string(247, 'n') + ".png");  // 251 bytes; its snapshots 256
    require_rejected(c.dir, run_with({"-o", near_limit, "--save-every", "1"}),
                     {"--save-every: the snapshot name", "is 256 bytes long", "give --output a shorter name"}, fixtures);
    // A "folder" that is a file is named as one, not as missing.
    require_rejected(c.dir, run_with({"-o", c.content + "/out.png"}),
                     {"the folder '" + c.content + "' is not a folder"}, fixtures);
}

TEST_CASE("cli: an output that is a link is checked where it leads, before any work", "[cli]") {
    bad_input_case c;
    const auto run_with = [&](std::vector<std::string> extra) {
        std::vector<std::string> all{"-c", c.content, "-s", c.style, "--weights", c.weights, "-i", "2", "--size", "32"};
        all.insert(all.end(), extra.begin(), extra.end());
        return run_nst(c.dir, all);
    };
    // A link into a folder that does not exist: the image was written through it only at the
    // end, after the whole run (exit 1), where the folder's own check (exit 2) had passed.
    fs::create_symlink(c.dir / "gone/out.png", c.dir / "away.png");
    require_rejected(c.dir, run_with({"-o", c.dir / "away.png"}),
                     {"--output '" + (c.dir / "away.png") + "' (a link to", "gone", "does not exist"},
                     c.fixtures({c.dir / "away.png"}));
    // A link to a file the run has yet to write is that file: the loss plot replaced the image.
    fs::create_symlink(c.output, c.dir / "plot.png");
    require_rejected(c.dir, run_with({"-o", c.output, "--loss-plot", c.dir / "plot.png"}),
                     {"--loss-plot", "plot.png", "is also the --output file"},
                     c.fixtures({c.dir / "away.png", c.dir / "plot.png"}));
    // And a link to a snapshot's name: the snapshot of iteration 2 replaced the log.
    fs::create_symlink(c.dir / "out_0002.png", c.dir / "log.csv");
    require_rejected(c.dir, run_with({"-o", c.output, "--save-every", "2", "--log", c.dir / "log.csv"}),
                     {"--save-every 2 would overwrite the --log file", "log.csv"},
                     c.fixtures({c.dir / "away.png", c.dir / "plot.png", c.dir / "log.csv"}));
}

TEST_CASE("cli: a snapshot name that a file cannot replace is refused before any work", "[cli]") {
    bad_input_case c;
    // A folder where --save-every 2 writes iteration 2's snapshot: the run ended there (exit 1),
    // its work and its best image lost.
    fs::create_directory(c.dir / "out_0002.png");
    const auto r = run_nst(c.dir, {"-c", c.content, "-s", c.style, "--weights", c.weights, "-o", c.output, "-i", "4",
                                   "--size", "32", "--save-every", "2"});
    require_rejected(c.dir, r, {"--save-every 2: the snapshot of iteration 2", "out_0002.png", "is a directory"},
                     c.fixtures({c.dir / "out_0002.png"}));
}

TEST_CASE("cli: a full disk: exit 1 naming the file, nothing partial or temporary left", "[cli][data]") {
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    const std::string full = (fs::canonical(dir.path) / "full").string();
    const std::string fine = dir / "fine";
    fs::create_directory(full);
    fs::create_directory(fine);
    // The preloaded shim stores 100 bytes in `full`, then fails every write there with ENOSPC,
    // so each failing file has really been started (a partial temporary that must go).
    const char* asan = std::getenv("ASAN_OPTIONS");
    const std::vector<std::string> env{"LD_PRELOAD=" NST_FULL_DISK_SHIM, "NST_FULL_DISK=" + full,
                                       "NST_FULL_DISK_BYTES=100",
                                       "ASAN_OPTIONS=" + std::string(asan ? asan : "") + ":verify_asan_link_order=0"};
    const std::string space = "No space left on device";

    require_write_failure(run_nst(dir, tiny_run(data, full + "/out.png"), env), {"the output", "out.png", space});
    REQUIRE(entries(full) == 0);

    require_write_failure(run_nst(dir, tiny_run(data, full + "/out.jpg", {"--save-every", "1"}), env),
                          {"snapshot", "out_0001.jpg", space});
    REQUIRE(entries(full) == 0);

    // The output fits elsewhere: it is written whole, the --log / --loss-plot file is not.
    require_write_failure(run_nst(dir, tiny_run(data, fine + "/out.png", {"--log", full + "/loss.csv"}), env),
                          {"--log", "loss.csv", space});
    REQUIRE(entries(full) == 0);
    REQUIRE(nst::load_image(fine + "/out.png").shape(1) == 32);
    require_write_failure(run_nst(dir, tiny_run(data, fine + "/out.png", {"--loss-plot", full + "/plot.png"}), env),
                          {"--loss-plot", "plot.png", space});
    REQUIRE(entries(full) == 0);
    REQUIRE(entries(fine) == 1);

    // Without the shim the same run succeeds: the failures above were the full disk's.
    const auto ok = run_nst(dir, tiny_run(data, full + "/out.png"));
    INFO("stderr: " << ok.err);
    REQUIRE(ok.code == 0);
}

TEST_CASE("cli: a second signal while the output is written ends the program once it is whole", "[cli][data]") {
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    const std::string slow = (fs::canonical(dir.path) / "slow").string();
    fs::create_directory(slow);
    // The preloaded shim makes each write into `slow` wait 2 s: the output's temporary file is
    // there, unfinished, when the two signals arrive. The second one ended the program at once
    // and left the temporary behind.
    const char* asan = std::getenv("ASAN_OPTIONS");
    const std::vector<std::string> env{"LD_PRELOAD=" NST_FULL_DISK_SHIM, "NST_FULL_DISK=" + slow,
                                       "NST_FULL_DISK_BYTES=1000000000", "NST_FULL_DISK_PAUSE_MS=2000",
                                       "ASAN_OPTIONS=" + std::string(asan ? asan : "") + ":verify_asan_link_order=0"};
    const spawned p = start_nst(tiny_run(data, slow + "/out.png"), dir / "stderr.txt", env);
    const bool writing = nst::test::signal_twice_while_writing(p.pid, slow);
    const int code = wait_for(p);
    INFO("stderr: " << read_text(p.stderr_path));
    REQUIRE(writing);
    REQUIRE((code == 143 || code == 130));  // ended by the second signal (whichever came second)
    REQUIRE(nst::test::temporaries_in(slow) == 0);
    REQUIRE(nst::load_image(slow + "/out.png").shape(1) == 32);  // whole
}

TEST_CASE("cli: a really full file system (a 64 KB tmpfs, where the test may mount one)", "[cli][data][mount]") {
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    const std::string small = dir / "small";
    fs::create_directory(small);
    small_tmpfs disk(small, 0);
    if (!disk.mounted()) nst::test::skip("may not mount a tmpfs here (needs root and a permissive container)");
    {  // fill it up
        std::FILE* filler = std::fopen((small + "/filler").c_str(), "wb");
        REQUIRE(filler != nullptr);
        const std::vector<char> block(4096, 'x');
        while (std::fwrite(block.data(), 1, block.size(), filler) == block.size() && std::fflush(filler) == 0) {
        }
        std::fclose(filler);
    }
    require_write_failure(run_nst(dir, tiny_run(data, small + "/out.png")), {"out.png", "No space left on device"});
    REQUIRE(entries(small) == 1);  // the filler only
}

TEST_CASE("cli: an output folder removed during the run: exit 1 naming the file, nothing left", "[cli][data]") {
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    const std::string sub = dir / "sub";
    fs::create_directory(sub);
    std::vector<std::string> args = tiny_run(data, sub + "/out.png", {"--log", sub + "/loss.csv"}, "100000");
    args.erase(std::find(args.begin(), args.end(), "-q"));  // the progress lines say when it runs
    const spawned p = start_nst(args, dir / "stderr.txt");
    REQUIRE(optimising(p));
    fs::remove_all(sub);
    REQUIRE(kill(p.pid, SIGTERM) == 0);  // stop it: it saves the best image so far, into the void
    const outcome r{wait_for(p), read_text(p.stderr_path)};
    require_write_failure(r, {"the output", "out.png", "does not exist"});
    require_no_output(dir, {});
}

TEST_CASE("cli: above --memory-limit, tiling engages by itself with a notice", "[cli][data][tiling]") {
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    // A limit that the untiled 192 x 144 run exceeds and tiles of 128 px meet (1 thread, as run;
    // with the content and style images nst holds).
    nst::stylize_options o;
    o.size = 192;
    o.threads = 1;
    const nst::image style = nst::load_image(data + "/images/starry_night.jpg");
    const std::uint64_t inputs = nst::input_image_bytes(nst::load_image(data + "/images/tubingen.jpg"), {style});
    const auto style_size = nst::detail::style_working_sizes({style}, o);
    const std::uint64_t limit = nst::estimate_tiled_memory(144, 192, style_size, 128, o) + inputs;
    REQUIRE(nst::estimate_stylize_memory(144, 192, style_size, o) + inputs > limit);
    std::vector<std::string> args = tiny_run(data, dir / "out.png", {"--threads", "1", "--memory-limit",
                                                                      std::to_string(limit)});
    args[std::size_t(std::find(args.begin(), args.end(), "--size") - args.begin()) + 1] = "192";
    const auto r = run_nst(dir, args);
    INFO("stderr: " << r.err);
    REQUIRE(r.code == 0);
    REQUIRE(r.err.find("nst: notice: 192 x 144 does not fit in the memory limit") != std::string::npos);
    REQUIRE(r.err.find("tiles of 128 px") != std::string::npos);
    const nst::image out = nst::load_image(dir / "out.png");
    REQUIRE(out.shape(0) == 144);
    REQUIRE(out.shape(1) == 192);
    require_no_output(dir, {"out.png"});
}

TEST_CASE("cli: --multiscale above --memory-limit runs the small scale whole, tiles the large one, logs both",
          "[cli][data][tiling][scales]") {
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    // --multiscale at 192 px: 136 then 192 px. A limit that 136 px meets whole and 192 px only in
    // tiles of 128 px (1 thread, as run).
    nst::stylize_options o;
    o.size = 192;
    o.threads = 1;
    o.multiscale = true;
    o.iterations = 14;  // 1 step at 136 px, 14 at 192 px
    const nst::image style = nst::load_image(data + "/images/starry_night.jpg");
    const std::uint64_t inputs = nst::input_image_bytes(nst::load_image(data + "/images/tubingen.jpg"), {style});
    const auto style_size = nst::detail::style_working_sizes({style}, o);
    const std::uint64_t limit = nst::estimate_tiled_memory(144, 192, style_size, 128, o) + inputs;
    REQUIRE(nst::estimate_stylize_memory(144, 192, style_size, o) + inputs > limit);
    std::vector<std::string> args = tiny_run(data, dir / "out.png",
                                             {"--threads", "1", "--memory-limit", std::to_string(limit), "--multiscale",
                                              "--log", dir / "log.csv"},
                                             "14");
    args[std::size_t(std::find(args.begin(), args.end(), "--size") - args.begin()) + 1] = "192";
    const auto r = run_nst(dir, args);
    INFO("stderr: " << r.err);
    REQUIRE(r.code == 0);
    REQUIRE(r.err.find("tiles of 128 px") != std::string::npos);
    const std::vector<log_row> rows = read_log(dir / "log.csv");
    REQUIRE(rows.front().size == 136);
    REQUIRE(rows.back().size == 192);
    std::size_t coarse = 0;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        coarse += rows[i].size == 136 ? 1 : 0;
        if (i > 0) REQUIRE(rows[i].size >= rows[i - 1].size);
    }
    REQUIRE(coarse == 2);  // iteration 0 and its one step
    REQUIRE(rows.size() > coarse + 8);  // the tiled scale: every step of every tile visit
    const nst::image out = nst::load_image(dir / "out.png");
    REQUIRE(out.shape(0) == 144);
    REQUIRE(out.shape(1) == 192);
    require_no_output(dir, {"out.png", "log.csv"});
}

// Outputs a user can trust on a server: durable, with the permissions they had, refused before the
// run where they cannot be written, and a stop while the inputs load or in a tiled pass said as it is.
namespace {

using nst::test::signal_while_open;
using nst::test::with_shim;

}  // namespace

TEST_CASE("cli: the output is synced to disk before it replaces the old one, and its folder after", "[cli][data]") {
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    const std::string folder = fs::canonical(dir.path).string();
    const std::string log = folder + "/calls.txt";
    const auto r = run_nst(dir, tiny_run(data, folder + "/out.png"), with_shim({"NST_SYNC_LOG=" + log}));
    INFO("stderr: " << r.err);
    REQUIRE(r.code == 0);
    // Without fsync a power loss soon after could leave an empty out.png (ext4, XFS).
    std::vector<std::string> calls;
    std::istringstream lines(read_text(log));
    for (std::string line; std::getline(lines, line);) calls.push_back(line);
    INFO("calls: " << read_text(log));
    const std::string prefix = "rename " + folder + "/out.png.tmp-", suffix = " " + folder + "/out.png";
    const auto renamed = std::find_if(calls.begin(), calls.end(), [&](const std::string& c) {
        return c.rfind(prefix, 0) == 0 && c.size() > suffix.size() &&
               c.compare(c.size() - suffix.size(), suffix.size(), suffix) == 0;
    });
    REQUIRE(renamed != calls.end());
    const std::string temporary = renamed->substr(7, renamed->size() - 7 - suffix.size());
    CHECK(std::find(calls.begin(), renamed, "fsync " + temporary) != renamed);
    CHECK(std::find(renamed, calls.end(), "fsync " + folder) != calls.end());
}

TEST_CASE("cli: an output in a folder that takes no files (/proc) is refused before any work", "[cli]") {
    bad_input_case c;
    // access() lets root "write" into /proc: the run went to its end and failed there (exit 1).
    const auto r = run_nst(c.dir, {"-c", c.content, "-s", c.style, "--weights", c.weights, "-o", "/proc/out.png"});
    require_rejected(c.dir, r, {"--output '/proc/out.png'", "cannot create files in the folder '/proc'"}, c.fixtures());
}

TEST_CASE("cli: an existing output that is write-protected is refused before any work, and kept", "[cli]") {
    bad_input_case c;
    write_bytes(c.output, "the last run's image");
    fs::permissions(c.output, fs::perms(0444));
    // It was replaced by a new 0644 file after the run, as root or not (the folder is writable).
    const auto r = run_nst(c.dir, c.args({"-c", c.content, "-s", c.style}));
    require_rejected(c.dir, r, {"--output '" + c.output + "' exists and is write-protected (mode 0444)"},
                     c.fixtures({c.output}));
    CHECK(read_text(c.output) == "the last run's image");
    CHECK((fs::status(c.output).permissions() & fs::perms::mask) == fs::perms(0444));
}

TEST_CASE("cli: Ctrl-C while the inputs are read stops cleanly, writes nothing, exit 130", "[cli]") {
    bad_input_case c;
    const std::string slow = (fs::canonical(c.dir.path) / "slow").string();
    fs::create_directory(slow);
    fs::rename(c.content, slow + "/content.png");
    // The preloaded shim makes each read of the content image wait 2 s: the signal arrives while
    // it is read. It killed nst there (no handler yet), with no word of what happened.
    const spawned p = start_nst(c.args({"-c", slow + "/content.png", "-s", c.style}), c.dir / "stderr.txt",
                                with_shim({"NST_SLOW_READS=" + slow, "NST_FULL_DISK_PAUSE_MS=2000"}));
    const bool reading = signal_while_open(p.pid, slow + "/content.png", SIGINT);
    const int code = wait_for(p);
    const std::string err = read_text(p.stderr_path);
    INFO("stderr: " << err);
    REQUIRE(reading);
    REQUIRE(code == 130);
    CHECK(err.find("nst: interrupted, stopping before the first iteration") != std::string::npos);
    CHECK(err.find("nst: interrupted before the first iteration; nothing written") != std::string::npos);
    require_no_output(c.dir, c.fixtures({slow}));
}

TEST_CASE("cli: Ctrl-C in a tiled pass says what was kept, not a tile's loss as the image's", "[cli][data][tiling]") {
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    std::vector<std::string> args = tiny_run(data, dir / "out.png", {"--tile", "128"}, "100000");
    args.erase(std::find(args.begin(), args.end(), "-q"));  // the progress lines say when it runs
    args[std::size_t(std::find(args.begin(), args.end(), "--size") - args.begin()) + 1] = "192";
    const spawned p = start_nst(args, dir / "stderr.txt");
    REQUIRE(optimising(p));
    REQUIRE(kill(p.pid, SIGINT) == 0);
    const int code = wait_for(p);
    const std::string err = read_text(p.stderr_path);
    INFO("stderr: " << err);
    REQUIRE(code == 130);
    // It said "saved the best image so far (loss X)" with the loss of the tile being optimised.
    CHECK(err.find("best image so far") == std::string::npos);
    CHECK(err.find("in the tiled pass at 192 px (") != std::string::npos);
    CHECK(err.find(" tiles of 128 px, ") != std::string::npos);
    CHECK(err.find("the interrupted tile at its best so far") != std::string::npos);
    CHECK(nst::load_image(dir / "out.png").shape(1) == 192);
}

TEST_CASE("cli: an --init image is held once during the run", "[cli][data]") {
    // Peak resident memory with a 3000 x 2000 --init image (72 MB as an nst::image) against a
    // 300 x 200 one: the run's copy alone. nst kept its options' copy beside stylize's (two).
    if (nst::test::address_sanitizer) nst::test::skip("resident memory under AddressSanitizer");
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    const auto peak_bytes = [&](std::size_t h, std::size_t w) {
        const std::string init = dir / "init.ppm";  // mid-grey, written fast at any size
        std::ofstream(init, std::ios::binary) << "P6\n" << w << ' ' << h << "\n255\n" << std::string(h * w * 3, char(128));
        const spawned p = start_nst(tiny_run(data, dir / "out.png", {"--init", init}), dir / "stderr.txt", {});
        rusage usage{};
        const int code = nst::test::exit_code(p, &usage);
        INFO("stderr: " << read_text(p.stderr_path));
        REQUIRE(code == 0);
        return 1024.0 * double(usage.ru_maxrss);  // kB on Linux
    };
    const double small = peak_bytes(200, 300), large = peak_bytes(2000, 3000);
    const double copy = 2000.0 * 3000 * 3 * sizeof(float);
    INFO("the large --init image's run held " << (large - small) / copy << " copies' worth more");
    CHECK(large - small < 1.5 * copy);
}
