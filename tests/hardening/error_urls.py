"""The project's URLs plus a view that reads the database, to see the 500 page (tests/hardening/test_error_pages.py)."""

from django.contrib.auth import get_user_model
from django.urls import path

from dms.urls import handler404, handler500
from dms.urls import urlpatterns as project_urlpatterns


def broken_view(request):
    get_user_model().objects.count()  # fails while the test breaks the database's queries
    # Not an outage (those answer 503, tests/hardening/test_outages.py): a plain bug, the 500 page's case.
    raise RuntimeError("a bug in the view")


urlpatterns = [*project_urlpatterns, path("test-broken/", broken_view), path("api/test-broken/", broken_view)]

__all__ = ["handler404", "handler500", "urlpatterns"]
