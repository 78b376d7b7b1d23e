// How the programs' OpenMP threads wait: asleep at once (OMP_WAIT_POLICY=passive) unless the user
// chose (OMP_WAIT_POLICY, or GOMP_SPINCOUNT for GCC's libgomp, KMP_BLOCKTIME for LLVM's libomp).
// With nothing set, libgomp's threads spin up to ~3 ms at every barrier before they sleep
// (libomp's 200 ms). An objective evaluation runs hundreds of short parallel regions; when
// anything else runs on the machine, a thread spins on the core that its descheduled partner
// needs, and each barrier can wait a time slice: the same run then took up to 2.6x as long
// (benchmarks/wait_policy.sh; README, "Threads on a busy machine").
//
// The runtime reads these variables once, when it is loaded, before main (a variable set from
// .preinit_array is lost too: libc resets the environment when it starts). So the program sets
// the variable and runs itself again: the same binary (/proc/self/exe), arguments and process.
#pragma once

#include <cstdlib>

#include <unistd.h>

namespace nst::cli {

// Call first in main, before any thread starts. Returns only when no restart was needed or it
// could not be made (no /proc: the run goes on with libgomp's default).
inline void restart_with_passive_openmp_waiting(char** argv) {
    for (const char* name : {"OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME"}) {
        const char* chosen = std::getenv(name);
        if (chosen && *chosen) return;  // (set empty: as unset, as the runtimes read it)
    }
    if (setenv("OMP_WAIT_POLICY", "passive", 1) != 0) return;
    execv("/proc/self/exe", argv);
}

}  // namespace nst::cli
