#include "chat/chat_controller.h"

#include <QRandomGenerator>

#include "engine/engine_worker.h"
#include "strata/chat_template.h"
#include "storage/chat_store.h"

namespace strata::app {

namespace {

QString titleFrom(const QString& text) {
    QString t = text.simplified();
    if (t.size() > 48) t = t.left(47).trimmed() + QChar(0x2026);
    return t.isEmpty() ? QObject::tr("New chat") : t;
}

AnswerStats toAnswerStats(const strata::GenerateStats& s) {
    AnswerStats a;
    a.nTokens = s.n_generated;
    a.timeToFirstTokenMs = s.time_to_first_token * 1000.0;
    a.tokensPerSecond = s.generate_tps();
    if (s.stop == strata::StopReason::max_tokens) a.endReason = kEndMaxTokens;
    else if (s.stop == strata::StopReason::context_full) a.endReason = kEndContextFull;
    return a;
}

}  // namespace

ChatController::ChatController(ChatStore& store, EngineWorker& worker, QObject* parent)
    : QObject(parent), m_store(store), m_worker(worker) {
    m_saveTimer.setInterval(kSaveIntervalMs);
    connect(&m_saveTimer, &QTimer::timeout, this, [this] {
        if (m_dirty) save(MessageState::streaming, liveStats());
    });
    connect(&worker, &EngineWorker::tokenReceived, this, &ChatController::onToken);
    connect(&worker, &EngineWorker::reasoningReceived, this, &ChatController::onReasoning);
    connect(&worker, &EngineWorker::promptReady, this, &ChatController::onPrompt);
    connect(&worker, &EngineWorker::generationFinished, this, &ChatController::onFinished);
    connect(&worker, &EngineWorker::generationFailed, this, [this](qint64 conversationId, const QString& message) {
        if (m_answerId != 0 && conversationId == m_answerConversation) emit errorOccurred(tr("The answer failed: %1").arg(message));
    });
    connect(&worker, &EngineWorker::loaded, this, &ChatController::onLoaded);
    connect(&worker, &EngineWorker::unloaded, this, [this] {
        m_loadedModel.clear();
        m_loadedTemplate.clear();
        m_loadedChatFormat.clear();
        emit modelChanged();
    });
}

ChatController::~ChatController() { abandonAnswer(); }

qint64 ChatController::newConversation(const QString& title) {
    Conversation c;
    if (auto prev = current()) {  // a new chat from an open one inherits that one's settings
        c.systemPrompt = prev->systemPrompt;
        c.sampling = prev->sampling;
        c.chatTemplate = prev->chatTemplate;
        c.modelPath = modelForNewChats();
    } else {
        c = draft();  // settings chosen before its first message, or the defaults
    }
    c.title = title.isEmpty() ? tr("New chat") : title;
    const auto id = m_store.createConversation(c);
    if (!id) {
        emit errorOccurred(tr("Could not create a conversation: %1").arg(m_store.lastError()));
        return 0;
    }
    m_draft.reset();
    emit conversationsChanged();
    selectConversation(*id);
    return *id;
}

bool ChatController::selectConversation(qint64 id) {
    if (id == 0) {
        m_current = 0;
        m_messages.clear();
        emit conversationOpened(0);
        return true;
    }
    if (!m_store.conversation(id)) return false;
    m_current = id;
    m_messages = m_store.messages(id);
    if (m_answerId != 0 && m_answerConversation == id) {
        for (Message& m : m_messages)
            if (m.id == m_answerId) m.content = m_answerText, m.reasoning = m_answerReasoning, m.state = MessageState::streaming;
    }
    emit conversationOpened(id);
    return true;
}

std::optional<Conversation> ChatController::current() const {
    return m_current ? m_store.conversation(m_current) : std::nullopt;
}

QString ChatController::modelForNewChats() const { return m_loadedModel.isEmpty() ? m_defaultModel : m_loadedModel; }

Conversation ChatController::draft() const {
    Conversation c = m_draft.value_or(Conversation{});
    if (!m_draft) {  // the user's defaults for new chats (setNewChatDefaults)
        c.systemPrompt = m_newChatDefaults.systemPrompt;
        c.sampling = m_newChatDefaults.sampling;
    }
    if (c.modelPath.isEmpty()) c.modelPath = modelForNewChats();
    return c;
}

bool ChatController::setConversationSettings(const QString& modelPath, const QString& systemPrompt,
                                             const SamplingSettings& sampling) {
    if (!m_current) {
        Conversation d;
        d.chatTemplate = m_draft ? m_draft->chatTemplate : QString();
        d.modelPath = modelPath;
        d.systemPrompt = systemPrompt;
        d.sampling = sampling;
        m_draft = d;
        return true;
    }
    return m_store.setConversationSettings(m_current, modelPath, systemPrompt, sampling);
}

std::optional<QString> ChatController::setConversationTemplate(const QString& templateText) {
    if (!templateText.trimmed().isEmpty()) {
        strata::ChatTemplateError err;
        auto compiled = strata::ChatTemplate::compile(templateText.toStdString(), &err);
        if (!compiled.ok()) return tr("The template does not parse: %1").arg(QString::fromStdString(err.to_string()));
    }
    const QString value = templateText.trimmed().isEmpty() ? QString() : templateText;
    if (!m_current) {
        Conversation d = m_draft.value_or(Conversation{});
        d.chatTemplate = value;
        m_draft = d;
        return std::nullopt;
    }
    if (!m_store.setConversationTemplate(m_current, value))
        return tr("Could not save the template: %1").arg(m_store.lastError());
    return std::nullopt;
}

bool ChatController::send(const QString& text) {
    if (text.trimmed().isEmpty() || isGenerating()) return false;
    if (!m_current && !newConversation()) return false;
    const bool first = m_messages.isEmpty();
    const auto id = m_store.appendMessage(m_current, Role::user, text);
    if (!id) {
        emit errorOccurred(tr("Could not save the message: %1").arg(m_store.lastError()));
        emit messageNotSaved(text);
        return false;
    }
    if (first) m_store.renameConversation(m_current, titleFrom(text));
    m_messages.append(*m_store.message(*id));
    emit messageAdded(m_messages.last());
    emit conversationsChanged();
    return startAnswer();
}

bool ChatController::canAnswer() const {
    if (!m_loadedModel.isEmpty()) return true;
    if (const auto c = current()) return !c->modelPath.isEmpty();
    return !draft().modelPath.isEmpty();
}

bool ChatController::regenerate() {
    if (isGenerating() || m_messages.isEmpty() || m_messages.last().role != Role::assistant) return false;
    const qint64 from = m_messages.last().id;
    m_messages.removeLast();
    emit messagesRemovedFrom(from);
    return startAnswer(from);
}

bool ChatController::canContinue() const {
    return !isGenerating() && !m_messages.isEmpty() && m_messages.last().role == Role::assistant &&
           m_messages.last().state == MessageState::stopped && !m_messages.last().content.isEmpty();
}

bool ChatController::continueAnswer() {
    if (!canContinue()) return false;
    return startAnswer(0, m_messages.last().id);
}

bool ChatController::showAlternative(qint64 answerId, int step) {
    if (isGenerating()) return false;
    int at = -1;
    for (int i = 0; i < m_messages.size(); ++i)
        if (m_messages[i].id == answerId) at = i;
    if (at < 0) return false;
    const QList<Message> all = m_store.alternatives(m_current, answerId);
    const int index = m_messages[at].altIndex + step;
    if (index < 0 || index >= all.size()) return false;
    if (!m_store.showAlternative(m_current, all[index].id)) {
        emit errorOccurred(tr("Could not switch answers: %1").arg(m_store.lastError()));
        return false;
    }
    const auto shown = m_store.message(all[index].id);
    if (!shown) return false;
    m_messages[at] = *shown;
    emit messageReplaced(answerId, *shown);
    return true;
}

bool ChatController::editAndResend(qint64 messageId, const QString& text) {
    if (isGenerating() || text.trimmed().isEmpty()) return false;
    int at = -1;
    for (int i = 0; i < m_messages.size(); ++i)
        if (m_messages[i].id == messageId && m_messages[i].role == Role::user) at = i;
    if (at < 0 || !m_store.deleteMessagesFrom(m_current, messageId)) return false;
    m_messages.resize(at);
    emit messagesRemovedFrom(messageId);
    return send(text);
}

ChatTurns ChatController::history() const {
    ChatTurns turns;
    if (auto c = current(); c && !c->systemPrompt.trimmed().isEmpty()) turns.append({Role::system, c->systemPrompt});
    for (const Message& m : m_messages) {
        if (m.id == m_answerId) continue;
        if (m.role == Role::assistant && m.content.isEmpty()) continue;
        ChatTurn t{m.role, m.content};
        t.reasoning = m.reasoning;  // the template decides whether earlier thinking is shown
        turns.append(t);
    }
    return turns;
}

AnswerStats ChatController::liveStats() const {
    AnswerStats a;
    a.nTokens = m_answerTokens;
    if (m_firstTokenMs >= 0) {
        a.timeToFirstTokenMs = double(m_firstTokenMs);
        const double secs = (m_answerClock.elapsed() - m_firstTokenMs) / 1000.0;
        const int streamed = m_answerTokens - m_baseTokens;
        if (secs > 0.05 && streamed > 1) a.tokensPerSecond = (streamed - 1) / secs;
    }
    a.thinkingMs = thinkingMs();
    return a;
}

bool ChatController::startAnswer(qint64 alternativeOf, qint64 continueId) {
    const auto conv = current();
    if (!conv) return false;
    std::optional<Message> previous;  // Continue: the answer so far
    if (continueId != 0) {
        previous = m_store.message(continueId);
        if (!previous) return false;
    }
    std::optional<qint64> id;
    if (previous) id = continueId;
    else if (alternativeOf != 0) id = m_store.addAlternative(m_current, alternativeOf);
    else id = m_store.appendMessage(m_current, Role::assistant, QString(), MessageState::streaming);
    if (!id) {
        emit errorOccurred(tr("Could not save the answer: %1").arg(m_store.lastError()));
        return false;
    }
    ChatRequest request;
    request.customTemplate = conv->chatTemplate;
    m_answerId = *id;  // history() leaves the answer out: a new one is empty, a continued one the prefix
    request.turns = history();
    m_answerConversation = m_current;
    m_answerText = previous ? previous->content : QString();
    m_answerReasoning = previous ? previous->reasoning : QString();
    request.continueFrom = m_answerText;
    m_thinkStartMs = m_thinkEndMs = -1;
    m_baseTokens = m_answerTokens = previous ? previous->stats.nTokens : 0;
    m_firstTokenMs = -1;
    m_dirty = false;
    m_answerClock.start();
    if (previous) {
        m_store.clearInterrupted(continueId);
        for (Message& m : m_messages)
            if (m.id == continueId) m.state = MessageState::streaming, m.interrupted = false;
        emit generatingChanged(true);
        emit answerTextChanged(m_answerId, m_answerText, m_answerTokens, 0);
    } else {
        m_messages.append(*m_store.message(*id));
        emit messageAdded(m_messages.last());
        emit generatingChanged(true);
    }

    // The conversation keeps its model: ask for it to be loaded when another one is (the
    // worker runs requests in order, so the answer follows the load).
    if (!conv->modelPath.isEmpty() && conv->modelPath != m_loadedModel) emit modelNeeded(conv->modelPath);
    else if (conv->modelPath.isEmpty() && !m_loadedModel.isEmpty())
        m_store.setConversationSettings(m_current, m_loadedModel, conv->systemPrompt, conv->sampling);

    m_requestId = m_worker.newRequestId();
    const strata::GenerateParams params = conv->sampling.toGenerateParams(QRandomGenerator::global()->generate64());
    QMetaObject::invokeMethod(
        &m_worker,
        [worker = &m_worker, requestId = m_requestId, conversation = m_answerConversation, request, params] {
            worker->generate(requestId, conversation, request, params);
        },
        Qt::QueuedConnection);
    m_saveTimer.start();
    return true;
}

void ChatController::countToken() {
    if (m_firstTokenMs < 0) m_firstTokenMs = m_answerClock.elapsed();
    ++m_answerTokens;
    m_dirty = true;
}

double ChatController::thinkingMs() const {
    if (m_thinkStartMs < 0) return 0;
    const qint64 end = m_thinkEndMs >= 0 ? m_thinkEndMs : m_answerClock.elapsed();
    return double(end - m_thinkStartMs);
}

void ChatController::onToken(qint64 conversationId, const QString& text) {
    if (m_answerId == 0 || conversationId != m_answerConversation) return;
    countToken();
    if (m_thinkStartMs >= 0 && m_thinkEndMs < 0) {
        m_thinkEndMs = m_answerClock.elapsed();
        emit answerReasoningChanged(m_answerId, m_answerReasoning, false, thinkingMs());
    }
    m_answerText += text;
    emit answerTextChanged(m_answerId, m_answerText, m_answerTokens, liveStats().tokensPerSecond);
}

void ChatController::onReasoning(qint64 conversationId, const QString& text) {
    if (m_answerId == 0 || conversationId != m_answerConversation) return;
    countToken();
    if (m_thinkStartMs < 0) m_thinkStartMs = m_answerClock.elapsed();
    m_answerReasoning += text;
    emit answerReasoningChanged(m_answerId, m_answerReasoning, m_thinkEndMs < 0, thinkingMs());
}

void ChatController::onPrompt(qint64 conversationId, const PromptInfo& info) {
    if (m_answerId == 0 || conversationId != m_answerConversation) return;  // the API's
    m_lastPrompt.insert(conversationId, info);
    emit promptUsed(conversationId, info);
}

void ChatController::onFinished(qint64 conversationId, const strata::GenerateStats& stats) {
    if (m_answerId == 0 || conversationId != m_answerConversation) return;
    MessageState state = MessageState::complete;
    if (stats.stop == strata::StopReason::cancelled) state = MessageState::stopped;
    else if (stats.stop == strata::StopReason::error) state = MessageState::error;
    AnswerStats a = toAnswerStats(stats);
    if (a.nTokens == 0) a.nTokens = m_answerTokens - m_baseTokens;
    a.nTokens += m_baseTokens;  // Continue: the whole answer's
    a.thinkingMs = thinkingMs();
    finishAnswer(state, a);
}

void ChatController::onLoaded(const LoadedModel& model) {
    m_loadedModel = model.path;
    m_defaultModel = model.path;
    m_loadedTemplate = QString::fromStdString(model.info.chat_template);
    m_loadedChatFormat = model.chatFormat;
    emit modelChanged();
}

void ChatController::stop() {
    if (m_answerId == 0) return;
    m_worker.requestCancel(m_requestId);
    flush();  // what has streamed so far is on disk even before the worker answers
}

void ChatController::flush() {
    if (m_answerId != 0 && m_dirty) save(MessageState::streaming, liveStats());
}

void ChatController::abandonAnswer() {
    if (m_answerId == 0) return;
    finishAnswer(MessageState::stopped, liveStats());
}

void ChatController::save(MessageState state, const AnswerStats& stats) {
    if (!m_store.updateMessage(m_answerId, m_answerText, state, stats, m_answerReasoning))
        emit errorOccurred(tr("Could not save the answer: %1").arg(m_store.lastError()));
    m_dirty = false;
}

void ChatController::finishAnswer(MessageState state, const AnswerStats& stats) {
    m_saveTimer.stop();
    save(state, stats);
    const qint64 id = m_answerId;
    const qint64 conv = m_answerConversation;
    m_answerId = 0;
    m_answerConversation = 0;
    Message done;
    if (auto m = m_store.message(id)) done = *m;
    if (conv == m_current) {
        for (Message& m : m_messages)
            if (m.id == id) m = done;
    }
    emit generatingChanged(false);
    if (done.id != 0) emit answerFinished(done);
}

}  // namespace strata::app
