"""QTSeg Studio's desktop app, in three layers over the Qt-free workspace.

:mod:`qtseg_app.state` holds what the app knows (no Qt), :mod:`qtseg_app.services`
predicts, loads models and fine-tunes in the background and writes into the
state, :mod:`qtseg_app.qt` renders the state and writes the user's input back.
Start it with ``qtseg-app`` (see :mod:`qtseg_app.__main__`).
"""
