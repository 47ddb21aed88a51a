"""Which Host and Origin headers the dev server answers (pure logic)."""

from __future__ import annotations

import pytest

from devserver.dev import exposure_warning
from devserver.hosts import HostPolicy, host_name, is_loopback_host

LOCAL = HostPolicy.build("127.0.0.1")


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("localhost:8000", "localhost"),
        ("LocalHost", "localhost"),
        ("[::1]:8000", "::1"),
        ("[::1]", "::1"),
        ("[::1", ""),
        ("example.test.", "example.test"),
        ("10.0.0.5:80", "10.0.0.5"),
    ],
)
def test_host_name(header: str, name: str) -> None:
    assert host_name(header) == name


@pytest.mark.parametrize(
    "host", ["localhost", "localhost:5173", "127.0.0.1:8000", "[::1]:8000", "app.localhost", None]
)
def test_loopback_names_are_always_allowed(host: str | None) -> None:
    assert LOCAL.allows_host(host)


@pytest.mark.parametrize(
    "host", ["attacker.example", "127.0.0.1.attacker.example", "10.0.0.5", "", "[::1"]
)
def test_foreign_names_are_refused(host: str) -> None:
    assert not LOCAL.allows_host(host)


def test_allowed_hosts_with_port_and_subdomains() -> None:
    policy = HostPolicy.build("127.0.0.1", ["dev.test:3000", ".corp.test"])
    assert policy.allows_host("dev.test")
    assert policy.allows_host("dev.test:8000")
    assert not policy.allows_host("sub.dev.test")
    assert policy.allows_host("corp.test")
    assert policy.allows_host("a.b.corp.test:1")
    assert not policy.allows_host("evilcorp.test")


def test_bound_name_and_wildcard_bind() -> None:
    assert HostPolicy.build("myhost.lan").allows_host("myhost.lan:8000")
    wide = HostPolicy.build("0.0.0.0")
    assert wide.allows_host("192.168.1.20:8000")  # IP literals cannot be DNS-rebound
    assert not wide.allows_host("attacker.example")
    assert HostPolicy.build("::").allows_host("[fe80::1]:8000")


@pytest.mark.parametrize(
    ("origin", "host", "allowed"),
    [
        (None, "127.0.0.1:8000", True),
        ("http://127.0.0.1:8000", "127.0.0.1:8000", True),
        ("http://localhost:5173", "127.0.0.1:8000", True),
        ("https://attacker.example", "127.0.0.1:8000", False),
        ("null", "127.0.0.1:8000", False),
        ("file://", "127.0.0.1:8000", False),
        ("chrome-extension://abc", "127.0.0.1:8000", False),
        ("http://localhost.attacker.example", "localhost:8000", False),
    ],
)
def test_origin(origin: str | None, host: str, allowed: bool) -> None:
    assert LOCAL.allows_origin(origin, host) is allowed


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.5", False),
        ("myhost.lan", False),
    ],
)
def test_is_loopback_host(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def test_binding_beyond_loopback_warns() -> None:
    assert exposure_warning("127.0.0.1") == ""
    assert exposure_warning("localhost") == ""
    warning = exposure_warning("0.0.0.0")
    assert warning.startswith("warning: listening on 0.0.0.0")
    assert "network" in warning
