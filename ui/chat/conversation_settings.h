// ConversationSettings: the side panel where a conversation's model, system prompt and sampling
// settings are set; changes are saved with the conversation as they are made.
#pragma once

#include <QFrame>

#include "chat/chat_types.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
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

signals:
    void changed();

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
    bool m_loading = false;
};

}  // namespace strata::ui
