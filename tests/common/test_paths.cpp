#include "test_paths.h"

#include <QFileInfo>

namespace strata::test {

QString stories260kPath() {
    const QString path = QStringLiteral(STRATA_SHARED_MODELS_DIR "/stories260K.gguf");
    return QFileInfo::exists(path) ? QFileInfo(path).absoluteFilePath() : QString();
}

}  // namespace strata::test
