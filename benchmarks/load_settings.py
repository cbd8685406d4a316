"""Settings of the portal under the load run (benchmarks/load.py): the base settings, one limit raised.

Every simulated person signs in from 127.0.0.1, so the sign-in limit per address
(``ACCOUNT_RATE_LIMITS["login"]``, 60 a minute) would refuse a crowd that a real deployment
sees from many addresses. The limit on failed sign-ins stays as it is: the run never fails one.

The API throttles are not changed here: load.py sets ``API_THROTTLE_TOKEN`` and
``API_THROTTLE_USER`` in the environment, which ``aims.settings.base`` reads.
"""

from __future__ import annotations

from aims.settings.base import *  # noqa: F403
from aims.settings.base import ACCOUNT_RATE_LIMITS

ACCOUNT_RATE_LIMITS = {**ACCOUNT_RATE_LIMITS, "login": "100000/m/ip"}
