// DropZone: what an empty library shows — where to drop a model, what a GGUF file is, where
// people get them, and which quantization to pick.
#pragma once

#include <QFrame>

class QPushButton;

namespace strata::ui {

class DropZone : public QFrame {
    Q_OBJECT
public:
    explicit DropZone(QWidget* parent = nullptr);
    void setDragActive(bool active);

signals:
    void openRequested();
    void addFolderRequested();
    void discoverRequested();  // "Find models on Hugging Face": the Discover view

protected:
    void paintEvent(QPaintEvent* e) override;

private:
    bool m_dragActive = false;
};

}  // namespace strata::ui
