from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClaimsConfig(AppConfig):
    name = "claims"
    verbose_name = _("Claims and complaints")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from .roles import sync_external_roles

        # The FMC, claims department and CAC are roles of their own (external users), kept in step after migrate.
        post_migrate.connect(sync_external_roles, dispatch_uid="claims.sync_external_roles")
