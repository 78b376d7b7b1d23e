# Downloads Keras' published VGG19 "notop" weights (about 80 MB, float32, the ImageNet weights of
# Simonyan & Zisserman, CC BY) and verifies their MD5 checksum.
#
#   cmake -P cmake/fetch_weights.cmake                    # into ~/.keras/models (where nst looks)
#   cmake -DDIR=/some/folder -P cmake/fetch_weights.cmake # anywhere else (then pass --weights)
#
# The file is downloaded to a temporary name and renamed only after the checksum matched, so an
# interrupted or offline run never leaves a partial weights file behind. An existing file with
# the right checksum is kept as it is.
cmake_minimum_required(VERSION 3.16)

set(_name "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5")
set(_url "https://storage.googleapis.com/tensorflow/keras-applications/vgg19/${_name}")
set(_md5 "253f8cb515780f3b799900260a226db6")

if(NOT DIR)
  if(DEFINED ENV{HOME})
    set(DIR "$ENV{HOME}/.keras/models")
  elseif(DEFINED ENV{USERPROFILE})
    set(DIR "$ENV{USERPROFILE}/.keras/models")
  else()
    message(FATAL_ERROR "fetch_weights: no home folder; pass -DDIR=<folder>")
  endif()
endif()
set(_target "${DIR}/${_name}")

if(EXISTS "${_target}")
  file(MD5 "${_target}" _have)
  if(_have STREQUAL _md5)
    message(STATUS "fetch_weights: ${_target} is already present (MD5 ${_md5} verified)")
    return()
  endif()
  message(STATUS "fetch_weights: ${_target} has MD5 ${_have}, expected ${_md5}: downloading it again")
endif()

file(MAKE_DIRECTORY "${DIR}")
set(_partial "${_target}.part")
message(STATUS "fetch_weights: downloading ${_url}")
file(DOWNLOAD "${_url}" "${_partial}" STATUS _status SHOW_PROGRESS INACTIVITY_TIMEOUT 60)
list(GET _status 0 _code)
list(GET _status 1 _reason)
if(NOT _code EQUAL 0)
  file(REMOVE "${_partial}")
  message(FATAL_ERROR
    "fetch_weights: could not download ${_url} (${_reason}, curl code ${_code}). "
    "This machine looks offline or cannot reach storage.googleapis.com. "
    "Download the file on a connected machine, copy it to ${_target} "
    "(or anywhere, then run nst with --weights PATH or set NST_WEIGHTS=PATH), and check: "
    "md5sum ${_name} should print ${_md5}.")
endif()

file(MD5 "${_partial}" _got)
if(NOT _got STREQUAL _md5)
  file(REMOVE "${_partial}")
  message(FATAL_ERROR "fetch_weights: the downloaded file has MD5 ${_got}, expected ${_md5} "
                      "(incomplete download or a different file); nothing was kept")
endif()
file(RENAME "${_partial}" "${_target}")
message(STATUS "fetch_weights: wrote ${_target} (MD5 ${_md5} verified)")
