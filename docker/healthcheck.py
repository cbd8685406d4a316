"""Container health probe: GET one of the portal's health endpoints on this container.

Used by the image's HEALTHCHECK (``/healthz``) and by docker-compose (``/readyz``). The slim
image has no curl, hence the standard library. Django answers 400 to a Host it does not
serve, so the request carries the first usable ALLOWED_HOSTS entry rather than 127.0.0.1;
and a redirect counts as a failure instead of being followed off the container.

Usage: ``python docker/healthcheck.py [/healthz|/readyz]``; exit status 0 means healthy.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        return None  # urllib then raises HTTPError for the 3xx


def probe_host() -> str:
    """The first concrete name Django accepts: ``.example.com`` becomes ``example.com``."""
    for entry in os.environ.get("ALLOWED_HOSTS", "").split(","):
        name = entry.strip().lstrip(".")
        if name and name != "*":
            return name
    return "localhost"


def main(argv: list[str]) -> int:
    path = argv[1] if len(argv) > 1 else "/healthz"
    url = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}{path}"
    timeout = float(os.environ.get("HEALTHCHECK_TIMEOUT", "5"))
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, headers={"Host": probe_host()})  # noqa: S310 (fixed http URL)
    try:
        with opener.open(request, timeout=timeout) as response:
            healthy = response.status == 200
    except (urllib.error.URLError, OSError) as exc:
        print(f"{path}: {exc}", file=sys.stderr)
        return 1
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
