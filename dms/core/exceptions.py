"""Domain errors and how the API reports them: 400 for bad input, 404 for foreign records, 409 for conflicts."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransition, TransitionNotAllowed
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from .outage import RETRY_AFTER_SECONDS, is_outage, log_outage, outage_message

VALUE_OUT_OF_RANGE = _("A number or text is too large to be stored; nothing was saved.")


class ConflictError(Exception):
    """The request is valid but the record's current state forbids it (HTTP 409)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ApiConflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The record was changed by someone else or is in a state that does not allow this.")
    default_code = "conflict"


class ApiValueOutOfRange(exceptions.APIException):
    """A value the database cannot store (issue 12 item 5): e.g. a receipt whose quantity is within its field's bounds
    but takes the stock balance beyond its column. The service's transaction is rolled back: nothing was written."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = VALUE_OUT_OF_RANGE
    default_code = "out_of_range"


def validation_error_detail(error: DjangoValidationError):
    if hasattr(error, "error_dict"):
        return {field: [str(m) for m in msgs] for field, msgs in error.message_dict.items()}
    return {"detail": " ".join(str(m) for m in error.messages)}


def api_exception_handler(exc, context):
    if is_outage(exc):
        # Issue 12, item 10: the database or the cache cannot be reached — try again shortly, not a server error.
        log_outage(context["request"], exc)
        return Response(
            {"detail": outage_message()},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if isinstance(exc, DjangoValidationError):
        detail = validation_error_detail(exc)
        if "__all__" in detail:
            detail["detail"] = " ".join(detail.pop("__all__"))
        return Response(detail, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ConflictError):
        exc = ApiConflict(exc.message)
    elif isinstance(exc, ConcurrentTransition):
        exc = ApiConflict(_("Someone else changed this record at the same moment; reload it and try again."))
    elif isinstance(exc, TransitionNotAllowed):
        exc = ApiConflict(_("This action is not allowed in the record's current status."))
    elif isinstance(exc, DataError):
        exc = ApiValueOutOfRange()
    elif isinstance(exc, IntegrityError):
        exc = ApiConflict(_("The change conflicts with existing data (a duplicate or a concurrent change)."))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is not None and isinstance(response.data, list):
        # A ValidationError raised outside a serializer (a filter backend's, e.g. DRF's search rejecting a NUL byte)
        # answers a bare list; the documented error body is an object (README, OpenAPI "Error"; issue 12 item 9).
        response.data = {"detail": " ".join(str(message) for message in response.data)}
    return response
