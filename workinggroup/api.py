"""The working group's own endpoints: who am I, and is the service healthy."""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response

from audit import witnessing
from audit.recording import outbox_lag_seconds


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    country = serializers.CharField(source="country_id", allow_null=True)
    roles = serializers.ListField(child=serializers.CharField())
    oversight = serializers.BooleanField()


@extend_schema(responses=MeSerializer)
@api_view(["GET"])
def me(request):
    """The caller's username, country and roles."""
    return Response(MeSerializer(request.user).data)


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return "ok"


def _check_broker() -> str:
    from kombu import Connection

    with Connection(settings.CELERY_BROKER_URL, connect_timeout=1) as conn:
        conn.ensure_connection(max_retries=1, timeout=1)
    return "ok"


@extend_schema(
    responses=inline_serializer(
        "Health", {"status": serializers.CharField(), "checks": serializers.DictField()}
    )
)
@never_cache
def healthz(request):
    """Database, broker (when configured) and audit outbox lag; 200 when all are fine, else 503."""
    checks, healthy = {}, True
    try:
        checks["database"] = _check_database()
    except Exception as exc:
        checks["database"], healthy = f"error: {type(exc).__name__}", False
    if settings.BROKER_CONFIGURED:
        try:
            checks["broker"] = _check_broker()
        except Exception as exc:
            checks["broker"], healthy = f"error: {type(exc).__name__}", False
    else:
        checks["broker"] = "not configured (tasks run in the web process)"
    if checks["database"] == "ok":
        lag = outbox_lag_seconds()
        limit = settings.AUDIT_OUTBOX_LAG_ALERT_SECONDS
        checks["audit_outbox_lag_seconds"] = round(lag, 3)
        if lag > limit:
            healthy = False
            checks["audit_outbox"] = f"error: oldest event waiting {lag:.0f}s (limit {limit}s)"
        else:
            checks["audit_outbox"] = "ok"
        witnessed, checks["audit_witnesses"] = witnessing.health()
        healthy = healthy and witnessed
    return JsonResponse(
        {"status": "ok" if healthy else "unhealthy", "checks": checks},
        status=200 if healthy else 503,
    )
