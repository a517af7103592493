// WhatIfView: the hardware what-if page. Up to four configurations (a GPU from the catalogue, a
// count, how the cards are linked), a model (a library file, read by its header, or parameters
// and a quantization type), the context, the users served at once and what power and the
// purchase cost; side by side: the fit per card, predicted prefill and decode tokens/s, power,
// the cost of a million tokens owned and in a cloud, tokens per dollar, what happens when one
// card fails, and the cheapest configuration that fits. Every figure is the engine's
// (strata/whatif.h, through app::WhatIfService on a pool thread); this view only formats them.
// Reads the service; writes nothing.
#pragma once

#include <QTimer>
#include <QWidget>

#include "whatif/whatif_service.h"

class QBoxLayout;
class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QScrollArea;
class QSpinBox;
class QTableWidget;

namespace strata::ui {

class WhatIfView : public QWidget {
    Q_OBJECT
public:
    explicit WhatIfView(app::WhatIfService& service, QWidget* parent = nullptr);

    // The library's model files (path, shown name) and the loaded one ("" when none; it is
    // picked when the model choice is still "parameters and type").
    void setModels(const QList<QPair<QString, QString>>& models, const QString& loadedPath);

    // The inputs as the form shows them, and setting them (tests, screenshots). Setting starts
    // a computation (after a short pause, as edits do); compute() starts one now.
    app::WhatIfInputs inputs() const;
    void setInputs(const app::WhatIfInputs& inputs);
    void compute();

    // For tests and screenshots.
    QTableWidget* table() const { return m_table; }
    QString errorText() const;
    QString cheapestText() const;
    QString cell(const QString& rowName, int config) const;  // "" when no such row
    QLineEdit* paramsEdit() const { return m_params; }

    // The formats the table uses (as strata-cli whatif prints them).
    static QString formatTps(double v);
    static QString formatUsd(double v);
    static QString formatCount(double v);

protected:
    void resizeEvent(QResizeEvent* event) override;
    void showEvent(QShowEvent* event) override;

private:
    struct ConfigRow {
        QCheckBox* use = nullptr;
        QComboBox* gpu = nullptr;
        QSpinBox* count = nullptr;
        QComboBox* link = nullptr;
    };
    QWidget* buildConfigs();
    QWidget* buildModel();
    void scheduleCompute();
    void showReport(const app::WhatIfReport& report);
    void fillGpus(const QStringList& names);
    void updateModelControls();
    void layoutInputs();  // the input cards side by side or stacked, by the page's width

    app::WhatIfService& m_service;
    QScrollArea* m_scroll = nullptr;
    QBoxLayout* m_inputs = nullptr;
    QWidget* m_configsCard = nullptr;
    QWidget* m_modelCard = nullptr;
    QList<ConfigRow> m_rows;
    QComboBox* m_model = nullptr;
    QLineEdit* m_params = nullptr;
    QComboBox* m_quant = nullptr;
    QSpinBox* m_ctx = nullptr;
    QSpinBox* m_users = nullptr;
    QDoubleSpinBox* m_kwh = nullptr;
    QDoubleSpinBox* m_years = nullptr;
    QDoubleSpinBox* m_hours = nullptr;
    QDoubleSpinBox* m_minTps = nullptr;
    QLabel* m_status = nullptr;
    QLabel* m_error = nullptr;
    QLabel* m_modelLine = nullptr;
    QLabel* m_cheapest = nullptr;
    QTableWidget* m_table = nullptr;
    QTimer m_debounce;
    QStringList m_pendingGpus;  // setInputs() before the catalogue arrived
    bool m_filling = false;     // setInputs() is filling the form: no computations meanwhile
};

}  // namespace strata::ui
