from django.http import JsonResponse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from .formatting import activate_currency, deactivate_currency
from .outage import is_outage
from .tenancy import active_dealership, default_dealership_id, user_dealerships

# On the request: False from this middleware, True once the view activated a zone — ended with the request.
ZONE_ACTIVATED_IN_VIEW = "_dms_zone_activated_in_view"


class ActiveDealershipMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.dealership = SimpleLazyObject(lambda: active_dealership(request))
        setattr(request, ZONE_ACTIVATED_IN_VIEW, False)  # the API may activate a token user's zone; ended below
        # Issue 14 item 8: pages show times in the dealership's time zone and amounts in its currency. The currency
        # is asked only when an amount is shown; the zone only for a signed-in user (anonymous pages keep the default).
        currency_token = activate_currency(lambda: getattr(request.dealership, "currency", None))
        zone = _dealership_zone(request)
        if zone is not None:
            timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            deactivate_currency(currency_token)
            # the zone this middleware activated, or the one the API activated for a token's user (below)
            if zone is not None or getattr(request, ZONE_ACTIVATED_IN_VIEW):
                timezone.deactivate()


def activate_zone_of_api_user(request, user) -> None:
    """The dealership's zone for a user the API identified by a token: DRF authenticates inside the view, after this
    middleware found no signed-in user, so the zone is activated there (``dms.core.authentication``) — times without
    an offset are read, and every time is written, in the dealership's zone, as for a session's user."""
    if getattr(request, ZONE_ACTIVATED_IN_VIEW, None) is None:
        return  # no middleware around this view to end the zone with the request (a view called directly)
    dealership_id = default_dealership_id(user)
    if dealership_id is None:
        return
    timezone.activate(user_dealerships(user)[dealership_id].tz)
    setattr(request, ZONE_ACTIVATED_IN_VIEW, True)


def _dealership_zone(request):
    try:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        dealership = request.dealership
    except Exception as error:  # noqa: BLE001 - an outage here is the view's to answer (503), not the middleware's
        if is_outage(error):
            return None
        raise
    return dealership.tz if dealership else None


class ControlCharacterQueryMiddleware:
    """Query strings with a control character answer 400 (issue 12 item 2): a NUL in ``?search=`` once reached
    PostgreSQL (a 500), a unit separator any filter. Parameters are single-line text, so they get the same validator
    as every single-line text field; the API answers JSON, pages a page in the site's layout."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.core.exceptions import ValidationError

        from .validators import validate_single_line_text

        try:
            validate_single_line_text(request.path)
            for key, values in request.GET.lists():
                validate_single_line_text(key)
                for value in values:
                    validate_single_line_text(value)
        except ValidationError as error:
            return _bad_request(request, " ".join(error.messages))
        return self.get_response(request)


def _bad_request(request, message: str):
    from django.shortcuts import render

    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=400)
    return render(request, "core/bad_request.html", {"message": message}, status=400)


class ErrorMappingMiddleware:
    """A view's exception that is not a bug answers with what it means instead of a 500 (``process_exception`` only;
    the API maps the same errors in ``dms.core.exceptions.api_exception_handler``, since DRF catches them first):

    - the database or the cache cannot be reached → 503 + Retry-After (issue 12 item 10, ``dms.core.outage``);
    - a value the database cannot store (a numeric overflow of a column, a text beyond its length) → 400 (issue 12
      item 5). The service's transaction was rolled back, so nothing is half-written.

    Anything else keeps Django's usual handling (a 500 and the error log).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.db import DataError

        from .exceptions import VALUE_OUT_OF_RANGE
        from .outage import is_outage, outage_response

        if is_outage(exception):
            return outage_response(request, exception)
        if isinstance(exception, DataError):
            return _bad_request(request, str(VALUE_OUT_OF_RANGE))
        return None
