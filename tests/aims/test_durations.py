"""The ``every`` filter says a frequency in the unit a person would use."""

from __future__ import annotations

import pytest

from aims.templatetags.durations import every


@pytest.mark.parametrize(
    ("minutes", "said"),
    [
        (1440, "every day"),
        (60, "every hour"),
        (15, "every 15 minutes"),
        (90, "every 90 minutes"),
        (120, "every 2 hours"),
        (10080, "every week"),
        (2880, "every 2 days"),
        (1, "every minute"),
        (None, ""),
        (0, ""),
    ],
)
def test_every(minutes, said):
    assert every(minutes) == said
