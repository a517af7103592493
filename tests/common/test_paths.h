// Where tests find optional external inputs.
#pragma once

#include <QString>

namespace strata::test {

// Path of ../shared/models/stories260K.gguf, or an empty string when it is absent
// (tests then QSKIP with a message saying so).
QString stories260kPath();

}  // namespace strata::test
