"""``belay serve``: production hypercorn, no reloader, no tracebacks.

hypercorn's own runner does the work (workers, signals, graceful shutdown).
Its workers evaluate ``devserver.production:load_from_env()``, which imports the
user's target (named in ``BELAY_APP``) with the current directory first on ``sys.path`` and
turns ``debug`` off on every RPCApp, so production never shows a traceback.
"""

from __future__ import annotations

import os

from devserver.rpcapps import set_debug
from devserver.target import Target, import_target

APP_ENV = "BELAY_APP"


def load_production_app(text: str) -> object:
    """Import ``text`` (``module:attr``) for production serving."""
    app = import_target(Target.parse(text))
    set_debug(app, False)
    return app


def load_from_env() -> object:
    """The app named by ``BELAY_APP`` (called by hypercorn in each worker)."""
    return load_production_app(os.environ[APP_ENV])


def serve_production(target: Target, *, binds: list[str], workers: int) -> int:
    """Run hypercorn on ``binds`` with ``workers`` processes; its exit code."""
    from hypercorn.config import Config
    from hypercorn.run import run

    os.environ[APP_ENV] = str(target)
    config = Config()
    config.application_path = "devserver.production:load_from_env()"
    config.bind = binds
    config.workers = workers
    config.accesslog = "-"
    config.errorlog = "-"
    return run(config)
