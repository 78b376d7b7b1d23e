// Reading the reference file written by make_reference.py (plain HDF5 calls, no loader code):
// what VGG19, the losses and the image gradient give in PyTorch float64 on the shared weights.
#pragma once

#include <hdf5.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <nst/io/keras_weights.hpp>
#include <nst/nst.hpp>

namespace nst::test {

namespace h5 = nst::detail::hdf5;

inline std::string reference_path() { return std::string(NST_TEST_SOURCE_DIR) + "/reference/vgg19_reference.h5"; }

struct reference_file {
    h5::handle file;
    reference_file()
        : file(h5::checked(H5Fopen(reference_path().c_str(), H5F_ACC_RDONLY, H5P_DEFAULT),
                           H5Fclose, "open " + reference_path())) {}

    // Dataset as double, with its dimensions.
    std::vector<double> read(const std::string& name, std::vector<hsize_t>& dims) const {
        h5::handle ds = h5::checked(H5Dopen2(file, name.c_str(), H5P_DEFAULT), H5Dclose, name);
        h5::handle space = h5::checked(H5Dget_space(ds), H5Sclose, name);
        dims.assign(std::size_t(H5Sget_simple_extent_ndims(space)), 0);
        H5Sget_simple_extent_dims(space, dims.data(), nullptr);
        std::vector<double> values(std::size_t(H5Sget_simple_extent_npoints(space)));
        REQUIRE(H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) >= 0);
        return values;
    }
    double scalar(const std::string& name) const {
        std::vector<hsize_t> dims;
        const auto v = read(name, dims);
        REQUIRE(v.size() == 1);
        return v[0];
    }
    template <std::size_t N> xt::xtensor<double, N> tensor(const std::string& name) const {
        std::vector<hsize_t> dims;
        const auto v = read(name, dims);
        REQUIRE(dims.size() == N);
        std::array<std::size_t, N> shape{};
        std::copy(dims.begin(), dims.end(), shape.begin());
        return xt::adapt(v, shape);
    }
    std::vector<double> attribute(const std::string& name) const {
        h5::handle attr = h5::checked(H5Aopen(file, name.c_str(), H5P_DEFAULT), H5Aclose, name);
        h5::handle space = h5::checked(H5Aget_space(attr), H5Sclose, name);
        std::vector<double> values(std::size_t(H5Sget_simple_extent_npoints(space)));
        REQUIRE(H5Aread(attr, H5T_NATIVE_DOUBLE, values.data()) >= 0);
        return values;
    }
};

}  // namespace nst::test
