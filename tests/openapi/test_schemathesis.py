"""schemathesis fuzzes every operation of the served document against a real server.

The app (``fuzz_app``) has every kind of route; the document is fetched from
its ``openapi_url``. Checks: no 5xx, every status documented, content types as
documented, response headers and bodies (and each SSE event of a stream,
its JSON ``data`` included) valid against the document, 405 + Allow for
undocumented methods, missing required headers refused. Bounded: 25 examples
per operation, deterministic generation, one worker.

Left out: ``negative_data_rejection`` and ``positive_data_acceptance`` judge
the server's leniency against pydantic's JSON Schemas, which are approximate
for inputs (pydantic's lax mode takes ``false`` for an int; a ``Decimal`` is
any string in its schema); and the ``live`` operations, which stream until the
client leaves (no request of them ever completes).
"""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from rpc.openapi import openapi_document
from tests.openapi.fuzz_app import build_app
from tests.support.server import running_server

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ST = Path(sys.executable).parent / "st"
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "unsupported_method",
    "missing_required_header",
    "allow_header_conformance",
)
OPENAPI_URL = "/openapi.json"


def run_schemathesis(location: str, base_url: str, report: Path, *extra: str) -> str:
    """``st run`` (bounded, deterministic): its console output; a JUnit report in ``report``."""
    command = [
        str(ST),
        "run",
        location,
        "--url",
        base_url,
        "--checks",
        ",".join(CHECKS),
        "--max-examples",
        "25",
        "--generation-deterministic",
        "--workers",
        "1",
        "--request-timeout",
        "20",
        "--exclude-operation-id-regex",
        r"\.live$",
        "--no-color",
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
        *extra,
    ]
    # Run in the report's folder: schemathesis keeps a cache of past failures in its
    # working directory, which would make runs depend on each other.
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=600, check=False, cwd=report.parent
    )
    return done.stdout + done.stderr


def failed_operations(report: Path) -> dict[str, str]:
    """Operation name -> failure text, from schemathesis' JUnit report; every operation present."""
    cases = ET.parse(report).getroot().iter("testcase")
    failed: dict[str, str] = {}
    for case in cases:
        problems = [*case.iter("failure"), *case.iter("error")]
        failed[case.attrib["name"]] = "\n".join(
            f"{p.attrib.get('message', '')}: {p.text or ''}" for p in problems
        )
    return failed


def documented_operations(document: dict[str, Any]) -> set[str]:
    return {
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if not operation["operationId"].endswith(".live")
    }


def test_schemathesis_finds_no_server_error_and_no_undocumented_answer(tmp_path: Path) -> None:
    report = tmp_path / "junit.xml"
    with running_server(build_app(openapi_url=OPENAPI_URL)) as server:
        output = run_schemathesis(server.base_url + OPENAPI_URL, server.base_url, report)
    results = failed_operations(report)
    assert set(results) == documented_operations(openapi_document(build_app())), output
    assert {name: text for name, text in results.items() if text} == {}, output


def test_schemathesis_catches_a_document_the_server_does_not_match(tmp_path: Path) -> None:
    """The checks bite: a document claiming a stream item's ``n`` is a string fails."""
    document = openapi_document(build_app())
    document["components"]["schemas"]["Tick"]["properties"]["n"] = {"type": "string"}
    location = tmp_path / "openapi.json"
    location.write_text(json.dumps(document))
    report = tmp_path / "junit.xml"
    with running_server(build_app()) as server:
        output = run_schemathesis(
            str(location),
            server.base_url,
            report,
            "--include-operation-id",
            "StoreController.ticks",
        )
    results = failed_operations(report)
    assert list(results) == ["POST /internal/api/StoreController/ticks"], output
    failure = results["POST /internal/api/StoreController/ticks"]
    assert "ST108" in failure, output  # ST108: an SSE event violates the schema
    assert '{"data":"{\\"n\\":0}","event":"message"}' in failure, output  # the first item
