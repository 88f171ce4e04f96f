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


def _has_nul(params) -> bool:
    return any("\x00" in key or any("\x00" in value for value in values) for key, values in params.lists())
