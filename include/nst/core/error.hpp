// nst's exceptions. Every message names what was being read or computed, what was expected and
// what was found, so a user can act on it without a debugger.
#pragma once

#include <stdexcept>
#include <string>

namespace nst {

// Base of everything nst throws.
class error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A tensor of the wrong shape reached a layer, loss or optimizer.
class shape_error : public error {
public:
    using error::error;
};

// An argument outside its documented domain (unknown layer name, non-positive size, ...).
class invalid_argument : public error {
public:
    using error::error;
};

// An optimizer was started where the loss or its gradient is not finite: nothing to improve on.
class non_finite_start : public invalid_argument {
public:
    using invalid_argument::invalid_argument;
};

// A file could not be read or written, or its content is not what it claims to be.
// system_error(): the errno of the failed system call behind it, where there was one (ENOSPC: the
// disk is full, which a batch should not meet again on every later output), else 0.
class io_error : public error {
public:
    explicit io_error(const std::string& what, int system_error = 0) : error(what), system_error_(system_error) {}
    int system_error() const noexcept { return system_error_; }

private:
    int system_error_;
};

}  // namespace nst
