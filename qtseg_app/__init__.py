"""QTSeg Studio's desktop app: PySide6 + pyqtgraph widgets over the Qt-free workspace.

Widgets render workspace state and send user intent; prediction runs in a
worker thread. Start it with ``qtseg-app`` (see :mod:`qtseg_app.__main__`).
"""
