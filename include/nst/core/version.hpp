// nst's version (also read by CMakeLists.txt).
#pragma once

#define NST_VERSION_MAJOR 0
#define NST_VERSION_MINOR 1
#define NST_VERSION_PATCH 0
#define NST_VERSION_STRING "0.1.0"
