#include "library/drop_zone.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPainter>
#include <QPainterPath>
#include <QPushButton>
#include <QVBoxLayout>

#include "common/icons.h"
#include "common/theme.h"

namespace strata::ui {

DropZone::DropZone(QWidget* parent) : QFrame(parent) {
    setObjectName(QStringLiteral("dropZone"));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(48, 40, 48, 40);
    layout->setSpacing(12);
    layout->addStretch(1);

    auto* iconLabel = new QLabel(this);
    iconLabel->setPixmap(iconPixmap(QStringLiteral("drop"), currentColors().accent, 56, devicePixelRatioF()));
    iconLabel->setAlignment(Qt::AlignHCenter);
    layout->addWidget(iconLabel);

    auto* title = new QLabel(tr("Drop a GGUF model file here"), this);
    title->setProperty("heading", true);
    title->setAlignment(Qt::AlignHCenter);
    layout->addWidget(title);

    auto* text = new QLabel(this);
    text->setWordWrap(true);
    text->setAlignment(Qt::AlignHCenter);
    text->setTextFormat(Qt::RichText);
    text->setOpenExternalLinks(true);
    text->setFixedWidth(640);
    text->setText(
        tr("<p>A <b>GGUF</b> file holds a whole language model in one file: its weights (usually "
           "quantized, i.e. stored with fewer bits so it needs less memory), its tokenizer and its "
           "chat template. Strata runs Llama, Mistral, Qwen, Gemma, Phi and GLM models and "
           "mixtures of experts such as Mixtral, Qwen3-30B-A3B and gpt-oss (the README lists them).</p>"
           "<p>Most people download them from <a href=\"https://huggingface.co/models?search=GGUF\">Hugging Face</a> "
           "— search for the model's name and “GGUF”. A repository usually offers several files of the same "
           "model: <b>Q4_K_M</b> is the best choice for most people (small, close to full quality); "
           "Q5_K_M or Q8_0 if you have memory to spare.</p>"
           "<p>Or find one in <b>Discover</b>: it shows which files of a repository fit this machine "
           "before you download them. Drop one or more <code>.gguf</code> files (or a Hugging Face link) "
           "anywhere on this window, or:</p>"));
    // QLabel under-reports the height of several rich-text paragraphs; ask for it explicitly.
    text->setMinimumHeight(text->heightForWidth(640) + text->fontMetrics().height());
    layout->addWidget(text, 0, Qt::AlignHCenter);

    auto* buttons = new QHBoxLayout();
    buttons->addStretch(1);
    auto* open = new QPushButton(icon(QStringLiteral("open"), Qt::white), tr("Open model file…"), this);
    open->setProperty("primary", true);
    auto* folder = new QPushButton(icon(QStringLiteral("folder")), tr("Add a folder…"), this);
    auto* discover = new QPushButton(icon(QStringLiteral("search")), tr("Find models on Hugging Face…"), this);
    discover->setObjectName(QStringLiteral("discoverButton"));
    buttons->addWidget(open);
    buttons->addWidget(folder);
    buttons->addWidget(discover);
    buttons->addStretch(1);
    layout->addLayout(buttons);
    layout->addStretch(2);
    connect(open, &QPushButton::clicked, this, &DropZone::openRequested);
    connect(folder, &QPushButton::clicked, this, &DropZone::addFolderRequested);
    connect(discover, &QPushButton::clicked, this, &DropZone::discoverRequested);
}

void DropZone::setDragActive(bool active) {
    m_dragActive = active;
    update();
}

void DropZone::paintEvent(QPaintEvent* e) {
    QFrame::paintEvent(e);
    const ThemeColors& c = currentColors();
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    const QRectF r = QRectF(rect()).adjusted(16.5, 16.5, -16.5, -16.5);
    QPen pen(m_dragActive ? c.accent : c.border, m_dragActive ? 2.5 : 2.0, Qt::DashLine);
    pen.setDashPattern({6, 5});
    p.setPen(pen);
    QColor fill = m_dragActive ? c.accent : c.surface;
    fill.setAlpha(m_dragActive ? 30 : 255);
    p.setBrush(fill);
    p.drawRoundedRect(r, 18, 18);
}

}  // namespace strata::ui
