"""A small SAML 2.0 identity provider (pysaml2) for the portal's single sign-on tests.

Run as a process (``python saml_idp.py --port N --dir D``, D holding ``idp.key`` and
``idp.crt``), it serves its metadata at ``/metadata`` and single sign-on at ``/sso``
(HTTP-Redirect binding): a small login form whose "login" field names one of
:data:`USERS`, then a page that posts the signed response to the portal's ACS with a
"Continue" button. Responses and the assertions in them are signed with the key in D.

The portal's service provider metadata is read from its entity id (its metadata URL)
the first time it asks. Tests import :func:`make_key_and_certificate`, :func:`idp_server`,
:func:`sp_register` and :func:`authn_response` to build responses themselves: unsigned, expired or signed with
another key, which the portal must refuse.
"""

from __future__ import annotations

import argparse
import base64
import html
import zlib
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from urllib.request import urlopen
from xml.etree import ElementTree

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_EMAILADDRESS, NameID
from saml2.server import Server
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

SAMLP = "{urn:oasis:names:tc:SAML:2.0:protocol}"
SAML = "{urn:oasis:names:tc:SAML:2.0:assertion}"
EMAIL_ATTRIBUTE = "urn:oid:0.9.2342.19200300.100.1.3"
# The test users the IdP signs in: the login typed into its form names one.
USERS = {
    "sam": {"email": "sam@saml-acme.example", "name": "Sam Saml", "groups": ["aims-auditors"]},
    "tess": {"email": "tess@saml-acme.example", "name": "Tess", "groups": []},
    "olivia": {"email": "olivia@acme.example", "name": "Olivia", "groups": []},
    "charlie": {"email": "charlie@globex.example", "name": "Charlie", "groups": []},
    "gina": {"email": "gina@saml-acme.example", "name": "Gina", "groups": []},
}


def make_key_and_certificate(common_name: str) -> tuple[str, str]:
    """A new RSA key and a self-signed certificate for it, both PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return key_pem, certificate.public_bytes(serialization.Encoding.PEM).decode()


def idp_server(base_url: str, key_file: Path, cert_file: Path, *, lifetime_minutes: int = 15) -> Server:
    """A pysaml2 IdP whose assertions are valid for ``lifetime_minutes`` (negative: already expired)."""
    config = IdPConfig()
    config.load(
        {
            "entityid": f"{base_url}/metadata",
            "service": {
                "idp": {
                    "endpoints": {"single_sign_on_service": [(f"{base_url}/sso", BINDING_HTTP_REDIRECT)]},
                    "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
                    "sign_response": True,
                    "sign_assertion": True,
                    "want_authn_requests_signed": False,
                    "policy": {
                        "default": {
                            "lifetime": {"minutes": lifetime_minutes},
                            "attribute_restrictions": None,
                            "name_form": NAME_FORMAT_URI,
                        }
                    },
                }
            },
            "key_file": str(key_file),
            "cert_file": str(cert_file),
            "xmlsec_binary": "/usr/bin/xmlsec1",
            "metadata": {},
        }
    )
    return Server(config=config)


def metadata_xml(server: Server) -> str:
    return create_metadata_string(None, config=server.config, sign=False).decode()


def sp_register(server: Server, metadata: str) -> None:
    """Trust a service provider from its metadata, as an IdP administrator registers the portal."""
    server.metadata.load("inline", metadata)


def sp_known(server: Server, entity_id: str) -> bool:
    try:
        server.metadata[entity_id]
    except KeyError:
        return False
    return True


def parse_authn_request(saml_request: str) -> dict[str, str]:
    """The id, issuer and ACS URL of an HTTP-Redirect AuthnRequest."""
    xml = zlib.decompress(base64.b64decode(saml_request), -15)
    root = ElementTree.fromstring(xml)  # noqa: S314  # the portal's own request, in a test
    issuer = root.find(f"{SAML}Issuer")
    return {
        "id": root.attrib["ID"],
        "acs_url": root.attrib.get("AssertionConsumerServiceURL", ""),
        "issuer": issuer.text if issuer is not None and issuer.text else "",
    }


def authn_response(
    server: Server,
    *,
    user: dict[str, object],
    request: dict[str, str],
    sign: bool = True,
    sign_response: bool | None = None,
) -> str:
    """A base64 SAML response for ``user`` to ``request``, signed (response and assertion) or not;
    ``sign_response=False`` signs the assertion only."""
    identity = {
        EMAIL_ATTRIBUTE: [user["email"]],
        "email": [user["email"]],
        "urn:oid:2.5.4.42": [user["name"]],
        "groups": list(user.get("groups") or []),  # type: ignore[call-overload]
    }
    response = server.create_authn_response(
        identity,
        in_response_to=request["id"],
        destination=request["acs_url"],
        sp_entity_id=request["issuer"],
        name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=str(user["email"])),
        authn={"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:Password", "authn_auth": server.config.entityid},
        sign_response=sign if sign_response is None else sign_response,
        sign_assertion=sign,
        # The portal refuses SHA-1, pysaml2's default.
        sign_alg=SIG_RSA_SHA256,
        digest_alg=DIGEST_SHA256,
    )
    return base64.b64encode(str(response).encode()).decode()


LOGIN_PAGE = """<!doctype html><html><head><title>Test IdP sign-in</title></head><body>
<h1>Test IdP</h1><form method="post" action="/sso/login">
<input type="hidden" name="SAMLRequest" value="{saml_request}"><input type="hidden" name="RelayState" value="{relay}">
<label>Login <input name="login"></label><button type="submit">Sign in at the IdP</button></form></body></html>"""
POST_PAGE = """<!doctype html><html><head><title>Test IdP</title></head><body>
<form method="post" action="{acs}"><input type="hidden" name="SAMLResponse" value="{response}">
<input type="hidden" name="RelayState" value="{relay}"><button type="submit">Continue</button></form></body></html>"""


def serve(port: int, workdir: Path) -> None:
    base_url = f"http://127.0.0.1:{port}"
    server = idp_server(base_url, workdir / "idp.key", workdir / "idp.crt")
    metadata = metadata_xml(server).encode()

    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, body: bytes, content_type: str = "text/html; charset=utf-8") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = {key: values[0] for key, values in parse_qs(url.query).items()}
            if url.path == "/metadata":
                self._send(200, metadata, "application/samlmetadata+xml")
            elif url.path == "/sso" and "SAMLRequest" in query:
                page = LOGIN_PAGE.format(
                    saml_request=html.escape(query["SAMLRequest"]), relay=html.escape(query.get("RelayState", ""))
                )
                self._send(200, page.encode())
            else:
                self._send(404, b"not found")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = {key: values[0] for key, values in parse_qs(self.rfile.read(length).decode()).items()}
            user = USERS.get(form.get("login", ""))
            if urlsplit(self.path).path != "/sso/login" or user is None or "SAMLRequest" not in form:
                self._send(400, b"unknown user or request")
                return
            request = parse_authn_request(form["SAMLRequest"])
            if not sp_known(server, request["issuer"]):
                # The portal's SP entity id is its metadata URL: read it there, once.
                with urlopen(request["issuer"], timeout=10) as answer:  # noqa: S310  # the portal under test
                    sp_register(server, answer.read().decode())
            response = authn_response(server, user=user, request=request)
            page = POST_PAGE.format(
                acs=html.escape(request["acs_url"]), response=response, relay=html.escape(form.get("RelayState", ""))
            )
            self._send(200, page.encode())

        def log_message(self, format: str, *args: object) -> None:  # the base class's name
            pass

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", type=Path, required=True)
    arguments = parser.parse_args()
    serve(arguments.port, arguments.dir)
