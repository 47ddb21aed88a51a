"""``belay openapi``: the document to stdout or a file, from the app or a saved description."""

from __future__ import annotations

import json
from pathlib import Path

from openapi_spec_validator import validate

from tests.devserver.devproc import run_belay
from tests.devserver.userpkg import write

APP = """
from pydantic import BaseModel
from rpc import ControllerBase, RPCApp, RenderBase, passthrough


class PageState(RenderBase):
    title: str


class PageController(ControllerBase):
    url = "/pages/{name}"

    async def render(self, name: str) -> PageState:
        return PageState(title=name)

    @passthrough
    async def echo(self, text: str) -> str:
        return text


app = RPCApp(controllers=[PageController()])
"""

MOUNTED = """
from starlette.applications import Starlette
from starlette.routing import Mount

from page_app import app as rpc_app

app = Starlette(routes=[Mount("/api", app=rpc_app)])
"""


def test_cli_openapi_writes_the_document_to_stdout(tmp_path: Path) -> None:
    write(tmp_path / "page_app.py", APP)
    done = run_belay(tmp_path, ["openapi", "page_app:app"])
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    validate(document)
    echo = document["paths"]["/internal/api/PageController/echo"]["post"]
    assert echo["operationId"] == "PageController.echo"


def test_cli_openapi_out_file_is_rewritten_only_on_change(tmp_path: Path) -> None:
    write(tmp_path / "page_app.py", APP)
    first = run_belay(tmp_path, ["openapi", "page_app:app", "--out", "docs/openapi.json"])
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "belay: wrote docs/openapi.json"
    written = (tmp_path / "docs" / "openapi.json").read_text()
    assert json.loads(written)["openapi"] == "3.1.0"
    second = run_belay(tmp_path, ["openapi", "page_app:app", "--out", "docs/openapi.json"])
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "belay: unchanged: docs/openapi.json"


def test_cli_openapi_of_a_mounted_app_has_the_mount_in_its_paths(tmp_path: Path) -> None:
    write(tmp_path / "page_app.py", APP)
    write(tmp_path / "site_app.py", MOUNTED)
    done = run_belay(tmp_path, ["openapi", "site_app:app"])
    assert done.returncode == 0, done.stderr
    assert "/api/internal/api/PageController/render" in json.loads(done.stdout)["paths"]


def test_cli_openapi_from_a_saved_description_never_imports_the_app(tmp_path: Path) -> None:
    write(tmp_path / "page_app.py", APP)
    direct = run_belay(tmp_path, ["openapi", "page_app:app"])
    args = ["codegen", "page_app:app", "--out", "client", "--save-description", "app.json"]
    saved = run_belay(tmp_path, args)
    assert saved.returncode == 0, saved.stderr
    (tmp_path / "page_app.py").unlink()  # importing the app would now fail
    loaded = run_belay(tmp_path, ["openapi", "app.json"])
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout == direct.stdout


def test_cli_openapi_names_the_problem(tmp_path: Path) -> None:
    write(tmp_path / "not_rpc.py", "app = object()\n")
    done = run_belay(tmp_path, ["openapi", "not_rpc:app"])
    assert done.returncode == 1
    assert "belay: error: openapi failed:" in done.stderr
    assert "needs an rpc.RPCApp" in done.stderr
    missing = run_belay(tmp_path, ["openapi", "nothing.json"])
    assert missing.returncode == 1
    assert "nothing.json" in missing.stderr
