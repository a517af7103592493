// Runs the rest of a test at one kernel dispatch level, restored when the scope ends:
// "best" is whatever the machine supports, any other name ("scalar", "avx2") caps the level as
// STRATA_CPU_ISA of that name would (util/cpu_features.h). Sets the level directly, never the
// environment (setenv races with other threads' getenv). Not thread-safe against kernels running
// meanwhile.
#pragma once

#include <QString>

#include "util/cpu_features.h"

namespace strata::test {

struct IsaScope {
    explicit IsaScope(const QString& isa) : previous_(cpu_isa()) {
        CpuIsa cap = CpuIsa::amx;
        if (isa != QLatin1String("best") && !cpu_isa_from_name(isa.toLatin1().constData(), cap))
            qFatal("IsaScope: unknown level %s", qPrintable(isa));
        cpu_isa_set_cap(cap);
    }
    ~IsaScope() { cpu_isa_set_cap(previous_); }
    IsaScope(const IsaScope&) = delete;
    IsaScope& operator=(const IsaScope&) = delete;

private:
    CpuIsa previous_;
};

// Runs the rest of a test with the BF16 dot-product switch on or off (STRATA_CPU_BF16_DOTS),
// restored when the scope ends; never writes the environment.
struct Bf16DotsScope {
    explicit Bf16DotsScope(bool on) : previous_(cpu_bf16_dots()) { cpu_bf16_dots_set(on); }
    ~Bf16DotsScope() { cpu_bf16_dots_set(previous_); }
    Bf16DotsScope(const Bf16DotsScope&) = delete;
    Bf16DotsScope& operator=(const Bf16DotsScope&) = delete;

private:
    bool previous_;
};

}  // namespace strata::test
