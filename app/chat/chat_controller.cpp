#include "chat/chat_controller.h"

#include <QRandomGenerator>
#include <algorithm>

#include "engine/engine_worker.h"
#include "engine/model_state.h"
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

// "cpu: layers 0–4, cuda0: layers 4–22 and the output": where the model runs now.
QString describeLayout(const strata::Plan& plan) {
    QStringList parts;
    for (const strata::StagePlan& s : plan.stages)
        parts << QObject::tr("%1: layers %2–%3").arg(QString::fromStdString(s.device_id)).arg(s.layer_begin).arg(s.layer_end);
    return parts.join(QStringLiteral(", "));
}

}  // namespace

ChatController::ChatController(ChatStore& store, EngineWorker& worker, const ModelState& model, QObject* parent)
    : QObject(parent), m_store(store), m_worker(worker), m_model(model) {
    m_saveTimer.setInterval(kSaveIntervalMs);
    connect(&m_saveTimer, &QTimer::timeout, this, [this] {
        for (auto& [id, a] : m_answers)
            if (a.dirty) save(a, MessageState::streaming, a.liveStats());
    });
    connect(&worker, &EngineWorker::tokenReceived, this, &ChatController::onToken);
    connect(&worker, &EngineWorker::reasoningReceived, this, &ChatController::onReasoning);
    connect(&worker, &EngineWorker::promptReady, this, &ChatController::onPrompt);
    connect(&worker, &EngineWorker::generationFinished, this, &ChatController::onFinished);
    connect(&worker, &EngineWorker::generationFailed, this, &ChatController::onFailed);
    connect(&worker, &EngineWorker::recovered, this, &ChatController::onRecovered);
    connect(&model, &ModelState::modelChanged, this, [this] {
        if (m_model.isLoaded()) m_defaultModel = m_model.loadedPath();
        emit modelChanged();
    });
}

QString ChatController::loadedModelPath() const { return m_model.loadedPath(); }

QString ChatController::loadedModelTemplate() const {
    return m_model.loaded() ? QString::fromStdString(m_model.loaded()->info.chat_template) : QString();
}

QString ChatController::loadedChatFormat() const { return m_model.loaded() ? m_model.loaded()->chatFormat : QString(); }

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
    const bool wasGenerating = isGenerating();
    if (id == 0) {
        m_current = 0;
        m_messages.clear();
        emit conversationOpened(0);
        if (wasGenerating) emit generatingChanged(false);
        return true;
    }
    if (!m_store.conversation(id)) return false;
    m_current = id;
    m_messages = m_store.messages(id);
    if (const Answer* a = answerOf(id)) {
        for (Message& m : m_messages)
            if (m.id == a->messageId) m.content = a->text, m.reasoning = a->reasoning, m.state = MessageState::streaming;
    }
    emit conversationOpened(id);
    if (wasGenerating != isGenerating()) emit generatingChanged(isGenerating());
    return true;
}

ChatController::Answer* ChatController::answerFor(quint64 requestId) {
    const auto it = m_answers.find(requestId);
    return it == m_answers.end() ? nullptr : &it->second;
}

const ChatController::Answer* ChatController::answerOf(qint64 conversationId) const {
    if (conversationId == 0) return nullptr;
    for (const auto& [id, a] : m_answers)
        if (a.conversationId == conversationId) return &a;
    return nullptr;
}

qint64 ChatController::streamingMessageId() const {
    const Answer* a = answerOf(m_current);
    return a ? a->messageId : 0;
}

QString ChatController::streamingText() const {
    const Answer* a = answerOf(m_current);
    return a ? a->text : QString();
}

QString ChatController::streamingReasoning() const {
    const Answer* a = answerOf(m_current);
    return a ? a->reasoning : QString();
}

quint64 ChatController::streamingRequest() const {
    const Answer* a = answerOf(m_current);
    return a ? a->requestId : 0;
}

bool ChatController::deleteConversation(qint64 id) {
    if (!m_store.conversation(id)) return false;
    if (isGenerating(id)) {  // its last tokens have nowhere to go: stop it, keep what came
        stopConversation(id);
        if (auto it = std::find_if(m_answers.begin(), m_answers.end(),
                                   [&](const auto& e) { return e.second.conversationId == id; });
            it != m_answers.end())
            finishAnswer(it->first, MessageState::stopped, it->second.liveStats());
    }
    if (!m_store.deleteConversation(id)) {
        emit errorOccurred(tr("Could not delete the conversation: %1").arg(m_store.lastError()));
        return false;
    }
    if (id == m_current) selectConversation(0);
    emit conversationsChanged();
    return true;
}

bool ChatController::restoreConversation(qint64 id) {
    if (!m_store.restoreConversation(id)) {
        emit errorOccurred(tr("Could not restore the conversation: %1").arg(m_store.lastError()));
        return false;
    }
    emit conversationsChanged();
    selectConversation(id);
    return true;
}

void ChatController::purgeDeleted() { m_store.purgeDeleted(); }

std::optional<Conversation> ChatController::current() const {
    return m_current ? m_store.conversation(m_current) : std::nullopt;
}

QString ChatController::modelForNewChats() const { return m_model.isLoaded() ? m_model.loadedPath() : m_defaultModel; }

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
    if (m_model.isLoaded()) return true;
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
    if (auto c = current(); c && !c->systemPrompt.trimmed().isEmpty()) {
        ChatTurn system;
        system.role = Role::system;
        system.content = c->systemPrompt;
        turns.append(system);
    }
    const qint64 answering = streamingMessageId();
    for (const Message& m : m_messages) {
        if (m.id == answering) continue;
        if (m.role == Role::assistant && m.content.isEmpty()) continue;
        ChatTurn t;
        t.role = m.role;
        t.content = m.content;
        t.reasoning = m.reasoning;  // the template decides whether earlier thinking is shown
        turns.append(t);
    }
    return turns;
}

AnswerStats ChatController::Answer::liveStats() const {
    AnswerStats a;
    a.nTokens = tokens;
    if (firstTokenMs >= 0) {
        a.timeToFirstTokenMs = double(firstTokenMs);
        const double secs = (clock.elapsed() - firstTokenMs) / 1000.0;
        const int streamed = tokens - baseTokens;
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
    const quint64 requestId = m_worker.newRequestId();
    Answer& a = m_answers[requestId];
    a.requestId = requestId;
    a.messageId = *id;  // history() leaves the answer out: a new one is empty, a continued one the prefix
    a.conversationId = m_current;
    a.text = previous ? previous->content : QString();
    a.reasoning = previous ? previous->reasoning : QString();
    a.baseTokens = a.tokens = previous ? previous->stats.nTokens : 0;
    a.clock.start();
    ChatRequest request;
    request.customTemplate = conv->chatTemplate;
    request.turns = history();
    request.continueFrom = a.text;
    if (previous) {
        m_store.clearInterrupted(continueId);
        for (Message& m : m_messages)
            if (m.id == continueId) m.state = MessageState::streaming, m.interrupted = false;
        emit generatingChanged(true);
        emit answerTextChanged(a.messageId, a.text, a.tokens, 0);
    } else {
        m_messages.append(*m_store.message(*id));
        emit messageAdded(m_messages.last());
        emit generatingChanged(true);
    }

    // The conversation keeps its model: ask for it to be loaded when another one is (the
    // worker runs requests in order, so the answer follows the load).
    const QString loaded = m_model.loadedPath();
    if (!conv->modelPath.isEmpty() && conv->modelPath != loaded) emit modelNeeded(conv->modelPath);
    else if (conv->modelPath.isEmpty() && !loaded.isEmpty())
        m_store.setConversationSettings(m_current, loaded, conv->systemPrompt, conv->sampling);

    const strata::GenerateParams params = conv->sampling.toGenerateParams(QRandomGenerator::global()->generate64());
    m_worker.requestChat(requestId, request, params);
    m_saveTimer.start();
    return true;
}

void ChatController::Answer::countToken() {
    if (firstTokenMs < 0) firstTokenMs = clock.elapsed();
    ++tokens;
    dirty = true;
}

double ChatController::Answer::thinkingMs() const {
    if (thinkStartMs < 0) return 0;
    const qint64 end = thinkEndMs >= 0 ? thinkEndMs : clock.elapsed();
    return double(end - thinkStartMs);
}

void ChatController::onToken(quint64 requestId, const QString& text) {
    Answer* a = answerFor(requestId);
    if (!a) return;  // the API's, or an answer already ended
    a->countToken();
    const bool shown = a->conversationId == m_current;
    if (a->thinkStartMs >= 0 && a->thinkEndMs < 0) {
        a->thinkEndMs = a->clock.elapsed();
        if (shown) emit answerReasoningChanged(a->messageId, a->reasoning, false, a->thinkingMs());
    }
    a->text += text;
    if (shown) emit answerTextChanged(a->messageId, a->text, a->tokens, a->liveStats().tokensPerSecond);
}

void ChatController::onReasoning(quint64 requestId, const QString& text) {
    Answer* a = answerFor(requestId);
    if (!a) return;
    a->countToken();
    if (a->thinkStartMs < 0) a->thinkStartMs = a->clock.elapsed();
    a->reasoning += text;
    if (a->conversationId == m_current)
        emit answerReasoningChanged(a->messageId, a->reasoning, a->thinkEndMs < 0, a->thinkingMs());
}

void ChatController::onPrompt(quint64 requestId, const PromptInfo& info) {
    const Answer* a = answerFor(requestId);
    if (!a) return;
    m_lastPrompt.insert(a->conversationId, info);
    emit promptUsed(a->conversationId, info);
}

void ChatController::onFailed(quint64 requestId, strata::ErrorCode code, const QString& message) {
    if (!answerFor(requestId)) return;
    if (code == strata::ErrorCode::busy)
        emit errorOccurred(tr("Every answer slot is taken and too many answers wait for one: try again when one "
                              "has finished, or raise Settings ▸ Parallel answers (%1)").arg(message));
    else
        emit errorOccurred(tr("The answer failed: %1").arg(message));
}

void ChatController::onRecovered(quint64 requestId, const QString& failure, const LoadedModel& model) {
    const Answer* a = answerFor(requestId);
    if (!a) return;
    const QString text = tr("A device failed during this answer (%1). Strata re-planned the model on the remaining "
                            "devices and goes on: %2.")
                             .arg(failure, describeLayout(model.plan));
    m_deviceNotices.insert(a->conversationId, text);
    emit deviceRecovered(a->conversationId, text);
}

void ChatController::onFinished(quint64 requestId, const strata::GenerateStats& stats) {
    Answer* answer = answerFor(requestId);
    if (!answer) return;
    MessageState state = MessageState::complete;
    if (stats.stop == strata::StopReason::cancelled) state = MessageState::stopped;
    else if (stats.stop == strata::StopReason::error) state = MessageState::error;
    AnswerStats a = toAnswerStats(stats);
    if (a.nTokens == 0) a.nTokens = answer->tokens - answer->baseTokens;
    a.nTokens += answer->baseTokens;  // Continue: the whole answer's
    a.thinkingMs = answer->thinkingMs();
    finishAnswer(requestId, state, a);
}

void ChatController::stop() { stopConversation(m_current); }

void ChatController::stopConversation(qint64 conversationId) {
    auto it = std::find_if(m_answers.begin(), m_answers.end(),
                           [&](const auto& e) { return e.second.conversationId == conversationId; });
    if (conversationId == 0 || it == m_answers.end()) return;
    m_worker.requestCancel(it->first);
    // What has streamed so far is on disk even before the worker answers.
    if (it->second.dirty) save(it->second, MessageState::streaming, it->second.liveStats());
}

void ChatController::flush() {
    for (auto& [id, a] : m_answers)
        if (a.dirty) save(a, MessageState::streaming, a.liveStats());
}

void ChatController::abandonAnswer() {
    while (!m_answers.empty()) {
        const auto it = m_answers.begin();
        finishAnswer(it->first, MessageState::stopped, it->second.liveStats());
    }
}

void ChatController::save(Answer& a, MessageState state, const AnswerStats& stats) {
    if (!m_store.updateMessage(a.messageId, a.text, state, stats, a.reasoning))
        emit errorOccurred(tr("Could not save the answer: %1").arg(m_store.lastError()));
    a.dirty = false;
}

void ChatController::finishAnswer(quint64 requestId, MessageState state, const AnswerStats& stats) {
    const auto it = m_answers.find(requestId);
    if (it == m_answers.end()) return;
    save(it->second, state, stats);
    const qint64 id = it->second.messageId;
    const qint64 conv = it->second.conversationId;
    m_answers.erase(it);
    if (m_answers.empty()) m_saveTimer.stop();
    Message done;
    if (auto m = m_store.message(id)) done = *m;
    if (conv == m_current) {
        for (Message& m : m_messages)
            if (m.id == id) m = done;
        emit generatingChanged(false);
    }
    if (done.id != 0) emit answerFinished(done);
}

}  // namespace strata::app
