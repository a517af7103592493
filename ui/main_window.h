// MainWindow: the navigation rail (Chat, Library, Allocation, Topology, Speed, Discover,
// What-if), the
// model bar, the message banner and the pages. Accepts .gguf files (and Hugging Face links:
// Discover) dropped anywhere on it. Closing it while an
// answer streams stops the answer, saves what streamed, and stops the engine thread. File ▸
// Serve local API turns the API server on and off; the status bar shows where it serves and
// which devices run models. Every action is in a menu with its shortcut (Ctrl+1…7 the views,
// Ctrl+, Settings); Help ▸ Keyboard shortcuts lists them. The menus own the window-wide
// shortcuts: a page's button that claims one of them loses it (Qt would find both ambiguous and
// run neither).
#pragma once

#include <QMainWindow>
#include <QUrl>

#include "common/theme.h"

class QAction;
class QActionGroup;
class QButtonGroup;
class QLabel;
class QMenu;
class QStackedWidget;
class QToolButton;

namespace strata::app {
class App;
}

namespace strata::ui {

class AllocationPanel;
class ChatView;
class DiscoverView;
class LibraryView;
class MessageBanner;
class ModelBar;
class PerformanceView;
class TopologyView;
class WhatIfView;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    enum Page { ChatPage, LibraryPage, AllocationPage, TopologyPage, PerformancePage, DiscoverPage, WhatIfPage };

    MainWindow(app::App& app, ThemeKind systemTheme, QWidget* parent = nullptr);
    ~MainWindow() override;

    void showPage(Page page);
    Page currentPage() const;

    ChatView* chatView() const { return m_chat; }
    LibraryView* libraryView() const { return m_library; }
    AllocationPanel* allocationPanel() const { return m_allocation; }
    TopologyView* topologyView() const { return m_topology; }
    PerformanceView* performanceView() const { return m_performance; }
    DiscoverView* discoverView() const { return m_discover; }
    WhatIfView* whatIfView() const { return m_whatif; }
    MessageBanner* banner() const { return m_banner; }
    ModelBar* modelBar() const { return m_modelBar; }

    // Opens a Hub repository (or one file's repository, that file selected) in Discover: what
    // dropping a Hugging Face link does. False when `url` is no Hub repository or file link.
    bool openHubLink(const QUrl& url);
    // Adds files and folders to the library (what a drop and Add folder… do).
    void addModelPaths(const QStringList& paths);
    // File ▸ Open model…'s files: added, and when it is one model file, loaded (replacing the
    // loaded model) and the chat opened.
    void openModelFiles(const QStringList& paths);
    // The files named on the command line: added like a drop, and when exactly one model file is
    // named and nothing is loaded yet, it is loaded and the chat opens (`strata model.gguf` is
    // how people expect to start chatting with a file).
    void openFromCommandLine(const QStringList& paths);
    void applyTheme(app::ThemeChoice choice);
    // Writes conversation `id` to `path` (.json: JSON, else Markdown) and says how it went in
    // the banner; false on failure. exportChat() asks for the path first.
    bool exportConversation(qint64 id, const QString& path);
    void exportChat(qint64 id);
    // Help ▸ Keyboard shortcuts: every menu action with a shortcut, and the keys of the pages.
    void showShortcuts();
    // File ▸ Settings… (Ctrl+,): edits the preferences; on OK saves and applies them.
    void showSettings();
    // Every shortcut the window answers to, as the sheet lists them: (what, keys).
    QList<QPair<QString, QString>> shortcutList() const;
    QLabel* devicesLabel() const { return m_devicesLabel; }

signals:
    void themeChanged();

protected:
    void closeEvent(QCloseEvent* e) override;
    void dragEnterEvent(QDragEnterEvent* e) override;
    void dragMoveEvent(QDragMoveEvent* e) override;
    void dragLeaveEvent(QDragLeaveEvent* e) override;
    void dropEvent(QDropEvent* e) override;
    bool eventFilter(QObject* watched, QEvent* e) override;

private:
    QWidget* buildRail();
    void buildMenus();
    void connectApp();
    void openFiles();
    void addFolder();
    void updateRailIcons();
    void setDragActive(bool active);
    // File ▸ Serve local API: starts or stops the API server and remembers the choice.
    void setServing(bool on);
    void updateServerStatus();
    void updateDevicesStatus();
    void releaseMenuShortcuts();
    // What to load once it is in the library (the command line's model, File ▸ Open's).
    void loadWhenAdded(const QString& path, bool replaceLoaded);

    app::App& m_app;
    ThemeKind m_systemTheme;
    QStackedWidget* m_pages = nullptr;
    QButtonGroup* m_nav = nullptr;
    QList<QToolButton*> m_navButtons;
    ModelBar* m_modelBar = nullptr;
    MessageBanner* m_banner = nullptr;
    ChatView* m_chat = nullptr;
    LibraryView* m_library = nullptr;
    AllocationPanel* m_allocation = nullptr;
    TopologyView* m_topology = nullptr;
    PerformanceView* m_performance = nullptr;
    DiscoverView* m_discover = nullptr;
    WhatIfView* m_whatif = nullptr;
    void updateWhatIfModels();
    QActionGroup* m_themeGroup = nullptr;
    QAction* m_serveAction = nullptr;
    QLabel* m_serverLabel = nullptr;  // permanent in the status bar: "Serving on http://…"
    QLabel* m_devicesLabel = nullptr;  // in the status bar: "Running on the CPU (…)"
    QString m_loadWhenAdded;  // canonical path of the model to load once it is in the library
    bool m_loadReplaces = false;  // File ▸ Open: load it even if another model is loaded
};

}  // namespace strata::ui
