"""Login lockout (django-axes) with two wider counts besides the username + address pair.

The pair lock (AXES_FAILURE_LIMIT, default 5) stops guessing one account from one place without locking a whole
hospital behind one NAT. Two more counts, over the same cool-off window, stop the sprays the pair lock misses:
- one username from any number of addresses (FJZL_USERNAME_FAILURE_LIMIT, slow distributed guessing);
- one address against any number of usernames (FJZL_ADDRESS_FAILURE_LIMIT, one password tried on many accounts).
The address is accounts.security.client_ip (REMOTE_ADDR, or the trusted proxy's header), never a client's claim.
"""

from __future__ import annotations

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from accounts.security import client_ip


def _failures(**lookup: str) -> int:
    since = timezone.now() - get_cool_off()
    return AccessAttempt.objects.filter(attempt_time__gte=since, **lookup).aggregate(
        n=Sum("failures_since_start"))["n"] or 0


def spray_locked(username: str | None, address: str) -> bool:
    if username and _failures(username=username) >= settings.FJZL_USERNAME_FAILURE_LIMIT:
        return True
    return bool(address) and _failures(ip_address=address) >= settings.FJZL_ADDRESS_FAILURE_LIMIT


class SprayAwareDatabaseHandler(AxesDatabaseHandler):
    def is_locked(self, request, credentials: dict | None = None) -> bool:
        if super().is_locked(request, credentials):
            return True
        if request is None or self.is_whitelisted(request, credentials):
            return False
        if spray_locked(get_client_username(request, credentials), client_ip(request)):
            # axes marks the pair lock itself when it records the failure; mark this one so the login page and
            # the API answer with the lockout message rather than "wrong password".
            request.axes_locked_out = True
            request.axes_credentials = credentials
            return True
        return False
