"""A controller whose dependencies record what they do, built per test.

No postponed annotations here: the dependencies are closures over the test's
log, and their annotations are evaluated when defined.
"""

import itertools
import threading
from collections.abc import AsyncIterator, Iterator

import anyio
from starlette.requests import Request

from rpc import (
    APIException,
    ControllerBase,
    Depends,
    RenderBase,
    RPCApp,
    passthrough,
    sideeffect,
)


class Denied(APIException):
    status_code = 403
    detail = "denied"


class DepState(RenderBase):
    counted: int
    resource: str
    user: str


class Recorder:
    """The dependencies of one app, each appending to ``log``."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.threads: dict[str, int] = {}
        self._numbers = itertools.count()
        self.started = anyio.Event()

    def sync_value(self) -> str:
        self.threads["sync_value"] = threading.get_ident()
        self.log.append("sync_value")
        return "sync"

    async def async_value(self) -> str:
        self.log.append("async_value")
        return "async"

    def sync_resource(self) -> Iterator[str]:
        self.threads["sync_resource"] = threading.get_ident()
        self.log.append("sync_resource setup")
        try:
            yield "sync-res"
        except Exception as exc:
            self.log.append(f"sync_resource saw {type(exc).__name__}")
            raise
        finally:
            self.log.append("sync_resource cleanup")

    async def async_resource(self) -> AsyncIterator[str]:
        self.log.append("async_resource setup")
        try:
            yield "async-res"
        except Exception as exc:
            self.log.append(f"async_resource saw {type(exc).__name__}")
            raise
        finally:
            self.log.append("async_resource cleanup")

    async def denied(self) -> str:
        self.log.append("denied")
        raise Denied()

    async def broken_cleanup(self) -> AsyncIterator[str]:
        self.log.append("broken setup")
        yield "broken"
        raise RuntimeError("cleanup failed")

    async def counted(self) -> int:
        number = next(self._numbers)
        self.log.append(f"counted {number}")
        return number


def build(recorder: Recorder) -> RPCApp:
    r = recorder

    def user(request: Request) -> str:
        return request.headers.get("x-user") or request.cookies.get("user") or "anonymous"

    async def doubled(number: int = Depends(r.counted)) -> int:
        return number * 10

    async def outer(inner: int = Depends(doubled), request: Request = None) -> str:  # type: ignore[assignment]
        return f"{inner}:{request.method if request else '?'}"

    class DepController(ControllerBase):
        url = "/dep"

        async def render(
            self,
            counted: int = Depends(r.counted),
            resource: str = Depends(r.async_resource),
            who: str = Depends(user),
        ) -> DepState:
            r.log.append("render")
            return DepState(counted=counted, resource=resource, user=who)

        @passthrough
        async def kinds(
            self,
            plain: str = Depends(r.sync_value),
            awaited: str = Depends(r.async_value),
            sync_res: str = Depends(r.sync_resource),
            async_res: str = Depends(r.async_resource),
        ) -> list[str]:
            r.log.append("action")
            return [plain, awaited, sync_res, async_res]

        @passthrough
        async def nested(self, value: str = Depends(outer)) -> str:
            return value

        @passthrough
        async def twice(
            self, first: int = Depends(r.counted), second: int = Depends(doubled)
        ) -> list[int]:
            return [first, second]

        @passthrough
        async def uncached(
            self,
            first: int = Depends(r.counted),
            second: int = Depends(r.counted, use_cache=False),
        ) -> list[int]:
            return [first, second]

        @sideeffect
        async def touch(self, counted: int = Depends(r.counted)) -> int:
            r.log.append("action")
            return counted

        @passthrough
        async def fails(
            self,
            sync_res: str = Depends(r.sync_resource),
            async_res: str = Depends(r.async_resource),
        ) -> None:
            r.log.append("action")
            raise RuntimeError("action failed")

        @passthrough
        def sync_fails(self, async_res: str = Depends(r.async_resource)) -> None:
            raise ValueError("sync action failed")

        @passthrough
        async def guarded(
            self,
            async_res: str = Depends(r.async_resource),
            allowed: str = Depends(r.denied),
        ) -> None:
            r.log.append("action")

        @passthrough
        async def leaky(self, value: str = Depends(r.broken_cleanup)) -> str:
            return value

        @passthrough
        async def hang(self, async_res: str = Depends(r.async_resource)) -> None:
            r.started.set()
            await anyio.sleep_forever()

    return RPCApp([DepController()])
