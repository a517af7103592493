#include "chat/chat_view.h"

#include <QApplication>
#include <QClipboard>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QShortcut>
#include <QToolButton>
#include <QVBoxLayout>

#include "chat/chat_controller.h"
#include "chat/composer.h"
#include "chat/conversation_list_model.h"
#include "chat/conversation_settings.h"
#include "chat/conversation_sidebar.h"
#include "chat/template_dialog.h"
#include "chat/transcript_view.h"
#include "common/icons.h"
#include "common/theme.h"
#include "library/model_catalog.h"

namespace strata::ui {

ChatView::ChatView(app::ChatController& chat, app::ConversationListModel& conversations, app::ModelCatalog& catalog,
                   QWidget* parent)
    : QWidget(parent), m_chat(chat), m_catalog(catalog) {
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    m_sidebar = new ConversationSidebar(conversations, chat, this);
    m_sidebar->setFixedWidth(264);
    layout->addWidget(m_sidebar);

    auto* center = new QWidget(this);
    auto* cl = new QVBoxLayout(center);
    cl->setContentsMargins(0, 0, 0, 0);
    cl->setSpacing(0);
    auto* header = new QFrame(center);
    header->setProperty("topbar", true);
    auto* hl = new QHBoxLayout(header);
    hl->setContentsMargins(20, 10, 12, 10);
    m_title = new QLabel(header);
    m_title->setProperty("subheading", true);
    m_title->setMinimumWidth(60);
    m_model = new QLabel(header);
    m_model->setProperty("muted", true);
    m_settingsButton = new QToolButton(header);
    m_settingsButton->setCheckable(true);
    m_settingsButton->setIcon(icon(QStringLiteral("settings"), currentColors().mutedText));
    m_settingsButton->setIconSize({20, 20});
    m_settingsButton->setToolTip(tr("Conversation settings: model, system prompt, sampling"));
    m_contextWarning = new QLabel(tr("⚠ context beyond training"), header);
    m_contextWarning->setObjectName(QStringLiteral("chatContextWarning"));
    m_contextWarning->setStyleSheet(QStringLiteral("color: #b45309;"));
    m_contextWarning->setVisible(false);
    hl->addWidget(m_title, 1);
    hl->addWidget(m_contextWarning);
    hl->addSpacing(8);
    hl->addWidget(m_model);
    hl->addSpacing(8);
    hl->addWidget(m_settingsButton);
    cl->addWidget(header);

    m_transcript = new TranscriptView(center);
    cl->addWidget(m_transcript, 1);

    m_promptNotice = new QLabel(center);
    m_promptNotice->setObjectName(QStringLiteral("promptNotice"));
    m_promptNotice->setWordWrap(true);
    m_promptNotice->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_promptNotice->setStyleSheet(QStringLiteral("QLabel#promptNotice { color: #92400e; background: #fef3c7; "
                                                 "border-radius: 6px; padding: 6px 10px; margin: 0 24px; }"));
    m_promptNotice->setVisible(false);
    cl->addWidget(m_promptNotice);

    m_deviceNotice = new QLabel(center);
    m_deviceNotice->setObjectName(QStringLiteral("deviceNotice"));
    m_deviceNotice->setWordWrap(true);
    m_deviceNotice->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_deviceNotice->setStyleSheet(m_promptNotice->styleSheet().replace(QLatin1String("promptNotice"),
                                                                       QLatin1String("deviceNotice")));
    m_deviceNotice->setVisible(false);
    cl->addWidget(m_deviceNotice);

    auto* bottom = new QHBoxLayout();
    bottom->setContentsMargins(24, 4, 24, 16);
    m_composer = new Composer(center);
    m_composer->setMaximumWidth(TranscriptView::kColumnWidth + 8);
    bottom->addStretch(1);
    bottom->addWidget(m_composer, 100);
    bottom->addStretch(1);
    cl->addLayout(bottom);
    layout->addWidget(center, 1);

    m_settings = new ConversationSettings(catalog, this);
    m_settings->setVisible(false);
    layout->addWidget(m_settings);

    m_renderTimer.setInterval(33);
    m_renderTimer.setSingleShot(true);
    connect(&m_renderTimer, &QTimer::timeout, this, &ChatView::flushStreaming);

    // ---- user actions → controller
    connect(m_sidebar, &ConversationSidebar::newChatRequested, this, [this] {
        m_chat.newConversation();
        m_composer->editor()->setFocus();
    });
    connect(m_sidebar, &ConversationSidebar::conversationActivated, this, [this](qint64 id) { m_chat.selectConversation(id); });
    connect(&conversations, &QAbstractItemModel::dataChanged, this, [this] {  // renamed in the sidebar
        if (auto c = m_chat.current()) m_title->setText(c->title);
    });
    connect(m_sidebar, &ConversationSidebar::exportRequested, this, &ChatView::exportRequested);
    connect(m_composer, &Composer::sendRequested, this, [this](const QString& text) { m_chat.send(text); });
    connect(m_composer, &Composer::stopRequested, &m_chat, &app::ChatController::stop);
    connect(&m_chat, &app::ChatController::messageNotSaved, m_composer, &Composer::restoreDraft);
    connect(m_transcript, &TranscriptView::regenerateRequested, &m_chat, &app::ChatController::regenerate);
    connect(m_transcript, &TranscriptView::continueRequested, &m_chat, &app::ChatController::continueAnswer);
    connect(m_transcript, &TranscriptView::alternativeRequested, &m_chat, &app::ChatController::showAlternative);
    connect(m_composer, &Composer::libraryRequested, this, &ChatView::libraryRequested);
    connect(m_transcript, &TranscriptView::editSubmitted, &m_chat, &app::ChatController::editAndResend);
    connect(m_transcript, &TranscriptView::copyRequested, this, &ChatView::copyMessage);
    connect(m_settingsButton, &QToolButton::toggled, this, &ChatView::setSettingsVisible);
    connect(m_settings, &ConversationSettings::templateEditRequested, this, &ChatView::editTemplate);
    connect(m_settings, &ConversationSettings::changed, this, [this] {
        m_chat.setConversationSettings(m_settings->modelPath(), m_settings->systemPrompt(), m_settings->sampling());
        updateSendable();
    });
    auto* esc = new QShortcut(QKeySequence(Qt::Key_Escape), this);
    connect(esc, &QShortcut::activated, &m_chat, &app::ChatController::stop);

    // ---- controller → view
    connect(&m_chat, &app::ChatController::conversationOpened, this, &ChatView::openConversation);
    connect(&m_chat, &app::ChatController::messageAdded, m_transcript, &TranscriptView::appendMessage);
    connect(&m_chat, &app::ChatController::messagesRemovedFrom, m_transcript, &TranscriptView::removeFrom);
    connect(&m_chat, &app::ChatController::messageReplaced, m_transcript, &TranscriptView::replaceMessage);
    connect(&m_chat, &app::ChatController::modelChanged, this, &ChatView::updateSendable);
    connect(&m_chat, &app::ChatController::answerTextChanged, this,
            [this](qint64 id, const QString& text, int nTokens, double tps) {
                m_pendingId = id;
                m_pendingText = text;
                m_pendingTokens = nTokens;
                m_pendingTps = tps;
                if (!m_renderTimer.isActive()) m_renderTimer.start();
            });
    connect(&m_chat, &app::ChatController::answerReasoningChanged, this,
            [this](qint64 id, const QString& reasoning, bool thinking, double thinkingMs) {
                m_pendingReasoningId = id;
                m_pendingReasoning = reasoning;
                m_pendingThinking = thinking;
                m_pendingThinkingMs = thinkingMs;
                if (!m_renderTimer.isActive()) m_renderTimer.start();
            });
    connect(&m_chat, &app::ChatController::promptUsed, this, [this](qint64 conversationId, const app::PromptInfo&) {
        if (conversationId == m_chat.currentConversation()) showPromptInfo();
    });
    connect(&m_chat, &app::ChatController::deviceRecovered, this, [this](qint64 conversationId, const QString&) {
        if (conversationId == m_chat.currentConversation()) showDeviceNotice();
    });
    connect(&m_chat, &app::ChatController::answerFinished, this, [this](const app::Message& m) {
        m_renderTimer.stop();
        m_pendingId = 0;
        m_pendingReasoningId = 0;
        m_transcript->updateMessage(m);
    });
    connect(&m_chat, &app::ChatController::generatingChanged, this, [this](bool generating) {
        m_composer->setGenerating(generating);
        m_transcript->setGenerating(generating);
    });
    connect(&m_chat, &app::ChatController::conversationsChanged, this, [this] {
        if (auto c = m_chat.current()) m_title->setText(c->title);
        m_sidebar->selectConversation(m_chat.currentConversation());
    });
    openConversation(m_chat.currentConversation());
}

void ChatView::openConversation(qint64 id) {
    flushStreaming();
    m_sidebar->selectConversation(id);
    m_transcript->setMessages(m_chat.messages());
    const auto c = m_chat.current();
    m_title->setText(c ? c->title : tr("New chat"));
    m_settings->setConversation(c ? *c : m_chat.draft());  // none open: what the next chat gets
    const QString name = modelName(c && !c->modelPath.isEmpty() ? c->modelPath : m_chat.loadedModelPath());
    m_model->setText(name);
    m_transcript->setAssistantName(name);
    m_composer->setGenerating(m_chat.isGenerating());
    m_transcript->setGenerating(m_chat.isGenerating());
    showPromptInfo();
    showDeviceNotice();
    updateSendable();
}

void ChatView::showDeviceNotice() {
    const QString text = m_chat.deviceNotice(m_chat.currentConversation());
    m_deviceNotice->setText(text);
    m_deviceNotice->setVisible(!text.isEmpty());
}

// With no model loaded and none named by the conversation, a message would only be stored as
// a failed answer: say so above the box instead, with the way to a model.
void ChatView::updateSendable() {
    m_composer->setBlocked(m_chat.canAnswer() ? QString()
                                              : tr("Load a model first: no model is loaded, and this chat has none of "
                                                   "its own. Load one from the Library (its Load button)."));
}

void ChatView::flushStreaming() {
    if (m_pendingReasoningId != 0)
        m_transcript->setStreamingReasoning(m_pendingReasoningId, m_pendingReasoning, m_pendingThinking,
                                            m_pendingThinkingMs);
    if (m_pendingId != 0) m_transcript->setStreamingText(m_pendingId, m_pendingText, m_pendingTokens, m_pendingTps);
}

void ChatView::showPromptInfo() {
    const auto c = m_chat.current();
    const bool custom = c ? !c->chatTemplate.isEmpty() : !m_chat.draft().chatTemplate.isEmpty();
    const app::PromptInfo last = c ? m_chat.lastPrompt(c->id) : app::PromptInfo{};
    QString inUse = last.templateName;
    if (inUse.isEmpty()) inUse = m_chat.loadedChatFormat().isEmpty() ? tr("the model's template") : m_chat.loadedChatFormat();
    m_settings->setTemplateStatus(inUse, custom, last.warning);
    if (last.warning.isEmpty()) {
        m_promptNotice->setVisible(false);
        return;
    }
    m_promptNotice->setText(tr("This conversation is prompted with the %1 format, not the model's own template: %2. "
                               "Answers may be worse; a custom template (conversation settings) can fix it.")
                                .arg(last.templateName, last.warning));
    m_promptNotice->setVisible(true);
}

void ChatView::editTemplate() {
    const auto c = m_chat.current();
    const QString current = c ? c->chatTemplate : m_chat.draft().chatTemplate;
    TemplateDialog dialog(current, m_chat.loadedModelTemplate(),
                          [this](const QString& text) { return m_chat.setConversationTemplate(text); }, this);
    if (dialog.exec() == QDialog::Accepted) showPromptInfo();
}

void ChatView::copyMessage(qint64 id) {
    for (const app::Message& m : m_chat.messages())
        if (m.id == id) QApplication::clipboard()->setText(m.content);
}

void ChatView::setSettingsVisible(bool visible) {
    m_settings->setVisible(visible);
    if (m_settingsButton->isChecked() != visible) m_settingsButton->setChecked(visible);
}

void ChatView::setContextWarning(const QString& warning) {
    m_contextWarning->setToolTip(warning);
    m_contextWarning->setAccessibleName(warning);
    m_contextWarning->setVisible(!warning.isEmpty());
}

QString ChatView::contextWarning() const { return m_contextWarning->isHidden() ? QString() : m_contextWarning->toolTip(); }

void ChatView::setModelStatus(const QString&) {
    if (auto c = m_chat.current(); c && !c->modelPath.isEmpty()) return;  // it has its own model
    const QString name = modelName(m_chat.loadedModelPath());
    m_model->setText(name);
    m_transcript->setAssistantName(name);
    updateSendable();
}

QString ChatView::modelName(const QString& path) const {
    if (path.isEmpty()) return QString();
    const int row = m_catalog.rowOfPath(path);
    return row >= 0 ? m_catalog.entryAt(row).name : QFileInfo(path).completeBaseName();
}

}  // namespace strata::ui
