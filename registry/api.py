"""API of the inventory (filled in below)."""

ROUTES: list = []
