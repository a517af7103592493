// Links between devices: names, and what a hand-off of the hidden state costs over one.
#include <algorithm>
#include <cctype>

#include "plan/plan_internal.h"

namespace strata {

namespace {
struct LinkName {
    LinkKind kind;
    const char* name;
    const char* description;
};
constexpr LinkName kLinkNames[] = {
    {LinkKind::unknown, "unknown", "over a link not measured (assumed PCIe 4.0 x16)"},
    {LinkKind::nvlink, "nvlink", "over NVLink"},
    {LinkKind::pcie_switch, "pcie-switch", "peer to peer under one PCIe switch"},
    {LinkKind::host_bridge, "host-bridge", "peer to peer through the CPU's PCIe host bridge"},
    {LinkKind::cross_socket, "cross-socket", "peer to peer across CPU sockets"},
    {LinkKind::staged, "staged", "through the CPU (no P2P: two copies, via host memory)"},
    {LinkKind::host_device, "host-device", "between device and host memory"},
};
}  // namespace

const char* link_kind_name(LinkKind k) {
    for (const LinkName& n : kLinkNames)
        if (n.kind == k) return n.name;
    return "unknown";
}

const char* link_kind_description(LinkKind k) {
    for (const LinkName& n : kLinkNames)
        if (n.kind == k) return n.description;
    return kLinkNames[0].description;
}

bool parse_link_kind(const std::string& text, LinkKind& out) {
    std::string t;
    for (char c : text) t += c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const LinkName& n : kLinkNames) {
        if (t == n.name) {
            out = n.kind;
            return true;
        }
    }
    return false;
}

namespace plan_detail {

const Link* find_link(const PlanRequest& r, int from, int to) {
    if (from < 0 || to < 0 || static_cast<size_t>(from) >= r.links.size()) return nullptr;
    const std::vector<Link>& row = r.links[static_cast<size_t>(from)];
    if (static_cast<size_t>(to) >= row.size()) return nullptr;
    return &row[static_cast<size_t>(to)];
}

HandOffCost handoff_cost(const PlanRequest& r, int from, int to, double bytes) {
    HandOffCost c;
    const Link* link = find_link(r, from, to);
    if (link == nullptr || !link->known()) {
        // The planner's assumption before links were known, in the same arithmetic.
        c.wire_seconds = bytes / kLinkBytesPerSecond;
        c.latency_seconds = kLinkLatencySeconds;
        c.bytes_per_second = kLinkBytesPerSecond;
        return c;
    }
    c.link = *link;
    c.known = true;
    c.bytes_per_second = link->gbs > 0 ? link->gbs * 1e9 : kLinkBytesPerSecond;
    const double latency = link->latency_us > 0 ? link->latency_us * 1e-6 : kLinkLatencySeconds;
    const double copies = link->copies();
    c.wire_seconds = copies * bytes / c.bytes_per_second;
    c.latency_seconds = copies * latency;
    return c;
}

}  // namespace plan_detail
}  // namespace strata
