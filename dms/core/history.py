"""The customer's and the vehicle's history (issue 14 item 3): what every app has done with them, on one card.

dms/core never imports a domain app: each app's ``panels.py`` names its sections through these hooks (all optional)

- ``customer_history(user, customer) -> [HistorySection, ...]`` and ``vehicle_history(user, vehicle) -> [...]``:
  one section per kind of record the user may see (the app checks its own view permission);
- ``customer_actions(user, customer) -> [QuickAction, ...]`` and ``vehicle_actions(user, vehicle) -> [...]``:
  the card's buttons, each a form of the app prefilled from the card.

A section carries an already scoped queryset ordered open items first, then newest first, and a function that
turns one row into a ``HistoryItem``. Core counts it and reads at most ``limit`` rows: two queries a section,
whatever the number of records (the app's selector joins what ``to_item`` reads).
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import BooleanField, Case, F, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.text import Truncator

from .app_hooks import app_panel_modules

CARD_ROWS = 5
API_ROWS = 20
API_MAX_ROWS = 100
DETAIL_CHARS = 120
OWN_PAGE = object()  # HistoryItem.of: the record's get_absolute_url()


@dataclass(frozen=True)
class HistoryItem:
    kind: str
    id: int
    title: str
    status: str
    status_label: str
    # A datetime (shown in the dealership's time zone) or a plain date (calls due, loans).
    date: datetime.date | datetime.datetime | None
    is_open: bool
    url: str | None
    detail: str = ""
    mileage: int | None = None

    @classmethod
    def of(
        cls,
        record,
        kind: str,
        *,
        title: str,
        date: datetime.date | datetime.datetime | None,
        detail: str = "",
        url: str | None | object = OWN_PAGE,
        is_open: bool | None = None,
        mileage: int | None = None,
    ) -> "HistoryItem":
        """The item of a record with a status: its id, status and label, ``history_open`` and its own page come from
        the record (``url`` names another page, or None for none); the detail is cut to 120 characters."""
        return cls(
            kind=kind,
            id=record.pk,
            title=title,
            status=record.status,
            status_label=record.get_status_display(),
            date=date,
            is_open=record.history_open if is_open is None else is_open,
            url=record.get_absolute_url() if url is OWN_PAGE else url,
            detail=Truncator(detail).chars(DETAIL_CHARS),
            mileage=mileage,
        )


@dataclass(frozen=True)
class QuickAction:
    label: str
    url: str
    name: str


@dataclass
class HistorySection:
    kind: str
    title: str
    queryset: QuerySet
    to_item: Callable[[object], HistoryItem]
    # The service history: read newest first (the card keeps the latest visits), shown oldest first with its mileage.
    chronological: bool = False
    # False: the page only (its rows are in another section of the API's answer).
    in_api: bool = True
    # Lower comes first; equal ones keep the apps' order. The vehicle card leads with recalls and its service history.
    priority: int = 100


@dataclass
class LoadedSection:
    kind: str
    title: str
    total: int
    items: list[HistoryItem] = field(default_factory=list)
    chronological: bool = False
    page: Page | None = None

    @property
    def open_count(self) -> int:
        return sum(1 for item in self.items if item.is_open)


def _panel_modules() -> list:
    return app_panel_modules()


def sections_for(user, subject, hook_name: str) -> list[HistorySection]:
    sections: list[HistorySection] = []
    for module in _panel_modules():
        hook = getattr(module, hook_name, None)
        if hook is not None:
            sections.extend(hook(user, subject) or [])
    return sorted(sections, key=lambda section: section.priority)


def actions_for(user, subject, hook_name: str) -> list[QuickAction]:
    actions: list[QuickAction] = []
    for module in _panel_modules():
        hook = getattr(module, hook_name, None)
        if hook is not None:
            actions.extend(hook(user, subject) or [])
    return actions


def load_sections(sections: list[HistorySection], *, limit: int) -> list[LoadedSection]:
    """Each section's count and its first ``limit`` rows: two queries a section however many rows there are."""
    loaded = []
    for section in sections:
        total = section.queryset.count()
        items = [section.to_item(row) for row in section.queryset[:limit]] if total else []
        loaded.append(LoadedSection(section.kind, section.title, total, _shown(section, items), section.chronological))
    return loaded


def load_section_page(section: HistorySection, *, page_number, per_page: int = 25) -> LoadedSection:
    """One section in full, a page at a time ("show all")."""
    page = Paginator(section.queryset, per_page).get_page(page_number)
    items = [section.to_item(row) for row in page.object_list]
    return LoadedSection(
        section.kind, section.title, page.paginator.count, _shown(section, items), section.chronological, page=page
    )


def _shown(section: HistorySection, items: list[HistoryItem]) -> list[HistoryItem]:
    return list(reversed(items)) if section.chronological else items


def item_as_data(item: HistoryItem, tz: datetime.tzinfo) -> dict:
    """The API form of an item: the date in the dealership's calendar, the moment (if any) as an aware time."""
    at = None
    day = item.date
    if isinstance(item.date, datetime.datetime):
        at = timezone.localtime(item.date, tz)
        day = at.date()
    return {
        "kind": item.kind,
        "id": item.id,
        "title": item.title,
        "status": item.status,
        "status_label": str(item.status_label),
        "date": day,
        "at": at,
        "is_open": item.is_open,
        "url": item.url,
        "detail": str(item.detail),
        "mileage": item.mileage,
    }


def open_first(queryset: QuerySet, *, open_q: Q, newest: str) -> QuerySet:
    """Open records first, then newest first (``newest`` a date or time field), ties by id: the card's order."""
    return queryset.annotate(
        history_open=Case(When(open_q, then=Value(True)), default=Value(False), output_field=BooleanField())
    ).order_by("-history_open", F(newest).desc(nulls_last=True), "-id")


def subject_q(*, customer=None, vehicle=None, customer_path: str = "customer", vehicle_path: str = "vehicle") -> Q:
    """The rows of one customer or one vehicle, always inside the subject's own dealership."""
    subject = customer if customer is not None else vehicle
    if subject is None:
        raise ValueError("a customer or a vehicle")
    lookup = {customer_path: customer} if customer is not None else {vehicle_path: vehicle}
    return Q(dealership_id=subject.dealership_id, **lookup)
