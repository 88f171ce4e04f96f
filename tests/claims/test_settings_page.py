"""The claims settings page saves through claims_settings_update (dms.core.views.SettingsFormView)."""

from django.contrib.messages import get_messages
from django.urls import reverse

from claims.models import ClaimsSettings
from dms.core import roles
from dms.core.models import AuditEntry

FORM = {
    "fmc_name": "Иванов",
    "fmc_email": "fmc@example.com",
    "fmc_phone": "+74951234567",
    "tac_name": "",
    "tac_email": "",
    "tac_phone": "",
    "cac_email": "cac@example.com",
    "complaint_deadline_days": "12",
    "emergency_deadline_days": "2",
}


def test_engineer_saves_the_settings_and_sees_the_page_again(client, engineer, dealership):
    client.force_login(engineer)
    url = reverse("claims:settings")
    response = client.post(url, FORM, HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 302 and response["Location"] == url
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Настройки сохранены."]
    saved = ClaimsSettings.objects.get(dealership=dealership)
    assert (saved.fmc_email, saved.complaint_deadline_days, saved.emergency_deadline_days) == ("fmc@example.com", 12, 2)
    assert AuditEntry.objects.filter(object_id=str(saved.pk)).exists()


def test_a_refused_value_is_a_form_error_and_nothing_is_saved(client, engineer, dealership):
    client.force_login(engineer)
    response = client.post(reverse("claims:settings"), {**FORM, "fmc_email": "not an e-mail"})
    assert response.status_code == 200 and response.context["form"].errors["fmc_email"]
    assert not ClaimsSettings.objects.filter(dealership=dealership, fmc_email="not an e-mail").exists()


def test_the_director_reads_the_settings_but_may_not_save_them(client, make_user, dealership):
    client.force_login(make_user(roles.DIRECTOR))
    url = reverse("claims:settings")
    assert client.get(url).status_code == 200
    assert client.post(url, FORM).status_code == 403
    assert not ClaimsSettings.objects.filter(dealership=dealership, fmc_email="fmc@example.com").exists()
