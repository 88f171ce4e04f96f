"""Recall campaigns (R15): created by hand or imported from CSV, matched to a VIN at booking."""

import csv
import io
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from dms.core import events
from dms.core.models import Dealership
from dms.core.transitions import audited_update

from ..models import (
    RecallCampaign,
    RecallCampaignVin,
)


def _clean_vin(value: str) -> str:
    return (value or "").strip().replace(" ", "").upper()


@transaction.atomic
def recall_campaign_create(
    *,
    actor,
    dealership: Dealership,
    code: str,
    title: str,
    description: str = "",
    is_open: bool = True,
    vin_from: str = "",
    vin_to: str = "",
    vins: list[str] | None = None,
) -> RecallCampaign:
    code = (code or "").strip()
    if RecallCampaign.objects.filter(dealership=dealership, code=code).exists():
        raise ValidationError({"code": _("A recall campaign with this code already exists.")})
    campaign = RecallCampaign(
        dealership=dealership,
        code=code,
        title=title,
        description=description,
        is_open=is_open,
        vin_from=_clean_vin(vin_from),
        vin_to=_clean_vin(vin_to),
    )
    _check_campaign(campaign, vins or [])
    campaign.save()
    _add_vins(campaign, vins or [])
    events.record_created(actor=actor, instance=campaign, fields=["code", "title", "is_open", "vin_from", "vin_to"])
    return campaign


@transaction.atomic
def recall_campaign_update(*, actor, campaign: RecallCampaign, data: dict[str, Any]) -> RecallCampaign:
    vins = data.get("vins") or []
    campaign = audited_update(
        campaign,
        actor=actor,
        data={name: _clean_vin(value) if name.startswith("vin_") else value for name, value in data.items()},
        allowed=("title", "description", "is_open", "vin_from", "vin_to"),
        check=lambda row: _check_campaign(row, vins),
    )
    _add_vins(campaign, vins)
    return campaign


def _check_campaign(campaign: RecallCampaign, vins: list[str]) -> None:
    from dms.core.models import VIN_RE

    errors = {}
    if not campaign.code:
        errors["code"] = _("This field is required.")
    if not (campaign.title or "").strip():
        errors["title"] = _("This field is required.")
    if bool(campaign.vin_from) != bool(campaign.vin_to):
        errors["vin_to"] = _("A VIN range needs both its first and its last VIN.")
    for name in ("vin_from", "vin_to"):
        value = getattr(campaign, name)
        if value and not VIN_RE.match(value):
            errors[name] = _("A VIN has exactly 17 characters: Latin letters except I, O, Q, and digits.")
    if campaign.vin_from and campaign.vin_to and campaign.vin_from > campaign.vin_to:
        errors["vin_to"] = _("The range's last VIN sorts before its first VIN.")
    bad = [vin for vin in vins if not VIN_RE.match(_clean_vin(vin))]
    if bad:
        errors["vins"] = _("Not a VIN: %(vins)s.") % {"vins": ", ".join(bad[:5])}
    if errors:
        raise ValidationError(errors)


def _add_vins(campaign: RecallCampaign, vins: list[str]) -> None:
    RecallCampaignVin.objects.bulk_create(
        [RecallCampaignVin(campaign=campaign, vin=_clean_vin(v)) for v in vins if v.strip()], ignore_conflicts=True
    )


RECALL_CSV_COLUMNS = ("code", "title", "vin", "vin_from", "vin_to", "description", "is_open")


@transaction.atomic
def recall_campaigns_import_csv(*, actor, dealership: Dealership, text: str) -> dict[str, int]:
    """Import recall campaigns from CSV (``,`` or ``;``) with a header of RECALL_CSV_COLUMNS (code, title required).

    Each row adds to its campaign (by code) a single ``vin`` and/or a ``vin_from``-``vin_to`` range. All or nothing:
    any bad row rejects the whole file with the row numbers.
    """
    campaigns = _read_recall_csv(text)
    created = updated = vins_added = 0
    for code, entry in campaigns.items():
        campaign = RecallCampaign.objects.filter(dealership=dealership, code=code).first()
        vin_from, vin_to = entry["range"] or ("", "")
        if campaign is None:
            campaign = recall_campaign_create(
                actor=actor,
                dealership=dealership,
                code=code,
                title=entry["title"],
                description=entry["description"],
                is_open=entry["is_open"],
                vin_from=vin_from,
                vin_to=vin_to,
            )
            created += 1
        else:
            data = {"title": entry["title"], "is_open": entry["is_open"]}
            if entry["range"]:
                data.update(vin_from=vin_from, vin_to=vin_to)
            recall_campaign_update(actor=actor, campaign=campaign, data=data)
            updated += 1
        before = campaign.vins.count()
        _add_vins(campaign, entry["vins"])
        vins_added += campaign.vins.count() - before
    return {"created": created, "updated": updated, "vins": vins_added}


def _read_recall_csv(text: str) -> dict[str, dict[str, Any]]:
    """The file's campaigns by code (title, description, VINs, range, open); any bad row rejects the file."""
    text = (text or "").lstrip("\ufeff")
    if not text.strip():
        raise ValidationError({"file": _("The file is empty.")})
    first_line = text.splitlines()[0]
    dialect_delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=dialect_delimiter)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "code" not in header or "title" not in header:
        raise ValidationError(
            {"file": _("The header must name the columns code and title (and vin or vin_from, vin_to).")}
        )
    reader.fieldnames = header
    errors: list[str] = []
    campaigns: dict[str, dict[str, Any]] = {}
    for line_no, row in enumerate(reader, start=2):
        row = {k: (v or "").strip() for k, v in row.items() if k}
        errors.extend(_read_recall_row(campaigns, row, line_no))
    if errors:
        raise ValidationError({"file": errors[:20]})
    return campaigns


def _read_recall_row(campaigns: dict[str, dict[str, Any]], row: dict[str, str], line_no: int) -> list[str]:
    """Add one row to its campaign's entry; returns the row's errors."""
    code, title = row.get("code", ""), row.get("title", "")
    if not code or not title:
        return [_("Row %(n)s: code and title are required.") % {"n": line_no}]
    entry = campaigns.setdefault(
        code,
        {"title": title, "description": row.get("description", ""), "vins": [], "range": None, "is_open": True},
    )
    if row.get("is_open", "").lower() in ("0", "no", "false", "нет", "closed"):
        entry["is_open"] = False
    vin, vin_from, vin_to = (
        _clean_vin(row.get("vin", "")),
        _clean_vin(row.get("vin_from", "")),
        _clean_vin(row.get("vin_to", "")),
    )
    if not vin and not vin_from:
        return [_("Row %(n)s: give a vin or a vin_from and vin_to range.") % {"n": line_no}]
    if vin:
        entry["vins"].append(vin)
    if vin_from or vin_to:
        entry["range"] = (vin_from, vin_to)
    probe = RecallCampaign(code=code, title=title, vin_from=vin_from, vin_to=vin_to if vin_from or vin_to else "")
    try:
        _check_campaign(probe, [vin] if vin else [])
    except ValidationError as error:
        return [
            _("Row %(n)s: %(message)s") % {"n": line_no, "message": m}
            for messages in error.message_dict.values()
            for m in messages
        ]
    return []
