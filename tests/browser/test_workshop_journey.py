"""Issue 18 in the browser: the advisor books a day until the workshop is full and sees the warning (and the load on
the appointment book); a technician clocks a job on a tablet-sized page (1024x768 and 768x1024, one tap per step)."""

import datetime

import pytest

from dms.core import roles
from service import services
from service.models import Appointment, JobClock, JobKind, WorkingHours
from tests.factories import CustomerFactory, VehicleFactory
from tests.service.factories import make_work_order

from .pickers import pick

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _technician(make_user, dealership, *, username, hours_until=datetime.time(13)):
    director = make_user(roles.DIRECTOR, username=f"dir_{username}")
    user = make_user(roles.TECHNICIAN, username=username, first_name="Олег", last_name="Петров")
    kind = JobKind.objects.get_or_create(name="Тормозная система")[0]
    profile = services.technician_create(actor=director, dealership=dealership, user=user, skills=[kind])
    for weekday in range(7):
        services.technician_hours_set(
            actor=director, technician=profile, weekday=weekday, starts_at=datetime.time(9), ends_at=hours_until,
            break_minutes=0,
        )  # fmt: skip
    return profile


def test_advisor_books_a_day_until_the_workshop_is_full_and_sees_the_warning(
    page, login, make_user, dealership, screenshot
):
    advisor = make_user(roles.SERVICE_ADVISOR, username="anna", first_name="Анна", last_name="Смирнова")
    for weekday in range(7):
        WorkingHours.objects.create(
            dealership=dealership, advisor=advisor, weekday=weekday,
            starts_at=datetime.time(8, 0), ends_at=datetime.time(20, 0),
        )  # fmt: skip
    _technician(make_user, dealership, username="oleg")  # 4 workshop hours a day
    day = datetime.date.today() + datetime.timedelta(days=2)
    login("anna")
    warnings = []
    for n, (time, hours) in enumerate((("10:00", "2"), ("11:00", "1.5"), ("12:00", "1.5"))):
        customer = CustomerFactory(dealership=dealership, name=f"Клиент {n} Тестов")
        vehicle = VehicleFactory(customer=customer)
        page.goto(page.base_url + f"/appointments/new/?date={day.isoformat()}")
        pick(page, "id_vin", vehicle.vin.lower(), vehicle.vin)
        page.fill("#id_reason", "ТО и тормоза")
        page.select_option("#id_area", "mechanical")
        page.fill("#id_time", time)
        page.fill("#id_handover_time", f"{17 + n}:00")
        page.fill("#id_planned_hours", hours)
        with page.expect_navigation():
            page.click("main form#appointment-form button[type=submit]")
        errors = page.locator(".invalid-feedback, .alert-danger").all_inner_texts()
        assert not errors, errors
        warnings.append(page.locator(".alert-warning", has_text="Мастерская перегружена").count())
    assert Appointment.objects.count() == 3
    # 2 + 1.5 fit in 4 hours; the third visit (1.5 more) overloads the workshop: booked, with the warning.
    assert warnings == [0, 0, 1], warnings
    screenshot("workshop-booking-overloaded")
    page.goto(page.base_url + f"/appointments/?date={day.isoformat()}")
    line = page.locator(f"#workshop-load-line [data-day='{day.isoformat()}']")
    assert line.get_attribute("data-overloaded") == "1"
    assert "5 / 4 ч" in line.inner_text()  # hours in the locale, no trailing zeros
    screenshot("workshop-book-load-line")
    page.goto(page.base_url + f"/workshop/load/?date={day.isoformat()}")
    assert page.locator(f"#workshop-load tr[data-day='{day.isoformat()}'].table-danger").count() == 1
    screenshot("workshop-load")


@pytest.mark.parametrize("size", [(1024, 768), (768, 1024)])
def test_technician_clocks_a_job_on_a_tablet(page, login, make_user, dealership, screenshot, size):
    advisor = make_user(roles.SERVICE_ADVISOR, username="anna2")
    profile = _technician(make_user, dealership, username="oleg2", hours_until=datetime.time(18))
    wo = make_work_order(
        dealership=dealership, advisor=advisor, number="ЗН-Т1", jobs=("Замена колодок", "Замена дисков")
    )
    pads, discs = wo.jobs.all()
    for job in (pads, discs):
        services.job_assign(actor=advisor, job=job, technician=profile.user)
    page.set_viewport_size({"width": size[0], "height": size[1]})
    login("oleg2")
    assert page.url.endswith("/workshop/my-jobs/")  # the technician's landing page
    card = page.locator(f"#job-{pads.pk}")
    start = card.locator("button.job-start")
    box = start.bounding_box()
    assert box["height"] >= 64 and box["width"] >= 200, box  # a large target for one tap
    with page.expect_navigation():
        start.click()
    assert page.locator(f"#job-{pads.pk}").get_attribute("data-state") == "in_progress"
    assert JobClock.objects.filter(job=pads, ended_at__isnull=True).count() == 1
    # Starting the other job while this one runs is refused with a message, not a second interval.
    with page.expect_navigation():
        page.locator(f"#job-{discs.pk} button.job-start").click()
    assert page.locator(".alert-danger, .alert-error").filter(has_text="Замена колодок").count() >= 1
    screenshot(f"workshop-tablet-{size[0]}x{size[1]}")
    with page.expect_navigation():
        page.locator(f"#job-{pads.pk} button.job-pause").click()
    assert page.locator(f"#job-{pads.pk}").get_attribute("data-state") == "paused"
    with page.expect_navigation():
        page.locator(f"#job-{pads.pk} button.job-finish").click()
    assert page.locator(f"#job-{pads.pk}").count() == 0
    pads.refresh_from_db()
    assert pads.done_at is not None and JobClock.objects.filter(job=pads).count() == 1
    # The page fits the tablet: no horizontal scrolling.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
