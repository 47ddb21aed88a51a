"""A second module declaring a controller whose id clashes with ``apps.BindingController``."""

from __future__ import annotations

from rpc import ControllerBase
from tests.rpc.apps import HomeState


class BindingController(ControllerBase):
    async def render(self) -> HomeState:
        return HomeState(title="other", page=0)
