"""The claims contacts and deadlines of a dealership (FMC, TAC, CAC; default complaint deadlines)."""

from typing import Any

from django.db import transaction

from dms.core.models import Dealership
from dms.core.transitions import audited_update

from ..models import ClaimsSettings

SETTINGS_FIELDS = (
    "fmc_name",
    "fmc_email",
    "fmc_phone",
    "tac_name",
    "tac_email",
    "tac_phone",
    "cac_email",
    "complaint_deadline_days",
    "emergency_deadline_days",
)


def claims_settings(dealership: Dealership) -> ClaimsSettings:
    found, _created = ClaimsSettings.objects.get_or_create(dealership=dealership)
    return found


@transaction.atomic
def claims_settings_update(*, actor, dealership: Dealership, data: dict[str, Any]) -> ClaimsSettings:
    return audited_update(
        claims_settings(dealership),
        actor=actor,
        data={name: value.strip() if isinstance(value, str) else value for name, value in data.items()},
        allowed=SETTINGS_FIELDS,
        check=lambda found: found.full_clean(),
    )
