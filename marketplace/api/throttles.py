"""Request rates the API allows: per token (or signed-in user) and per client address, counted in the shared cache
(Redis in production: MODELHUB_CACHE_URL), so every web process counts the same requests. Over a rate the answer is
429 with `Retry-After` (the seconds left in the window); the runtime's internal routes are not counted (they
authenticate with its secret).

Counts are fixed windows kept with the cache's atomic increment: DRF's own throttles read, decide and write back a
request history, so concurrent requests in several processes all pass on the same reading, and a burst gets
through several times over."""

import time

from django.core.cache import cache
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from registry.tokens.services import TokenUse


def client_address(request) -> str | None:
    """The client's address: REMOTE_ADDR, or with MODELHUB_NUM_PROXIES proxies in front the address the outermost
    of them saw (DRF's reading of X-Forwarded-For). What the rates, the sign-in lockout (AXES_CLIENT_IP_CALLABLE)
    and a token's last_used_ip count."""
    return BaseThrottle().get_ident(request)


class WindowRateThrottle(SimpleRateThrottle):
    """`rate` ("<n>/second|minute|hour|day") per identity and window; subclasses say whose requests count."""

    def allow_request(self, request, view) -> bool:
        if self.rate is None or (ident := self.get_cache_key(request, view)) is None:
            return True
        now = time.time()
        key = f"{ident}:{int(now // self.duration)}"
        if cache.add(key, 1, self.duration + 1):
            count = 1
        else:
            try:
                count = cache.incr(key)
            except ValueError:  # expired between the two calls
                cache.set(key, 1, self.duration + 1)
                count = 1
        self.retry_after = max(1, int(self.duration - now % self.duration + 0.999))
        return count <= self.num_requests

    def wait(self) -> float:
        return self.retry_after


class TokenRateThrottle(WindowRateThrottle):
    """MODELHUB_API_RATE_PER_TOKEN: per API token, or per user for a browser session; anonymous calls are left to
    the address rate."""

    scope = "token"

    def get_cache_key(self, request, view):
        if isinstance(request.auth, TokenUse):
            ident = f"token-{request.auth.id}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AddressRateThrottle(WindowRateThrottle):
    """MODELHUB_API_RATE_PER_ADDRESS: per client address (REMOTE_ADDR, or the proxy's X-Forwarded-For when
    MODELHUB_NUM_PROXIES is set), whatever the credential."""

    scope = "address"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
