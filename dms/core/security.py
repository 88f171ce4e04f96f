from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def lockout_response(request, credentials=None, *args, **kwargs):
    """django-axes lockout: JSON for API clients, a page for people (HTTP 429 either way)."""
    message = _("Too many failed login attempts. Try again in 15 minutes or ask an administrator to unlock you.")
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=429)
    return render(request, "registration/locked_out.html", {"message": message}, status=429)
