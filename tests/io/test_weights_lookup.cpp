// Where the VGG19 weights are looked for (io/weights_lookup.hpp): an explicit path, then
// $NST_WEIGHTS, Keras' cache under $HOME, PyTorch's cache ($TORCH_HOME, $XDG_CACHE_HOME, $HOME),
// Hugging Face's cache ($HF_HUB_CACHE, $HF_HOME, ...), ./models/, the data directory; the first existing file wins, and
// the error lists every place looked at. Files and environment are made up in a scratch folder.
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>

#include <catch2/catch.hpp>

#include <nst/io/weights_lookup.hpp>

#include "temp_folder.hpp"

using nst::test::temp_folder;

namespace {

// Sets (or, with nullopt, unsets) an environment variable for its lifetime.
class scoped_env {
public:
    scoped_env(const char* name, const std::optional<std::string>& value) : name_(name) {
        if (const char* before = std::getenv(name)) before_ = before;
        if (value) setenv(name, value->c_str(), 1);
        else unsetenv(name);
    }
    ~scoped_env() {
        if (before_) setenv(name_, before_->c_str(), 1);
        else unsetenv(name_);
    }
    scoped_env(const scoped_env&) = delete;
    scoped_env& operator=(const scoped_env&) = delete;

private:
    const char* name_;
    std::optional<std::string> before_;
};

std::string touch(const std::string& path) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path) << "weights";
    return path;
}

}  // namespace

TEST_CASE("weights lookup: the first existing candidate wins, in the documented order",
          "[io][weights_lookup]") {
    const temp_folder tmp;
    const std::string home = tmp / "home", data = tmp / "data";
    const std::string keras_cache = home + "/.keras/models/" + nst::keras_vgg19_notop_file;
    const std::string data_nst = data + "/weights/vgg19_imagenet_notop.h5";
    const std::string data_keras = data + "/weights/" + nst::keras_vgg19_notop_file;
    const std::string hub = home + "/.cache/torch/hub/checkpoints";
    const std::string hf = home + "/.cache/huggingface/hub/models--timm--vgg19.tv_in1k/snapshots";
    const scoped_env no_env("NST_WEIGHTS", std::nullopt);
    const scoped_env fake_home("HOME", home);
    const scoped_env no_torch_home("TORCH_HOME", std::nullopt);
    const scoped_env no_xdg("XDG_CACHE_HOME", std::nullopt);
    const scoped_env no_hf_home("HF_HOME", std::nullopt);
    const scoped_env no_hf_hub_cache("HF_HUB_CACHE", std::nullopt);
    const std::filesystem::path cwd = std::filesystem::current_path();
    std::filesystem::current_path(tmp.path);  // ./models/ is relative to the working folder

    const auto candidates = nst::vgg19_weights_candidates(data);
    REQUIRE(candidates.size() == 9);
    CHECK(candidates[0].path.empty());  // $NST_WEIGHTS unset
    CHECK(candidates[1].path == keras_cache);
    CHECK(candidates[2].path == hub + "/vgg19-dcbb9e9d.pth");
    CHECK(candidates[3].path == hub + "/vgg19-d01eb7cb.pth");
    CHECK(candidates[4].path == hf + "/*/model.safetensors");  // none there yet
    CHECK(candidates[5].path == "models/vgg19-d01eb7cb.pth");
    CHECK(candidates[6].path == "models/VGG_ILSVRC_19_layers.caffemodel");
    CHECK(candidates[7].path == data_nst);
    CHECK(candidates[8].path == data_keras);
    CHECK(nst::vgg19_weights_candidates("").size() == 7);

    touch(data_keras);
    CHECK(nst::find_vgg19_weights("", data) == data_keras);
    touch(data_nst);
    CHECK(nst::find_vgg19_weights("", data) == data_nst);
    touch(tmp / "models/VGG_ILSVRC_19_layers.caffemodel");
    CHECK(nst::find_vgg19_weights("", data) == "models/VGG_ILSVRC_19_layers.caffemodel");
    touch(tmp / "models/vgg19-d01eb7cb.pth");
    CHECK(nst::find_vgg19_weights("", data) == "models/vgg19-d01eb7cb.pth");
    touch(hf + "/0123abcd/model.safetensors");
    CHECK(nst::find_vgg19_weights("", data) == hf + "/0123abcd/model.safetensors");
    touch(hub + "/vgg19-d01eb7cb.pth");
    CHECK(nst::find_vgg19_weights("", data) == hub + "/vgg19-d01eb7cb.pth");
    touch(hub + "/vgg19-dcbb9e9d.pth");
    CHECK(nst::find_vgg19_weights("", data) == hub + "/vgg19-dcbb9e9d.pth");
    std::filesystem::current_path(cwd);
    touch(keras_cache);
    CHECK(nst::find_vgg19_weights("", data) == keras_cache);
    const std::string from_env = touch(tmp / "env.h5");
    {
        const scoped_env env("NST_WEIGHTS", from_env);
        CHECK(nst::find_vgg19_weights("", data) == from_env);
        const std::string explicit_path = touch(tmp / "explicit.h5");
        CHECK(nst::find_vgg19_weights(explicit_path, data) == explicit_path);
    }
}

TEST_CASE("weights lookup: a missing explicit path is the error, never skipped",
          "[io][weights_lookup][errors]") {
    const temp_folder tmp;
    const std::string data = tmp / "data";
    touch(data + "/weights/vgg19_imagenet_notop.h5");  // would be found without the explicit path
    CHECK_THROWS_AS(nst::find_vgg19_weights(tmp / "missing.h5", data), nst::io_error);
    CHECK_THROWS_WITH(nst::find_vgg19_weights(tmp / "missing.h5", data),
                      Catch::Contains(tmp / "missing.h5") && Catch::Contains("does not exist"));
    CHECK_THROWS_WITH(nst::find_vgg19_weights(data, data), Catch::Contains("is not a regular file"));
}

TEST_CASE("weights lookup: a set $NST_WEIGHTS that is not a file is the error, never skipped",
          "[io][weights_lookup][errors]") {
    const temp_folder tmp;
    const std::string data = tmp / "data";
    touch(data + "/weights/vgg19_imagenet_notop.h5");  // would be found without $NST_WEIGHTS
    {
        const scoped_env typo("NST_WEIGHTS", tmp / "my_vgg16.pth");
        CHECK_THROWS_WITH(nst::find_vgg19_weights("", data),
                          Catch::Contains("VGG19 weights file '" + tmp / "my_vgg16.pth" +
                                          "' (from $NST_WEIGHTS; unset it to look in the usual places) does not exist"));
        const std::string explicit_path = touch(tmp / "explicit.h5");  // --weights still comes first
        CHECK(nst::find_vgg19_weights(explicit_path, data) == explicit_path);
    }
    {
        const scoped_env folder("NST_WEIGHTS", tmp.path.string());
        CHECK_THROWS_WITH(nst::find_vgg19_weights("", data), Catch::Contains("is not a regular file"));
    }
    const scoped_env empty("NST_WEIGHTS", std::string());  // set but empty: as unset
    CHECK(nst::find_vgg19_weights("", data) == data + "/weights/vgg19_imagenet_notop.h5");
}

TEST_CASE("weights lookup: nothing found lists every place looked at and how to get the file",
          "[io][weights_lookup][errors]") {
    const temp_folder tmp;
    const std::string home = tmp / "home", data = tmp / "data";
    const scoped_env no_env("NST_WEIGHTS", std::nullopt);
    const scoped_env fake_home("HOME", home);
    const scoped_env torch_home("TORCH_HOME", tmp / "torch");
    const scoped_env no_hf_home("HF_HOME", std::nullopt);
    const scoped_env no_hf_hub_cache("HF_HUB_CACHE", std::nullopt);
    std::string message;
    try {
        nst::find_vgg19_weights("", data);
    } catch (const nst::io_error& e) {
        message = e.what();
    }
    INFO(message);
    CHECK(message.find("$NST_WEIGHTS (not set)") != std::string::npos);
    CHECK(message.find(home + "/.keras/models/" + nst::keras_vgg19_notop_file) != std::string::npos);
    CHECK(message.find(data + "/weights/vgg19_imagenet_notop.h5") != std::string::npos);
    CHECK(message.find("cmake/fetch_weights.cmake") != std::string::npos);
    CHECK(message.find("PyTorch cache " + tmp / "torch/hub/checkpoints/vgg19-dcbb9e9d.pth") != std::string::npos);
    CHECK(message.find(nst::keras_vgg19_notop_url) != std::string::npos);
    CHECK(message.find(nst::torchvision_vgg19_url) != std::string::npos);
    CHECK(message.find("./models models/vgg19-d01eb7cb.pth") != std::string::npos);
    CHECK(message.find("Hugging Face cache " + home +
                       "/.cache/huggingface/hub/models--timm--vgg19.tv_in1k/snapshots/*/model.safetensors") !=
          std::string::npos);
    CHECK(message.find("timm/vgg19.tv_in1k") != std::string::npos);

    const scoped_env no_home("HOME", std::nullopt);
    const scoped_env no_torch_home("TORCH_HOME", std::nullopt);
    const scoped_env no_xdg("XDG_CACHE_HOME", std::nullopt);
    CHECK_THROWS_WITH(nst::find_vgg19_weights("", ""),
                      Catch::Contains("Keras cache (not set)") && Catch::Contains("PyTorch cache (not set)") &&
                          Catch::Contains("Hugging Face cache (not set)") &&
                          Catch::Contains("data directory (not set)"));
}

TEST_CASE("weights lookup: PyTorch's cache follows TORCH_HOME, then XDG_CACHE_HOME", "[io][weights_lookup]") {
    const temp_folder tmp;
    const scoped_env fake_home("HOME", tmp / "home");
    {
        const scoped_env torch_home("TORCH_HOME", tmp / "th");
        const scoped_env xdg("XDG_CACHE_HOME", tmp / "xdg");
        CHECK(nst::torch_hub_checkpoints() == tmp / "th/hub/checkpoints");
    }
    const scoped_env no_torch_home("TORCH_HOME", std::nullopt);
    {
        const scoped_env xdg("XDG_CACHE_HOME", tmp / "xdg");
        CHECK(nst::torch_hub_checkpoints() == tmp / "xdg/torch/hub/checkpoints");
    }
    const scoped_env no_xdg("XDG_CACHE_HOME", std::nullopt);
    CHECK(nst::torch_hub_checkpoints() == tmp / "home/.cache/torch/hub/checkpoints");
}

TEST_CASE("weights lookup: Hugging Face's cache follows HF_HUB_CACHE, HF_HOME, XDG_CACHE_HOME and refs/main",
          "[io][weights_lookup]") {
    const temp_folder tmp;
    const scoped_env fake_home("HOME", tmp / "home");
    const scoped_env no_hf_home("HF_HOME", std::nullopt);
    const scoped_env no_hf_hub_cache("HF_HUB_CACHE", std::nullopt);
    const scoped_env no_xdg("XDG_CACHE_HOME", std::nullopt);
    const scoped_env no_env("NST_WEIGHTS", std::nullopt);
    const scoped_env no_torch_home("TORCH_HOME", std::nullopt);
    CHECK(nst::hugging_face_hub_cache() == tmp / "home/.cache/huggingface/hub");
    {
        const scoped_env xdg("XDG_CACHE_HOME", tmp / "xdg");
        CHECK(nst::hugging_face_hub_cache() == tmp / "xdg/huggingface/hub");
        const scoped_env hf_home("HF_HOME", tmp / "hf");
        CHECK(nst::hugging_face_hub_cache() == tmp / "hf/hub");
        const scoped_env hub_cache("HF_HUB_CACHE", tmp / "hc");
        CHECK(nst::hugging_face_hub_cache() == tmp / "hc");
    }
    // Two revisions: the first by name until refs/main names the other.
    const std::string repo = tmp / "home/.cache/huggingface/hub/models--timm--vgg19.tv_in1k";
    const std::string older = touch(repo + "/snapshots/aaaa/model.safetensors");
    const std::string newer = touch(repo + "/snapshots/bbbb/model.safetensors");
    touch(repo + "/snapshots/0000/config.json");  // a revision without the weights
    const std::string hub = nst::hugging_face_hub_cache();
    CHECK(nst::hugging_face_cached_file(hub, "timm/vgg19.tv_in1k") == older);
    std::filesystem::create_directories(repo + "/refs");
    std::ofstream(repo + "/refs/main") << "bbbb";
    CHECK(nst::hugging_face_cached_file(hub, "timm/vgg19.tv_in1k") == newer);
    CHECK(nst::find_vgg19_weights("", "") == newer);
    std::filesystem::remove(newer);  // refs/main's revision lacks it: the others are looked at
    CHECK(nst::hugging_face_cached_file(hub, "timm/vgg19.tv_in1k") == older);
}
