// Tests of the `nst-batch` program (path NST_BATCH_PATH from CMake): its parts directly (job
// lists, manifest, report lines, the job queue), then the real binary on tiny generated images
// with the shared weights (skipped without them): all pairs written, a rerun skips them, a
// broken input fails only its own jobs, a manifest with per-job options (masks and colours too),
// bad usage (nst's one-run flags refused with the reason), nst's stylisation flags giving nst's
// image (and recorded in the output), and under `mpirun -np 2` (skipped when the program was
// built without MPI) six jobs shared by both ranks.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "../../examples/nst_batch/batch_options.hpp"
#include "../../examples/nst_batch/job_queue.hpp"
#include "../../examples/nst_batch/job_record.hpp"
#include "../../examples/nst_batch/jobs.hpp"
#include "spawn.hpp"
#include "strict_json.hpp"
#include "test_helpers.hpp"

namespace nst_batch_test {

namespace fs = std::filesystem;
using nst::test::temp_folder;

struct outcome {
    int code;
    std::string err;
};

using nst::test::read_text;
using nst::test::spawned;

// Starts `program args...` (nst::test::spawn: "NAME=" in `extra_env` removes a variable);
// stderr to a file in `dir`.
spawned start_program(const std::string& program, const std::vector<std::string>& args, const temp_folder& dir,
                      const std::vector<std::string>& extra_env = {}) {
    return nst::test::spawn(program, args, dir / "stderr.txt", extra_env);
}

outcome wait_for(const spawned& p) { return {nst::test::exit_code(p), read_text(p.stderr_path)}; }

outcome run_program(const std::string& program, const std::vector<std::string>& args, const temp_folder& dir,
                    const std::vector<std::string>& extra_env = {}) {
    return wait_for(start_program(program, args, dir, extra_env));
}

outcome run_batch(const temp_folder& dir, std::vector<std::string> args) {
    return run_program(NST_BATCH_PATH, args, dir);
}

// A small image with a pattern that differs per `seed`.
std::string make_image(const temp_folder& dir, const std::string& name, int seed, std::size_t h = 40,
                       std::size_t w = 56) {
    nst::image img({h, w, 3});
    for (std::size_t y = 0; y < h; ++y)
        for (std::size_t x = 0; x < w; ++x) {
            img(y, x, 0) = float((x * 255 / w + 40 * std::size_t(seed)) % 256);
            img(y, x, 1) = float((y * 255 / h * std::size_t(seed + 1)) % 256);
            img(y, x, 2) = float((x * y * std::size_t(seed + 3)) % 256);
        }
    nst::save_image(img, dir / name);
    return dir / name;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

bool has(const std::string& text, const std::string& needle) { return text.find(needle) != std::string::npos; }

std::size_t count_with(const std::vector<std::string>& lines, const std::string& needle) {
    return std::size_t(std::count_if(lines.begin(), lines.end(), [&](const std::string& l) { return has(l, needle); }));
}

// mpiexec's environment: CI runs as root; Open MPI's own allocations at exit would count as leaks
// in the sanitizer build.
std::vector<std::string> mpi_environment() {
    const char* asan = std::getenv("ASAN_OPTIONS");
    return {"OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1",
            "ASAN_OPTIONS=" + std::string(asan ? asan : "") + (asan ? ":" : "") + "detect_leaks=0"};
}

// wait_for with a watchdog against a hang: nullopt when `p` had not ended after `limit` (it is
// then sent SIGTERM, which mpirun passes on to its ranks, and reaped).
std::optional<outcome> wait_at_most(const spawned& p, std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        if (waitpid(p.pid, &status, WNOHANG) == p.pid)
            return outcome{WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), read_text(p.stderr_path)};
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    kill(p.pid, SIGTERM);
    wait_for(p);
    return std::nullopt;
}

// Whether `p` wrote `text` to stderr within 3 minutes; if not, it is killed (the caller's
// REQUIRE then fails with what it did write).
bool said_in_time(const spawned& p, const std::string& text) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
    while (std::chrono::steady_clock::now() < deadline) {
        if (has(read_text(p.stderr_path), text)) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill(p.pid, SIGKILL);
    return false;
}

// Three contents and a style, and jobs.csv: the first job ends at once (2 iterations), the other
// two take the command line's iterations (they run until stopped).
void one_quick_two_long_jobs(const temp_folder& dir) {
    make_image(dir, "a.png", 1);
    make_image(dir, "b.png", 2);
    make_image(dir, "c.png", 4);
    make_image(dir, "s.png", 3);
    std::ofstream(dir / "jobs.csv") << "content,style,iterations\na.png,s.png,2\nb.png,s.png,\nc.png,s.png,\n";
}

// Tiny, fast jobs: 32 px, 3 L-BFGS iterations, one thread.
std::vector<std::string> tiny(const std::string& data, std::vector<std::string> more) {
    more.insert(more.end(), {"--weights", nst::test::weights_path(data), "--size", "32", "-i", "3", "--threads", "1"});
    return more;
}

}  // namespace nst_batch_test

using namespace nst_batch_test;

TEST_CASE("batch: OpenMP threads sleep at once while they wait, unless the user chose", "[cli][batch]") {
    temp_folder dir;
    // As nst (test_cli.cpp): OMP_DISPLAY_ENV=verbose, the runtime prints its settings when it starts.
    using nst::test::openmp_sleeps_at_once;
    const std::vector<std::string> none{"OMP_WAIT_POLICY=", "GOMP_SPINCOUNT=", "KMP_BLOCKTIME=", "OMP_DISPLAY_ENV=verbose"};
    outcome r = run_program(NST_BATCH_PATH, {"--version"}, dir, none);
    INFO(r.err);
    REQUIRE(r.code == 0);
    REQUIRE(openmp_sleeps_at_once(r.err));
    std::vector<std::string> chosen = none;
    chosen[0] = "OMP_WAIT_POLICY=active";
    r = run_program(NST_BATCH_PATH, {"--version"}, dir, chosen);
    INFO(r.err);
    REQUIRE(r.code == 0);
    REQUIRE(r.err.find("OMP_WAIT_POLICY") != std::string::npos);
    REQUIRE_FALSE(openmp_sleeps_at_once(r.err));
}

TEST_CASE("batch parts: the progress rate counts the jobs that did their work", "[cli][batch]") {
    nst::batch::batch_progress progress(3);
    nst::batch::job_record failed;
    failed.status = "failed";
    failed.output = "out/a__s.png";
    failed.error = "cannot read image 'a.jpg'";
    // A job that failed at once did no work: no rate, no ETA from it (it made thousands a minute).
    const std::string line = progress.line(failed);
    INFO(line);
    CHECK(has(line, "[1/3] failed out/a__s.png: cannot read image 'a.jpg'"));
    CHECK_FALSE(has(line, "jobs/min"));
}

TEST_CASE("batch parts: pairs are content-major and named <content>__<style>.png, folders expand", "[cli][batch]") {
    temp_folder dir;
    fs::create_directories(dir / "styles");
    make_image(dir, "styles/b.png", 1);
    make_image(dir, "styles/a.jpg", 2);
    std::ofstream(dir / "styles/notes.txt") << "not an image";
    const auto jobs = nst::batch::all_pairs({"x/p.jpg", "q.png"}, {dir / "styles"}, "out");
    REQUIRE(jobs.size() == 4);
    CHECK(jobs[0].output == "out/p__a.png");
    CHECK(jobs[1].output == "out/p__b.png");
    CHECK(jobs[2].output == "out/q__a.png");
    CHECK(jobs[3].content == "q.png");
    fs::create_directories(dir / "empty");
    REQUIRE_THROWS_WITH(nst::batch::all_pairs({"p.jpg"}, {dir / "empty"}, "out"),
                        Catch::Contains("--styles") && Catch::Contains("the folder holds no images"));
    REQUIRE_THROWS_WITH(nst::batch::require_outputs_apart(nst::batch::all_pairs({"a/p.jpg", "b/p.png"}, {"s.jpg"}, ".")),
                        Catch::Contains("two jobs write ./p__s.png"));
    // One file given twice (by name and through another spelling) is one input, the second named.
    std::vector<std::string> dropped;
    const auto twice = nst::batch::all_pairs({"p.jpg", "./p.jpg", "q.jpg"}, {"s.jpg", "s.jpg"}, "out", &dropped);
    REQUIRE(twice.size() == 2);
    CHECK(twice[0].content == "p.jpg");
    CHECK(twice[1].content == "q.jpg");
    CHECK(dropped == std::vector<std::string>{"./p.jpg", "s.jpg"});
    REQUIRE_NOTHROW(nst::batch::require_outputs_apart(twice));
    // A job writing another job's input (a manifest's output cell naming a photo): refused.
    std::vector<nst::batch::job> jobs2{{"a.jpg", "s.jpg", "out/a__s.png", "jobs.csv line 2", {}},
                                       {"b.jpg", "s.jpg", "./a.jpg", "jobs.csv line 3", {}}};
    REQUIRE_THROWS_WITH(nst::batch::require_outputs_apart(jobs2),
                        Catch::Contains("jobs.csv line 3: the output ./a.jpg is an input of jobs.csv line 2"));
    jobs2[1].output = "out/b__s.png";
    jobs2[1].overrides.style_mask = "out/b__s.png";
    REQUIRE_THROWS_WITH(nst::batch::require_outputs_apart(jobs2), Catch::Contains("is an input of jobs.csv line 3"));
    jobs2[1].overrides.style_mask = "mask.png";
    REQUIRE_NOTHROW(nst::batch::require_outputs_apart(jobs2));
    REQUIRE_NOTHROW(nst::batch::require_outputs_apart(jobs2, "report.jsonl"));
    REQUIRE_THROWS_WITH(nst::batch::require_outputs_apart(jobs2, "./b.jpg"),
                        Catch::Contains("--report './b.jpg' is an input of jobs.csv line 3"));
    REQUIRE_THROWS_WITH(nst::batch::require_outputs_apart(jobs2, "out/../out/a__s.png"),
                        Catch::Contains("is the output of jobs.csv line 2"));
    // Nor the batch's own files: `--report w.h5` replaced the weights with a JSON line.
    const std::vector<nst::cli::detail::named_path> shared{
        {"--weights", "w.h5"}, {"--manifest", "jobs.csv"}, {"--init", "start.png"}};
    REQUIRE_NOTHROW(nst::batch::require_outputs_apart(jobs2, "report.jsonl", shared));
    REQUIRE_THROWS_WITH(nst::batch::require_outputs_apart(jobs2, "./w.h5", shared),
                        Catch::Contains("--report './w.h5' is the --weights file: it would be overwritten"));
    REQUIRE_THROWS_WITH(nst::batch::require_outputs_apart(jobs2, "jobs.csv", shared),
                        Catch::Contains("--report 'jobs.csv' is the --manifest file"));
    jobs2[1].output = "start.png";
    REQUIRE_THROWS_WITH(nst::batch::require_outputs_apart(jobs2, "", shared),
                        Catch::Contains("jobs.csv line 3: the output start.png is the --init file"));
}

TEST_CASE("batch parts: the manifest gives paths, outputs and per-job options, and names bad lines", "[cli][batch]") {
    temp_folder dir;
    const std::string csv = dir / "jobs.csv";
    std::ofstream(csv) << "content,style,output,size,iterations\n"
                          "# a comment\n"
                          "a.jpg,styles/s.jpg,,64,\n"
                          "\"b,1.jpg\",/abs/t.png,custom.png,,7\n";
    const auto jobs = nst::batch::read_manifest(csv, "out");
    REQUIRE(jobs.size() == 2);
    CHECK(jobs[0].content == dir / "a.jpg");
    CHECK(jobs[0].style == dir / "styles/s.jpg");
    CHECK(jobs[0].output == "out/a__s.png");
    CHECK(*jobs[0].overrides.size == 64);
    CHECK_FALSE(jobs[0].overrides.iterations);
    CHECK(jobs[1].content == dir / "b,1.jpg");
    CHECK(jobs[1].style == "/abs/t.png");
    CHECK(jobs[1].output == "out/custom.png");
    const nst::stylize_options o = nst::batch::job_options(nst::stylize_options{}, jobs[1]);
    CHECK(o.iterations == 7);
    CHECK(o.size == 512);

    // A spreadsheet's "CSV UTF-8" export: a byte order mark first and CRLF line ends.
    std::ofstream(csv) << "\xEF\xBB\xBF" "content,style\r\na.jpg,s.jpg\r\n";
    const auto exported = nst::batch::read_manifest(csv, "out");
    REQUIRE(exported.size() == 1);
    CHECK(exported[0].content == dir / "a.jpg");
    CHECK(exported[0].style == dir / "s.jpg");
    // Excel's "Macintosh" CSV ends lines with a CR alone: three lines, not one header line.
    std::ofstream(csv) << "content,style\ra.jpg,s.jpg\r\rb.jpg,s.jpg\r";
    const auto mac = nst::batch::read_manifest(csv, "out");
    REQUIRE(mac.size() == 2);
    CHECK(mac[1].content == dir / "b.jpg");
    std::ofstream(csv) << "content,style\ra.jpg,s.jpg\rb.jpg\r";
    REQUIRE_THROWS_WITH(nst::batch::read_manifest(csv, "."), Catch::Contains("line 3: 1 cells for 2 columns"));
    std::ofstream(csv) << "content;style\na.jpg;s.jpg\n";  // another locale's separator
    REQUIRE_THROWS_WITH(nst::batch::read_manifest(csv, "."),
                        Catch::Contains("unknown column 'content;style'") && Catch::Contains("separated by commas"));

    std::ofstream(csv) << "content,style,output\na.jpg,s.jpg,a.bmp\n";  // refused before any job, not after it
    REQUIRE_THROWS_WITH(nst::batch::read_manifest(csv, "out"),
                        Catch::Contains("line 2: output 'out/a.bmp': unknown image extension '.bmp'"));

    std::ofstream(csv) << "content,style,colour\n";
    REQUIRE_THROWS_WITH(nst::batch::read_manifest(csv, "."), Catch::Contains("line 1: unknown column 'colour'"));
    std::ofstream(csv) << "content,output\n";
    REQUIRE_THROWS_WITH(nst::batch::read_manifest(csv, "."), Catch::Contains("one 'content' and one 'style'"));
    std::ofstream(csv) << "content,style,size\na.jpg,s.jpg,big\n";
    REQUIRE_THROWS_WITH(nst::batch::read_manifest(csv, "."), Catch::Contains("line 2, column size: 'big' is not a number"));
    std::ofstream(csv) << "content,style\na.jpg\n";
    REQUIRE_THROWS_WITH(nst::batch::read_manifest(csv, "."), Catch::Contains("line 2: 1 cells for 2 columns"));
    std::ofstream(csv) << "content,style,size,size\na.jpg,s.jpg,64,128\n";  // which size? the last one counted
    REQUIRE_THROWS_WITH(nst::batch::read_manifest(csv, "."), Catch::Contains("line 1: the column 'size' is named twice"));
    // An empty content or style cell: refused (it was read as the manifest's folder, a job
    // reading "." into the output ".__..png"); a spreadsheet's empty row of commas is skipped.
    std::ofstream(csv) << "content,style,output\na.jpg,,x.png\n";
    REQUIRE_THROWS_WITH(nst::batch::read_manifest(csv, "."), Catch::Contains("line 2: empty style cell"));
    std::ofstream(csv) << "content,style\n\"\",s.jpg\n";
    REQUIRE_THROWS_WITH(nst::batch::read_manifest(csv, "."), Catch::Contains("line 2: empty content cell"));
    std::ofstream(csv) << "content,style,output\na.jpg,s.jpg,\n,,\n,,\r\n";
    const auto one = nst::batch::read_manifest(csv, "out");
    REQUIRE(one.size() == 1);
    CHECK(one[0].output == "out/a__s.png");
    std::ofstream(csv) << "content,style\n,\n";  // empty rows only: no jobs
    REQUIRE_THROWS_WITH(nst::batch::read_manifest(csv, "."), Catch::Contains("no job lines below the header"));
    std::ofstream(csv) << "content,style\n";  // a header alone: 0 jobs "done" hid a forgotten list
    REQUIRE_THROWS_WITH(nst::batch::read_manifest(csv, "."), Catch::Contains("no job lines below the header"));
    REQUIRE_THROWS_WITH(nst::batch::read_manifest(dir.path.string(), "."), Catch::Contains("is a directory"));
    std::ofstream(csv) << "content,style\n  # an indented comment\na.jpg,s.jpg\n";
    CHECK(nst::batch::read_manifest(csv, ".").size() == 1);
    std::ofstream(csv) << "content,style,size\na.jpg,s.jpg,8\n";
    const auto small = nst::batch::read_manifest(csv, ".");
    REQUIRE_THROWS_WITH(nst::batch::job_options(nst::stylize_options{}, small[0]),
                        Catch::Contains("line 2") && Catch::Contains("size must be at least 16"));
}

// RFC 4180: a quoted cell is its text exactly (the blanks inside the quotes were trimmed, so a
// file whose name starts or ends with a space could not be named); the blanks around a cell, quoted
// or not, are not part of it (`a.jpg, b.jpg`).
TEST_CASE("batch parts: a quoted manifest cell keeps its text exactly, text after its closing quote is refused",
          "[cli][batch]") {
    temp_folder dir;
    const std::string csv = dir / "jobs.csv";
    std::ofstream(csv) << "content, style ,\"output\"\n"
                          "\" my photo.jpg\",\"s.jpg \",\"\tout.png\"\n"
                          "  \"a.jpg\"  ,\t\"b \"\"c\"\".jpg\"\t, x.png \r\n"
                          "5\" floppy.jpg,s.jpg,\n";  // a quote inside an unquoted cell is a character
    const auto jobs = nst::batch::read_manifest(csv, "out");
    REQUIRE(jobs.size() == 3);
    CHECK(jobs[0].content == dir / " my photo.jpg");
    CHECK(jobs[0].style == dir / "s.jpg ");
    CHECK(jobs[0].output == "out/\tout.png");
    CHECK(jobs[1].content == dir / "a.jpg");
    CHECK(jobs[1].style == dir / "b \"c\".jpg");
    CHECK(jobs[1].output == "out/x.png");
    CHECK(jobs[2].content == dir / "5\" floppy.jpg");
    // Text after a closing quote: which name was meant? Refused, naming the line.
    for (const auto& [row, cell] : {std::pair<const char*, const char*>{"\"a\"b.jpg,s.jpg", "cell 1"},
                                    std::pair<const char*, const char*>{"a.jpg,\"s.jpg\" x", "cell 2"},
                                    std::pair<const char*, const char*>{"a.jpg,\"s\".jpg", "cell 2"}}) {
        INFO(row);
        std::ofstream(csv) << "content,style\n" << row << "\n";
        REQUIRE_THROWS_WITH(nst::batch::read_manifest(csv, "."),
                            Catch::Contains(csv + " line 2: text after the closing quote of " + cell));
    }
    std::ofstream(csv) << "content,style\na.jpg,\"s.jpg\n";
    REQUIRE_THROWS_WITH(nst::batch::read_manifest(csv, "."), Catch::Contains("line 2: a quoted cell is not closed"));
}

// The file system reads a path up to a NUL byte: an output cell "x.jpg\0.png" passed the checks
// as a PNG and wrote PNG data to x.jpg (found by fuzz_batch_manifest). A spreadsheet's UTF-16
// export is all NULs: named as such, not as unknown columns.
TEST_CASE("batch parts: a manifest line holding a NUL byte is refused", "[cli][batch]") {
    temp_folder dir;
    const std::string csv = dir / "jobs.csv";
    const char output_cell[] = "content,style,output\na.jpg,s.jpg,x.jpg\0.png\n";
    std::ofstream(csv) << std::string(output_cell, sizeof output_cell - 1);
    REQUIRE_THROWS_WITH(nst::batch::read_manifest(csv, "."), Catch::Contains(csv + " line 2: a NUL byte"));
    const char utf16[] = "\xFF\xFE" "c\0o\0n\0t\0e\0n\0t\0,\0s\0t\0y\0l\0e\0\n\0";
    std::ofstream(csv) << std::string(utf16, sizeof utf16 - 1);
    REQUIRE_THROWS_WITH(nst::batch::read_manifest(csv, "."),
                        Catch::Contains("line 1: a NUL byte") && Catch::Contains("save the manifest as UTF-8"));
    const char comment[] = "content,style\n# a\0b\na.jpg,s.jpg\n";  // a comment is not read
    std::ofstream(csv) << std::string(comment, sizeof comment - 1);
    CHECK(nst::batch::read_manifest(csv, ".").size() == 1);
}

TEST_CASE("batch parts: manifest masks are paths from its folder, colours replace the command line's", "[cli][batch]") {
    temp_folder dir;
    const std::string csv = dir / "jobs.csv";
    std::ofstream(csv) << "content,style,content-mask,style-mask,colors\n"
                          "a.jpg,s.jpg,masks/c.png,/abs/s.png,histogram\n"
                          "a.jpg,t.jpg,,,\n";
    const auto jobs = nst::batch::read_manifest(csv, "out");
    REQUIRE(jobs.size() == 2);
    CHECK(*jobs[0].overrides.content_mask == dir / "masks/c.png");
    CHECK(*jobs[0].overrides.style_mask == "/abs/s.png");
    CHECK_FALSE(jobs[1].overrides.content_mask);
    CHECK_FALSE(jobs[1].overrides.colors);
    nst::stylize_options base;
    base.original_colors = true;  // --original-colors on the command line
    base.colors = nst::color_mode::luminance;
    const nst::stylize_options o = nst::batch::job_options(base, jobs[0]);
    CHECK(o.colors == nst::color_mode::histogram);
    CHECK_FALSE(o.original_colors);
    CHECK(nst::batch::job_options(base, jobs[1]).colors == nst::color_mode::luminance);
    // --init PATH: the settings say so, the image stays with the command line (each job's run is
    // given it): a job's options are made and checked without a copy of it.
    base.init = nst::init_kind::image;
    const nst::stylize_options from_image = nst::batch::job_options(base, jobs[0]);
    CHECK(from_image.init == nst::init_kind::image);
    CHECK(from_image.init_image.size() == 0);

    std::ofstream(csv) << "content,style,colors\na.jpg,s.jpg,sepia\n";
    REQUIRE_THROWS_WITH(nst::batch::read_manifest(csv, "."),
                        Catch::Contains("line 2, column colors: 'sepia' is not style, luminance or histogram"));
    // --scales fixes the output size: a row asking for another size is refused, naming the row.
    std::ofstream(csv) << "content,style,size\na.jpg,s.jpg,64\n";
    nst::stylize_options scaled;
    scaled.scales = {32, 48};
    scaled.size = 48;
    REQUIRE_THROWS_WITH(nst::batch::job_options(scaled, nst::batch::read_manifest(csv, ".")[0]),
                        Catch::Contains("line 2") && Catch::Contains("last scale is the output size"));
}

TEST_CASE("batch parts: report lines are JSON and records survive the trip between ranks", "[cli][batch]") {
    nst::batch::job_record r;
    r.index = 12;
    r.content = "a \"quoted\" name.jpg";
    r.style = "s.jpg";
    r.output = "out/a__s.png";
    r.status = "failed";
    r.error = "line1\nback\\slash";
    r.seconds = 1.5;
    r.rank = 3;
    r.host = "node7";
    CHECK(nst::batch::to_json_line(r) ==
          "{\"content\":\"a \\\"quoted\\\" name.jpg\",\"style\":\"s.jpg\",\"output\":\"out/a__s.png\","
          "\"status\":\"failed\",\"error\":\"line1\\u000aback\\\\slash\",\"seconds\":1.5,\"loss\":null,"
          "\"rank\":3,\"host\":\"node7\"}");
    r.loss = 2.25e11;
    const nst::batch::job_record back = nst::batch::decode(nst::batch::encode(r));
    CHECK(nst::batch::to_json_line(back) == nst::batch::to_json_line(r));
    CHECK(back.index == 12);
    CHECK_FALSE(back.out_of_space);
    r.out_of_space = true;  // a worker's full disk stops rank 0's queue
    CHECK(nst::batch::decode(nst::batch::encode(r)).out_of_space);
    r.out_of_space = false;
    // A file name may hold any byte but '/' and NUL: a field separator in one split the record,
    // and rank 0 aborted the run decoding it (seen with a content named "b<0x1f>c.jpg").
    r.content = "photos/b\x1f" "c:7:.jpg";
    r.output = "out/b\x1f" "c:7:__s.png";
    r.error = "two\x1f" "parts";
    r.host = "";
    const nst::batch::job_record odd = nst::batch::decode(nst::batch::encode(r));
    CHECK(odd.content == r.content);
    CHECK(odd.output == r.output);
    CHECK(odd.error == r.error);
    CHECK(odd.status == "failed");
    CHECK(odd.rank == 3);
    CHECK(nst::batch::to_json_line(odd) == nst::batch::to_json_line(r));
}

TEST_CASE("batch parts: the job queue hands out every job exactly once across threads", "[cli][batch]") {
    std::vector<std::size_t> pending(1000);
    for (std::size_t i = 0; i < pending.size(); ++i) pending[i] = i * 3;
    nst::batch::job_queue queue(pending);
    std::vector<std::size_t> got[4];
    std::vector<std::thread> threads;
    for (auto& g : got)
        threads.emplace_back([&queue, &g] {
            while (const auto i = queue.take()) g.push_back(*i);
        });
    for (auto& t : threads) t.join();
    std::vector<std::size_t> all;
    for (const auto& g : got) all.insert(all.end(), g.begin(), g.end());
    std::sort(all.begin(), all.end());
    CHECK(all == pending);
}

TEST_CASE("batch: bad usage exits 2 with one line and runs nothing", "[cli][batch]") {
    temp_folder dir;
    const std::string img = make_image(dir, "a.png", 1);
    const auto one_line = [](const outcome& r) {
        INFO("stderr: " << r.err);
        CHECK(r.code == 2);
        CHECK(r.err.rfind("nst-batch: error: ", 0) == 0);
        CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    };
    one_line(run_batch(dir, {"--output-dir", dir / "out"}));
    one_line(run_batch(dir, {"--contents", img, "--manifest", dir / "jobs.csv"}));
    one_line(run_batch(dir, {"--contents", img, "--styles", img, "--size", "8", "--weights", img}));
    one_line(run_batch(dir, {"--manifest", dir / "missing.csv"}));
    one_line(run_batch(dir, {"--contents", img, "--styles", img, "--weights", dir / "none.h5"}));
    // The shared stylisation flags are checked as nst checks them.
    one_line(run_batch(dir, {"--contents", img, "--styles", img, "--bit-depth", "12"}));
    one_line(run_batch(dir, {"--contents", img, "--styles", img, "--adam-beta1", "1.5"}));
    one_line(run_batch(dir, {"--contents", img, "--styles", img, "--content-layer-weights", "x"}));
    // An --init image that does not decode is named by its flag, as nst names it.
    std::ofstream(dir / "start.png") << "not an image";
    const outcome init = run_batch(dir, {"--contents", img, "--styles", img, "--weights", img, "--init", dir / "start.png"});
    one_line(init);
    CHECK(has(init.err, "--init: cannot read image"));
    const outcome scales = run_batch(dir, {"--contents", img, "--styles", img, "--scales", "16,32", "--size", "48"});
    one_line(scales);
    CHECK(has(scales.err, "--scales ends at 32 but --size is 48"));
    const outcome report_folder = run_batch(dir, {"--contents", img, "--styles", img, "--report", dir.path.string()});
    one_line(report_folder);
    CHECK(has(report_folder.err, "--report '" + dir.path.string() + "' is a directory"));
    const outcome typo = run_batch(dir, {"--contents", img, "--styles", img, "--output-dri", dir / "out"});
    one_line(typo);
    CHECK(has(typo.err, "did you mean --output-dir?"));
    const outcome repeated = run_batch(dir, {"--contents", img, "--styles", img, "--size", "64", "--size", "96"});
    one_line(repeated);
    CHECK(has(repeated.err, "--size is given 2 times; give it once"));
    const outcome single = run_batch(dir, {"--content", img, "--styles", img});  // nst's flag where --contents is meant
    one_line(single);
    CHECK(has(single.err, "--content is nst's, for one run: give --contents"));
    const outcome bare = run_batch(dir, {img, img});
    one_line(bare);
    CHECK(has(bare.err, "give the files by flag: nst-batch --contents"));
    // nst's flags for one run are refused with the reason.
    const std::vector<std::vector<std::string>> single_run_flags{
        {"--log", "x.csv"}, {"--style-mask", img},   {"--content-mask", img}, {"--print-every", "1"},
        {"-o", "x.png"},    {"--style", img},        {"--style-blend", "1"},  {"--params-json", "p.json"}};
    for (const auto& flag : single_run_flags) {
        std::vector<std::string> args{"--contents", img, "--styles", img};
        args.insert(args.end(), flag.begin(), flag.end());
        const outcome r = run_batch(dir, args);
        one_line(r);
        CHECK(has(r.err, " is nst's, for one run: "));
    }
    CHECK(has(run_batch(dir, {"--contents", img, "--styles", img, "--style-mask", img}).err, "style-mask column"));
    CHECK_FALSE(fs::exists(dir / "out"));
}

TEST_CASE("batch: all pairs are written once, a rerun skips them, --overwrite redoes them", "[cli][batch][data]") {
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    const std::string a = make_image(dir, "a.png", 1), b = make_image(dir, "b.png", 2), s = make_image(dir, "s.png", 3);
    const auto args = tiny(data, {"--contents", a, b, "--styles", s, "--output-dir", dir / "out", "--report",
                                  dir / "r.jsonl"});
    const outcome first = run_batch(dir, args);
    INFO("stderr: " << first.err);
    REQUIRE(first.code == 0);
    for (const char* name : {"out/a__s.png", "out/b__s.png"}) {
        const nst::image out = nst::load_image(dir / name);
        CHECK(out.shape(1) == 32);  // the longer side; 56 x 40 -> 32 x 22.9
        CHECK((out.shape(0) == 22 || out.shape(0) == 23));
    }
    auto report = lines_of(read_text(dir / "r.jsonl"));
    REQUIRE(report.size() == 2);
    CHECK(count_with(report, "\"status\":\"ok\"") == 2);
    CHECK(count_with(report, "\"rank\":0") == 2);
    CHECK(has(first.err, "[2/2] ok"));
    CHECK(has(first.err, "jobs/min, ETA"));
    CHECK(fs::directory_iterator(dir / "out") != fs::directory_iterator());

    const auto written = fs::last_write_time(dir / "out/a__s.png");
    const outcome again = run_batch(dir, args);
    REQUIRE(again.code == 0);
    report = lines_of(read_text(dir / "r.jsonl"));
    REQUIRE(report.size() == 2);
    CHECK(count_with(report, "\"status\":\"skipped\"") == 2);
    CHECK(fs::last_write_time(dir / "out/a__s.png") == written);

    std::vector<std::string> redo = args;
    redo.push_back("--overwrite");
    REQUIRE(run_batch(dir, redo).code == 0);
    CHECK(count_with(lines_of(read_text(dir / "r.jsonl")), "\"status\":\"ok\"") == 2);
}

TEST_CASE("batch: a --report inside the --output-dir the run makes is written", "[cli][batch][data]") {
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    const std::string a = make_image(dir, "a.png", 1), s = make_image(dir, "s.png", 3);
    // The folder is made by the run: the report's folder "did not exist" when checked (exit 2).
    const outcome r = run_batch(dir, tiny(data, {"--contents", a, "--styles", s, "--output-dir",
                                                 dir / "new/out/", "--report", dir / "new/./out/r.jsonl"}));
    INFO("stderr: " << r.err);
    CHECK(r.code == 0);
    CHECK(fs::exists(dir / "new/out/a__s.png"));
    const auto report = lines_of(read_text(dir / "new/out/r.jsonl"));
    CHECK(report.size() == 1);
    CHECK(count_with(report, "\"status\":\"ok\"") == 1);
    // A report's folder that is not the output folder is still refused before any job.
    const outcome elsewhere = run_batch(dir, tiny(data, {"--contents", a, "--styles", s, "--output-dir",
                                                         dir / "out2", "--report", dir / "nowhere/r.jsonl"}));
    INFO("stderr: " << elsewhere.err);
    CHECK(elsewhere.code == 2);
    CHECK(has(elsewhere.err, "the folder '" + (dir / "nowhere") + "' does not exist"));
    CHECK_FALSE(fs::exists(dir / "out2"));
}

namespace nst_batch_test {

// A mid-grey binary PPM of h x w pixels, written fast at any size.
std::string grey_ppm(const temp_folder& dir, const std::string& name, std::size_t h, std::size_t w) {
    std::ofstream out(dir / name, std::ios::binary);
    out << "P6\n" << w << ' ' << h << "\n255\n" << std::string(h * w * 3, char(128));
    return dir / name;
}

// Peak resident memory of an nst-batch run that must succeed, in bytes.
double batch_peak_bytes(const temp_folder& dir, const std::vector<std::string>& args) {
    const spawned p = start_program(NST_BATCH_PATH, args, dir);
    rusage usage{};
    const int code = nst::test::exit_code(p, &usage);
    INFO("stderr: " << read_text(p.stderr_path));
    REQUIRE(code == 0);
    return 1024.0 * double(usage.ru_maxrss);  // kB on Linux
}

}  // namespace nst_batch_test

TEST_CASE("batch: a job holds its style image once", "[cli][batch][data]") {
    // Peak resident memory of a job with a 3000 x 2000 style (72 MB as an nst::image) against one
    // with a 300 x 200 style: one copy's worth more (1.15 measured). A job gave stylize `{style}`,
    // two more copies of the style image held for the whole run (3.1 copies' worth measured).
    if (nst::test::address_sanitizer) nst::test::skip("resident memory under AddressSanitizer");
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    const std::string content = make_image(dir, "c.png", 1);
    const auto peak_bytes = [&](const std::string& style, const std::string& out) {
        return batch_peak_bytes(dir, tiny(data, {"--contents", content, "--styles", style, "--output-dir", out}));
    };
    const double small = peak_bytes(grey_ppm(dir, "small.ppm", 200, 300), dir / "out_small");
    const double large = peak_bytes(grey_ppm(dir, "large.ppm", 2000, 3000), dir / "out_large");
    const double copy = 2000.0 * 3000 * 3 * sizeof(float);
    INFO("the large style's job held " << (large - small) / copy << " copies' worth more");
    CHECK(large - small < 1.5 * copy);
}

TEST_CASE("batch: every job starts from an --init image, held twice: the command line's and the job's",
          "[cli][batch][data]") {
    // The two copies the memory estimate counts (option_image_copies): 2.2 copies' worth measured.
    // The job's options copied into stylize held a third for the whole run (3.0 measured).
    if (nst::test::address_sanitizer) nst::test::skip("resident memory under AddressSanitizer");
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    const std::string content = make_image(dir, "c.png", 1);
    const std::string style = make_image(dir, "s.png", 3);
    // Every job starts from it (no step taken: the output is the grey start).
    const outcome started = run_batch(dir, {"--contents", content, make_image(dir, "d.png", 2), "--styles", style,
                                            "--init", grey_ppm(dir, "start.ppm", 20, 30), "--output-dir",
                                            dir / "out_start", "--weights", nst::test::weights_path(data),
                                            "--size", "32", "-i", "0", "--threads", "1"});
    INFO("stderr: " << started.err);
    REQUIRE(started.code == 0);
    for (const char* name : {"c__s.png", "d__s.png"}) {
        const nst::image out = nst::load_image(dir / "out_start" + "/" + name);
        CHECK(xt::amin(out)() >= 127.0f);
        CHECK(xt::amax(out)() <= 129.0f);
    }
    const auto peak_bytes = [&](const std::string& init, const std::string& out) {
        return batch_peak_bytes(dir, tiny(data, {"--contents", content, "--styles", style, "--init", init,
                                                 "--output-dir", out}));
    };
    const double small = peak_bytes(grey_ppm(dir, "small.ppm", 200, 300), dir / "out_small");
    const double large = peak_bytes(grey_ppm(dir, "large.ppm", 2000, 3000), dir / "out_large");
    const double copy = 2000.0 * 3000 * 3 * sizeof(float);
    INFO("the large --init image's run held " << (large - small) / copy << " copies' worth more");
    CHECK(large - small < 2.5 * copy);
}

TEST_CASE("batch: outputs written into a --contents folder are left out of the next run's inputs",
          "[cli][batch][data]") {
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    fs::create_directory(dir.path / "photos");
    fs::create_directory(dir.path / "paint");
    make_image(dir, "photos/a.png", 1);
    make_image(dir, "paint/s.png", 3);
    // The outputs land among the photos (as with the default --output-dir . and --contents .).
    const auto args = tiny(data, {"--contents", dir / "photos", "--styles", dir / "paint", "--output-dir", dir / "photos"});
    const outcome first = run_batch(dir, args);
    INFO("stderr: " << first.err);
    REQUIRE(first.code == 0);
    REQUIRE(fs::exists(dir / "photos/a__s.png"));
    // The same command again: a__s.png is this batch's output, not a photo (it was taken as one,
    // and refused as an output that is an input: the rerun could not run).
    const outcome again = run_batch(dir, args);
    INFO("stderr: " << again.err);
    CHECK(again.code == 0);
    CHECK(has(again.err, "notice: a__s.png left out of the inputs (this batch's outputs, or given twice)"));
    CHECK(has(again.err, "0 done, 1 skipped, 0 failed"));
    CHECK_FALSE(fs::exists(dir / "photos/a__s__s.png"));
    // --quiet: only failures (and then the summary) on stderr; the notice is neither.
    auto quiet_args = args;
    quiet_args.push_back("--quiet");
    const outcome quiet = run_batch(dir, quiet_args);
    INFO("stderr: " << quiet.err);
    CHECK(quiet.code == 0);
    CHECK(quiet.err.empty());
}

TEST_CASE("batch: a broken input fails only its own jobs, with the reason, exit 1", "[cli][batch][data]") {
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    const std::string good = make_image(dir, "good.png", 1), s = make_image(dir, "s.png", 3);
    std::ofstream(dir / "broken.jpg") << "this is not a JPEG";
    const outcome r = run_batch(dir, tiny(data, {"--contents", good, dir / "broken.jpg", "--styles", s, "--output-dir",
                                                 dir / "out", "--report", dir / "r.jsonl"}));
    INFO("stderr: " << r.err);
    REQUIRE(r.code == 1);
    CHECK(fs::exists(dir / "out/good__s.png"));
    CHECK_FALSE(fs::exists(dir / "out/broken__s.png"));
    const auto report = lines_of(read_text(dir / "r.jsonl"));
    REQUIRE(report.size() == 2);
    CHECK(count_with(report, "\"status\":\"ok\"") == 1);
    REQUIRE(count_with(report, "\"status\":\"failed\"") == 1);
    const std::string failed = *std::find_if(report.begin(), report.end(), [](auto& l) { return has(l, "failed"); });
    CHECK(has(failed, "broken.jpg"));
    CHECK(has(failed, "\"loss\":null"));
    CHECK(has(r.err, "failed " + (dir / "out/broken__s.png") + ": "));
    CHECK(has(r.err, "1 done, 0 skipped, 1 failed"));
    for (const auto& f : fs::directory_iterator(dir / "out")) CHECK_FALSE(has(f.path().string(), ".tmp-"));
}

// A full disk failed every later job too, each after all its work: the batch stops at the first.
TEST_CASE("batch: an output that meets a full disk stops the batch, the jobs not started are said, exit 1",
          "[cli][batch][data]") {
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    const std::string a = make_image(dir, "a.png", 1), b = make_image(dir, "b.png", 2),
                      c = make_image(dir, "c.png", 4), s = make_image(dir, "s.png", 3);
    const std::string out = (fs::canonical(dir.path) / "out").string();
    fs::create_directory(out);
    // The preloaded shim: every write into `out` fails with ENOSPC (creating a file there works).
    const spawned p = start_program(NST_BATCH_PATH,
                                    tiny(data, {"--contents", a, b, c, "--styles", s, "--output-dir", out, "--report",
                                                dir / "r.jsonl"}),
                                    dir, nst::test::with_shim({"NST_FULL_DISK=" + out}));
    const outcome r = wait_for(p);
    INFO("stderr: " << r.err);
    CHECK(r.code == 1);
    CHECK(has(r.err, "[1/3] failed " + out + "/a__s.png: "));
    CHECK(has(r.err, "cannot write '" + out + "/a__s.png': No space left on device"));
    CHECK(has(r.err, "nst-batch: stopped, writing " + out +
                         "/a__s.png met a full disk or quota: 0 done, 0 skipped, 1 failed, 2 not started"));
    CHECK_FALSE(has(r.err, "[2/3]"));
    CHECK(lines_of(read_text(dir / "r.jsonl")).size() == 1);
    CHECK(nst::test::temporaries_in(out) == 0);
}

// Linux file names are bytes: a Latin-1 name went into the report and the recorded parameters as
// it was, and strict JSON readers refused them (Python's json on the bytes decoded as UTF-8).
TEST_CASE("batch: file names that are not UTF-8 give a report and parameters strict JSON readers accept",
          "[cli][batch][data]") {
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    const std::string cafe = make_image(dir, "caf\xe9.png", 1), s = make_image(dir, "s.png", 3);
    std::ofstream(dir / "bad\xff.jpg") << "not a JPEG";  // fails: its name is in the error too
    const outcome r = run_batch(dir, tiny(data, {"--contents", cafe, dir / "bad\xff.jpg", "--styles", s,
                                                 "--output-dir", dir / "out", "--report", dir / "r.jsonl"}));
    INFO("stderr: " << r.err);
    REQUIRE(r.code == 1);
    REQUIRE(fs::exists(dir / "out/caf\xe9__s.png"));  // the files keep their bytes
    const std::string report = read_text(dir / "r.jsonl");
    CHECK(nst::test::well_formed_utf8(report));
    CHECK(has(report, "\"content\":\"" + (dir / "caf\xEF\xBF\xBD.png") + "\""));
    const std::string recorded = nst::test::png_itxt(dir / "out/caf\xe9__s.png", "nst-parameters");
    CHECK(nst::test::well_formed_utf8(recorded));
    CHECK(has(recorded, "\"output\": \"" + (dir / "out/caf\xEF\xBF\xBD__s.png") + "\""));
    std::ofstream(dir / "recorded.json", std::ios::binary) << recorded;
    const std::string lines = nst::test::python_strict_json(dir / "r.jsonl", true),
                      one = nst::test::python_strict_json(dir / "recorded.json", false);
    INFO("python on the report: " << lines);
    INFO("python on the parameters: " << one);
    if (!lines.empty()) {  // (without /usr/bin/python3, the checks above)
        CHECK(lines.rfind("ok ", 0) == 0);
        CHECK(has(lines, "caf\\ufffd.png"));
        CHECK(has(lines, "bad\\ufffd.jpg"));
        CHECK(one.rfind("ok ", 0) == 0);
        CHECK(has(one, "caf\\ufffd__s.png"));
    }
}

TEST_CASE("batch: a job's image above --max-input-pixels fails alone, its reason naming the flag",
          "[cli][batch][data]") {
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    // 40 x 56 = 2240 pixels under the limit of 3000, 80 x 80 = 6400 above it.
    const std::string good = make_image(dir, "good.png", 1), big = make_image(dir, "big.png", 2, 80, 80),
                      s = make_image(dir, "s.png", 3);
    const outcome r = run_batch(dir, tiny(data, {"--contents", good, big, "--styles", s, "--output-dir", dir / "out",
                                                 "--report", dir / "r.jsonl", "--max-input-pixels", "3000"}));
    INFO("stderr: " << r.err);
    CHECK(r.code == 1);
    CHECK(fs::exists(dir / "out/good__s.png"));
    CHECK_FALSE(fs::exists(dir / "out/big__s.png"));
    const auto report = lines_of(read_text(dir / "r.jsonl"));
    REQUIRE(report.size() == 2);
    const auto failed = std::find_if(report.begin(), report.end(), [](auto& l) { return has(l, "\"failed\""); });
    REQUIRE(failed != report.end());
    CHECK(has(*failed, "big.png': it declares 80 x 80 = 6400 pixels, more than the limit of 3000"));
    // the library's message names its own knob (nst::image_limits::max_pixels); the user's is the flag
    CHECK(has(*failed, "; on the command line: --max-input-pixels N"));
}

TEST_CASE("batch: a report that cannot be written to the end is said once, the jobs go on, exit 1",
          "[cli][batch][data]") {
    const std::string data = nst::test::require_shared_data();
    REQUIRE(fs::exists("/dev/full"));  // Linux
    temp_folder dir;
    const std::string a = make_image(dir, "a.png", 1), b = make_image(dir, "b.png", 2), s = make_image(dir, "s.png", 3);
    // /dev/full opens and takes the first write into its buffer; the flush fails as a full disk does.
    const outcome r = run_batch(
        dir, tiny(data, {"--contents", a, b, "--styles", s, "--output-dir", dir / "out", "--report", "/dev/full"}));
    INFO("stderr: " << r.err);
    CHECK(r.code == 1);
    CHECK(has(r.err, "--report '/dev/full': writing failed: No space left on device"));
    CHECK(r.err.find("writing failed") == r.err.rfind("writing failed"));  // once
    CHECK(has(r.err, "2 done, 0 skipped, 0 failed"));
    CHECK(has(r.err, "the --report is incomplete"));
    CHECK(fs::exists(dir / "out/a__s.png"));
    CHECK(fs::exists(dir / "out/b__s.png"));
}

TEST_CASE("batch: Ctrl-C, SIGTERM or SIGHUP abandons the current job, starts no other, keeps finished ones",
          "[cli][batch][data]") {
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    one_quick_two_long_jobs(dir);
    const auto args = [&](const char* iterations) {
        return std::vector<std::string>{"--manifest", dir / "jobs.csv", "--output-dir", dir / "out", "--report",
                                        dir / "report.jsonl", "--weights", nst::test::weights_path(data), "--size",
                                        "32", "--threads", "1", "-i", iterations};
    };
    // SIGTERM (a service manager's stop) and SIGHUP (the terminal closed) as Ctrl-C; the first job's
    // image is removed in between.
    for (const auto& [signal, code, said] : {std::tuple<int, int, const char*>{SIGINT, 130, "interrupted"},
                                             std::tuple<int, int, const char*>{SIGTERM, 143, "terminated by SIGTERM"},
                                             std::tuple<int, int, const char*>{SIGHUP, 129, "hung up (SIGHUP)"}}) {
        fs::remove_all(dir / "out");
        const spawned p = start_program(NST_BATCH_PATH, args("100000"), dir);
        const bool first_done = said_in_time(p, "[1/3] ok");
        INFO("stderr: " << read_text(p.stderr_path));
        REQUIRE(first_done);
        std::this_thread::sleep_for(std::chrono::milliseconds(300));  // well into the second job
        REQUIRE(kill(p.pid, signal) == 0);
        const outcome r = wait_for(p);
        INFO("stderr: " << r.err);
        CHECK(r.code == code);
        CHECK(has(r.err, "[2/3] interrupted " + (dir / "out/b__s.png")));
        CHECK(has(r.err, std::string(said) + ": 1 done, 0 skipped, 0 failed, 2 not done"));
        const std::string report = read_text(dir / "report.jsonl");
        CHECK(std::count(report.begin(), report.end(), '\n') == 2);
        CHECK(has(report, "\"output\":\"" + (dir / "out/a__s.png") + "\",\"status\":\"ok\""));
        CHECK(has(report, "\"output\":\"" + (dir / "out/b__s.png") + "\",\"status\":\"interrupted\""));
        std::vector<std::string> left;
        for (const auto& f : fs::directory_iterator(dir / "out")) left.push_back(f.path().filename().string());
        CHECK(left == std::vector<std::string>{"a__s.png"});  // no unfinished image, no temporary file
    }

    // Run again: the finished job is skipped, the rest done.
    const outcome again = run_batch(dir, args("2"));
    INFO("again: " << again.err);
    CHECK(again.code == 0);
    CHECK(has(again.err, "2 done, 1 skipped, 0 failed"));
}

TEST_CASE("batch: Ctrl-C with stderr piped into a program the Ctrl-C also ended still reports, exit 130",
          "[cli][batch][data]") {
    // `nst-batch ... 2>&1 | tee batch.log`: Ctrl-C ends tee too; SIGPIPE then ended nst-batch at
    // its next message (exit 141), before the report line and the summary.
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    make_image(dir, "a.png", 1);
    make_image(dir, "s.png", 3);
    const nst::test::piped p = nst::test::spawn_into_pipe(
        NST_BATCH_PATH, {"--contents", dir / "a.png", "--styles", dir / "s.png", "--output-dir", dir / "out",
                         "--report", dir / "report.jsonl", "--weights", nst::test::weights_path(data), "--size",
                         "32", "--threads", "1", "-i", "100000"});
    std::string said;
    const bool started = nst::test::read_until(p, "1 to run", 180, said);
    if (started) std::this_thread::sleep_for(std::chrono::milliseconds(500));  // into the job
    close(p.read_end);  // tee has ended
    if (started) REQUIRE(kill(p.process.pid, SIGINT) == 0);
    else kill(p.process.pid, SIGKILL);
    const int code = nst::test::exit_code(p.process);
    INFO("stderr until the pipe closed: " << said);
    REQUIRE(started);
    CHECK(code == 130);
    CHECK(has(read_text(dir / "report.jsonl"), "\"status\":\"interrupted\""));
    CHECK(fs::is_empty(dir / "out"));  // nothing unfinished written
}

TEST_CASE("batch: a second signal while a job's image is written ends the program once it is whole",
          "[cli][batch][data]") {
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    make_image(dir, "a.png", 1);
    make_image(dir, "s.png", 3);
    const std::string out = (fs::canonical(dir.path) / "out").string();
    fs::create_directory(out);
    // The preloaded shim makes each write into `out` wait 2 s: the job's temporary file is there,
    // unfinished, when the two signals arrive. The second one ended the program at once and left
    // the temporary behind.
    const char* asan = std::getenv("ASAN_OPTIONS");
    const spawned p = start_program(
        NST_BATCH_PATH, tiny(data, {"--contents", dir / "a.png", "--styles", dir / "s.png", "--output-dir", out}), dir,
        {"LD_PRELOAD=" NST_FULL_DISK_SHIM, "NST_FULL_DISK=" + out, "NST_FULL_DISK_BYTES=1000000000",
         "NST_FULL_DISK_PAUSE_MS=2000", "ASAN_OPTIONS=" + std::string(asan ? asan : "") + ":verify_asan_link_order=0"});
    const bool writing = nst::test::signal_twice_while_writing(p.pid, out);
    const outcome r = wait_for(p);
    INFO("stderr: " << r.err);
    REQUIRE(writing);
    REQUIRE((r.code == 143 || r.code == 130));  // ended by the second signal (whichever came second)
    REQUIRE(nst::test::temporaries_in(out) == 0);
    REQUIRE(nst::load_image(out + "/a__s.png").shape(1) == 32);  // whole
}

TEST_CASE("batch: a manifest's per-job size and output are used", "[cli][batch][data]") {
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    make_image(dir, "a.png", 1);
    make_image(dir, "s.png", 3);
    std::ofstream(dir / "jobs.csv") << "content,style,output,size,iterations\n"
                                       "a.png,s.png,,48,2\n"
                                       "a.png,s.png,small.png,32,\n"
                                       "a.png,s.png,by_size/32/small.png,32,\n";  // folders made as needed
    const outcome r = run_batch(dir, tiny(data, {"--manifest", dir / "jobs.csv", "--output-dir", dir / "out"}));
    INFO("stderr: " << r.err);
    REQUIRE(r.code == 0);
    CHECK(nst::load_image(dir / "out/a__s.png").shape(1) == 48);
    CHECK(nst::load_image(dir / "out/small.png").shape(1) == 32);
    CHECK(nst::load_image(dir / "out/by_size/32/small.png").shape(1) == 32);

    // A folder that cannot be made (a file has its name) fails its job, with the reason.
    std::ofstream(dir / "out/taken") << "a file";
    std::ofstream(dir / "jobs2.csv") << "content,style,output\na.png,s.png,taken/x.png\n";
    const outcome blocked = run_batch(dir, tiny(data, {"--manifest", dir / "jobs2.csv", "--output-dir", dir / "out"}));
    INFO("stderr: " << blocked.err);
    CHECK(blocked.code == 1);
    CHECK(has(blocked.err, "cannot create the folder '" + (dir / "out/taken") + "'"));
    // So does an output that is a folder (it was taken as done and skipped): found before the work.
    fs::create_directory(dir / "out/folder.png");
    std::ofstream(dir / "jobs3.csv") << "content,style,output\na.png,s.png,folder.png\n";
    const outcome folder = run_batch(dir, tiny(data, {"--manifest", dir / "jobs3.csv", "--output-dir", dir / "out"}));
    INFO("stderr: " << folder.err);
    CHECK(folder.code == 1);
    CHECK(has(folder.err, "folder.png' is a directory"));
    // --bit-depth 16 with a JPEG output: refused before any job, naming the manifest line.
    std::ofstream(dir / "jobs4.csv") << "content,style,output\na.png,s.png,deep.jpg\n";
    const outcome deep =
        run_batch(dir, tiny(data, {"--manifest", dir / "jobs4.csv", "--output-dir", dir / "out", "--bit-depth", "16"}));
    INFO("stderr: " << deep.err);
    CHECK(deep.code == 2);
    CHECK(has(deep.err, "line 2: output '" + (dir / "out/deep.jpg") + "' is a JPEG, which stores 8 bits per sample"));
    CHECK_FALSE(fs::exists(dir / "out/deep.jpg"));
    // An --output-dir that cannot be made is refused before any job, with the reason.
    const outcome no_dir = run_batch(dir, tiny(data, {"--manifest", dir / "jobs2.csv", "--output-dir", dir / "out/taken/sub"}));
    INFO("stderr: " << no_dir.err);
    CHECK(no_dir.code == 2);
    CHECK(has(no_dir.err, "cannot create the folder '" + (dir / "out/taken/sub") + "' for --output-dir: Not a directory"));
    CHECK_FALSE(has(no_dir.err, "0 done"));
}

// The recorded parameters (PNG iTXt, stored uncompressed) are in the file's bytes as written.
TEST_CASE("batch: nst's stylisation flags apply to every job: the output is nst's for the same flags",
          "[cli][batch][data][peers]") {
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    const std::string a = make_image(dir, "a.png", 1), s = make_image(dir, "s.png", 3);
    const std::vector<std::string> flags{
        "--weights", nst::test::weights_path(data), "-i", "4", "--threads", "1", "-q", "--scales", "24,40",
        "--no-size-invariant", "--normalize-gradients", "--content-weight", "5", "--style-weight", "100",
        "--tv-weight", "1e-3", "--lbfgs-history", "3", "--pyramid-levels", "2", "--content-layer-weights", "1", "--init-noise", "0.3",
        "--seed", "7", "--adam-beta1", "0.8", "--model", "vgg19", "--weights-preprocessing", "caffe",
        "--colors", "luminance", "--bit-depth", "16"};
    std::vector<std::string> nst_args{"-c", a, "-s", s, "-o", dir / "nst.png"};
    nst_args.insert(nst_args.end(), flags.begin(), flags.end());
    const outcome single = run_program(NST_CLI_PATH, nst_args, dir);
    INFO("nst: " << single.err);
    REQUIRE(single.code == 0);
    std::vector<std::string> batch_args{"--contents", a, "--styles", s, "--output-dir", dir / "out"};
    batch_args.insert(batch_args.end(), flags.begin(), flags.end());
    const outcome batch = run_batch(dir, batch_args);
    INFO("nst-batch: " << batch.err);
    REQUIRE(batch.code == 0);

    const nst::image expected = nst::load_image(dir / "nst.png"), got = nst::load_image(dir / "out/a__s.png");
    REQUIRE(got.shape() == expected.shape());
    CHECK(got.shape(1) == 40);
    CHECK(nst::test::max_abs_diff(got, expected) == 0.0f);
    const std::string png = read_text(dir / "out/a__s.png");
    REQUIRE(png.size() > 25);
    CHECK(int(static_cast<unsigned char>(png[24])) == 16);  // IHDR bit depth
    for (const std::string& needle : std::vector<std::string>{
             "\"program\": \"nst-batch\"", "\"content\": \"" + a + "\"", "\"styles\": [\"" + s + "\"]",
          "\"output\": \"" + (dir / "out/a__s.png") + "\"", "\"size\": 40", "\"normalize_gradients\": true",
          "\"lbfgs_history\": 3", "\"pyramid_levels\": 2", "\"content_layer_weights\": [1]", "\"init_noise\": 0.3", "\"seed\": 7",
          "\"adam_beta1\": 0.8", "\"model\": \"vgg19\"", "\"weights_preprocessing\": \"caffe\"",
          "\"colors\": \"luminance\"", "\"bit_depth\": 16", "\"content_weight\": 5"}) {
        INFO("looking for " << needle);
        CHECK(has(png, needle));
    }

    // The flags make a difference: without them the image is another.
    const outcome plain = run_batch(dir, {"--contents", a, "--styles", s, "--output-dir", dir / "plain", "--weights",
                                          nst::test::weights_path(data), "--size", "40", "-i", "4", "--threads", "1",
                                          "-q"});
    REQUIRE(plain.code == 0);
    CHECK(nst::test::max_abs_diff(nst::load_image(dir / "plain/a__s.png"), expected) > 2.0f);
}

TEST_CASE("batch: a manifest's masks (alpha as coverage) and colours are its job's, as nst's flags, a missing mask fails its job",
          "[cli][batch][data]") {
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    const std::string a = make_image(dir, "a.png", 1), s = make_image(dir, "s.png", 3);
    // The style's and the content's region: the left half, drawn as a painter's layer does, white
    // on the left and transparent (white underneath) on the right: masks read alpha as coverage.
    std::vector<unsigned char> left(40 * 56 * 2, 255);  // grey, alpha
    for (std::size_t i = 0; i < left.size(); i += 2) left[i + 1] = (i / 2) % 56 < 28 ? 255 : 0;
    REQUIRE(stbi_write_png((dir / "mask.png").c_str(), 56, 40, 2, left.data(), 56 * 2));
    std::ofstream(dir / "jobs.csv") << "content,style,output,content-mask,style-mask,colors\n"
                                       "a.png,s.png,masked.png,mask.png,mask.png,histogram\n"
                                       "a.png,s.png,plain.png,,,\n"
                                       "a.png,s.png,broken.png,missing.png,,\n";
    const outcome r = run_batch(dir, tiny(data, {"--manifest", dir / "jobs.csv", "--output-dir", dir / "out",
                                                 "--report", dir / "r.jsonl"}));
    INFO("stderr: " << r.err);
    REQUIRE(r.code == 1);
    CHECK(fs::exists(dir / "out/plain.png"));
    CHECK_FALSE(fs::exists(dir / "out/broken.png"));
    CHECK(count_with(lines_of(read_text(dir / "r.jsonl")), "missing.png") == 1);
    CHECK(has(r.err, "failed " + (dir / "out/broken.png") + ": " + (dir / "jobs.csv") + " line 4: "));

    const outcome single = run_program(NST_CLI_PATH, tiny(data, {"-c", a, "-s", s, "-o", dir / "nst.png", "-q",
                                                                 "--content-mask", dir / "mask.png", "--style-mask",
                                                                 dir / "mask.png", "--colors", "histogram"}),
                                       dir);
    INFO("nst: " << single.err);
    REQUIRE(single.code == 0);
    const nst::image expected = nst::load_image(dir / "nst.png");
    CHECK(nst::test::max_abs_diff(nst::load_image(dir / "out/masked.png"), expected) == 0.0f);
    CHECK(nst::test::max_abs_diff(nst::load_image(dir / "out/plain.png"), expected) > 2.0f);
    const std::string png = read_text(dir / "out/masked.png");
    CHECK(has(png, "\"content_mask\": \"" + (dir / "mask.png") + "\""));
    CHECK(has(png, "\"colors\": \"histogram\""));
}

TEST_CASE("batch: mpirun -np 2 shares six jobs between both ranks once each, a rerun skips all six",
          "[cli][batch][data][mpi]") {
    const std::string data = nst::test::require_shared_data();
    if (!NST_BATCH_WITH_MPI) nst::test::skip("nst-batch was built without MPI (CMake found none)");
    temp_folder dir;
    const std::vector<std::string> root_ok = mpi_environment();
    const std::vector<std::string> inputs{make_image(dir, "a.png", 1), make_image(dir, "b.png", 2),
                                          make_image(dir, "c.png", 4), make_image(dir, "s.png", 3),
                                          make_image(dir, "t.png", 5)};
    const auto args = tiny(data, {"--oversubscribe", "-np", "2", NST_BATCH_PATH, "--contents", inputs[0], inputs[1],
                                  inputs[2], "--styles", inputs[3], inputs[4], "--output-dir", dir / "out",
                                  "--report", dir / "r.jsonl"});
    const outcome first = run_program(NST_MPIEXEC, args, dir, root_ok);
    INFO("stderr: " << first.err);
    REQUIRE(first.code == 0);
    auto report = lines_of(read_text(dir / "r.jsonl"));
    REQUIRE(report.size() == 6);
    CHECK(count_with(report, "\"status\":\"ok\"") == 6);
    std::set<std::string> outputs;
    for (const auto& line : report) {
        const std::size_t from = line.find("\"output\":"), to = line.find(",\"status\"");
        outputs.insert(line.substr(from, to - from));
    }
    CHECK(outputs.size() == 6);  // each job once
    CHECK(count_with(report, "\"rank\":0") >= 1);
    CHECK(count_with(report, "\"rank\":1") >= 1);
    CHECK(has(first.err, "on 2 ranks"));
    std::size_t images = 0;
    for (const auto& f : fs::directory_iterator(dir / "out")) images += f.path().extension() == ".png";
    CHECK(images == 6);

    const outcome again = run_program(NST_MPIEXEC, args, dir, root_ok);
    INFO("stderr: " << again.err);
    REQUIRE(again.code == 0);
    report = lines_of(read_text(dir / "r.jsonl"));
    REQUIRE(report.size() == 6);
    CHECK(count_with(report, "\"status\":\"skipped\"") == 6);
}

// A build without the bf16 kernel (no AVX512_BF16 at compile time) runs --precision bf16 in fp32
// and says so: once, as nst-batch. Under mpirun every rank said it, as "nst:". Whether this
// build falls back is read from the precision the output records.
// mpirun, stopped, sends every rank SIGTERM and SIGKILL a second later: no rank can finish its job
// or the summary. Each ended by the default action, silently, a write cut short leaving its
// temporary file; now rank 0 says what is kept and every rank ends at once (after a file being
// written is whole).
TEST_CASE("batch: stopped under mpirun, rank 0 says what is kept, every rank ends at once, no temporary is left",
          "[cli][batch][data][mpi]") {
    const std::string data = nst::test::require_shared_data();
    if (!NST_BATCH_WITH_MPI) nst::test::skip("nst-batch was built without MPI (CMake found none)");
    temp_folder dir;
    one_quick_two_long_jobs(dir);
    const spawned p = start_program(NST_MPIEXEC,
                                    {"--oversubscribe", "-np", "2", NST_BATCH_PATH, "--manifest", dir / "jobs.csv",
                                     "--output-dir", dir / "out", "--report", dir / "report.jsonl", "--weights",
                                     nst::test::weights_path(data), "--size", "32", "--threads", "1", "-i", "100000"},
                                    dir, mpi_environment());
    const bool first_done = said_in_time(p, "[1/3] ok");
    INFO("stderr: " << read_text(p.stderr_path));
    REQUIRE(first_done);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // both ranks well into a job
    REQUIRE(kill(p.pid, SIGINT) == 0);  // Ctrl-C: mpirun sends its ranks SIGTERM
    const std::optional<outcome> r = wait_at_most(p, std::chrono::seconds(60));
    REQUIRE(r);
    INFO("stderr: " << r->err);
    CHECK(r->code != 0);
    CHECK(count_with(lines_of(r->err), "nst-batch: terminated by SIGTERM; mpirun ends every rank at once; "
                                       "the jobs reported done are written, the same command again does the rest") == 1);
    const std::string report = read_text(dir / "report.jsonl");
    CHECK(std::count(report.begin(), report.end(), '\n') == 1);
    CHECK(has(report, "\"output\":\"" + (dir / "out/a__s.png") + "\",\"status\":\"ok\""));
    std::vector<std::string> left;
    for (const auto& f : fs::directory_iterator(dir / "out")) left.push_back(f.path().filename().string());
    CHECK(left == std::vector<std::string>{"a__s.png"});  // no unfinished image, no temporary file
}

TEST_CASE("batch: --precision bf16 in a build without it warns once, as nst-batch, alone and under mpirun -np 2",
          "[cli][batch][data][mpi]") {
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    const std::string a = make_image(dir, "a.png", 1), s = make_image(dir, "s.png", 3);
    const std::string warning = "warning: --precision bf16 needs AVX512_BF16";
    const auto check = [&](const outcome& r, const std::string& output) {
        INFO("stderr: " << r.err);
        REQUIRE(r.code == 0);
        const std::string png = read_text(output);
        const bool fell_back = has(png, "\"precision\": \"fp32\"");
        CHECK((fell_back || has(png, "\"precision\": \"bf16\"")));
        std::size_t said = 0;
        for (std::size_t at = r.err.find(warning); at != std::string::npos; at = r.err.find(warning, at + 1)) ++said;
        CHECK(said == (fell_back ? 1u : 0u));
        CHECK(has(r.err, "nst-batch: " + warning) == fell_back);
        CHECK_FALSE(has(r.err, "nst: "));
    };
    check(run_batch(dir, tiny(data, {"--contents", a, "--styles", s, "--output-dir", dir / "alone", "--precision",
                                     "bf16"})),
          dir / "alone/a__s.png");
    if (!NST_BATCH_WITH_MPI) nst::test::skip("nst-batch was built without MPI (CMake found none)");
    check(run_program(NST_MPIEXEC,
                      tiny(data, {"--oversubscribe", "-np", "2", NST_BATCH_PATH, "--contents", a, "--styles", s,
                                  "--output-dir", dir / "mpi", "--precision", "bf16"}),
                      dir, mpi_environment()),
          dir / "mpi/a__s.png");
}

// The same under mpirun: a worker's full disk reaches rank 0 in its record, which closes the queue.
TEST_CASE("batch: under mpirun an output that meets a full disk stops the batch on every rank",
          "[cli][batch][data][mpi]") {
    const std::string data = nst::test::require_shared_data();
    if (!NST_BATCH_WITH_MPI) nst::test::skip("nst-batch was built without MPI (CMake found none)");
    temp_folder dir;
    std::vector<std::string> contents;
    for (int i = 0; i < 6; ++i) contents.push_back(make_image(dir, "c" + std::to_string(i) + ".png", i + 1));
    const std::string s = make_image(dir, "s.png", 9);
    const std::string out = (fs::canonical(dir.path) / "out").string();
    fs::create_directory(out);
    std::vector<std::string> args{"--oversubscribe", "-np", "2", NST_BATCH_PATH, "--contents"};
    args.insert(args.end(), contents.begin(), contents.end());
    args.insert(args.end(), {"--styles", s, "--output-dir", out, "--report", dir / "r.jsonl"});
    std::vector<std::string> env = nst::test::with_shim({"NST_FULL_DISK=" + out});
    for (std::string& e : env)
        if (e.compare(0, 13, "ASAN_OPTIONS=") == 0) e += ":detect_leaks=0";  // as mpi_environment
    for (const std::string& e : mpi_environment())
        if (e.compare(0, 13, "ASAN_OPTIONS=") != 0) env.push_back(e);
    const std::optional<outcome> r = wait_at_most(start_program(NST_MPIEXEC, tiny(data, args), dir, env),
                                                  std::chrono::minutes(3));
    REQUIRE(r);
    INFO("stderr: " << r->err);
    CHECK(r->code != 0);
    // Each rank's first job fails; rank 0's own thread may have taken one more before the close.
    const std::size_t failed = count_with(lines_of(r->err), "] failed ");
    CHECK(failed >= 1);
    CHECK(failed <= 3);
    CHECK(has(r->err, "met a full disk or quota: 0 done, 0 skipped, " + std::to_string(failed) + " failed, " +
                          std::to_string(6 - failed) + " not started"));
    CHECK(nst::test::temporaries_in(out) == 0);
}

TEST_CASE("batch: under mpirun a setup that fails on one rank only is refused (exit 2), the run does not hang",
          "[cli][batch][data][mpi]") {
    const std::string data = nst::test::require_shared_data();
    if (!NST_BATCH_WITH_MPI) nst::test::skip("nst-batch was built without MPI (CMake found none)");
    temp_folder dir;
    const std::string a = make_image(dir, "a.png", 1), s = make_image(dir, "s.png", 3);
    std::ofstream(dir / "taken") << "a file";  // in the way of the folder
    // Rank 0 alone makes the folder: its failure skipped a broadcast the other rank made, which
    // then waited forever (as did rank 0, in the next collective).
    const spawned p = start_program(NST_MPIEXEC,
                                    tiny(data, {"--oversubscribe", "-np", "2", NST_BATCH_PATH, "--contents", a,
                                                "--styles", s, "--output-dir", dir / "taken/sub"}),
                                    dir, mpi_environment());
    const std::optional<outcome> r = wait_at_most(p, std::chrono::minutes(3));  // a watchdog, not a timing
    REQUIRE(r);
    INFO("stderr: " << r->err);
    CHECK(r->code == 2);
    CHECK(has(r->err, "nst-batch: error: cannot create the folder '" + (dir / "taken/sub") +
                          "' for --output-dir: Not a directory"));
    CHECK(r->err.find("nst-batch: error:") == r->err.rfind("nst-batch: error:"));  // said once
    CHECK_FALSE(has(r->err, "another job list"));

    // The other way round: rank 1 alone refuses its command line (mpirun's MPMD form gives each
    // rank its own), rank 0 is fine. Open MPI aborted the run with MPI_ERR_TRUNCATE, no message.
    // No job ran: the last run's report is kept (rank 0 had emptied it) and no folder made.
    std::ofstream(dir / "r.jsonl") << "the last run's report\n";
    const std::vector<std::string> job{"--contents", a, "--styles", s, "--output-dir", dir / "out", "--report",
                                       dir / "r.jsonl"};
    std::vector<std::string> args = tiny(data, [&] {
        std::vector<std::string> first{"--oversubscribe", "-np", "1", NST_BATCH_PATH};
        first.insert(first.end(), job.begin(), job.end());
        return first;
    }());
    args.insert(args.end(), {":", "-np", "1", NST_BATCH_PATH});
    args.insert(args.end(), job.begin(), job.end());
    args.insert(args.end(), {"--weights", nst::test::weights_path(data), "--size", "8"});
    const std::optional<outcome> one = wait_at_most(start_program(NST_MPIEXEC, args, dir, mpi_environment()),
                                                    std::chrono::minutes(3));
    REQUIRE(one);
    INFO("stderr: " << one->err);
    CHECK(one->code == 2);
    CHECK(has(one->err, "nst-batch: error: --size: size must be at least 16 pixels, got 8"));
    CHECK(one->err.find("nst-batch: error:") == one->err.rfind("nst-batch: error:"));
    CHECK(read_text(dir / "r.jsonl") == "the last run's report\n");
    CHECK_FALSE(fs::exists(dir / "out"));
}

// Outputs a user can trust: a folder that takes no files, a write-protected output and a signal
// during the setup are dealt with before any job's work.
TEST_CASE("batch: an --output-dir that takes no files (/proc) is refused before any job", "[cli][batch][data]") {
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    const std::string img = make_image(dir, "a.png", 1);
    // access() lets root "write" into /proc: every job failed, each after its work.
    const outcome r = run_batch(dir, tiny(data, {"--contents", img, "--styles", img, "--output-dir", "/proc"}));
    INFO("stderr: " << r.err);
    CHECK(r.code == 2);
    CHECK(r.err == "nst-batch: error: --output-dir '/proc': cannot create files in it: No such file or directory\n");
}

TEST_CASE("batch: --overwrite fails a job whose output is write-protected before its work, and keeps it",
          "[cli][batch][data]") {
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    make_image(dir, "a.png", 1);
    make_image(dir, "s.png", 3);
    fs::create_directory(dir.path / "out");
    std::ofstream(dir / "out/a__s.png") << "kept";
    fs::permissions(dir.path / "out/a__s.png", fs::perms(0444));
    const outcome r = run_batch(
        dir, tiny(data, {"--contents", dir / "a.png", "--styles", dir / "s.png", "--output-dir", dir / "out",
                         "--overwrite"}));
    INFO("stderr: " << r.err);
    CHECK(r.code == 1);
    CHECK(has(r.err, "a__s.png' exists and is write-protected (mode 0444)"));
    CHECK(read_text(dir / "out/a__s.png") == "kept");
}

TEST_CASE("batch: Ctrl-C while the setup reads its inputs stops before any job, writes nothing, exit 130",
          "[cli][batch][data]") {
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    const std::string slow = (fs::canonical(dir.path) / "slow").string();
    fs::create_directory(slow);
    make_image(dir, "a.png", 1);
    make_image(dir, "s.png", 3);
    const std::string init = make_image(dir, "slow/init.png", 2);
    // The preloaded shim makes each read of the --init image wait 2 s: the signal arrives while
    // the setup reads it. It killed nst-batch there (no handler yet), with no word of what happened.
    const spawned p = start_program(NST_BATCH_PATH,
                                    tiny(data, {"--contents", dir / "a.png", "--styles", dir / "s.png", "--init", init,
                                                "--output-dir", dir / "out", "--report", dir / "r.jsonl"}),
                                    dir, nst::test::with_shim({"NST_SLOW_READS=" + slow, "NST_FULL_DISK_PAUSE_MS=2000"}));
    const bool reading = nst::test::signal_while_open(p.pid, slow + "/init.png", SIGINT);
    const outcome r = wait_for(p);
    INFO("stderr: " << r.err);
    REQUIRE(reading);
    CHECK(r.code == 130);
    CHECK(has(r.err, "nst-batch: interrupted, stopping before the first job"));
    CHECK(has(r.err, "nst-batch: interrupted before the first job; nothing written"));
    CHECK_FALSE(fs::exists(dir / "out"));
    CHECK_FALSE(fs::exists(dir / "r.jsonl"));
}

// What an unattended run on a server needs: a hint when it runs slow, a report that survives a
// crash as the outputs do, replaced outputs that stay their owner's.
TEST_CASE("batch: OpenBLAS running its generic kernels is warned about once, as nst warns, alone and under mpirun",
          "[cli][batch][data][mpi]") {
    // OpenBLAS 0.3.21 runs its generic kernels on CPUs it does not know (2-4x slower BLAS). nst
    // said so; nst-batch said nothing, and a batch server was slow for hours with no hint.
    // OPENBLAS_CORETYPE forces a generic set; OpenBLAS is preloaded, as a build for AVX-512 does
    // not load it at all.
    const std::string data = nst::test::require_shared_data();
    if (std::string(NST_OPENBLAS_LIBRARY).empty()) nst::test::skip("the BLAS is not OpenBLAS");
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2")) nst::test::skip("the warning is for AVX2 and AVX-512 CPUs");
    temp_folder dir;
    const std::string a = make_image(dir, "a.png", 1), s = make_image(dir, "s.png", 3);
    const char* asan = std::getenv("ASAN_OPTIONS");
    const std::vector<std::string> env{"LD_PRELOAD=" NST_OPENBLAS_LIBRARY, "OPENBLAS_CORETYPE=Prescott",
                                       "ASAN_OPTIONS=" + std::string(asan ? asan : "") + ":verify_asan_link_order=0"};
    const std::string warning = "warning: OpenBLAS runs its generic 'Prescott' kernels on this ";
    const auto said_once = [&](const outcome& r, const std::string& who) {
        INFO("stderr: " << r.err);
        CHECK(r.code == 0);
        CHECK(has(r.err, who + ": " + warning));
        CHECK(r.err.find(warning) == r.err.rfind(warning));
        CHECK(has(r.err, "OPENBLAS_CORETYPE="));  // the fix, named
    };
    said_once(run_program(NST_BATCH_PATH, tiny(data, {"--contents", a, "--styles", s, "--output-dir", dir / "alone",
                                                      "-q"}),
                          dir, env),
              "nst-batch");
    if (!NST_BATCH_WITH_MPI) nst::test::skip("nst-batch was built without MPI (CMake found none)");
    // Each host's OpenBLAS is its own: said by the first rank of each host, naming it (here one).
    char host[256] = {};
    REQUIRE(gethostname(host, sizeof host - 1) == 0);
    std::vector<std::string> mpi_env = mpi_environment();  // (its ASAN_OPTIONS last)
    mpi_env.back() += ":verify_asan_link_order=0";
    mpi_env.insert(mpi_env.end(), env.begin(), env.end() - 1);
    said_once(run_program(NST_MPIEXEC,
                          tiny(data, {"--oversubscribe", "-np", "2", NST_BATCH_PATH, "--contents", a, "--styles", s,
                                      "--output-dir", dir / "mpi", "-q"}),
                          dir, mpi_env),
              "nst-batch on " + std::string(host));
}

namespace nst_batch_test {

// The calls NST_SYNC_LOG recorded (full_disk_shim.cpp), one a line.
std::vector<std::string> logged_calls(const std::string& log) { return lines_of(read_text(log)); }

}  // namespace nst_batch_test

TEST_CASE("batch: each --report line is synced to disk when its job ends, after the job's output",
          "[cli][batch][data]") {
    // The outputs are synced before their rename; the report was a stream flushed to the page
    // cache and never synced: after a power loss its last lines could be missing while their
    // images were on disk.
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    const std::string folder = fs::canonical(dir.path).string();
    const std::string a = make_image(dir, "a.png", 1), b = make_image(dir, "b.png", 2), s = make_image(dir, "s.png", 3);
    const std::string log = folder + "/calls.txt", report = folder + "/r.jsonl";
    const outcome r = run_program(NST_BATCH_PATH,
                                  tiny(data, {"--contents", a, b, "--styles", s, "--output-dir", folder + "/out",
                                              "--report", report}),
                                  dir, nst::test::with_shim({"NST_SYNC_LOG=" + log}));
    INFO("stderr: " << r.err);
    REQUIRE(r.code == 0);
    const std::vector<std::string> calls = logged_calls(log);
    INFO("calls: " << read_text(log));
    const auto renamed_to = [&](const std::string& output) {
        const std::string suffix = " " + folder + "/out/" + output;
        return std::find_if(calls.begin(), calls.end(), [&](const std::string& c) {
            return c.rfind("rename ", 0) == 0 && c.size() > suffix.size() &&
                   c.compare(c.size() - suffix.size(), suffix.size(), suffix) == 0;
        });
    };
    const auto first = renamed_to("a__s.png"), second = renamed_to("b__s.png");
    REQUIRE(first < second);
    REQUIRE(second != calls.end());
    // Each job's line synced after its image is in place, before the next job's image is.
    CHECK(std::find(first, second, "fsync " + report) != second);
    CHECK(std::find(second, calls.end(), "fsync " + report) != calls.end());
    CHECK(lines_of(read_text(report)).size() == 2);
}

TEST_CASE("batch: --overwrite keeps the owner and group of the output it replaces", "[cli][batch][data]") {
    // Its permission bits were kept, not its owner: `sudo nst-batch --overwrite` in a user's
    // folder left root-owned outputs that the user's next run refused as write-protected.
    if (geteuid() != 0) nst::test::skip("needs root, to make an output another user owns");
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    make_image(dir, "a.png", 1);
    make_image(dir, "s.png", 3);
    fs::create_directory(dir.path / "out");
    const std::string output = dir / "out/a__s.png";
    std::ofstream(output) << "the last run's image";
    const uid_t owner = 12345;
    const gid_t group = 23456;
    REQUIRE(chown(output.c_str(), owner, group) == 0);
    REQUIRE(chmod(output.c_str(), 0640) == 0);
    const outcome r = run_batch(dir, tiny(data, {"--contents", dir / "a.png", "--styles", dir / "s.png",
                                                 "--output-dir", dir / "out", "--overwrite"}));
    INFO("stderr: " << r.err);
    REQUIRE(r.code == 0);
    struct stat replaced {};
    REQUIRE(stat(output.c_str(), &replaced) == 0);
    CHECK(replaced.st_uid == owner);
    CHECK(replaced.st_gid == group);
    CHECK((replaced.st_mode & 07777) == 0640);
    CHECK(nst::load_image(output).shape(1) == 32);  // the new image
}

TEST_CASE("batch: a weights file nst does not know is named once with its SHA-256, as nst names it, with -q too",
          "[cli][batch][data]") {
    // nst said so; nst-batch wrote a batch of outputs from an unnamed file without a word.
    const std::string data = nst::test::require_shared_data();
    temp_folder dir;
    const std::string a = make_image(dir, "a.png", 1), s = make_image(dir, "s.png", 3);
    const std::string weights = dir / "changed.h5";  // the known file with bytes after its end: another file
    fs::copy_file(nst::test::weights_path(data), weights);
    fs::permissions(weights, fs::perms::owner_write, fs::perm_options::add);
    std::ofstream(weights, std::ios::binary | std::ios::app) << "sixteen bytes...";
    std::vector<std::string> args = tiny(data, {"--contents", a, "--styles", s, "--output-dir", dir / "out", "-q"});
    args[std::size_t(std::find(args.begin(), args.end(), "--weights") - args.begin()) + 1] = weights;
    const outcome r = run_batch(dir, args);
    INFO("stderr: " << r.err);
    CHECK(r.code == 0);
    const std::string notice = "nst-batch: notice: the weights file " + weights + " is not one nst knows (SHA-256 ";
    CHECK(has(r.err, notice));
    CHECK(r.err.find(notice) == r.err.rfind(notice));
    const outcome known = run_batch(dir, tiny(data, {"--contents", a, "--styles", s, "--output-dir", dir / "out2"}));
    INFO("stderr: " << known.err);
    CHECK(known.code == 0);
    CHECK_FALSE(has(known.err, "is not one nst knows"));
}
