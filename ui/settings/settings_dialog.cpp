#include "settings/settings_dialog.h"

#include <QAbstractButton>
#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QLocale>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRandomGenerator>
#include <QSpinBox>
#include <QStyle>
#include <QTabWidget>
#include <QVBoxLayout>

#include "server/api_server.h"

namespace strata::ui {

namespace {

QFormLayout* newForm() {
    auto* f = new QFormLayout();
    f->setHorizontalSpacing(12);
    f->setVerticalSpacing(8);
    f->setFieldGrowthPolicy(QFormLayout::ExpandingFieldsGrow);
    return f;
}

QLabel* note(const QString& text, QWidget* parent) {
    auto* l = new QLabel(text, parent);
    l->setWordWrap(true);
    l->setProperty("muted", true);
    return l;
}

QDoubleSpinBox* doubleSpin(double lo, double hi, double step, int decimals, QWidget* parent) {
    auto* s = new QDoubleSpinBox(parent);
    s->setRange(lo, hi);
    s->setSingleStep(step);
    s->setDecimals(decimals);
    return s;
}

}  // namespace

SettingsDialog::SettingsDialog(const app::Preferences& current, const app::AppDevices& devices, QWidget* parent)
    : QDialog(parent), m_devices(devices), m_base(current) {
    setWindowTitle(tr("Settings"));
    setObjectName(QStringLiteral("settingsDialog"));
    auto* v = new QVBoxLayout(this);
    m_tabs = new QTabWidget(this);
    m_tabs->setAccessibleName(tr("Settings pages"));
    m_tabs->addTab(buildGeneral(), tr("&General"));
    m_tabs->addTab(buildModels(), tr("&Models"));
    m_tabs->addTab(buildChats(), tr("New &chats"));
    m_tabs->addTab(buildServer(), tr("&Server"));
    v->addWidget(m_tabs, 1);
    m_problems = new QLabel(this);
    m_problems->setObjectName(QStringLiteral("settingsProblems"));
    m_problems->setWordWrap(true);
    m_problems->setStyleSheet(QStringLiteral("color: %1;").arg(QColor(0xd1, 0x3b, 0x3b).name()));
    m_problems->setVisible(false);
    v->addWidget(m_problems);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel | QDialogButtonBox::RestoreDefaults, this);
    buttons->button(QDialogButtonBox::RestoreDefaults)->setText(tr("&Reset to defaults"));
    QPushButton* ok = buttons->button(QDialogButtonBox::Ok);
    ok->setProperty("primary", true);
    ok->style()->unpolish(ok);  // the property is read when the style sheet polishes the button
    ok->style()->polish(ok);
    for (QAbstractButton* b : buttons->buttons()) b->setIcon(QIcon());  // the style's icons clash with the theme
    v->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::accepted, this, &SettingsDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &SettingsDialog::reject);
    connect(buttons->button(QDialogButtonBox::RestoreDefaults), &QPushButton::clicked, this, [this] {
        app::Preferences d = app::Preferences::defaults();
        setPreferences(d);
    });
    setPreferences(current);
    resize(640, 560);
}

QWidget* SettingsDialog::buildGeneral() {
    auto* page = new QWidget(this);
    auto* v = new QVBoxLayout(page);
    auto* form = newForm();
    m_theme = new QComboBox(page);
    m_theme->addItem(tr("Follow the system"), int(app::ThemeChoice::system));
    m_theme->addItem(tr("Light"), int(app::ThemeChoice::light));
    m_theme->addItem(tr("Dark"), int(app::ThemeChoice::dark));
    form->addRow(tr("&Theme"), m_theme);
    m_telemetry = doubleSpin(app::kMinTelemetryMs / 1000.0, app::kMaxTelemetryMs / 1000.0, 0.25, 2, page);
    m_telemetry->setSuffix(tr(" s"));
    m_telemetry->setToolTip(tr("How often the GPUs' load, memory, temperature and power are read"));
    form->addRow(tr("&GPU figures every"), m_telemetry);
    m_restore = new QCheckBox(tr("&Reopen the last chat and reload the last model at start"), page);
    m_restore->setToolTip(tr("The model is reloaded only if it loaded successfully last time and still fits"));
    form->addRow(QString(), m_restore);
    v->addLayout(form);

    auto* foldersLabel = new QLabel(tr("Model &folders"), page);
    foldersLabel->setProperty("subheading", true);
    v->addSpacing(8);
    v->addWidget(foldersLabel);
    v->addWidget(note(tr("New .gguf files in these folders join the library at every start."), page));
    auto* row = new QHBoxLayout();
    m_folders = new QListWidget(page);
    m_folders->setAccessibleName(tr("Model folders"));
    foldersLabel->setBuddy(m_folders);
    auto* buttons = new QVBoxLayout();
    auto* add = new QPushButton(tr("&Add…"), page);
    auto* remove = new QPushButton(tr("Re&move"), page);
    add->setAccessibleName(tr("Add a model folder"));
    remove->setAccessibleName(tr("Remove the selected model folder"));
    buttons->addWidget(add);
    buttons->addWidget(remove);
    buttons->addStretch(1);
    row->addWidget(m_folders, 1);
    row->addLayout(buttons);
    v->addLayout(row, 1);
    connect(add, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Add a model folder"));
        if (!dir.isEmpty() && m_folders->findItems(dir, Qt::MatchExactly).isEmpty()) m_folders->addItem(dir);
    });
    connect(remove, &QPushButton::clicked, this, [this] { delete m_folders->currentItem(); });

    auto* hubLabel = new QLabel(tr("Hugging Face Hub (Discover)"), page);
    hubLabel->setProperty("subheading", true);
    v->addSpacing(8);
    v->addWidget(hubLabel);
    auto* hubForm = newForm();
    m_downloadFolder = new QLineEdit(page);
    m_downloadFolder->setPlaceholderText(tr("Strata's data folder / models"));
    m_downloadFolder->setAccessibleName(tr("Download folder"));
    m_hubToken = new QLineEdit(page);
    m_hubToken->setEchoMode(QLineEdit::Password);
    m_hubToken->setPlaceholderText(tr("none ($HF_TOKEN if set): needed for gated repositories"));
    m_hubToken->setAccessibleName(tr("Hugging Face token"));
    m_hubToken->setToolTip(tr("Sent only to the Hub's own host, never to the download servers it redirects to."));
    hubForm->addRow(tr("&Download folder"), m_downloadFolder);
    hubForm->addRow(tr("Access t&oken"), m_hubToken);
    v->addLayout(hubForm);
    return page;
}

QWidget* SettingsDialog::buildModels() {
    auto* page = new QWidget(this);
    auto* v = new QVBoxLayout(page);
    v->addWidget(note(tr("Used for models that have no allocation of their own yet (Allocate keeps one per model)."), page));
    auto* devLabel = new QLabel(tr("Devices used by default"), page);
    devLabel->setProperty("subheading", true);
    v->addWidget(devLabel);
    if (m_devices.isEmpty()) v->addWidget(note(tr("Looking for devices…"), page));
    for (const app::AppDevice& d : m_devices) {
        const QString key = QString::fromStdString(d.info.id);
        auto* box = new QCheckBox(QStringLiteral("%1 · %2").arg(key, QString::fromStdString(d.info.name)), page);
        box->setProperty("key", key);
        m_deviceBoxes.append(box);
        v->addWidget(box);
    }
    auto* form = newForm();
    m_gpuReserve = new QSpinBox(page);
    m_gpuReserve->setRange(0, int(app::kMaxReserveMiB));
    m_gpuReserve->setSingleStep(256);
    m_gpuReserve->setSuffix(tr(" MiB"));
    m_gpuReserve->setToolTip(tr("Memory left free on each GPU for the driver and other programs"));
    m_cpuReserve = new QSpinBox(page);
    m_cpuReserve->setRange(0, int(app::kMaxReserveMiB));
    m_cpuReserve->setSingleStep(1024);
    m_cpuReserve->setSuffix(tr(" MiB"));
    m_cpuReserve->setToolTip(tr("System memory left free for other programs"));
    m_context = new QSpinBox(page);
    m_context->setRange(0, int(app::kMaxDefaultContext));
    m_context->setSingleStep(1024);
    m_context->setSuffix(tr(" tokens"));
    m_context->setSpecialValueText(tr("The model's trained length, at most 4,096"));
    m_context->setToolTip(tr("Longer than a model was trained on, answers degrade: Allocate warns about it"));
    m_parallel = new QSpinBox(page);
    m_parallel->setRange(1, app::kMaxParallelAnswers);
    m_parallel->setToolTip(tr("Chats and API clients answered at the same time. Each has its own KV cache, so a "
                              "conversation you return to goes on without re-reading it; the plan budgets their memory"));
    m_kv = new QComboBox(page);
    m_kv->addItem(tr("f16 (default)"), int(strata::KvCacheType::f16));
    m_kv->addItem(tr("q8_0 (half the memory)"), int(strata::KvCacheType::q8_0));
    m_kv->addItem(tr("f32 (exact, twice f16)"), int(strata::KvCacheType::f32));
    form->addRow(tr("GPU &reserve"), m_gpuReserve);
    form->addRow(tr("C&PU reserve"), m_cpuReserve);
    form->addRow(tr("Con&text length"), m_context);
    form->addRow(tr("&Parallel answers"), m_parallel);
    form->addRow(tr("&KV cache"), m_kv);
    v->addSpacing(8);
    v->addLayout(form);
    v->addStretch(1);
    return page;
}

QWidget* SettingsDialog::buildChats() {
    auto* page = new QWidget(this);
    auto* v = new QVBoxLayout(page);
    v->addWidget(note(tr("What a new chat starts with; each chat keeps its own copy (the chat's settings panel)."), page));
    auto* systemLabel = new QLabel(tr("S&ystem prompt"), page);
    m_system = new QPlainTextEdit(page);
    m_system->setTabChangesFocus(true);  // Tab moves on; the prompt needs no tab characters
    m_system->setPlaceholderText(tr("e.g. You are a concise assistant."));
    m_system->setAccessibleName(tr("System prompt for new chats"));
    systemLabel->setBuddy(m_system);
    v->addWidget(systemLabel);
    v->addWidget(m_system, 1);
    auto* form = newForm();
    m_temperature = doubleSpin(0, 2, 0.05, 2, page);
    m_temperature->setToolTip(tr("0 = always the most likely token"));
    m_topP = doubleSpin(0, 1, 0.01, 2, page);
    m_topK = new QSpinBox(page);
    m_topK->setRange(0, 1000);
    m_topK->setSpecialValueText(tr("off"));
    m_minP = doubleSpin(0, 1, 0.01, 2, page);
    m_repeat = doubleSpin(0.5, 2, 0.01, 2, page);
    m_maxTokens = new QSpinBox(page);
    m_maxTokens->setRange(1, 32768);
    form->addRow(tr("&Temperature"), m_temperature);
    form->addRow(tr("Top &P"), m_topP);
    form->addRow(tr("Top &K"), m_topK);
    form->addRow(tr("&Min P"), m_minP);
    form->addRow(tr("&Repeat penalty"), m_repeat);
    form->addRow(tr("Max t&okens"), m_maxTokens);
    v->addLayout(form);
    return page;
}

QWidget* SettingsDialog::buildServer() {
    auto* page = new QWidget(this);
    auto* v = new QVBoxLayout(page);
    m_serverOn = new QCheckBox(tr("&Serve the OpenAI-compatible API while Strata runs"), page);
    v->addWidget(m_serverOn);
    auto* form = newForm();
    m_port = new QSpinBox(page);
    m_port->setRange(1, 65535);
    m_port->setToolTip(tr("Default %1").arg(app::kDefaultApiPort));
    m_address = new QComboBox(page);
    m_address->setEditable(true);
    m_address->addItem(QStringLiteral("127.0.0.1"));
    m_address->addItem(QStringLiteral("0.0.0.0"));
    m_address->setToolTip(tr("127.0.0.1: this machine only. 0.0.0.0: every network this machine is on (set an API key)"));
    auto* keyRow = new QHBoxLayout();
    m_apiKey = new QLineEdit(page);
    m_apiKey->setPlaceholderText(tr("none: any program that reaches the port may use it"));
    m_apiKey->setAccessibleName(tr("API key"));
    auto* generate = new QPushButton(tr("&Generate"), page);
    generate->setAccessibleName(tr("Generate a random API key"));
    keyRow->addWidget(m_apiKey, 1);
    keyRow->addWidget(generate);
    connect(generate, &QPushButton::clicked, this, [this] {
        QString key = QStringLiteral("sk-strata-");
        for (int i = 0; i < 4; ++i) key += QString::number(QRandomGenerator::system()->generate(), 16).rightJustified(8, QLatin1Char('0'));
        m_apiKey->setText(key);
    });
    m_origins = new QPlainTextEdit(page);
    m_origins->setTabChangesFocus(true);
    m_origins->setPlaceholderText(tr("One per line, e.g. http://localhost:3000 (or * for any page)"));
    m_origins->setAccessibleName(tr("Allowed origins"));
    m_origins->setMaximumHeight(90);
    form->addRow(tr("&Port"), m_port);
    form->addRow(tr("&Address"), m_address);
    auto* keyLabel = new QLabel(tr("API &key"), page);  // a row of a layout gets no buddy by itself
    keyLabel->setBuddy(m_apiKey);
    form->addRow(keyLabel, keyRow);
    form->addRow(tr("Allowed &origins"), m_origins);
    v->addLayout(form);
    v->addWidget(note(tr("With a key, clients send \"Authorization: Bearer KEY\" (OpenAI's clients do when given "
                         "api_key). Web pages may call the API only from the origins listed."),
                      page));
    v->addStretch(1);
    return page;
}

void SettingsDialog::setPreferences(const app::Preferences& p) {
    m_theme->setCurrentIndex(m_theme->findData(int(p.theme)));
    m_telemetry->setValue(p.telemetryIntervalMs / 1000.0);
    m_restore->setChecked(p.restoreSession);
    m_folders->clear();
    m_folders->addItems(p.modelFolders);
    m_downloadFolder->setText(p.downloadFolder);
    m_hubToken->setText(p.hubToken);
    for (QCheckBox* b : m_deviceBoxes) b->setChecked(!p.disabledDevices.contains(b->property("key").toString()));
    m_gpuReserve->setValue(int(p.gpuReserveMiB));
    m_cpuReserve->setValue(int(p.cpuReserveMiB));
    m_context->setValue(int(p.defaultContext));
    m_parallel->setValue(p.parallelAnswers);
    m_kv->setCurrentIndex(m_kv->findData(int(p.kvType)));
    m_system->setPlainText(p.systemPrompt);
    m_temperature->setValue(p.sampling.temperature);
    m_topP->setValue(p.sampling.topP);
    m_topK->setValue(p.sampling.topK);
    m_minP->setValue(p.sampling.minP);
    m_repeat->setValue(p.sampling.repeatPenalty);
    m_maxTokens->setValue(p.sampling.maxTokens);
    m_serverOn->setChecked(p.serverEnabled);
    m_port->setValue(p.serverPort);
    m_address->setCurrentText(p.serverAddress);
    m_apiKey->setText(p.apiKey);
    m_origins->setPlainText(p.allowedOrigins.join(QLatin1Char('\n')));
}

app::Preferences SettingsDialog::preferences() const {
    app::Preferences p = m_base;
    p.theme = app::ThemeChoice(m_theme->currentData().toInt());
    p.telemetryIntervalMs = int(qRound(m_telemetry->value() * 1000.0));
    p.restoreSession = m_restore->isChecked();
    p.modelFolders.clear();
    for (int i = 0; i < m_folders->count(); ++i) p.modelFolders << m_folders->item(i)->text();
    p.downloadFolder = m_downloadFolder->text().trimmed();
    p.hubToken = m_hubToken->text().trimmed();
    // Devices not present now keep their saved choice.
    for (QCheckBox* b : m_deviceBoxes) {
        const QString key = b->property("key").toString();
        p.disabledDevices.removeAll(key);
        if (!b->isChecked()) p.disabledDevices << key;
    }
    p.gpuReserveMiB = m_gpuReserve->value();
    p.cpuReserveMiB = m_cpuReserve->value();
    p.defaultContext = m_context->value();
    p.parallelAnswers = m_parallel->value();
    p.kvType = strata::KvCacheType(m_kv->currentData().toInt());
    p.systemPrompt = m_system->toPlainText();
    p.sampling.temperature = m_temperature->value();
    p.sampling.topP = m_topP->value();
    p.sampling.topK = m_topK->value();
    p.sampling.minP = m_minP->value();
    p.sampling.repeatPenalty = m_repeat->value();
    p.sampling.maxTokens = m_maxTokens->value();
    p.serverEnabled = m_serverOn->isChecked();
    p.serverPort = quint16(m_port->value());
    p.serverAddress = m_address->currentText().trimmed();
    p.apiKey = m_apiKey->text().trimmed();
    p.allowedOrigins.clear();
    for (const QString& line : m_origins->toPlainText().split(QLatin1Char('\n')))
        if (!line.trimmed().isEmpty()) p.allowedOrigins << line.trimmed();
    return p;
}

QString SettingsDialog::problemsText() const { return m_problems->isVisible() ? m_problems->text() : QString(); }

void SettingsDialog::accept() {
    const QStringList problems = preferences().problems();
    if (!problems.isEmpty()) {
        m_problems->setText(problems.join(QLatin1Char('\n')));
        m_problems->setVisible(true);
        return;
    }
    m_problems->setVisible(false);
    QDialog::accept();
}

}  // namespace strata::ui
