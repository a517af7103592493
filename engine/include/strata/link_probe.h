// Measuring how fast data really moves between this machine's GPUs and the host: what
// `strata-cli probe links` and the app's "Measure links" (Topology view) run. The CUDA module
// times pinned host memory → each GPU, each GPU → host and every ordered GPU pair (peer copies
// where P2P can be enabled, staged through pinned host memory where not); the result is stored
// with the machine's fingerprint (strata/link_store.h), and plans on these GPUs then use the
// measured speeds for their hand-offs instead of nominal ones.
//
// Engine::measure_links (strata/engine.h) runs it. It takes a few seconds per GPU pair and keeps
// the GPUs busy meanwhile: callers run it on a worker thread, never while a model answers.
#pragma once

#include <string>
#include <vector>

#include "strata/link_store.h"

namespace strata {

struct ProbedLink {
    std::string from, to;   // a device id ("cuda0") or "host"
    std::string path;       // "host" (host ↔ GPU), "peer" (P2P copy) or "staged" (through host memory)
    double gbs = 0;         // one direction, 64 MiB copies, GB/s (1e9 bytes/s)
    double bidir_gbs = 0;   // this direction and its reverse at once, the sum, GB/s
    double latency_us = 0;  // one 4 KiB copy, issued and waited for, µs
};

struct LinkProbeReport {
    std::vector<ProbedLink> links;  // every direction measured, in the probe's order
    LinkMeasurements measurements;  // what is stored: links keyed by PCI bus id
    bool unnamed = false;           // a GPU had no PCI bus id: its links are in `links` but not stored
    std::string stored_at;          // the file written; "" when the caller asked not to save
};

}  // namespace strata
