// TCP_INFO lives in <linux/tcp.h>, which clashes with <netinet/tcp.h> (included by httplib.h):
// kept in a file of its own.
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>

namespace strata::server {

uint64_t tcp_bytes_received(int fd) {
    struct tcp_info info {};
    socklen_t len = sizeof info;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return UINT64_MAX;
    if (len < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof info.tcpi_bytes_received) return UINT64_MAX;
    return info.tcpi_bytes_received;
}

}  // namespace strata::server
