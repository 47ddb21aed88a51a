"""Belay's ``belay`` CLI and development server.

The surface is the command line (``belay dev``, ``belay serve``, ``belay
codegen``; see :mod:`devserver.cli`); the modules behind it are internal.
``belay dev`` runs a supervisor (file watcher, browser notifier, process
manager; it never imports user code) and an app process (hypercorn + the app,
reloaded in place), with a warm spare process for fast restarts.
"""

__all__: list[str] = []
