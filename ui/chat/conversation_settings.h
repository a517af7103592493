// ConversationSettings: the side panel where a conversation's model, system prompt and sampling
// settings are set; changes are saved with the conversation as they are made. It also shows which
// chat template prompts the model, and offers a custom template (edited in a dialog the chat
// view opens: templateEditRequested).
#pragma once

#include <QFrame>

#include "chat/chat_types.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QPushButton;
class QPlainTextEdit;
class QSpinBox;

namespace strata::app {
class ModelCatalog;
}

namespace strata::ui {

class ConversationSettings : public QFrame {
    Q_OBJECT
public:
    ConversationSettings(app::ModelCatalog& catalog, QWidget* parent = nullptr);

    void setConversation(const app::Conversation& c);
    QString modelPath() const;
    QString systemPrompt() const;
    app::SamplingSettings sampling() const;
    // The template line: what prompts the model (`inUse`, e.g. "the model's template"), whether
    // the conversation has a custom one, and a warning when a built-in format stood in.
    void setTemplateStatus(const QString& inUse, bool custom, const QString& warning);
    QString templateStatusText() const;

signals:
    void changed();
    void templateEditRequested();

private:
    void reloadModels();

    app::ModelCatalog& m_catalog;
    QComboBox* m_model;
    QPlainTextEdit* m_system;
    QDoubleSpinBox* m_temperature;
    QDoubleSpinBox* m_topP;
    QSpinBox* m_topK;
    QDoubleSpinBox* m_minP;
    QDoubleSpinBox* m_repeat;
    QSpinBox* m_maxTokens;
    QSpinBox* m_seed;
    QCheckBox* m_json;
    QLabel* m_template;
    QPushButton* m_templateButton;
    bool m_loading = false;
};

}  // namespace strata::ui
