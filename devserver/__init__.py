"""Belay's ``belay`` CLI and development server.

``belay dev`` runs a supervisor (file watcher, browser notifier, process
manager; it never imports user code) and an app process (hypercorn + the app,
reloaded in place), with a warm spare process for fast restarts.
"""

from devserver.changes import (
    ChangeDecision,
    ChangeFilter,
    ChangeKind,
    ChangeSource,
    FileChange,
    WatchfilesSource,
    merge_watch_paths,
)
from devserver.coordinator import AppControl, ReloadCoordinator
from devserver.graph import ImportGraph, ModuleSource
from devserver.reloader import ModuleReloader, ReloadOutcome
from devserver.target import Target, TargetError

__all__ = [
    "AppControl",
    "ChangeDecision",
    "ChangeFilter",
    "ChangeKind",
    "ChangeSource",
    "FileChange",
    "ImportGraph",
    "ModuleReloader",
    "ModuleSource",
    "ReloadCoordinator",
    "ReloadOutcome",
    "Target",
    "TargetError",
    "WatchfilesSource",
    "merge_watch_paths",
]
