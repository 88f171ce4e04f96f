"""The dashboard's order rows rendered in Python.

Parts managers keep this page open all day and it must cost little more than its query (issue 3: ≤ 3× one raw
SQL query at 100,000 orders). The Django template engine spent ~3,000 node renders on 50 rows with their call logs;
building the rows here is an order of magnitude faster. Everything shown is escaped; the texts are translated in
the active language (their msgids are the ones the template used).
"""

from collections.abc import Iterable
from html import escape  # Django's escape() is this plus a lazy-string check per call

from django.http import QueryDict
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext

from dms.core.formatting import date_formatter
from dms.core.rendering import once_per_value

from .selectors import OrderRow

_URL_PLACEHOLDER = 987654321


def _texts() -> dict[str, str]:
    return {
        "lot_title": escape(gettext("Car waits on the lot")),
        "lot": escape(gettext("lot")),
        "r4_title": escape(gettext("The customer agreed to a long delivery term")),
        "r4": escape(gettext("long term")),
        "overdue": escape(gettext("ETA overdue")),
        "return_due": escape(gettext("Срок возврата поставщику истекает")),
        "counter_sale": escape(gettext("counter sale")),
        "last_call": escape(gettext("Last call")),
        "no_calls": escape(gettext("no calls yet")),
        "revised": escape(gettext("revised")),
        "revised_title": escape(gettext("Revised expected date from the supplier's record of delays")),
    }


def render_order_rows(rows: Iterable[OrderRow], *, tints: dict[str, str]) -> SafeString:
    """``<tr class="order-row">`` for each row: coloured by status (R1), overdue ETA marked, «Обзвон» cell (R13)."""
    texts = _texts()
    short_date = date_formatter("SHORT_DATE_FORMAT")
    day_month = date_formatter("d.m")
    day_month_time = date_formatter("d.m H:i")
    url_head, url_tail = reverse("orders:detail", args=[_URL_PLACEHOLDER]).split(str(_URL_PLACEHOLDER))
    waiting_texts: dict[int, str] = {}
    # names, statuses and call outcomes repeat down the page: escape each text once
    esc = once_per_value(escape)

    out: list[str] = []
    append = out.append
    for o in rows:
        colour = o.row_colour
        overdue_attr = ' data-overdue="true"' if o.overdue else ""
        append(
            f'<tr class="order-row" id="order-{o.id}" data-status="{o.status}" data-colour="{colour}"'
            f'{overdue_attr} style="--row-colour: {colour}; '
            f'--bs-table-bg: {tints[o.status]};">'
            f'<td class="order-number"><a href="{url_head}{o.id}{url_tail}">{escape(o.number)}</a>'
        )
        if o.on_waiting_lot:
            append(f' <span class="badge text-bg-dark" title="{texts["lot_title"]}">{texts["lot"]}</span>')
        if o.long_term_agreed:
            append(f' <span class="badge text-bg-light border" title="{texts["r4_title"]}">{texts["r4"]}</span>')  # R4
        if o.return_due:  # issue 15 item 8: the supplier's return window is closing
            append(
                f' <span class="badge text-bg-warning return-due" title="{texts["return_due"]}">'
                f"{texts['return_due']}: {short_date(o.return_deadline)}</span>"
            )
        append(
            f'</td><td><span class="badge status-badge" style="background: {colour}">{esc(o.status_display)}'
            f"</span></td><td>{short_date(o.placed_at) or '—'}</td>"
        )
        if o.overdue:
            append(f'<td class="eta-overdue" title="{texts["overdue"]}">{short_date(o.expected_at) or "—"} ⚠')
        else:
            append(f"<td>{short_date(o.expected_at) or '—'}")
        if o.revised_expected_at is not None:  # issue 15 item 8: beside the promised date
            late = " text-danger" if o.expected_at is None or o.revised_expected_at > o.expected_at else ""
            append(
                f'<div class="small revised-eta{late}" title="{texts["revised_title"]}">'
                f"{texts['revised']}: {short_date(o.revised_expected_at)}</div>"
            )
        append("</td>")
        append(f"<td>{short_date(o.received_at) or '—'}</td><td>{escape(o.customer_name)}</td>")
        if o.vehicle_id:
            append(
                f"<td>{esc(o.vehicle_make or '')} {esc(o.vehicle_model or '')}<br>"
                f'<code class="small">{escape(o.vehicle_vin or "")}</code></td>'
            )
        else:
            append(f'<td><span class="text-secondary">{texts["counter_sale"]}</span></td>')
        waiting = waiting_texts.get(o.waiting_days)
        if waiting is None:
            waiting = waiting_texts[o.waiting_days] = escape(
                ngettext("%(d)s day waiting", "%(d)s days waiting", o.waiting_days) % {"d": o.waiting_days}
            )
        append(
            f"<td>{esc(o.kind_display)}</td><td>{esc(o.author_name)}</td>"
            f'<td class="call-column"><div><strong>{waiting}</strong></div>'
        )
        _call_log_cell(o.call_log, append, esc, texts, (short_date, day_month, day_month_time))
        append("</td></tr>\n")
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped


def _call_log_cell(log, append, esc, texts, formatters) -> None:
    """R13: the «Обзвон» cell's calls — who called last and when, then each result, newest first."""
    short_date, day_month, day_month_time = formatters
    if log.last_caller_name:
        called = f", {day_month_time(log.last_called_at)}" if log.last_called_at else ""
        append(f'<div class="small">{texts["last_call"]}: {esc(log.last_caller_name)}{called}</div>')
    if not log.results:
        append(f'<div class="small text-secondary">{texts["no_calls"]}</div>')
        return
    append('<ul class="small">')
    for r in log.results:
        comment = f" — {esc(r.comment)}" if r.comment else ""
        agreed = f" → {short_date(r.agreed_date)}" if r.agreed_date else ""
        append(
            f"<li>{day_month(r.completed_at)} {esc(r.caller_name or '')}: {esc(r.outcome_display)}"
            f"{comment}{agreed}</li>"
        )
    append("</ul>")


def render_options(choices: Iterable[tuple], selected: Iterable[str]) -> SafeString:
    """``<option>``s of a filter select, the chosen ones selected."""
    chosen = {str(value) for value in selected if value not in (None, "")}
    return mark_safe(  # noqa: S308 - escaped
        "".join(
            f'<option value="{escape(str(value))}"{" selected" if str(value) in chosen else ""}>'
            f"{escape(str(label))}</option>"
            for value, label in choices
        )
    )


def render_sort_headers(columns: Iterable[tuple], *, sort: str, query: QueryDict) -> SafeString:
    """The table's column titles, each a link sorting by it (again: the other way), the current one with its arrow;
    the filters in ``query`` are kept, the page number dropped.
    """
    base = query.copy()
    base.pop("page", None)
    cells = []
    for key, title in columns:
        if sort == key:
            target, arrow = f"-{key}", " ▲"
        elif sort == f"-{key}":
            target, arrow = key, " ▼"
        else:
            target, arrow = key, ""
        base["sort"] = target
        css = ' class="call-column"' if key == "days_waiting" else ""
        cells.append(f'<th scope="col"{css}><a href="?{escape(base.urlencode())}">{escape(str(title))}{arrow}</a></th>')
    return mark_safe("".join(cells))  # noqa: S308 - escaped
