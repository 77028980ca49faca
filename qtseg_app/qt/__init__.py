"""The app's widgets (PySide6 + pyqtgraph): each takes the session's state, subscribes to
its events and writes the user's input back; :class:`~qtseg_app.qt.main_window.MainWindow`
only composes them. Start with :func:`qtseg_app.qt.app.open_window`."""
