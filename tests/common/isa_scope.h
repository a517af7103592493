// Runs the rest of a test at one kernel dispatch level, restored when the scope ends:
// "best" is whatever the machine supports, any other name ("scalar", "avx2") the STRATA_CPU_ISA
// cap of that name (util/cpu_features.h). Not thread-safe against kernels running meanwhile.
#pragma once

#include <QString>
#include <cstdlib>

#include "util/cpu_features.h"

namespace strata::test {

struct IsaScope {
    explicit IsaScope(const QString& isa) {
        if (isa == QLatin1String("best")) unsetenv("STRATA_CPU_ISA");
        else setenv("STRATA_CPU_ISA", isa.toLatin1().constData(), 1);
        cpu_isa_refresh();
    }
    ~IsaScope() {
        unsetenv("STRATA_CPU_ISA");
        cpu_isa_refresh();
    }
    IsaScope(const IsaScope&) = delete;
    IsaScope& operator=(const IsaScope&) = delete;
};

}  // namespace strata::test
