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
        case ErrorCode::busy: return "busy";
        case ErrorCode::internal: return "internal error";
    }
    return "unknown error";
}

const char* file_fault_name(FileFault fault) {
    switch (fault) {
        case FileFault::none: return "none";
        case FileFault::not_gguf: return "not GGUF";
        case FileFault::unsupported_gguf: return "unsupported GGUF";
        case FileFault::truncated: return "truncated";
        case FileFault::split_set_incomplete: return "split set incomplete";
    }
    return "unknown";
}

}  // namespace strata
