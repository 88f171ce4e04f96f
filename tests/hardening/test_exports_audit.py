"""An audit of every export and printed document, read back with its types (CSV module, openpyxl, pdftotext).

Each test here is a probe that found a bug (kept as its regression test) or pins a property the audit checked:
what the page shows is what its export holds, the dealership's time zone near midnight, empty exports are files,
another dealership's rows never appear, quantities and hours in PDFs read as numbers.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from dms.core import roles
from tests.hardening import test_access_matrix as matrix

world = matrix.world  # the access matrix's demo world (module-scoped fixture)

pytestmark = pytest.mark.django_db


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _csv(response, delimiter=";") -> list[list[str]]:
    body = _body(response)
    assert body.startswith(b"\xef\xbb\xbf"), "CSV without the UTF-8 BOM"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=delimiter))


def _xlsx(response) -> list[list]:
    sheet = load_workbook(io.BytesIO(_body(response))).worksheets[0]
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def _pdf_text(response) -> str:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/pdf"
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext is not installed")
    done = subprocess.run(["pdftotext", "-layout", "-", "-"], input=response.content, capture_output=True, check=True)
    return done.stdout.decode("utf-8")


# -- PDFs: quantities and hours as people read them ------------------------------------------------------------------
def _work_order_with_round_quantities(main):
    from service.models import WorkOrder, WorkOrderPart

    wo = WorkOrder.objects.get(dealership=main, number="ЗН-M1")
    line = WorkOrderPart.objects.filter(job__work_order=wo).order_by("pk").first()
    WorkOrderPart.objects.filter(pk=line.pk).update(quantity=Decimal("10.00"), reserved_quantity=Decimal("20.00"))
    return wo


@pytest.mark.parametrize("name", ["service:workorder_pdf", "service:workorder_bin_label"])
def test_round_quantities_print_as_numbers_not_exponents(world, name):
    """str(Decimal("10.00").normalize()) is "1E+1": ten spark plugs were printed as «1E+1» on the work order and
    its bin label (R17)."""
    wo = _work_order_with_round_quantities(world.main)
    text = _pdf_text(world.clients[roles.ADMINISTRATOR].get(reverse(name, kwargs={"pk": wo.pk})))
    assert "E+" not in text, text
    assert re.search(r"\b10\b", text), text
    if name == "service:workorder_bin_label":
        assert re.search(r"\b20\b", text), text


def test_work_order_hours_use_the_languages_decimal_mark(world):
    """The estimate's hours were printed with Python's point («1.20») on a Russian work order beside amounts in
    the Russian format; now as everywhere else hours are shown (dms.core.formatting.format_hours): «1,2»."""
    from service.models import WorkOrder

    wo = WorkOrder.objects.get(dealership=world.main, number="ЗН-M1")
    client = world.clients[roles.ADMINISTRATOR]
    text = _pdf_text(client.get(reverse("service:workorder_pdf", kwargs={"pk": wo.pk})))
    assert re.search(r"Pump\s+1,2\s", text), text
    client.cookies["django_language"] = "en"
    try:
        text = _pdf_text(client.get(reverse("service:workorder_pdf", kwargs={"pk": wo.pk})))
    finally:
        client.cookies["django_language"] = "ru"
    assert re.search(r"Pump\s+1\.2\s", text), text


# -- the order list export: the dealership's calendar near midnight, filters, empty ---------------------------------
def _vladivostok_order_before_midnight(main):
    from dms.core.models import Dealership
    from orders.models import CustomerOrder

    Dealership.objects.filter(pk=main.pk).update(time_zone="Asia/Vladivostok")
    tz = datetime.timezone(datetime.timedelta(hours=10))
    local = datetime.datetime(2025, 3, 31, 23, 50, tzinfo=tz)  # 13:50 UTC, still the 31st in Vladivostok
    order = CustomerOrder.objects.filter(dealership=main).order_by("pk").first()
    CustomerOrder.objects.filter(pk=order.pk).update(created_at=local)
    return CustomerOrder.objects.get(pk=order.pk)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_order_export_dates_are_the_dealerships_and_its_filter_is_the_pages(world, fmt):
    order = _vladivostok_order_before_midnight(world.main)
    client = world.clients[roles.DIRECTOR]
    url = reverse("orders:export", kwargs={"fmt": fmt})
    response = client.get(url, {"date_from": "2025-03-31", "date_to": "2025-03-31"})
    assert response.status_code == 200
    rows = _csv(response) if fmt == "csv" else _xlsx(response)
    assert [row[0] for row in rows[1:]] == [order.number]
    if fmt == "csv":
        assert rows[1][2] == "31.03.2025 23:50"
    else:
        assert rows[1][2] == datetime.datetime(2025, 3, 31, 23, 50)
    # the next day in Vladivostok holds no such order
    response = client.get(url, {"date_from": "2025-04-01", "date_to": "2025-04-01"})
    rows = _csv(response) if fmt == "csv" else _xlsx(response)
    assert order.number not in [row[0] for row in rows[1:]]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_empty_order_export_is_a_file_with_its_header(world, fmt):
    response = world.clients[roles.DIRECTOR].get(
        reverse("orders:export", kwargs={"fmt": fmt}), {"search": "no-such-order-zzz"}
    )
    assert response.status_code == 200
    rows = _csv(response) if fmt == "csv" else _xlsx(response)
    assert len(rows) == 1 and rows[0][0] == "Номер"


def test_order_export_needs_its_permission(world):
    """A storekeeper may not export the order list: 403, never a file."""
    for role in (roles.STOREKEEPER, roles.TECHNICIAN):
        if matrix.may(role, "orders.export_customerorder"):
            continue
        response = world.clients[role].get(reverse("orders:export", kwargs={"fmt": "csv"}))
        assert response.status_code in (302, 403), (role, response.status_code)
        assert not response.get("Content-Disposition")


# -- the call-compliance report: the foreign dealership, the Monday e-mail ------------------------------------------
def test_call_compliance_of_a_foreign_dealership_is_named_not_exported(world):
    """?dealership= of a dealership not the user's gave a 200 and an empty file, as if nothing had been due; every
    other report names it (400, no file), as this one now does."""
    today = timezone.localdate()
    query = {"dealership": world.other.pk, "from": (today - datetime.timedelta(days=60)).isoformat()}
    client = world.clients[roles.DIRECTOR]
    for export in ("csv", "xlsx"):
        response = client.get(reverse("notifications:call_compliance"), {**query, "export": export})
        assert response.status_code == 400, response.status_code
        assert not response.get("Content-Disposition")
    page = client.get(reverse("notifications:call_compliance"), query)
    assert page.status_code == 400 and page.context["errors"]["dealership"]


def test_call_compliance_keeps_the_chosen_dealership_selected(world):
    """The dealership picker compared the chosen id (an int) with a string, so it always showed «All my
    dealerships»: the page's next «Show» (and the file exported after it) silently covered every dealership."""
    from django.test import Client

    from tests.factories import UserFactory

    director = UserFactory(username="audit_director2", role=roles.DIRECTOR, dealership=[world.main, world.other])
    client = Client()
    client.force_login(director)
    page = client.get(reverse("notifications:call_compliance"), {"dealership": world.other.pk})
    assert page.status_code == 200
    picker = re.search(r'<select[^>]*id="id_dealership".*?</select>', page.content.decode(), re.S).group(0)
    assert f'<option value="{world.other.pk}" selected>' in picker, picker
    assert f'<option value="{world.main.pk}" selected>' not in picker, picker


def test_call_compliance_export_adds_up_to_the_pages_totals(world):
    today = timezone.localdate()
    query = {"from": (today - datetime.timedelta(days=60)).isoformat(), "to": today.isoformat()}
    client = world.clients[roles.DIRECTOR]
    page = client.get(reverse("notifications:call_compliance"), query)
    totals = page.context["report"].totals
    rows = _xlsx(client.get(reverse("notifications:call_compliance"), {**query, "export": "xlsx"}))
    employees = [row for row in rows[1:] if row[0] == "Сотрудник"]
    assert employees
    assert sum(row[2] for row in employees) == totals.due
    assert sum(row[3] for row in employees) == totals.on_time
    assert sum(row[4] for row in employees) == totals.late
    assert sum(row[5] for row in employees) == totals.missed
    for row in rows[1:]:
        assert all(isinstance(value, int) for value in row[2:7]), row


# -- technician efficiency: the export is the page ------------------------------------------------------------------
def test_efficiency_export_links_keep_the_pages_dealership(world):
    """The page read ?dealership= (a director's one dealership) but its CSV/XLSX links carried ?week= only: the
    file held every dealership's technicians while the page showed one."""
    client = world.clients[roles.DIRECTOR]
    page = client.get(reverse("claims:technician_efficiency"), {"dealership": world.main.pk, "week": "2025-W10"})
    assert page.status_code == 200
    html = page.content.decode()
    for export in ("csv", "xlsx"):
        link = re.search(rf'id="efficiency-{export}" href="([^"]+)"', html).group(1).replace("&amp;", "&")
        assert f"dealership={world.main.pk}" in link, link
        assert "week=2025-W10" in link and f"export={export}" in link, link


# -- claims KPIs: the file is the period asked for ------------------------------------------------------------------
def test_claims_kpi_export_uses_the_period_asked_for(world):
    response = world.clients[roles.DIRECTOR].get(
        reverse("claims:kpi_export"), {"section": "cost_by_model", "start": "2020-01-01", "end": "2020-01-31"}
    )
    assert response.status_code == 200
    assert "claims-kpi-cost_by_model-2020-01-01-2020-01-31.csv" in response["Content-Disposition"]
    rows = _csv(response)
    assert len(rows) == 1  # nothing accepted in January 2020: the header only


# -- staff KPIs: an employee exports his own row; another dealership is refused, never exported ----------------------
def test_staff_kpi_export_of_an_employee_is_his_own_row(world):
    from django.contrib.auth import get_user_model

    role = roles.SERVICE_ADVISOR
    if not matrix.may(role, "claims.view_staff_kpi") or matrix.may(role, "claims.appraise_staff"):
        pytest.skip("the role reads no staff KPIs or appraises everyone")
    response = world.clients[role].get(reverse("claims:staff_kpis"), {"export": "xlsx"})
    assert response.status_code == 200
    rows = _xlsx(response)
    me = get_user_model().objects.get(username=f"m_{role}")
    assert [row[0] for row in rows[1:]] == [me.get_full_name() or me.username]


@pytest.mark.parametrize("name", ["claims:staff_kpis", "claims:technician_efficiency", "orders:kpis"])
def test_a_report_of_a_foreign_dealership_is_no_file(world, name):
    response = world.clients[roles.DIRECTOR].get(reverse(name), {"export": "csv", "dealership": world.other.pk})
    assert response.status_code == 400
    assert not response.get("Content-Disposition")
