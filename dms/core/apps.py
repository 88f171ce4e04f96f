from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "dms.core"
    label = "core"
    verbose_name = _("Dealerships and customers")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from .roles import sync_roles_after_migrate

        # Apps added later bring new permissions; keep every role's permissions in step with roles.py.
        post_migrate.connect(sync_roles_after_migrate, dispatch_uid="core.sync_roles")
