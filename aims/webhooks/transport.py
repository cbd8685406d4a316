"""Sending one signed request to an endpoint, refusing addresses inside the network (SSRF).

A URL's host is resolved and every address it resolves to must be public: private,
loopback, link-local, multicast, reserved and unspecified addresses are refused, unless the
instance allows them (``WEBHOOKS_ALLOW_PRIVATE_ADDRESSES``, for receivers on the same network).
The check runs when an endpoint is saved and again before each request, since DNS may answer
differently later; the request then connects to the very address that was checked, so a name
that changes between the check and the connection (DNS rebinding) cannot slip through.
Redirects are not followed: a 3xx answer is a failed attempt.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

TIMEOUT_SECONDS = 5.0
# An answer's body is not kept; reading a little lets the receiver finish its reply cleanly.
READ_LIMIT = 4096
USER_AGENT = "AIMS-portal-webhooks/1"


class AddressRefused(ValueError):
    """The URL cannot be sent to: not http(s), unresolvable, or an address inside the network."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    response_ms: int
    error: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def target_for(url: str) -> Target:
    """Where ``url`` would be sent; raises :class:`AddressRefused` with a reason people can read."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AddressRefused(_("Enter an http:// or https:// URL."))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise AddressRefused(_("The URL's port is not a number between 0 and 65535.")) from exc
    try:
        resolved = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise AddressRefused(_("The host %(host)s cannot be resolved.") % {"host": parts.hostname}) from exc
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in resolved]
    if not settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES and not all(_public(address) for address in addresses):
        raise AddressRefused(
            _(
                "The host %(host)s is a private, loopback or reserved address: webhooks are sent "
                "only to public addresses."
            )
            % {"host": parts.hostname}
        )
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(parts.scheme, parts.hostname, port, path, str(addresses[0]))


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """A connection to the address that was checked, whatever the name resolves to now."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=ssl.create_default_context())
        self._address = target.address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        # The certificate is checked against the host name, not the address connected to.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def post(url: str, body: bytes, headers: dict[str, str], timeout: float = TIMEOUT_SECONDS) -> Answer:
    """POST ``body`` to ``url``; never raises for the network: a failure is an Answer with its error."""
    started = time.monotonic()

    def elapsed() -> int:
        return round((time.monotonic() - started) * 1000)

    try:
        target = target_for(url)
    except AddressRefused as exc:
        return Answer(None, 0, str(exc))
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target, timeout)
    try:
        connection.request("POST", target.path, body=body, headers={"User-Agent": USER_AGENT, **headers})
        response = connection.getresponse()
        response.read(READ_LIMIT)
        return Answer(response.status, elapsed())
    except (OSError, http.client.HTTPException) as exc:
        return Answer(None, elapsed(), f"{type(exc).__name__}: {exc}"[:500])
    finally:
        connection.close()
