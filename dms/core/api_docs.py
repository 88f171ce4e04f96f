"""The OpenAPI schema and its Swagger UI page (issue 12, item 8).

* With ``settings.API_DOCS_LOGIN_REQUIRED`` (production) both need a signed-in user: the schema answers 401/403 like
  any API endpoint, the docs page sends people to the login page. The setting is read on each request, so tests can
  switch it with ``override_settings``.
* Swagger UI is the "split" view: its start-up script is a separate URL (``?script``), so the page has no inline
  script and runs under the Content-Security-Policy; its files come from drf-spectacular-sidecar (static files).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated


def _docs_permissions() -> list[BasePermission]:
    return [IsAuthenticated()] if settings.API_DOCS_LOGIN_REQUIRED else [AllowAny()]


class SchemaView(SpectacularAPIView):
    def get_permissions(self) -> list[BasePermission]:
        return _docs_permissions()


class DocsView(SpectacularSwaggerSplitView):
    permission_classes = [AllowAny]  # the page itself redirects (below); the schema it loads checks again

    @extend_schema(exclude=True)  # a page, not an API operation (as in drf-spectacular's own view)
    def get(self, request, *args, **kwargs):
        if settings.API_DOCS_LOGIN_REQUIRED and not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return super().get(request, *args, **kwargs)
