"""The demo's ASGI app: the Belay API, the bundled page, and its static files.

Run it with ``scripts/demo`` (dev server, codegen and bundling included), or
directly: ``belay dev examples.rooms.app:app``. For several workers, give the
channel a shared broker: ``BELAY_BROKER_URL=redis://127.0.0.1:6379/0 belay serve
examples.rooms.app:app --workers 2``. Room state lives in SQLite
(``$BELAY_ROOMS_DB``, see ``examples.rooms.store``).
"""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from examples.rooms.channel import room_events
from examples.rooms.controllers import RoomController
from examples.rooms.store import RoomStore
from rpc import RPCApp

HERE = Path(__file__).parent
STATIC = HERE / "static"

api = RPCApp(controllers=[RoomController(RoomStore())], channels=[room_events])


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
