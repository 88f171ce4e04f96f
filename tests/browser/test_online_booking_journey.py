"""Issue 17 item 4: the customer books a visit online on a phone — the code read from the captured SMS — and the
booking is in the advisor's appointment book; the same page works with JavaScript off."""

import datetime

import pytest

from dms.core import roles
from notifications import sms
from service.forms import OnlineBookingForm
from service.models import Appointment, WorkingHours
from tests.service.factories import RecallCampaignFactory
from tests.service.online_booking_helpers import enable_online_booking, install_captured_sms

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = "+79161234567"
VIN = "XW8ZZZ61ZJG012345"
PHONE_SIZE = {"width": 390, "height": 844}


@pytest.fixture
def texts(settings):
    captured = install_captured_sms(settings)
    yield captured
    sms.set_twilio_http_client(None)


@pytest.fixture
def online(dealership, make_user, monkeypatch):
    # The minimum fill time keeps bots out; Playwright types faster than any person.
    monkeypatch.setattr(OnlineBookingForm, "MIN_FILL_SECONDS", 0)
    advisor = make_user(roles.SERVICE_ADVISOR, username="anna", first_name="Анна", last_name="Смирнова")
    for weekday in range(7):  # any day the test runs on has a tomorrow with times
        WorkingHours.objects.create(
            dealership=dealership,
            advisor=advisor,
            weekday=weekday,
            starts_at=datetime.time(9, 0),
            ends_at=datetime.time(18, 0),
        )
    RecallCampaignFactory(
        dealership=dealership,
        code="RC-17",
        title="Замена тормозного шланга",
        vin_from=VIN[:-6] + "000000",
        vin_to=VIN[:-6] + "999999",
    )
    enable_online_booking(dealership)
    return dealership


def fill_customer(page):
    page.fill("#id_name", "Анна Петрова")
    page.fill("#id_phone", "+7 916 123-45-67")
    page.fill("#id_vin", VIN)
    page.fill("#id_make", "Skoda")
    page.fill("#id_model", "Octavia")
    page.fill("#id_reason", "ТО-30000, стук справа")


def test_a_customer_books_online_on_a_phone(page, online, texts, screenshot, login):
    page.set_viewport_size(PHONE_SIZE)
    page.goto(page.base_url + f"/book/{online.code}/")
    assert page.locator("h1").inner_text() == "Записаться на сервис"
    # Another day: JavaScript reloads only the times (from the public API), what was typed stays.
    fill_customer(page)
    first_day = datetime.date.fromisoformat(page.input_value("#booking-date"))
    next_day = first_day + datetime.timedelta(days=1)
    with page.expect_response(lambda r: "/api/public/booking/" in r.url and r.status == 200):
        page.fill("#booking-date", next_day.isoformat())
    page.wait_for_selector(f"#booking-slots input[value='{next_day.isoformat()}T10:00']", state="attached")
    assert page.input_value("#id_name") == "Анна Петрова"
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")  # fits the phone
    screenshot("online-booking-phone-form")
    page.click(f"#booking-slots input[value='{next_day.isoformat()}T10:00'] + label")
    with page.expect_navigation():
        page.click("#booking-send-code")
    assert "Мы отправили код" in page.inner_text("main")
    assert "RC-17" in page.inner_text("#booking-recalls")  # R15: the VIN's open recall shown at booking
    page.fill("#id_code", "000000" if texts.last_code(PHONE) != "000000" else "111111")
    with page.expect_navigation():
        page.click("#booking-confirm")
    assert "Неверный код" in page.inner_text("#booking-errors")
    page.fill("#id_code", texts.last_code(PHONE))  # the code from the SMS Twilio was asked to send
    with page.expect_navigation():
        page.click("#booking-confirm")
    assert "Вы записаны" in page.inner_text("#booking-done")
    screenshot("online-booking-phone-done")
    appointment = Appointment.objects.get()
    assert appointment.booked_online and appointment.vehicle.vin == VIN and appointment.customer.phone == PHONE
    assert appointment.starts_at.astimezone(online.tz).date() == next_day
    # The advisor sees it in the appointment book, marked as booked online.
    page.set_viewport_size({"width": 1366, "height": 768})
    page.context.clear_cookies()
    login("anna")
    page.goto(page.base_url + f"/appointments/{appointment.pk}/")
    assert page.locator("#booked-online").is_visible()
    page.goto(page.base_url + "/appointments/list/")
    assert page.locator(".booked-online").count() == 1


def test_booking_works_with_javascript_off(chromium, live_server, online, texts, settings):
    settings.AXES_ENABLED = False
    context = chromium.new_context(viewport=PHONE_SIZE, java_script_enabled=False, locale="en-US")
    try:
        page = context.new_page()
        page.goto(live_server.url + f"/book/{online.code}/?lang=en")
        assert page.locator("h1").inner_text() == "Book a service visit"
        first_day = datetime.date.fromisoformat(page.input_value("#booking-date"))
        next_day = first_day + datetime.timedelta(days=1)
        page.fill("#booking-date", next_day.isoformat())
        with page.expect_navigation():
            page.click("#booking-show-times")  # no script: the day is a GET
        fill_customer(page)
        page.click(f"#booking-slots input[value='{next_day.isoformat()}T11:00'] + label")
        with page.expect_navigation():
            page.click("#booking-send-code")
        page.fill("#id_code", texts.last_code(PHONE))
        with page.expect_navigation():
            page.click("#booking-confirm")
        assert "You are booked." in page.inner_text("#booking-done")
    finally:
        context.close()
    assert Appointment.objects.get().booked_online


def test_the_administrator_sets_online_booking_up(page, login, make_user, dealership, screenshot):
    make_user(roles.ADMINISTRATOR, username="boss", first_name="Ирина", last_name="Козлова")
    login("boss")
    page.goto(page.base_url + "/appointments/online-booking/")
    page.check("#id_online_booking")
    page.fill("#id_booking_embed_origins", "https://dealer.example.ru")
    with page.expect_navigation():
        page.click("main button[type=submit]")  # not the top bar's «Log out»
    assert f"/book/{dealership.code}/embed/" in page.inner_text("#online-booking-links")
    screenshot("online-booking-settings")
    page.goto(page.base_url + f"/book/{dealership.code}/?lang=en")
    assert page.locator("h1").inner_text() == "Book a service visit"


def test_the_booking_page_works_inside_a_frame(page, online, texts, live_server):
    """The embed page keeps no session: a frame (no first-party cookies) still books; the CSRF check does not apply."""
    enable_online_booking(online, origins=live_server.url)
    page.set_viewport_size(PHONE_SIZE)
    page.goto(live_server.url + "/admin/login/")  # any page of the allowed origin hosts the frame
    page.evaluate(
        """(src) => { const f = document.createElement("iframe"); f.id = "booking"; f.src = src;
                      f.style.width = "380px"; f.style.height = "1500px"; document.body.appendChild(f); }""",
        live_server.url + f"/book/{online.code}/embed/?lang=ru",
    )
    frame = page.frame_locator("#booking")
    frame.locator("#booking-slots label").first.click()
    frame.locator("#id_name").fill("Анна Петрова")
    frame.locator("#id_phone").fill("+7 916 123-45-67")
    frame.locator("#id_vin").fill(VIN)
    frame.locator("#id_make").fill("Skoda")
    frame.locator("#id_model").fill("Octavia")
    frame.locator("#id_reason").fill("ТО")
    frame.locator("#booking-send-code").click()
    frame.locator("#booking-code-form").wait_for()
    frame.locator("#id_code").fill(texts.last_code(PHONE))
    frame.locator("#booking-confirm").click()
    assert "Вы записаны" in frame.locator("#booking-done").inner_text()
    assert Appointment.objects.get().booked_online
