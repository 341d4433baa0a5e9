"""System checks of the witnessed log's configuration."""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured


@checks.register(checks.Tags.security)
def witnesses_configured(app_configs, **kwargs):
    """WG_WITNESSES must parse; a production log without witnesses (or quorum) is warned of."""
    from audit import witnessing

    try:
        witnesses = witnessing.configured_witnesses()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="audit.E017")]
    quorum = settings.WG_WITNESS_QUORUM
    if witnesses and not 1 <= quorum <= len(witnesses):
        return [checks.Error(
            f"WG_WITNESS_QUORUM={quorum} but {len(witnesses)} witnesses are configured",
            id="audit.E018",
        )]
    if not witnesses and not settings.DEBUG:
        return [checks.Warning(
            "The audit log is unwitnessed: no WG_WITNESSES are configured, so a database "
            "superuser can cut or rewrite its history and re-sign it unseen.",
            hint="Run one witness per country (manage.py run_witness) and list them in "
                 "WG_WITNESSES; see docs/audit.md.",
            id="audit.W017",
        )]
    return []
