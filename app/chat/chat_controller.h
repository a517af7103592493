// ChatController: one chat session's logic on the GUI thread — stores messages, asks the worker
// for answers, streams them into the store (saved at least every second and on stop), and tells
// the chat view what changed. Knows nothing about widgets.
//
// Several conversations can be answered at once (the worker runs each answer on a sequence of
// its own): each answer is kept by the request id it was asked with, and the worker's signals
// are matched by that id. One answer at a time per conversation. isGenerating(),
// streamingMessageId(), stop() and the answer*Changed signals are about the open conversation;
// the others' answers stream into the store and show when they are opened.
#pragma once

#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QTimer>
#include <map>
#include <optional>

#include "chat/chat_types.h"
#include "strata/sampling.h"
#include "strata/status.h"

namespace strata::app {

class ChatStore;
class EngineWorker;
class ModelState;
struct LoadedModel;

class ChatController : public QObject {
    Q_OBJECT
public:
    static constexpr int kSaveIntervalMs = 750;

    // `model` says what is loaded (the chat keeps no copy of its own).
    ChatController(ChatStore& store, EngineWorker& worker, const ModelState& model, QObject* parent = nullptr);
    ~ChatController() override;

    // ---- conversations
    qint64 newConversation(const QString& title = {});
    bool selectConversation(qint64 id);
    // Deletes softly (Undo: restoreConversation) after stopping its answer; an open one is
    // closed. The deletion is final at purgeDeleted() (the sidebar's Undo bar times out, or the
    // next start).
    bool deleteConversation(qint64 id);
    // Brings a softly deleted conversation back and opens it.
    bool restoreConversation(qint64 id);
    void purgeDeleted();
    qint64 currentConversation() const { return m_current; }
    const QList<Message>& messages() const { return m_messages; }
    std::optional<Conversation> current() const;
    // With no conversation open (a new chat not yet sent), the settings are kept for the
    // conversation the first message creates.
    bool setConversationSettings(const QString& modelPath, const QString& systemPrompt,
                                 const SamplingSettings& sampling);
    // The settings the next new conversation gets (those set while none was open, else the
    // defaults); what the settings panel shows when no conversation is open.
    Conversation draft() const;
    // A custom Jinja chat template for the open conversation (or the draft), "" for the model's
    // own. A template that does not parse is refused: the error says where.
    std::optional<QString> setConversationTemplate(const QString& templateText);
    // Which template rendered the last prompt of a conversation (empty before its first answer
    // in this session).
    PromptInfo lastPrompt(qint64 conversationId) const { return m_lastPrompt.value(conversationId); }
    // What the last device failure during an answer of this conversation was, and where the
    // model runs since (deviceRecovered's text; empty when none in this session).
    QString deviceNotice(qint64 conversationId) const { return m_deviceNotices.value(conversationId); }
    void setDefaultModel(const QString& path) { m_defaultModel = path; }
    // The system prompt and sampling a new chat starts with when none is open to inherit from
    // (Settings ▸ New chats; App::applyPreferences sets it). Only those two fields are used.
    void setNewChatDefaults(const Conversation& defaults) { m_newChatDefaults = defaults; }

    // ---- turns
    bool send(const QString& text);
    // Whether the open conversation (or the next new one) can be answered: a model is loaded,
    // or the conversation names its model (the app loads it: modelNeeded). The chat view says
    // "Load a model first" when not.
    bool canAnswer() const;
    // A new answer to the last question, kept beside the earlier ones as an alternative and
    // shown.
    bool regenerate();
    // Goes on with the last answer where it was cut (Stop, or the app was killed): the model
    // gets the conversation and the answer so far and writes on.
    bool continueAnswer();
    bool canContinue() const;
    // Shows the alternative `step` places from this answer (-1: the previous, +1: the next).
    bool showAlternative(qint64 answerId, int step);
    bool editAndResend(qint64 messageId, const QString& text);
    // Stops the open conversation's answer.
    void stop();
    // Stops the answer of `conversationId` (a conversation being deleted).
    void stopConversation(qint64 conversationId);
    // Whether the open conversation (or `conversationId`) is being answered.
    bool isGenerating() const { return isGenerating(m_current); }
    bool isGenerating(qint64 conversationId) const { return answerOf(conversationId) != nullptr; }
    int answersRunning() const { return int(m_answers.size()); }
    // The open conversation's streaming answer (0 / empty when none).
    qint64 streamingMessageId() const;
    QString streamingText() const;
    QString streamingReasoning() const;
    // The request id the open conversation's answer was asked with (0: none).
    quint64 streamingRequest() const;
    // Saves the streaming answers now (shutdown, tests).
    void flush();
    // Ends the streaming answers that will get no more tokens (the worker is gone): saves them
    // as stopped.
    void abandonAnswer();

    QString loadedModelPath() const;
    // The loaded model's own chat template text, and what prompts it without a custom template
    // ("the model's template", or the built-in format and why).
    QString loadedModelTemplate() const;
    QString loadedChatFormat() const;

signals:
    void conversationOpened(qint64 conversationId);   // messages() now holds it
    void conversationsChanged();                      // titles or order changed
    void messageAdded(const strata::app::Message& message);
    void messagesRemovedFrom(qint64 messageId);       // that message and later ones are gone
    void messageReplaced(qint64 oldId, const strata::app::Message& message);  // another alternative shown
    void modelChanged();                              // loaded or unloaded (canAnswer() may differ)
    void answerTextChanged(qint64 messageId, const QString& text, int nTokens, double tokensPerSecond);
    // The streaming answer's reasoning so far; `thinking` while the model still reasons, and
    // for how long it has reasoned (ms).
    void answerReasoningChanged(qint64 messageId, const QString& reasoning, bool thinking, double thinkingMs);
    // The prompt of an answer was rendered: which template, and a warning when a built-in
    // format stood in for the model's own (the chat shows it).
    void promptUsed(qint64 conversationId, const strata::app::PromptInfo& info);
    void answerFinished(const strata::app::Message& message);
    // The open conversation started or ended being answered (or another one was opened).
    void generatingChanged(bool generating);
    void errorOccurred(const QString& message);
    // A device failed while `conversationId` was answered; the model was re-planned on the
    // remaining devices and the answer went on. `text` says what failed and the new layout.
    void deviceRecovered(qint64 conversationId, const QString& text);
    // The user's text could not be stored (a full disk, a broken file): nothing was sent, and
    // the text comes back so the view can put it back in the composer.
    void messageNotSaved(const QString& text);
    // The conversation's model is not loaded: the app should load it (then answers follow).
    void modelNeeded(const QString& modelPath);

private:
    // An answer being streamed (its conversation may not be the open one).
    struct Answer {
        quint64 requestId = 0;
        qint64 messageId = 0;
        qint64 conversationId = 0;
        QString text;
        QString reasoning;
        qint64 thinkStartMs = -1;  // when the first reasoning arrived (answer clock)
        qint64 thinkEndMs = -1;    // when the first content after it arrived
        int tokens = 0;
        int baseTokens = 0;        // Continue: tokens the answer had before
        QElapsedTimer clock;
        qint64 firstTokenMs = -1;
        bool dirty = false;

        void countToken();  // a streamed piece is one token (the engine emits per token)
        double thinkingMs() const;
        AnswerStats liveStats() const;  // the figures so far
    };

    Answer* answerFor(quint64 requestId);
    const Answer* answerOf(qint64 conversationId) const;
    void onToken(quint64 requestId, const QString& text);
    void onReasoning(quint64 requestId, const QString& text);
    void onPrompt(quint64 requestId, const PromptInfo& info);
    void onFailed(quint64 requestId, strata::ErrorCode code, const QString& message);
    void onFinished(quint64 requestId, const strata::GenerateStats& stats);
    void onRecovered(quint64 requestId, const QString& failure, const LoadedModel& model);
    // A new answer (beside `alternativeOf` when non-zero), or more of `continueId`.
    bool startAnswer(qint64 alternativeOf = 0, qint64 continueId = 0);
    ChatTurns history() const;
    void save(Answer& answer, MessageState state, const AnswerStats& stats);
    QString modelForNewChats() const;  // the loaded model, else the last one
    void finishAnswer(quint64 requestId, MessageState state, const AnswerStats& stats);

    ChatStore& m_store;
    EngineWorker& m_worker;
    const ModelState& m_model;
    qint64 m_current = 0;
    std::optional<Conversation> m_draft;  // settings chosen while no conversation was open
    Conversation m_newChatDefaults;       // setNewChatDefaults
    QList<Message> m_messages;  // of m_current
    QString m_defaultModel;

    std::map<quint64, Answer> m_answers;  // the answers streaming now, by request id
    QTimer m_saveTimer;
    QHash<qint64, PromptInfo> m_lastPrompt;  // by conversation
    QHash<qint64, QString> m_deviceNotices;  // by conversation
};

}  // namespace strata::app
