"""The shared blocks of dms.core (issue 13 item 1): the scoped API viewset and its action helper, the page action
view, the read-only admin. A claims complaint serves as the record with FSM transitions."""

import pytest
from django import forms
from django.contrib import admin
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import translation
from rest_framework import serializers, status
from rest_framework.test import APIRequestFactory, force_authenticate

from claims import services as claims_services
from claims.models import Complaint, ComplaintStatus
from dms.core import roles
from dms.core.admin import ReadOnlyAdmin, ReadOnlyInline
from dms.core.api_base import ScopedCreateViewSet, ScopedModelViewSet, ScopedReadOnlyViewSet
from dms.core.exceptions import ConflictError
from dms.core.models import AuditEntry, Customer, Vehicle
from dms.core.transitions import locked, run_transition
from dms.core.views import ActionView, PageAction, action_error_message
from tests.factories import CustomerFactory

# ---------------------------------------------------------------------------------------------------------------------
# The page action view


def _start_investigation(user, complaint, data):
    with transaction.atomic():
        return run_transition(locked(complaint), "start_investigation", actor=user)


def _refuse(error):
    def call(user, obj, data):
        raise error

    return call


class NoteForm(forms.Form):
    text = forms.CharField(label="Text", max_length=10)


class ComplaintButtons(ActionView):
    model = Complaint
    actions = {
        "start": PageAction(
            call=_start_investigation,
            permission="claims.investigate_complaint",
            transition="start_investigation",
            success=lambda obj, result: f"{result.number}: {result.status}",
        ),
        "assign": PageAction(
            call=_refuse(ConflictError("Assign someone.")), permission="claims.assign_complaint", transition="assign"
        ),  # fmt: skip
        "note": PageAction(call=lambda user, obj, data: data, form=NoteForm, success="Noted."),
        "invalid": PageAction(call=_refuse(ValidationError(["One.", "Two."]))),
        "denied": PageAction(call=_refuse(PermissionDenied())),
    }


class ReasonButtons(ActionView):
    """A call that reads the raw POST and leads elsewhere: the hooks ``run_action`` and ``get_done_url``."""

    model = Complaint
    actions = {"echo": PageAction(call=lambda user, obj, data: data["reason"], success=lambda obj, result: result)}

    def run_action(self, action, obj, data):
        return action.call(self.request.user, obj, {"reason": self.request.POST.get("reason", "")})

    def get_done_url(self, obj, result):
        return "/claims/complaints/"


class SingleButton(ActionView):
    model = Complaint
    action_name = "start"
    actions = {"start": ComplaintButtons.actions["start"]}
    detail_url = "claims:complaint_list_placeholder"  # replaced in the test that needs it
    follow_next = True

    def get_success_url(self, obj):
        self.detail_url = ""
        return super().get_success_url(obj)


@pytest.fixture
def complaint(advisor, dealership):
    customer = CustomerFactory(dealership=dealership)
    return claims_services.complaint_register(
        actor=advisor, dealership=dealership, channel="phone", description="x", customer=customer
    )


def _texts(response) -> list[str]:
    """The message this response added (earlier ones, never displayed, are still queued before it)."""
    return [str(m) for m in get_messages(response.wsgi_request)][-1:]


pytestmark = pytest.mark.django_db


@pytest.mark.urls("tests.core.action_urls")
def test_action_view_runs_the_transition_and_says_so(client, advisor, complaint):
    Complaint.objects.filter(pk=complaint.pk).update(status=ComplaintStatus.ASSIGNED)
    client.force_login(advisor)
    response = client.post(f"/test-actions/{complaint.pk}/start/")
    assert response.status_code == 302 and response["Location"] == complaint.get_absolute_url()
    assert _texts(response) == [f"{complaint.number}: investigating"]
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.INVESTIGATING
    assert AuditEntry.objects.filter(object_id=str(complaint.pk), action="transition").count() == 1


@pytest.mark.urls("tests.core.action_urls")
def test_action_view_turns_refusals_into_messages(client, advisor, complaint):
    client.force_login(advisor)
    # TransitionNotAllowed: the complaint is only registered
    response = client.post(f"/test-actions/{complaint.pk}/start/")
    assert response.status_code == 302
    assert _texts(response) == ["Это действие недоступно в текущем статусе записи."]
    assert client.post(f"/test-actions/{complaint.pk}/invalid/").status_code == 302
    response = client.post(f"/test-actions/{complaint.pk}/invalid/")
    assert _texts(response) == ["One. Two."]
    response = client.post(f"/test-actions/{complaint.pk}/denied/")
    assert response.status_code == 302 and _texts(response) == ["Вам не разрешено это действие."]
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.REGISTERED


@pytest.mark.urls("tests.core.action_urls")
def test_action_view_permission_form_404(client, advisor, make_user, other_dealership, complaint):
    client.force_login(advisor)
    # the advisor lacks claims.assign_complaint: 403 before anything runs
    assert client.post(f"/test-actions/{complaint.pk}/assign/").status_code == 403
    assert client.post(f"/test-actions/{complaint.pk}/unknown/").status_code == 404
    assert client.get(f"/test-actions/{complaint.pk}/start/").status_code == 405
    response = client.post(f"/test-actions/{complaint.pk}/note/", {"text": "x" * 11})
    assert response.status_code == 302
    assert _texts(response) == ["Text: Убедитесь, что это значение содержит не более 10 символов (сейчас 11)."]
    response = client.post(f"/test-actions/{complaint.pk}/note/", {"text": "ok"})
    assert _texts(response) == ["Noted."]
    # a record of another dealership is a 404
    stranger = make_user(roles.WARRANTY_ENGINEER, dealerships=[other_dealership])
    client.force_login(stranger)
    assert client.post(f"/test-actions/{complaint.pk}/note/", {"text": "ok"}).status_code == 404


@pytest.mark.urls("tests.core.action_urls")
def test_action_view_hooks(client, advisor, complaint):
    client.force_login(advisor)
    response = client.post(f"/test-reason/{complaint.pk}/echo/", {"reason": "Клиент просил"})
    assert response["Location"] == "/claims/complaints/" and _texts(response) == ["Клиент просил"]


@pytest.mark.urls("tests.core.action_urls")
def test_action_view_conflict_message_and_next(client, make_user, complaint):
    engineer = make_user(roles.WARRANTY_ENGINEER)
    client.force_login(engineer)
    response = client.post(f"/test-actions/{complaint.pk}/assign/")
    assert response.status_code == 302 and _texts(response) == ["Assign someone."]
    Complaint.objects.filter(pk=complaint.pk).update(status=ComplaintStatus.ASSIGNED)
    response = client.post(f"/test-single/{complaint.pk}/", {"next": "/claims/complaints/?page=2"})
    assert response["Location"] == "/claims/complaints/?page=2"
    Complaint.objects.filter(pk=complaint.pk).update(status=ComplaintStatus.ASSIGNED)
    response = client.post(f"/test-single/{complaint.pk}/", {"next": "//evil.example/"})
    assert response["Location"] == complaint.get_absolute_url()


def test_available_actions_ask_the_fsm_and_the_role(advisor, make_user, complaint):
    engineer = make_user(roles.WARRANTY_ENGINEER)
    # registered: start_investigation is not available; assign is (state and role) but its condition fails
    assert ComplaintButtons.available_actions(complaint, advisor) == ["note", "invalid", "denied"]
    assert ComplaintButtons.available_actions(complaint, engineer) == ["note", "invalid", "denied"]
    Complaint.objects.filter(pk=complaint.pk).update(status=ComplaintStatus.ASSIGNED)
    complaint = Complaint.objects.get(pk=complaint.pk)
    assert ComplaintButtons.available_actions(complaint, advisor) == ["start", "note", "invalid", "denied"]
    storekeeper = make_user(roles.STOREKEEPER)
    assert ComplaintButtons.available_actions(complaint, storekeeper) == ["note", "invalid", "denied"]


def test_action_error_message():
    with translation.override("en"):
        assert action_error_message(ConflictError("Busy.")) == "Busy."
        assert action_error_message(ValidationError({"a": ["A."], "b": ["B."]})) == "A. B."
        from django_fsm import ConcurrentTransition, TransitionNotAllowed

        assert action_error_message(TransitionNotAllowed("x"), not_allowed="Not now.") == "Not now."
        assert action_error_message(ConcurrentTransition("x")) == (
            "This action is not allowed in the record's current status."
        )


# ---------------------------------------------------------------------------------------------------------------------
# The scoped API viewset and run_action


class NameInput(serializers.Serializer):
    name = serializers.CharField(max_length=20)


def _rename(*, actor, customer, name):
    if name == "busy":
        raise ConflictError("Someone else is editing it.")
    if name == "bad":
        raise ValidationError({"name": ["Not that name."]})
    Customer.objects.filter(pk=customer.pk).update(name=f"{name} ({actor.username})")
    return None  # the answer is the record acted on, read again


class CustomerBrief(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "name"]


class Customers(ScopedModelViewSet):
    serializer_class = CustomerBrief
    queryset = Customer.objects.none()
    action_permissions = {"rename": [], "rename_plain": [], "make": []}

    def get_queryset(self):
        return self.scope_queryset(Customer.objects.all())

    def rename(self, request, pk=None):
        return self.run_action(request, _rename, NameInput, target="customer")

    def rename_plain(self, request, pk=None):
        return self.run_action(
            request, lambda *, actor, customer: {"ok": True}, target="customer", response_serializer=None
        )

    def make(self, request):
        return self.run_action(
            request, _make, NameInput, dealership=self.write_dealership(), status_code=status.HTTP_201_CREATED
        )


def _make(*, actor, dealership, name):
    return Customer.objects.create(dealership=dealership, name=name, phone="+79161234567")


def _post(user, action, pk, data):
    request = APIRequestFactory().post("/x/", data, format="json")
    force_authenticate(request, user=user)
    kwargs = {"pk": str(pk)} if pk is not None else {}
    return Customers.as_view({"post": action})(request, **kwargs)


def test_run_action_answers_the_fresh_record(advisor, dealership):
    customer = CustomerFactory(dealership=dealership, name="Old")
    response = _post(advisor, "rename", customer.pk, {"name": "New"})
    assert response.status_code == 200
    assert response.data == {"id": customer.pk, "name": f"New ({advisor.username})"}
    response = _post(advisor, "rename_plain", customer.pk, {})
    assert response.status_code == 200 and response.data["id"] == customer.pk


def test_run_action_without_a_record(advisor, dealership):
    response = _post(advisor, "make", None, {"name": "Новый"})
    assert response.status_code == 201
    made = Customer.objects.get(pk=response.data["id"])
    assert (made.dealership, made.name, response.data["name"]) == (dealership, "Новый", "Новый")


def test_run_action_maps_refusals_to_api_codes(advisor, dealership, other_dealership):
    customer = CustomerFactory(dealership=dealership, name="Old")
    assert _post(advisor, "rename", customer.pk, {}).status_code == 400  # the input serializer
    response = _post(advisor, "rename", customer.pk, {"name": "bad"})
    assert response.status_code == 400 and response.data == {"name": ["Not that name."]}
    response = _post(advisor, "rename", customer.pk, {"name": "busy"})
    assert response.status_code == 409 and str(response.data["detail"]) == "Someone else is editing it."
    foreign = CustomerFactory(dealership=other_dealership)
    assert _post(advisor, "rename", foreign.pk, {"name": "New"}).status_code == 404
    assert _post(advisor, "rename", "1.5", {"name": "New"}).status_code == 404
    foreign.refresh_from_db()
    assert foreign.name != "New"


def test_viewset_flavours_have_their_routes():
    assert not hasattr(ScopedReadOnlyViewSet, "create") and hasattr(ScopedReadOnlyViewSet, "list")
    assert hasattr(ScopedCreateViewSet, "create") and not hasattr(ScopedCreateViewSet, "partial_update")
    assert hasattr(ScopedModelViewSet, "partial_update")
    assert "put" not in ScopedModelViewSet.http_method_names and "delete" not in ScopedModelViewSet.http_method_names


def test_customer_api_creates_and_updates_through_the_services(api_as, advisor, dealership):
    client = api_as(advisor)
    created = client.post("/api/customers/", {"name": "Иван Петров", "phone": "+79161234567"}, format="json")
    assert created.status_code == 201, created.content
    customer = Customer.objects.get(pk=created.json()["id"])
    assert customer.dealership == dealership
    assert AuditEntry.objects.filter(object_id=str(customer.pk), action="created").count() == 1
    changed = client.patch(f"/api/customers/{customer.pk}/", {"name": "Иван Сидоров"}, format="json")
    assert changed.status_code == 200 and changed.json()["name"] == "Иван Сидоров"
    assert AuditEntry.objects.filter(object_id=str(customer.pk), action="updated").count() == 1


# ---------------------------------------------------------------------------------------------------------------------
# The read-only admin


def test_read_only_admin_and_inline(rf, make_user):
    superuser = make_user(None, is_superuser=True, is_staff=True)
    request = rf.get("/admin/")
    request.user = superuser
    model_admin = ReadOnlyAdmin(Customer, admin.site)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert model_admin.has_view_permission(request)
    inline = type("VehicleInline", (ReadOnlyInline,), {"model": Vehicle})(Customer, admin.site)
    assert not inline.has_add_permission(request, None) and not inline.has_change_permission(request)
    assert inline.can_delete is False and inline.extra == 0


def test_locked_reads_the_row_again_with_its_relations(dealership, django_assert_num_queries):
    customer = CustomerFactory(dealership=dealership, name="Old")
    Customer.objects.filter(pk=customer.pk).update(name="New")
    with transaction.atomic():
        row = locked(customer, "dealership")
        with django_assert_num_queries(0):
            assert (row.name, row.dealership.code) == ("New", dealership.code)
        assert locked(customer).name == "New"


def test_list_mixin_reads_search_and_choices(rf):
    from dms.core.views import PaginatedListMixin

    view = PaginatedListMixin()
    view.request = rf.get("/x/", {"q": "Иван", "status": "closed", "kind": "nonsense"})
    assert view.search_param() == "Иван"
    assert view.choice_param("status", ComplaintStatus.values) == "closed"
    assert view.choice_param("kind", ["a", "b"]) == ""
    assert view.choice_param("missing", ["a"]) == ""
