from rest_framework import permissions


class RoleModelPermissions(permissions.DjangoModelPermissions):
    """Model permissions of the user's role, reads included; custom actions name their own permission.

    A view may set ``action_permissions = {"place": ["orders.place_customerorder"], ...}``.
    """

    perms_map = {
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": [],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "POST": ["%(app_label)s.add_%(model_name)s"],
        "PUT": ["%(app_label)s.change_%(model_name)s"],
        "PATCH": ["%(app_label)s.change_%(model_name)s"],
        "DELETE": ["%(app_label)s.delete_%(model_name)s"],
    }

    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        action_perms = getattr(view, "action_permissions", {}).get(getattr(view, "action", None))
        if action_perms is not None:
            return request.user.has_perms(action_perms)
        return super().has_permission(request, view)

    def _queryset(self, view):
        # Only the model is needed: the viewset's declared ``queryset`` names it. DRF would call ``get_queryset()``,
        # running the selector — a search's probe query included (issue 19 item 3) — once more per request.
        declared = getattr(view, "queryset", None)
        return declared if declared is not None else super()._queryset(view)


class HasPerms(permissions.BasePermission):
    """For plain API views: ``required_perms = [...]`` on the view."""

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.has_perms(view.required_perms))
