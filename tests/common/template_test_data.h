// What the chat-template tests share with the expectations in tests/data/chat_templates: reading
// a data file whole, and the clock scripts/gen_template_expectations.py gives strftime_now.
#pragma once

#include <QString>

#include <ctime>
#include <fstream>
#include <sstream>
#include <string>

namespace strata::test {

inline std::string readWholeFile(const QString& path) {
    std::ifstream f(path.toStdString(), std::ios::binary);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

// 2025-07-26 14:30:05, as the expectation script sets it.
inline std::tm templateTestNow() {
    std::tm tm{};
    tm.tm_year = 2025 - 1900;
    tm.tm_mon = 6;
    tm.tm_mday = 26;
    tm.tm_hour = 14;
    tm.tm_min = 30;
    tm.tm_sec = 5;
    return tm;
}

}  // namespace strata::test
