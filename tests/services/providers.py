"""Real identity providers for the single sign-on tests, each in a process of its own.

* :func:`oidc_provider` runs ``tests/services/oidc/provider.mjs`` (the npm ``oidc-provider``
  package; ``npm ci --prefix tests/services/oidc`` installs it) on a free loopback port.
* :func:`saml_idp` runs ``tests/services/saml_idp.py`` (pysaml2) with a key and certificate
  made for the test session.

Both wait until the provider answers and stop it afterwards. Tests import the fixtures.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import stop_process

SERVICES = Path(__file__).resolve().parent
OIDC_DIR = SERVICES / "oidc"
STARTUP_SECONDS = 30

OIDC_CLIENT_ID = "aims-portal"
OIDC_CLIENT_SECRET = "a-test-client-secret-of-the-portal"  # the local test provider's
# Accounts of the test provider: the login typed into its form (the portal's login_hint fills
# it in) names the account.
OIDC_ACCOUNTS = {
    email: {"email": email, "name": name, "groups": groups}
    for email, name, groups in [
        ("dana@sso-acme.example", "Dana Diaz", ["aims-officers", "staff"]),
        ("erin@sso-acme.example", "Erin Ortiz", ["staff"]),
        ("mallory@elsewhere.example", "Mallory", []),
    ]
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_answers(process: subprocess.Popen[bytes], url: str, name: str) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            _, err = process.communicate()
            pytest.fail(f"{name} exited ({process.returncode}): {err.decode(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310  # a loopback URL we built
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    process.kill()
    pytest.fail(f"{name} did not answer {url} within {STARTUP_SECONDS} s")


@dataclass
class OidcProvider:
    issuer: str
    client_id: str = OIDC_CLIENT_ID
    client_secret: str = OIDC_CLIENT_SECRET
    accounts: dict[str, dict[str, object]] = field(default_factory=lambda: OIDC_ACCOUNTS)


def oidc_redirect_uris(*bases: str, provider_id: str = "sso-acme") -> str:
    return " ".join(f"{base.rstrip('/')}/accounts/oidc/{provider_id}/login/callback/" for base in bases)


@pytest.fixture(scope="session")
def oidc_provider(live_server):
    """The npm ``oidc-provider`` on a free loopback port, whose one client may return to the
    live server's and the test client's allauth callback of Acme."""
    node = shutil.which("node")
    if node is None or not (OIDC_DIR / "node_modules" / "oidc-provider").is_dir():
        pytest.skip("node or tests/services/oidc/node_modules is missing (npm ci --prefix tests/services/oidc)")
    port = free_port()
    env = {
        **os.environ,
        "OIDC_PORT": str(port),
        "OIDC_CLIENT_ID": OIDC_CLIENT_ID,
        "OIDC_CLIENT_SECRET": OIDC_CLIENT_SECRET,
        "OIDC_REDIRECT_URI": oidc_redirect_uris(live_server.url, "http://testserver"),
        "OIDC_ACCOUNTS": json.dumps(OIDC_ACCOUNTS),
    }
    process = subprocess.Popen(  # our own script
        [node, str(OIDC_DIR / "provider.mjs")], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    issuer = f"http://127.0.0.1:{port}"
    try:
        _wait_until_answers(process, f"{issuer}/.well-known/openid-configuration", "oidc-provider")
        yield OidcProvider(issuer=issuer)
    finally:
        stop_process(process)


@dataclass
class SamlIdp:
    base_url: str
    entity_id: str
    metadata_url: str
    sso_url: str
    certificate_pem: str
    key_pem: str


@pytest.fixture(scope="session")
def saml_idp(live_server, tmp_path_factory):
    """A pysaml2 identity provider on a free loopback port, signing responses and assertions
    with a key made now; it signs in its configured test users without asking."""
    if shutil.which("xmlsec1") is None:
        pytest.skip("xmlsec1 is not installed (apt-get install xmlsec1)")
    from tests.services.saml_idp import make_key_and_certificate

    workdir = tmp_path_factory.mktemp("saml_idp")
    key_pem, cert_pem = make_key_and_certificate("AIMS test IdP")
    (workdir / "idp.key").write_text(key_pem)
    (workdir / "idp.crt").write_text(cert_pem)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(  # our own script
        [sys.executable, str(SERVICES / "saml_idp.py"), "--port", str(port), "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_until_answers(process, f"{base}/metadata", "saml_idp.py")
        yield SamlIdp(
            base_url=base,
            entity_id=f"{base}/metadata",
            metadata_url=f"{base}/metadata",
            sso_url=f"{base}/sso",
            certificate_pem=cert_pem,
            key_pem=key_pem,
        )
    finally:
        stop_process(process)
