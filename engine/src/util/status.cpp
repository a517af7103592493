#include "strata/status.h"

namespace strata {

const char* error_code_name(ErrorCode code) {
    switch (code) {
        case ErrorCode::ok: return "ok";
        case ErrorCode::invalid_argument: return "invalid argument";
        case ErrorCode::not_found: return "not found";
        case ErrorCode::corrupt: return "corrupt file";
        case ErrorCode::unsupported: return "unsupported";
        case ErrorCode::out_of_memory: return "out of memory";
        case ErrorCode::device_failure: return "device failure";
        case ErrorCode::io: return "I/O error";
        case ErrorCode::cancelled: return "cancelled";
        case ErrorCode::internal: return "internal error";
    }
    return "unknown error";
}

}  // namespace strata
