"""API of the risk module (filled in below)."""

ROUTES: list = []
