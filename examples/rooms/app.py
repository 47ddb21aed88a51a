"""The demo's ASGI app: the Belay API, the bundled page, and its static files.

Run it with ``scripts/demo`` (dev server, codegen and bundling included), or
directly: ``belay dev examples.rooms.app:app``.
"""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from examples.rooms.controllers import RoomController
from rpc import RPCApp

HERE = Path(__file__).parent
STATIC = HERE / "static"

api = RPCApp(controllers=[RoomController()])


async def room_page(request: Request) -> Response:
    return FileResponse(STATIC / "index.html")


async def home(request: Request) -> Response:
    return RedirectResponse("/rooms/lobby")


app = Starlette(
    routes=[
        Route("/", home),
        Route("/rooms/{room}", room_page),
        Mount("/static", StaticFiles(directory=STATIC, check_dir=False), name="static"),
        Mount("/", api),
    ]
)
