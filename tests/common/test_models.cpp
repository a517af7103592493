#include "test_models.h"

namespace strata::test {

QString writeRandomModel(const QTemporaryDir& dir, const QString& name, const RandomModelConfig& config,
                         QString* error) {
    const QString path = dir.filePath(name + QStringLiteral(".gguf"));
    const Status st = write_random_model(config, path.toStdString());
    if (!st.ok()) {
        if (error) *error = QString::fromStdString(st.message());
        return {};
    }
    return path;
}

}  // namespace strata::test
