#include "hub/hub_types.h"

#include <QRegularExpression>

namespace strata::app {

HubError hubError(const strata::Status& status) {
    HubError e;
    e.code = status.code();
    e.netFault = status.net_fault();
    e.host = QUrl(QString::fromStdString(status.net_origin())).host();
    e.message = QString::fromStdString(status.message());
    return e;
}

std::optional<HubLink> parseHubLink(const QUrl& url, const QString& endpoint) {
    if (!url.isValid() || (url.scheme() != QLatin1String("https") && url.scheme() != QLatin1String("http")))
        return std::nullopt;
    const QUrl ep(endpoint);
    const bool hubHost = url.host() == QLatin1String("huggingface.co") || url.host() == QLatin1String("www.huggingface.co") ||
                         (!ep.host().isEmpty() && url.host() == ep.host() && url.port(-1) == ep.port(-1));
    if (!hubHost) return std::nullopt;
    const QStringList seg = url.path().split(QLatin1Char('/'), Qt::SkipEmptyParts);
    if (seg.size() < 2) return std::nullopt;
    // Hub pages that are not repositories: /models, /datasets/..., /spaces/..., /api/...
    static const QStringList notRepos = {QStringLiteral("models"), QStringLiteral("datasets"), QStringLiteral("spaces"),
                                         QStringLiteral("api"), QStringLiteral("docs"), QStringLiteral("settings")};
    if (notRepos.contains(seg[0])) return std::nullopt;
    static const QRegularExpression safe(QStringLiteral("^[A-Za-z0-9][A-Za-z0-9._-]*$"));
    if (!safe.match(seg[0]).hasMatch() || !safe.match(seg[1]).hasMatch()) return std::nullopt;
    HubLink link{seg[0] + QLatin1Char('/') + seg[1], {}};
    // OWNER/NAME/blob/REV/PATH... or /resolve/REV/PATH...: a file.
    if (seg.size() >= 5 && (seg[2] == QLatin1String("blob") || seg[2] == QLatin1String("resolve")))
        link.file = seg.mid(4).join(QLatin1Char('/'));
    return link;
}

QString compactCount(qint64 n) {
    if (n >= 1000000) return QString::number(double(n) / 1e6, 'f', 1) + QLatin1Char('M');
    if (n >= 1000) return QString::number(double(n) / 1e3, 'f', 1) + QLatin1Char('k');
    return QString::number(n);
}

void registerHubMetaTypes() {
    qRegisterMetaType<HubError>();
    qRegisterMetaType<HubRepoRows>();
    qRegisterMetaType<HubFileRows>();
}

}  // namespace strata::app
