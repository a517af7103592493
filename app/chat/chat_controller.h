// ChatController: one chat session's logic on the GUI thread — stores messages, asks the worker
// for answers, streams them into the store (saved at least every second and on stop), and tells
// the chat view what changed. Knows nothing about widgets.
#pragma once

#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QTimer>
#include <optional>

#include "chat/chat_types.h"
#include "strata/sampling.h"

namespace strata::app {

class ChatStore;
class EngineWorker;
struct LoadedModel;

class ChatController : public QObject {
    Q_OBJECT
public:
    static constexpr int kSaveIntervalMs = 750;

    ChatController(ChatStore& store, EngineWorker& worker, QObject* parent = nullptr);
    ~ChatController() override;

    // ---- conversations
    qint64 newConversation(const QString& title = {});
    bool selectConversation(qint64 id);
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
    void stop();
    bool isGenerating() const { return m_answerId != 0; }
    qint64 streamingMessageId() const { return m_answerId; }
    qint64 streamingConversation() const { return m_answerConversation; }
    QString streamingText() const { return m_answerText; }
    QString streamingReasoning() const { return m_answerReasoning; }
    // Saves the streaming answer now (shutdown, tests).
    void flush();
    // Ends a streaming answer that will get no more tokens (the worker is gone): saves it as
    // stopped.
    void abandonAnswer();

    QString loadedModelPath() const { return m_loadedModel; }
    // The loaded model's own chat template text, and what prompts it without a custom template
    // ("the model's template", or the built-in format and why).
    QString loadedModelTemplate() const { return m_loadedTemplate; }
    QString loadedChatFormat() const { return m_loadedChatFormat; }

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
    void generatingChanged(bool generating);
    void errorOccurred(const QString& message);
    // The user's text could not be stored (a full disk, a broken file): nothing was sent, and
    // the text comes back so the view can put it back in the composer.
    void messageNotSaved(const QString& text);
    // The conversation's model is not loaded: the app should load it (then answers follow).
    void modelNeeded(const QString& modelPath);

private:
    void onToken(qint64 conversationId, const QString& text);
    void onReasoning(qint64 conversationId, const QString& text);
    void onPrompt(qint64 conversationId, const PromptInfo& info);
    void countToken();  // a streamed piece is one token (the engine emits per token)
    double thinkingMs() const;
    void onFinished(qint64 conversationId, const strata::GenerateStats& stats);
    void onLoaded(const LoadedModel& model);
    // A new answer (beside `alternativeOf` when non-zero), or more of `continueId`.
    bool startAnswer(qint64 alternativeOf = 0, qint64 continueId = 0);
    AnswerStats liveStats() const;  // the streaming answer's figures so far
    ChatTurns history() const;
    void save(MessageState state, const AnswerStats& stats);
    QString modelForNewChats() const;  // the loaded model, else the last one
    void finishAnswer(MessageState state, const AnswerStats& stats);

    ChatStore& m_store;
    EngineWorker& m_worker;
    qint64 m_current = 0;
    std::optional<Conversation> m_draft;  // settings chosen while no conversation was open
    Conversation m_newChatDefaults;       // setNewChatDefaults
    QList<Message> m_messages;  // of m_current
    QString m_defaultModel;
    QString m_loadedModel;
    QString m_loadedTemplate;
    QString m_loadedChatFormat;

    // The answer being streamed (it may belong to a conversation no longer shown).
    qint64 m_answerId = 0;
    qint64 m_answerConversation = 0;
    quint64 m_requestId = 0;
    QString m_answerText;
    QString m_answerReasoning;
    qint64 m_thinkStartMs = -1;  // when the first reasoning arrived (answer clock)
    qint64 m_thinkEndMs = -1;    // when the first content after it arrived
    int m_answerTokens = 0;
    int m_baseTokens = 0;         // Continue: tokens the answer had before
    QElapsedTimer m_answerClock;
    qint64 m_firstTokenMs = -1;
    bool m_dirty = false;
    QTimer m_saveTimer;
    QHash<qint64, PromptInfo> m_lastPrompt;  // by conversation
};

}  // namespace strata::app
