// ChatView: the chat page — conversation sidebar, the open conversation's header, transcript
// and composer, and the conversation settings panel. Talks to the ChatController only.
#pragma once

#include <QTimer>
#include <QWidget>

class QLabel;
class QToolButton;

namespace strata::app {
class ChatController;
class ConversationListModel;
class ModelCatalog;
struct Message;
}  // namespace strata::app

namespace strata::ui {

class Composer;
class ConversationSettings;
class ConversationSidebar;
class TranscriptView;

class ChatView : public QWidget {
    Q_OBJECT
public:
    ChatView(app::ChatController& chat, app::ConversationListModel& conversations, app::ModelCatalog& catalog,
             QWidget* parent = nullptr);

    ConversationSidebar* sidebar() const { return m_sidebar; }
    TranscriptView* transcript() const { return m_transcript; }
    Composer* composer() const { return m_composer; }
    ConversationSettings* settingsPanel() const { return m_settings; }
    void setSettingsVisible(bool visible);
    void setModelStatus(const QString& text);
    // The loaded model runs past its trained context (App::contextWarning): a mark in the
    // header, the words in its tooltip ("" hides it).
    void setContextWarning(const QString& warning);
    QString contextWarning() const;

signals:
    void exportRequested(qint64 id);  // from the sidebar's context menu; the window asks where
    // "Open the Library" under "Load a model first": the window shows the Library.
    void libraryRequested();

private:
    void openConversation(qint64 id);
    void copyMessage(qint64 id);
    void flushStreaming();
    void editTemplate();
    // The template line in the settings and the warning above the composer, for the open
    // conversation.
    void showPromptInfo();
    void showDeviceNotice();
    void updateSendable();  // the composer's "Load a model first" notice
    QString modelName(const QString& path) const;

    app::ChatController& m_chat;
    app::ModelCatalog& m_catalog;
    ConversationSidebar* m_sidebar;
    TranscriptView* m_transcript;
    Composer* m_composer;
    ConversationSettings* m_settings;
    QLabel* m_title;
    QLabel* m_model;
    QLabel* m_contextWarning;
    QToolButton* m_settingsButton;
    QLabel* m_promptNotice;  // a built-in format stood in for the model's template
    QLabel* m_deviceNotice;  // a device failed during an answer: what, and the new layout
    // Streaming text is shown at most ~30 times a second (Markdown layout is not free).
    QTimer m_renderTimer;
    qint64 m_pendingId = 0;
    QString m_pendingText;
    int m_pendingTokens = 0;
    double m_pendingTps = 0;
    qint64 m_pendingReasoningId = 0;
    QString m_pendingReasoning;
    bool m_pendingThinking = false;
    double m_pendingThinkingMs = 0;
};

}  // namespace strata::ui
