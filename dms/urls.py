from importlib.util import find_spec

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.templatetags.static import static
from django.urls import include, path
from django.views import defaults

from dms.core import api_docs, outage
from dms.core import apis as core_apis
from dms.core import views as core_views

admin.site.site_header = "DMS"


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


def favicon(request):
    """Browsers ask /favicon.ico on pages without the layout's icon link (the API's JSON, downloads): the same icon."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))


urlpatterns = [
    path("", core_views.HomeView.as_view(), name="home"),
    path("healthz/", healthz),
    path("favicon.ico", favicon),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/auth/token/", core_apis.TokenObtainApi.as_view(), name="api_token"),
    path("api/schema/", api_docs.SchemaView.as_view(), name="api_schema"),
    path("api/docs/", api_docs.DocsView.as_view(url_name="api_schema"), name="api_docs"),
    path("api/", include("dms.core.api_urls")),
    path("", include("dms.core.urls")),
]

# Each business app mounts its pages at its own prefix and its API under /api/ once it has urls modules.
for app in ("orders", "parts", "notifications", "service", "claims"):
    if find_spec(f"{app}.api_urls"):
        urlpatterns.append(path("api/", include(f"{app}.api_urls")))
    if find_spec(f"{app}.urls"):
        urlpatterns.append(path("", include(f"{app}.urls")))


# Issue 12, item 10: a database/cache outage met outside a view is a 503, like one inside (dms.core.outage).
handler500 = outage.server_error


def handler404(request, exception=None):
    """An API URL that matches no route (e.g. ``/api/customers/0.5/``) answers JSON like every other API 404."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)

