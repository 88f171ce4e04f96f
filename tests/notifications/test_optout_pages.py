import pytest
from django.urls import reverse

from dms.core import roles
from notifications.models import OptOut
from notifications.services import customer_notify
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_advisor_records_an_opt_out_on_the_customer_page_and_it_is_honoured(client, advisor, customer):
    client.force_login(advisor)
    page = client.get(reverse("core:customer_detail", args=[customer.pk])).content.decode()
    assert 'id="customer-opt-outs"' in page and reverse("notifications:optout_create", args=[customer.pk]) in page

    response = client.post(
        reverse("notifications:optout_create", args=[customer.pk]), {"channel": "sms", "reason": "Просил не писать"}
    )
    assert response.status_code == 302
    opt_out = OptOut.objects.get(customer=customer)
    assert (opt_out.channel, opt_out.reason, opt_out.created_by) == ("sms", "Просил не писать", advisor)
    assert customer_notify(actor=advisor, customer=customer, subject="s", body="b", reference="x-1") is None

    page = client.get(reverse("core:customer_detail", args=[customer.pk])).content.decode()
    assert "Просил не писать" in page


def test_opt_out_without_reason_or_twice_changes_nothing(client, advisor, customer):
    client.force_login(advisor)
    url = reverse("notifications:optout_create", args=[customer.pk])
    client.post(url, {"channel": "sms", "reason": ""})
    assert OptOut.objects.count() == 0
    client.post(url, {"channel": "sms", "reason": "нет"})
    response = client.post(url, {"channel": "sms", "reason": "ещё раз"}, follow=True)
    assert OptOut.objects.count() == 1
    assert any(m.level_tag == "error" for m in response.context["messages"])


def test_opt_back_in(client, advisor, customer):
    client.force_login(advisor)
    client.post(reverse("notifications:optout_create", args=[customer.pk]), {"channel": "email", "reason": "спам"})
    opt_out = OptOut.objects.get()
    client.post(reverse("notifications:optout_delete", args=[opt_out.pk]))
    assert OptOut.objects.count() == 0


def test_foreign_customer_is_404_and_wrong_role_403(client, make_user, customer, other_dealership):
    foreign = CustomerFactory(dealership=other_dealership)
    advisor = make_user(roles.SERVICE_ADVISOR)
    client.force_login(advisor)
    assert (
        client.post(
            reverse("notifications:optout_create", args=[foreign.pk]), {"channel": "sms", "reason": "x"}
        ).status_code
        == 404
    )
    client.force_login(make_user(roles.STOREKEEPER))
    assert (
        client.post(
            reverse("notifications:optout_create", args=[customer.pk]), {"channel": "sms", "reason": "x"}
        ).status_code
        == 403
    )
    assert OptOut.objects.count() == 0


def test_director_sees_the_opt_outs_without_their_buttons(client, make_user, advisor, customer):
    """The card's buttons follow the reader's permissions (the auth context processor's ``perms``): the director
    reads the opt-outs but may neither record nor withdraw one; the advisor may do both."""
    client.force_login(advisor)
    client.post(reverse("notifications:optout_create", args=[customer.pk]), {"channel": "email", "reason": "спам"})
    opt_out = OptOut.objects.get()
    create, delete = (
        reverse("notifications:optout_create", args=[customer.pk]),
        reverse("notifications:optout_delete", args=[opt_out.pk]),
    )
    page = client.get(reverse("core:customer_detail", args=[customer.pk])).content.decode()
    assert create in page and delete in page
    client.force_login(make_user(roles.DIRECTOR))
    page = client.get(reverse("core:customer_detail", args=[customer.pk])).content.decode()
    assert 'id="customer-opt-outs"' in page and "спам" in page
    assert create not in page and delete not in page
