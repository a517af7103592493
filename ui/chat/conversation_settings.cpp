#include "chat/conversation_settings.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileInfo>
#include <QFormLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include "library/model_catalog.h"

namespace strata::ui {

ConversationSettings::ConversationSettings(app::ModelCatalog& catalog, QWidget* parent)
    : QFrame(parent), m_catalog(catalog) {
    setProperty("sidebar", true);
    setStyleSheet(QStringLiteral("QFrame[sidebar=\"true\"] { border-right: none; }"));
    setFixedWidth(300);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(16, 16, 16, 16);
    layout->setSpacing(10);
    auto* title = new QLabel(tr("Conversation settings"), this);
    title->setProperty("subheading", true);
    layout->addWidget(title);

    auto* modelLabel = new QLabel(tr("Model"), this);
    modelLabel->setProperty("muted", true);
    m_model = new QComboBox(this);
    m_model->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_model->setMinimumContentsLength(12);
    layout->addWidget(modelLabel);
    layout->addWidget(m_model);

    auto* systemLabel = new QLabel(tr("System prompt"), this);
    systemLabel->setProperty("muted", true);
    m_system = new QPlainTextEdit(this);
    m_system->setPlaceholderText(tr("e.g. You are a concise assistant."));
    m_system->setMaximumHeight(130);
    m_system->setTabChangesFocus(true);  // Tab moves on; a system prompt needs no tab characters
    m_system->setAccessibleName(tr("System prompt"));
    layout->addWidget(systemLabel);
    layout->addWidget(m_system);

    auto* form = new QFormLayout();
    form->setLabelAlignment(Qt::AlignLeft);
    form->setHorizontalSpacing(12);
    form->setVerticalSpacing(8);
    auto dspin = [this](double lo, double hi, double step, int decimals) {
        auto* s = new QDoubleSpinBox(this);
        s->setRange(lo, hi);
        s->setSingleStep(step);
        s->setDecimals(decimals);
        return s;
    };
    m_temperature = dspin(0, 2, 0.05, 2);
    m_temperature->setToolTip(tr("0 = always the most likely token"));
    m_topP = dspin(0, 1, 0.01, 2);
    m_minP = dspin(0, 1, 0.01, 2);
    m_repeat = dspin(0.5, 2, 0.01, 2);
    m_topK = new QSpinBox(this);
    m_topK->setRange(0, 1000);
    m_topK->setSpecialValueText(tr("off"));
    m_maxTokens = new QSpinBox(this);
    m_maxTokens->setObjectName(QStringLiteral("maxTokens"));
    m_maxTokens->setRange(1, 32768);
    m_seed = new QSpinBox(this);
    m_seed->setRange(0, 999999999);
    m_seed->setSpecialValueText(tr("random"));
    form->addRow(tr("Temperature"), m_temperature);
    form->addRow(tr("Top P"), m_topP);
    form->addRow(tr("Top K"), m_topK);
    form->addRow(tr("Min P"), m_minP);
    form->addRow(tr("Repeat penalty"), m_repeat);
    form->addRow(tr("Max tokens"), m_maxTokens);
    form->addRow(tr("Seed"), m_seed);
    m_json = new QCheckBox(tr("Answer in JSON"), this);
    m_json->setToolTip(tr("Each answer is one JSON object: only tokens that keep it valid JSON are chosen, and the "
                          "answer ends when the object closes. Say in the prompt which fields you want."));
    form->addRow(QString(), m_json);
    layout->addLayout(form);

    auto* templateLabel = new QLabel(tr("Chat template"), this);
    templateLabel->setProperty("muted", true);
    m_template = new QLabel(this);
    m_template->setObjectName(QStringLiteral("templateStatus"));
    m_template->setWordWrap(true);
    m_template->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_templateButton = new QPushButton(tr("Custom template…"), this);
    m_templateButton->setToolTip(tr("Prompt this conversation with a Jinja chat template of your own instead of the "
                                    "model's"));
    layout->addWidget(templateLabel);
    layout->addWidget(m_template);
    layout->addWidget(m_templateButton, 0, Qt::AlignLeft);
    setTemplateStatus(tr("the model's template"), false, {});
    connect(m_templateButton, &QPushButton::clicked, this, &ConversationSettings::templateEditRequested);
    layout->addStretch(1);

    auto emitChanged = [this] {
        if (!m_loading) emit changed();
    };
    connect(m_model, &QComboBox::currentIndexChanged, this, emitChanged);
    connect(m_system, &QPlainTextEdit::textChanged, this, emitChanged);
    for (QDoubleSpinBox* s : {m_temperature, m_topP, m_minP, m_repeat})
        connect(s, &QDoubleSpinBox::valueChanged, this, emitChanged);
    for (QSpinBox* s : {m_topK, m_maxTokens, m_seed}) connect(s, &QSpinBox::valueChanged, this, emitChanged);
    connect(m_json, &QCheckBox::toggled, this, emitChanged);
    connect(&m_catalog, &QAbstractItemModel::rowsInserted, this, &ConversationSettings::reloadModels);
    connect(&m_catalog, &QAbstractItemModel::rowsRemoved, this, &ConversationSettings::reloadModels);
    connect(&m_catalog, &QAbstractItemModel::modelReset, this, &ConversationSettings::reloadModels);
    reloadModels();
}

void ConversationSettings::reloadModels() {
    const bool wasLoading = m_loading;
    m_loading = true;
    const QString current = modelPath();
    m_model->clear();
    m_model->addItem(tr("The loaded model"), QString());
    for (const app::CatalogEntry& e : m_catalog.entries()) m_model->addItem(e.name, e.path);
    const int i = m_model->findData(current);
    m_model->setCurrentIndex(i < 0 ? 0 : i);
    m_loading = wasLoading;
}

void ConversationSettings::setConversation(const app::Conversation& c) {
    m_loading = true;
    int i = m_model->findData(c.modelPath);
    if (i < 0 && !c.modelPath.isEmpty()) {
        m_model->addItem(QFileInfo(c.modelPath).fileName(), c.modelPath);
        i = m_model->count() - 1;
    }
    m_model->setCurrentIndex(qMax(0, i));
    m_system->setPlainText(c.systemPrompt);
    m_temperature->setValue(c.sampling.temperature);
    m_topP->setValue(c.sampling.topP);
    m_topK->setValue(c.sampling.topK);
    m_minP->setValue(c.sampling.minP);
    m_repeat->setValue(c.sampling.repeatPenalty);
    m_maxTokens->setValue(c.sampling.maxTokens);
    m_seed->setValue(int(qMin<quint64>(c.sampling.seed, 999999999)));
    m_json->setChecked(c.sampling.jsonMode);
    m_loading = false;
}

void ConversationSettings::setTemplateStatus(const QString& inUse, bool custom, const QString& warning) {
    QString text = custom ? tr("A custom template (this conversation)") : tr("Uses %1").arg(inUse);
    if (!warning.isEmpty()) text += QStringLiteral("\n") + tr("Warning: %1").arg(warning);
    m_template->setText(text);
    m_template->setProperty("muted", warning.isEmpty());
    m_template->setStyleSheet(warning.isEmpty() ? QString() : QStringLiteral("color: #b45309;"));
    m_templateButton->setText(custom ? tr("Edit custom template…") : tr("Custom template…"));
}

QString ConversationSettings::templateStatusText() const { return m_template->text(); }

QString ConversationSettings::modelPath() const { return m_model->currentData().toString(); }
QString ConversationSettings::systemPrompt() const { return m_system->toPlainText(); }

app::SamplingSettings ConversationSettings::sampling() const {
    app::SamplingSettings s;
    s.temperature = m_temperature->value();
    s.topP = m_topP->value();
    s.topK = m_topK->value();
    s.minP = m_minP->value();
    s.repeatPenalty = m_repeat->value();
    s.maxTokens = m_maxTokens->value();
    s.seed = quint64(m_seed->value());
    s.jsonMode = m_json->isChecked();
    return s;
}

}  // namespace strata::ui
