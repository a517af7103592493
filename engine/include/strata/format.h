// Numbers for people: byte sizes and parameter counts the way Strata prints them everywhere
// (strata-cli, the app, device and error messages). Pure functions.
#pragma once

#include <cstdint>
#include <string>

namespace strata {

// "1.23 GiB", "512 MiB", "900 B": three significant digits, binary units.
std::string format_bytes(uint64_t n_bytes);
// "1.1B", "260K": parameter counts the way model cards print them.
std::string format_param_count(uint64_t n_params);

}  // namespace strata
