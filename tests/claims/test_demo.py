import pytest
from django.core.management import call_command

from claims.models import Complaint, GoodwillClaim

pytestmark = pytest.mark.django_db


def test_demo_data_loads_twice_without_duplicates():
    call_command("load_demo", verbosity=0)
    call_command("load_demo", verbosity=0)
    assert Complaint.objects.filter(dealership__code="demo-moscow").count() == 4
    assert set(Complaint.objects.values_list("status", flat=True)) == {
        "registered",
        "assigned",
        "investigating",
        "closed",
    }
    assert GoodwillClaim.objects.count() == 1
    from django.contrib.auth import get_user_model

    fmc = get_user_model().objects.get(username="fmc")
    assert fmc.has_perm("claims.fmc_confirm_warrantyclaim") and not fmc.has_perm("claims.view_complaint")
