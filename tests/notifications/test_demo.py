import pytest
from django.core.management import call_command

from notifications.models import CallEvent

pytestmark = pytest.mark.django_db


def test_demo_is_idempotent_and_fills_every_kind(settings):
    call_command("load_demo", verbosity=0)
    first = sorted(CallEvent.objects.values_list("order_id", "kind", "due_date", "status"))
    call_command("load_demo", verbosity=0)
    assert sorted(CallEvent.objects.values_list("order_id", "kind", "due_date", "status")) == first
    kinds = {kind for _, kind, _, _ in first}
    assert {"lot_repair", "arrival", "interim_eta", "uncollected", "retry"} <= kinds
    assert CallEvent.objects.filter(status="done").count() == 1
