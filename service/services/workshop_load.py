"""The workshop-load check of every write that adds labour to a day (seed 001 "taking the workshop's load into
account", issue 18 item 3): booking and moving an appointment, adding a job to a work order, the customer's consent
to extra work. One check for all of them, so they cannot drift apart.

The check compares the day's load before and after the write, inside the write's transaction: the write is done,
the day is counted again, and if more hours are left without a technician able to do them than before, the answer
carries the warning — or, where the dealership refuses overloading bookings (ServiceSettings.workshop_overload),
the ValidationError rolls the write back. Counting after the write (rather than adding the new hours by hand) keeps
every rule of ``workshop.workshop_load`` — a work order's jobs replacing the hours planned at booking, open work
orders counting today, pending extra work not counting — in one place.
"""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from dms.core.formatting import format_hours, short_date
from dms.core.models import Dealership

from .. import selectors, workshop
from ..models import ServiceSettings


class WorkshopLoadCheck:
    """``with WorkshopLoadCheck(dealership=..., day=..., now=..., field=...) as check: <write>`` — then
    ``check.warning`` is '' or the warning. ``day`` None (the write lands on no day of the load) checks nothing;
    ``can_refuse=False`` only warns (the customer's own consent to extra work is never refused, R30)."""

    def __init__(
        self,
        *,
        dealership: Dealership,
        day: datetime.date | None,
        now: datetime.datetime,
        field: str,
        can_refuse: bool = True,
    ):
        self.dealership, self.day, self.now, self.field, self.can_refuse = dealership, day, now, field, can_refuse
        self.before: workshop.DayLoad | None = None
        self.warning = ""

    def _load(self) -> workshop.DayLoad:
        return workshop.day_load(dealership=self.dealership, day=self.day, now=self.now)

    def __enter__(self) -> "WorkshopLoadCheck":
        if self.day is not None and workshop.planner_enabled(self.dealership):
            # Two writes on the same workshop (two advisors booking the last hours at once) are counted one after
            # the other: the dealership's row is the workshop's lock until the write commits, or both would see
            # the day before the other's write and a refusing dealership would take both.
            _lock_workshop(self.dealership)
            self.before = self._load()
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is not None or self.before is None:
            return
        self.warning = load_warning(self.before, self._load())
        if (
            self.warning
            and self.can_refuse
            and selectors.service_settings(dealership=self.dealership).workshop_overload
            == ServiceSettings.OverloadPolicy.REFUSE
        ):
            raise ValidationError({self.field: self.warning})


def _lock_workshop(dealership: Dealership) -> None:
    Dealership.objects.select_for_update().filter(pk=dealership.pk).exists()


class CapacityLoadCheck:
    """``with CapacityLoadCheck(dealership=..., date_from=..., date_to=..., now=...) as check: <write>`` for a write
    that takes technicians' hours away (an absence, shorter working hours, a day off): ``check.warning`` names the
    days of the range that now leave more hours without a technician than before, with those hours and skills.

    It only warns, even where the dealership refuses overloading bookings (ServiceSettings.workshop_overload): an
    absence is a fact (a sick technician is not at work whatever the DMS says) and the hours a technician works are
    the employer's to set; refusing them would only keep the record wrong while the cars already booked still need
    moving. The warning tells the advisor which days to rebook."""

    def __init__(self, *, dealership: Dealership, date_from: datetime.date, date_to: datetime.date, now):
        self.dealership, self.date_from, self.date_to, self.now = dealership, date_from, date_to, now
        self.before: list[workshop.DayLoad] | None = None
        self.warning = ""

    def _load(self) -> list[workshop.DayLoad]:
        return workshop.workshop_load(
            dealership=self.dealership, date_from=self.date_from, date_to=self.date_to, now=self.now
        )

    def __enter__(self) -> "CapacityLoadCheck":
        if self.date_from <= self.date_to and workshop.planner_enabled(self.dealership):
            _lock_workshop(self.dealership)  # as WorkshopLoadCheck: a booking racing the absence is counted after it
            self.before = self._load()
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is None and self.before is not None:
            self.warning = capacity_warning(self.before, self._load())


def capacity_warning(before: list[workshop.DayLoad], after: list[workshop.DayLoad]) -> str:
    """'' unless some day now leaves more hours without a technician than before; else each such day (the
    language's date format) with the hours left without a technician and the skills short of technicians."""
    days = []
    for was, now in zip(before, after, strict=True):
        if now.unassigned <= was.unassigned:
            continue
        kinds = now.short_kinds - {None}
        names = ", ".join(s.name for s in now.skills if s.kind_id in kinds) or _("any kind of job")
        days.append(
            _("%(date)s: %(hours)s h without a technician (%(kinds)s)")
            % {"date": short_date(now.day), "hours": format_hours(now.unassigned), "kinds": names}
        )
    if not days:
        return ""
    return _("Workshop overloaded after this change: %(days)s. Move or reassign the visits of these days.") % {
        "days": "; ".join(days)
    }


def load_warning(before: workshop.DayLoad, after: workshop.DayLoad) -> str:
    """'' unless the change leaves more hours without a technician than before; else what is short: the workshop
    as a whole (each technician's hours counted once), or the skills that together lack technicians."""
    added = after.load - before.load
    if added <= 0 or after.unassigned <= before.unassigned:
        return ""
    if after.overloaded:
        problem = _(
            "the workshop has %(free)s of %(capacity)s hours free on %(date)s, the visit needs %(hours)s hours"
        ) % {
            "free": format_hours(max(before.free, Decimal("0"))),
            "capacity": format_hours(after.capacity),
            "date": short_date(after.day),
            "hours": format_hours(added),
        }
    else:
        kinds = after.short_kinds - {None}
        names = ", ".join(s.name for s in after.skills if s.kind_id in kinds)
        was = sum((s.load for s in before.skills if s.kind_id in kinds), Decimal("0"))
        # The hours the change adds are named, as for the whole workshop: "8 of 8 free" alone does not say why.
        problem = _(
            "technicians skilled in “%(kind)s” have %(free)s of %(capacity)s hours free, "
            "the visit needs %(hours)s hours"
        ) % {
            "kind": names,
            "free": format_hours(max(after.short_capacity - was, Decimal("0"))),
            "capacity": format_hours(after.short_capacity),
            "hours": format_hours(added),
        }
    return _("Workshop overloaded: %(problems)s.") % {"problems": problem}
