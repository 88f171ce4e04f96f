from django.http import HttpResponseBadRequest, JsonResponse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _

from .tenancy import active_dealership


class ActiveDealershipMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.dealership = SimpleLazyObject(lambda: active_dealership(request))
        return self.get_response(request)


class RejectNulInQueryMiddleware:
    """A NUL character in a query parameter (a search, a filter) is a 400 for every page and API operation.

    Issue 12 item 5: PostgreSQL refuses NUL in text, so a NUL in any search or filter value reached the database
    and answered 500. No legitimate parameter carries one; refusing it here covers every view, present and future.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.META.get("QUERY_STRING", "") or _has_nul(request.GET):
            message = _("A query parameter contains a NUL character.")
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message}, status=400)
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class DataErrorMiddleware:
    """Pages: a value the database cannot store (a numeric overflow of a column, a text beyond its length) is a 400,
    not a 500 (issue 12 item 5). The service's transaction was rolled back, so nothing is half-written. The API maps
    the same error in ``dms.core.exceptions.api_exception_handler``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.db import DataError

        from .exceptions import VALUE_OUT_OF_RANGE

        if not isinstance(exception, DataError):
            return None
        message = str(VALUE_OUT_OF_RANGE)
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": message}, status=400)
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


def _has_nul(params) -> bool:
    return any("\x00" in key or any("\x00" in value for value in values) for key, values in params.lists())
