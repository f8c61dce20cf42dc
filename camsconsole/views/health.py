"""`/healthz` for load balancers: the database, Redis and at least one live worker."""

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from rq import Worker


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Public on purpose (load balancers do not log in); it tells nothing but up or down."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception:
        checks["database"] = "down"
    try:
        # Short timeouts: a hung Redis must make the probe fail, not hang it.
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1
        )
        client.ping()
        checks["redis"] = "ok"
        checks["workers"] = "ok" if Worker.count(connection=client) > 0 else "none"
    except Exception:
        checks["redis"] = checks["workers"] = "down"
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "fail", **checks}, status=200 if healthy else 503
    )
