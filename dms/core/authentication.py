"""API authentication: DRF's token, read with the user's roles and permissions in one query."""

from django.db import connection
from django.utils.translation import gettext
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from .auth_backends import identity_of_token
from .middleware import activate_zone_of_api_user

# DRF's own wording of an unknown key, translated by DRF's catalogue (a variable, so not extracted into ours)
DRF_INVALID_TOKEN = "Invalid token."


class IdentityTokenAuthentication(TokenAuthentication):
    """``Authorization: Token <key>`` as DRF reads it, with the token's user, roles, permissions and dealerships in
    the one identity query the session's backend runs (``dms.core.auth_backends``): issue 19 item 4 — every API
    request paid four queries before the view. An unknown key or an inactive user is left to DRF, so the refusals
    (401, their messages) stay DRF's own."""

    def authenticate(self, request):
        identified = super().authenticate(request)
        if identified is not None:
            # The session's users get their dealership's zone from the middleware; a token's user is known only now.
            activate_zone_of_api_user(getattr(request, "_request", request), identified[0])
        return identified

    def authenticate_credentials(self, key):
        if "\x00" in key:  # no key holds a NUL, and PostgreSQL refuses one as a query parameter (a 500 before)
            raise AuthenticationFailed(gettext(DRF_INVALID_TOKEN))
        if connection.vendor == "postgresql":
            found = identity_of_token(key)
            if found is not None and found[0].is_active:
                return found
        return super().authenticate_credentials(key)
