"""Issue 17 item 4: the public booking page (no login), per dealership at ``/book/<code>/``, phone-sized, in the
customer's language (``?lang=ru|en|zh-hans``), and its variant for a frame in the dealership's own site
(``/book/<code>/embed/``: only that page lets the origins of the dealership's setting frame it).

The page keeps no session: the form carries a signed timestamp (minimum fill time) and a honeypot field, the code
step a signed request id. A frame on another site gets no first-party cookies, so the page is CSRF-exempt — it acts
for nobody signed in, and every POST is limited per client address (``ClientAddressThrottle``, scope ``booking``).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import add_never_cache_headers
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt

from dms.core.exceptions import ConflictError
from dms.core.headers import build_policy
from dms.core.inputs import parse_date_param
from dms.core.models import Dealership
from dms.core.security import ClientAddressThrottle, client_address
from dms.core.views import SettingsFormView, action_error_message

from . import forms, selectors, services
from .embedding import parse_embed_origins
from .models import OnlineBookingStatus

LANGUAGES = (("ru", "Русский"), ("en", "English"), ("zh-hans", "简体中文"))
DETAIL_FIELDS = {"vin", "make", "model"}


def booking_language(request) -> str:
    wanted = (request.GET.get("lang") or request.POST.get("lang") or "").lower()
    codes = [code for code, _name in LANGUAGES]
    if wanted in codes:
        return wanted
    current = translation.get_language() or "ru"
    return current if current in codes else "ru"


class _ThrottleScope:
    throttle_scope = "booking"


def rate_limited(request) -> bool:
    """The project's per-address throttle (the API's, scope ``booking``) applied to the page's POSTs."""
    return not ClientAddressThrottle().allow_request(request, _ThrottleScope())


def frame_policy(dealership: Dealership, request) -> str:
    """The page's CSP: the project's, with the dealership's sites as the only ones that may frame it."""
    origins = parse_embed_origins(selectors.service_settings(dealership=dealership).booking_embed_origins)
    directives = {**settings.CONTENT_SECURITY_POLICY, "frame-ancestors": origins or ["'none'"]}
    return build_policy(directives, getattr(request, "csp_nonce", None))


@method_decorator(csrf_exempt, name="dispatch")
class OnlineBookingView(View):
    embed = False

    def dispatch(self, request, *args, **kwargs):
        self.dealership = get_object_or_404(Dealership, code=kwargs["code"])
        if not selectors.online_booking_enabled(dealership=self.dealership):
            raise Http404
        self.language = booking_language(request)
        # No one is signed in, so no zone is active: the times are the dealership's (the page renders at once).
        with translation.override(self.language), timezone.override(self.dealership.tz):
            response = super().dispatch(request, *args, **kwargs)
            response["Content-Language"] = self.language
        add_never_cache_headers(response)
        if self.embed:
            response["Content-Security-Policy"] = frame_policy(self.dealership, request)
        return response

    # -- rendering -----------------------------------------------------------------------------------------------
    def url(self, **params) -> str:
        name = "service:online_booking_embed" if self.embed else "service:online_booking"
        query = "&".join(f"{k}={v}" for k, v in {"lang": self.language, **params}.items())
        return reverse(name, args=[self.dealership.code]) + "?" + query

    def render(self, step: str, status: int = 200, **context):
        now = timezone.now()
        first, last = selectors.online_booking_window(dealership=self.dealership, now=now)
        context = {
            "dealership": self.dealership,
            "embed": self.embed,
            "step": step,
            "lang": self.language,
            "languages": [(code, name, self.url_for_language(code)) for code, name in LANGUAGES],
            "action_url": self.url(),
            "first_day": first,
            "last_day": last,
            "slots_api": reverse("api_online_booking_slots", args=[self.dealership.code]),
            **context,
        }
        return render(self.request, "service/online_booking.html", context, status=status)

    def url_for_language(self, code: str) -> str:
        name = "service:online_booking_embed" if self.embed else "service:online_booking"
        return reverse(name, args=[self.dealership.code]) + f"?lang={code}"

    def render_form(self, form, *, day: datetime.date | None = None, status: int = 200, **context):
        now = timezone.now()
        if day is None:
            day = selectors.online_booking_first_day(dealership=self.dealership, now=now)
        slots = selectors.online_booking_slots(dealership=self.dealership, day=day, now=now)
        tz = self.dealership.tz
        chosen = form["slot"].value() if form.is_bound else ""
        context.update(
            form=form,
            day=day,
            slots=[
                {"value": timezone.localtime(s["starts_at"], tz).strftime("%Y-%m-%dT%H:%M"), "time": s["time"]}
                for s in slots
            ],
            chosen=chosen,
        )
        return self.render("form", status=status, **context)

    def render_code(self, booking, *, code_form=None, error: str = "", status: int = 200):
        return self.render(
            "code",
            status=status,
            booking=booking,
            token=services.booking_token(booking),
            code_form=code_form or forms.OnlineBookingCodeForm(),
            error=error,
            recalls=self.recalls(booking.vin),
            local_start=timezone.localtime(booking.starts_at, self.dealership.tz),
        )

    def render_details(self, booking, form, status: int = 400):
        return self.render(
            "details",
            status=status,
            booking=booking,
            token=services.booking_token(booking),
            details_form=form,
            local_start=timezone.localtime(booking.starts_at, self.dealership.tz),
        )

    def render_done(self, booking):
        appointment = booking.appointment
        return self.render(
            "done",
            booking=booking,
            appointment=appointment,
            recalls=appointment.recall_campaigns.all() if appointment else [],
            local_start=timezone.localtime(booking.starts_at, self.dealership.tz),
        )

    def recalls(self, vin: str):
        # R15: the open recall campaigns of the VIN, shown while booking.
        return list(selectors.open_recalls_for_vin(dealership=self.dealership, vin=vin)) if vin else []

    # -- GET -----------------------------------------------------------------------------------------------------
    def get(self, request, *args, **kwargs):
        first, last = selectors.online_booking_window(dealership=self.dealership, now=timezone.now())
        day = parse_date_param(request.GET.get("date"))
        if day is not None and not first <= day <= last:
            day = None
        form = forms.OnlineBookingForm(dealership=self.dealership)
        return self.render_form(form, day=day)

    # -- POST ----------------------------------------------------------------------------------------------------
    def post(self, request, *args, **kwargs):
        if rate_limited(request):
            return self.render("limited", status=429)
        step = request.POST.get("step")
        if step == "code":
            return self.post_code()
        if step == "details":
            return self.post_details()
        return self.post_request()

    def post_request(self):
        form = forms.OnlineBookingForm(self.request.POST, dealership=self.dealership)
        day = parse_date_param(self.request.POST.get("date"))
        if not form.is_valid():
            return self.render_form(form, day=day, status=400)
        if form.is_spam:
            # A bot (honeypot filled or sent too fast): no code is sent; a person in a hurry simply sends again.
            form.add_error(None, _("Please check the form and send it again."))
            return self.render_form(form, day=day, status=400)
        data = form.cleaned_data
        try:
            booking = services.online_booking_request(
                dealership=self.dealership,
                name=data["name"],
                phone=data["phone"],
                vin=data["vin"],
                plate=data["plate"],
                make=data["make"],
                model=data["model"],
                reason=data["reason"],
                area=data["area"],
                starts_at=data["slot"],
                language=self.language,
                client_address=client_address(self.request),
            )
        except ConflictError as error:
            form.add_error(None, action_error_message(error))
            return self.render_form(form, day=day, status=409)
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                error = ValidationError({{"starts_at": "slot"}.get(k, k): v for k, v in error.error_dict.items()})
            form.add_service_errors(error)
            return self.render_form(form, day=day or data["slot"].date(), status=400)
        return self.render_code(booking)

    def booking_or_none(self):
        return services.online_booking_from_token(self.request.POST.get("token", ""), dealership=self.dealership)

    def post_code(self):
        booking = self.booking_or_none()
        if booking is None:
            return self.render("expired", status=400)
        if booking.status == OnlineBookingStatus.BOOKED:
            return self.render_done(booking)
        code_form = forms.OnlineBookingCodeForm(self.request.POST)
        if not code_form.is_valid():
            return self.render_code(booking, code_form=code_form, status=400)
        try:
            booking = services.online_booking_verify(booking=booking, code=code_form.cleaned_data["code"])
        except ConflictError as error:
            return self.render_code(booking, code_form=code_form, error=action_error_message(error), status=409)
        except ValidationError as error:
            if DETAIL_FIELDS & set(getattr(error, "message_dict", {})):
                return self.render_details(booking, self.with_errors(booking, error))
            return self.render_code(booking, code_form=code_form, error=action_error_message(error), status=400)
        return self.render_done(booking)

    def post_details(self):
        booking = self.booking_or_none()
        if booking is None:
            return self.render("expired", status=400)
        form = forms.OnlineBookingDetailsForm(self.request.POST)
        if not form.is_valid():
            return self.render_details(booking, form)
        try:
            booking = services.online_booking_complete(booking=booking, **form.cleaned_data)
        except ConflictError as error:
            return self.render_code(booking, error=action_error_message(error), status=409)
        except ValidationError as error:
            if DETAIL_FIELDS & set(getattr(error, "message_dict", {})):
                form.add_service_errors(error)
                return self.render_details(booking, form)
            form.add_error(None, action_error_message(error))
            return self.render_details(booking, form)
        return self.render_done(booking)

    @staticmethod
    def with_errors(booking, error: ValidationError):
        """The vehicle's details form as the request has them, with the service's messages on its fields."""
        form = forms.OnlineBookingDetailsForm({"vin": booking.vin, "make": booking.make, "model": booking.model})
        form.is_valid()
        form.add_service_errors(error)
        return form


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(xframe_options_exempt, name="dispatch")
class OnlineBookingEmbedView(OnlineBookingView):
    """The same page for a frame: no X-Frame-Options; its CSP's frame-ancestors lists the dealership's sites."""

    embed = True


class ServiceSettingsView(SettingsFormView):
    """A page of the dealership's service settings (``ServiceSettings``): directors read it; the administrator changes
    it (service/roles.py); saved through ``service_settings_update`` (audited), back to the same page."""

    permission_required = "service.view_servicesettings"
    change_permission = "service.change_servicesettings"
    settings_service = services.service_settings_update
    success_message = gettext_lazy("Settings saved.")

    def get_instance(self):
        return selectors.service_settings(dealership=self.request.dealership)

    def get_cancel_url(self):
        return reverse("service:appointment_calendar")


class OnlineBookingSettingsView(ServiceSettingsView):
    """The dealership's online booking: on or off, the sites that may frame the page, and the links to give out."""

    form_class = forms.OnlineBookingSettingsForm
    template_name = "service/online_booking_settings.html"

    @property
    def title(self):
        return _("Online booking")

    def get_context_data(self, **kwargs):
        code = self.request.dealership.code
        return super().get_context_data(
            page_url=self.request.build_absolute_uri(reverse("service:online_booking", args=[code])),
            embed_url=self.request.build_absolute_uri(reverse("service:online_booking_embed", args=[code])),
            **kwargs,
        )


class FollowUpSettingsView(ServiceSettingsView):
    """Issue 17 item 5: when service follow-ups are raised — the service interval (months, km) and the days after
    which work the customer declined becomes the advisor's call."""

    form_class = forms.FollowUpSettingsForm
    template_name = "service/follow_up_settings.html"

    @property
    def title(self):
        return _("Follow-ups from service")


class WorkshopLoadSettingsView(ServiceSettingsView):
    """Issue 18 item 3: "where the dealership chooses, refuses" — the rule for a booking beyond the workshop's load,
    on a page of its own (directors read it, the administrator changes it)."""

    form_class = forms.WorkshopLoadSettingsForm
    template_name = "service/workshop_load_settings.html"

    @property
    def title(self):
        return _("Workshop load")

    def get_cancel_url(self):
        return reverse("service:workshop_load")
