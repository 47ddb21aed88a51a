"""The ``belay`` command: ``dev``, ``serve``, ``codegen`` and ``openapi`` verbs."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from devserver.listener import BACKLOG
from devserver.target import Target, TargetError, default_watch_dir, locate_module

EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one subcommand per verb."""
    parser = argparse.ArgumentParser(
        prog="belay", description="Belay: serve, develop and generate clients for RPC apps."
    )
    parser.add_argument("--version", action="version", version=f"belay {belay_version()}")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="{dev,serve,codegen,openapi}")

    dev = verbs.add_parser(
        "dev",
        help="development server with in-place hot reload",
        description="Serve MODULE:ATTR with hypercorn in a child process, reload changed "
        "modules in place on save, restart the process where that fails, and tell "
        "browsers to refresh over a websocket.",
        epilog='Browser reload: add <script src="/__belay/dev.js"></script> to your page '
        "(served by belay dev on the app's port).",
    )
    dev.add_argument("app", metavar="MODULE:ATTR", help="the ASGI app, e.g. shop.app:app")
    dev.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    dev.add_argument("--port", type=int, default=8000, help="port to bind (default 8000)")
    dev.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer requests for this Host name (repeatable; '.example.test' allows "
        "its subdomains too). Always allowed: localhost, 127.0.0.1, [::1] and --host",
    )
    dev.add_argument(
        "--reload-on",
        action="append",
        default=[],
        metavar="PATH_OR_GLOB",
        help="reload browsers when these frontend files change, e.g. static/ or "
        "'frontend/dist/*.js' (repeatable)",
    )
    dev.add_argument(
        "--no-request-log",
        dest="request_log",
        action="store_false",
        help="do not print a line per request",
    )
    dev.add_argument(
        "--watch",
        action="append",
        default=[],
        metavar="PKG_OR_DIR",
        help="package or directory to watch (repeatable; default: the app's top package)",
    )
    dev.add_argument(
        "--codegen-out", metavar="DIR", default="", help="regenerate the TS client here"
    )

    serve = verbs.add_parser(
        "serve",
        help="production server (hypercorn, no reloader)",
        description="Serve MODULE:ATTR with hypercorn for production: no reloader, "
        "no tracebacks in responses, graceful shutdown on SIGTERM.",
    )
    serve.add_argument("app", metavar="MODULE:ATTR", help="the ASGI app, e.g. shop.app:app")
    serve.add_argument(
        "--bind",
        action="append",
        default=[],
        metavar="HOST:PORT",
        help="address to bind (repeatable; default 127.0.0.1:8000)",
    )
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve.add_argument(
        "--backlog",
        type=int,
        default=BACKLOG,
        help=f"connections the kernel queues before accepting (default {BACKLOG})",
    )

    codegen = verbs.add_parser(
        "codegen",
        help="generate the TypeScript client",
        description="Write the typed TypeScript client for MODULE:ATTR into DIR "
        "(only files whose content changed are rewritten).",
    )
    codegen.add_argument(
        "app",
        metavar="MODULE:ATTR",
        help="the ASGI app, e.g. shop.app:app, or a FILE.json saved by --save-description "
        "(then the app is not imported)",
    )
    codegen.add_argument("--out", required=True, metavar="DIR", help="output directory")
    codegen.add_argument(
        "--save-description",
        default="",
        metavar="FILE",
        help="also save the app's description as JSON, to generate from later",
    )
    codegen.add_argument(
        "--react", action="store_true", help="also write react.ts (useServerState, useStream)"
    )

    openapi = verbs.add_parser(
        "openapi",
        help="write the OpenAPI 3.1 document",
        description="Write the OpenAPI 3.1 document of every route of MODULE:ATTR (render, "
        "live, actions) to stdout, or to FILE (rewritten only when its content changes).",
    )
    openapi.add_argument(
        "app",
        metavar="MODULE:ATTR",
        help="the ASGI app, e.g. shop.app:app, or a FILE.json saved by belay codegen "
        "--save-description (then the app is not imported)",
    )
    openapi.add_argument("--out", default="", metavar="FILE", help="write here, not to stdout")
    return parser


def belay_version() -> str:
    """The installed ``belay-rpc`` distribution's version."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("belay-rpc")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def fail(message: str) -> int:
    """Print a one-line error and return the usage exit code."""
    print(f"belay: error: {message}", file=sys.stderr, flush=True)
    return EXIT_USAGE


def run_dev_verb(args: argparse.Namespace) -> int:
    """``belay dev``: locate (never import) the target here, then supervise."""
    from devserver.dev import DevOptions, run_dev
    from devserver.target import resolve_watch_arg

    target = Target.parse(args.app)
    if locate_module(target.module) is None:
        raise TargetError(f"module {target.module!r} not found (importing {target})")
    watch = [resolve_watch_arg(w) for w in args.watch] or [default_watch_dir(target.module)]
    options = DevOptions(
        target=target,
        host=args.host,
        port=args.port,
        watch=tuple(watch),
        codegen_out=str(Path(args.codegen_out).resolve()) if args.codegen_out else "",
        allowed_hosts=tuple(args.allowed_host),
        reload_on=tuple(args.reload_on),
        request_log=args.request_log,
    )
    return asyncio.run(run_dev(options))


def run_serve_verb(args: argparse.Namespace) -> int:
    """``belay serve``: check the target imports, then hand over to hypercorn."""
    from devserver.production import load_production_app, serve_production

    if args.workers < 1:
        return fail("--workers must be at least 1")
    if args.backlog < 1:
        return fail("--backlog must be at least 1")
    load_production_app(args.app)
    return serve_production(
        Target.parse(args.app),
        binds=args.bind or ["127.0.0.1:8000"],
        workers=args.workers,
        backlog=args.backlog,
    )


def run_codegen_verb(args: argparse.Namespace) -> int:
    """``belay codegen``: import the app (or read its saved description) and write the client."""
    from devserver.clientgen import run_codegen, run_codegen_from_file
    from devserver.console import describe_error
    from devserver.target import import_target

    from_file = args.app.endswith(".json")
    if from_file and args.save_description:
        return fail("--save-description needs MODULE:ATTR, not a saved description")
    app = None if from_file else import_target(Target.parse(args.app))
    try:
        out = str(Path(args.out))
        if app is None:
            written = run_codegen_from_file(args.app, out, react=args.react)
        else:
            written = run_codegen(
                app, out, save_description=args.save_description, react=args.react
            )
    except Exception as exc:  # a CodegenError names the offending model or action
        message = str(exc) if isinstance(exc, RuntimeError | OSError) else describe_error(exc)
        print(f"belay: error: codegen failed: {message}", file=sys.stderr, flush=True)
        return 1
    for path in written:
        print(f"belay: wrote {path}")
    print(f"belay: {len(written)} file(s) changed in {args.out}")
    return 0


def run_openapi_verb(args: argparse.Namespace) -> int:
    """``belay openapi``: import the app (or read its saved description), write the document."""
    from devserver.apidoc import openapi_text, openapi_text_from_file, write_openapi
    from devserver.console import describe_error
    from devserver.target import import_target

    from_file = args.app.endswith(".json")
    app = None if from_file else import_target(Target.parse(args.app))
    try:
        text = openapi_text_from_file(args.app) if app is None else openapi_text(app)
        wrote = write_openapi(text, args.out) if args.out else None
    except Exception as exc:  # a DescriptionError names the offending type
        message = str(exc) if isinstance(exc, OSError) else describe_error(exc)
        print(f"belay: error: openapi failed: {message}", file=sys.stderr, flush=True)
        return 1
    if wrote is None:
        sys.stdout.write(text)
    else:
        print(f"belay: {'wrote' if wrote else 'unchanged:'} {args.out}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """The console script; returns (and exits with) the exit code."""
    args = build_parser().parse_args(argv)
    runners = {
        "dev": run_dev_verb,
        "serve": run_serve_verb,
        "codegen": run_codegen_verb,
        "openapi": run_openapi_verb,
    }
    try:
        code = runners[args.verb](args)
    except TargetError as exc:
        code = fail(str(exc))
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)


if __name__ == "__main__":
    main()
