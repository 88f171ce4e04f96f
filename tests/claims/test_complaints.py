"""R33 complaints from intake to the closing report; R24 emergency and media cases; overdue flag and escalation."""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from claims import services
from claims.models import ClaimsSettings, Complaint, ComplaintNote, ComplaintNotification, ComplaintStatus
from dms.core import roles
from dms.core.exceptions import ConflictError
from dms.core.models import AuditEntry
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def register(actor, vehicle, **kwargs):
    data = {
        "channel": "phone",
        "description": "После ремонта стучит подвеска",
    }
    data.update(kwargs)
    return services.complaint_register(actor=actor, dealership=vehicle.dealership, vehicle=vehicle, **data)


def walk_to_solution(complaint, engineer, advisor, now=None):
    now = now or timezone.now()
    complaint = services.complaint_assign(
        actor=engineer,
        complaint=complaint,
        category="repair_quality",
        department="service",
        assignee=advisor,
        deadline=complaint.local_today(now) + datetime.timedelta(days=3),
        now=now,
    )
    complaint = services.complaint_start_investigation(actor=advisor, complaint=complaint)
    services.complaint_add_note(actor=advisor, complaint=complaint, kind="investigation", text="Ослаблена гайка")
    return services.complaint_agree_solution(
        actor=advisor, complaint=complaint, cause="Не затянута гайка стойки", solution="Бесплатная протяжка", now=now
    )


def test_r33_intake_records_channel_time_customer_vehicle_and_numbers_per_dealership(advisor, vehicle):
    received = timezone.now() - datetime.timedelta(hours=2)
    complaint = register(advisor, vehicle, received_at=received)
    assert complaint.number == "ЖЛ-000001"
    assert complaint.status == ComplaintStatus.REGISTERED
    assert complaint.customer == vehicle.customer  # taken from the vehicle
    assert complaint.received_at == received
    assert complaint.registered_by == advisor
    assert register(advisor, vehicle).number == "ЖЛ-000002"
    entry = AuditEntry.objects.filter(object_id=complaint.pk, action="created").get()
    assert entry.changes["channel"] == "phone"


def test_r33_intake_rejects_missing_customer_description_and_foreign_vehicle(advisor, vehicle, other_dealership):
    with pytest.raises(ValidationError) as error:
        services.complaint_register(
            actor=advisor, dealership=vehicle.dealership, channel="fax", description=" ", contact_name="Аноним"
        )
    assert set(error.value.message_dict) == {"channel", "description", "customer"}
    other_customer = CustomerFactory(dealership=vehicle.dealership)
    with pytest.raises(ValidationError) as error:
        register(advisor, vehicle, customer=other_customer)
    assert "vehicle" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        register(advisor, vehicle, received_at=timezone.now() + datetime.timedelta(days=1))
    assert "received_at" in error.value.message_dict
    assert Complaint.objects.count() == 0


def test_r33_walk_from_assignment_to_closing_report(advisor, engineer, vehicle):
    complaint = walk_to_solution(register(advisor, vehicle), engineer, advisor)
    assert complaint.status == ComplaintStatus.SOLUTION_AGREED
    services.complaint_add_note(actor=advisor, complaint=complaint, kind="follow_up", text="Клиент доволен")
    complaint = services.complaint_close(
        actor=engineer, complaint=complaint, closing_report="Устранено, клиент доволен", satisfaction=5
    )
    assert complaint.status == ComplaintStatus.CLOSED
    assert complaint.satisfaction == 5 and complaint.closed_by == engineer
    assert complaint.closed_on_time() is True
    transitions = list(
        AuditEntry.objects.filter(object_id=complaint.pk, action="transition")
        .order_by("id")
        .values_list("changes", flat=True)
    )
    assert [t["status"] for t in transitions] == [
        ["registered", "assigned"],
        ["assigned", "investigating"],
        ["investigating", "solution_agreed"],
        ["solution_agreed", "closed"],
    ]


def test_r33_closing_without_solution_is_a_conflict_and_changes_nothing(advisor, engineer, vehicle):
    complaint = register(advisor, vehicle)
    complaint = services.complaint_assign(
        actor=engineer,
        complaint=complaint,
        category="repair_quality",
        department="service",
        assignee=advisor,
        deadline=timezone.localdate() + datetime.timedelta(days=2),
    )
    complaint = services.complaint_start_investigation(actor=advisor, complaint=complaint)
    with pytest.raises(ConflictError, match="solution"):
        services.complaint_close(actor=engineer, complaint=complaint, closing_report="Закрыть", satisfaction=3)
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.INVESTIGATING and complaint.closing_report == ""
    with pytest.raises(ValidationError) as error:
        services.complaint_agree_solution(actor=advisor, complaint=complaint, solution="  ", cause="x")
    assert "solution" in error.value.message_dict


def test_r33_closing_needs_follow_up_report_and_satisfaction_1_to_5(advisor, engineer, vehicle):
    complaint = walk_to_solution(register(advisor, vehicle), engineer, advisor)
    with pytest.raises(ValidationError) as error:
        services.complaint_close(actor=engineer, complaint=complaint, closing_report="", satisfaction=7)
    assert set(error.value.message_dict) == {"closing_report", "satisfaction"}
    services.complaint_add_note(actor=advisor, complaint=complaint, kind="follow_up", text="Перезвонили")
    with pytest.raises(ValidationError) as error:
        services.complaint_close(actor=engineer, complaint=complaint, closing_report="Отчёт", satisfaction=0)
    assert list(error.value.message_dict) == ["satisfaction"]
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.SOLUTION_AGREED


def test_r33_follow_up_only_after_solution_and_roles_are_enforced(advisor, engineer, vehicle):
    complaint = register(advisor, vehicle)
    with pytest.raises(PermissionDenied):
        services.complaint_assign(
            actor=advisor,
            complaint=complaint,
            category="other",
            department="service",
            assignee=advisor,
            deadline=timezone.localdate(),
        )
    with pytest.raises(ValidationError) as error:
        services.complaint_add_note(actor=advisor, complaint=complaint, kind="follow_up", text="Звонок")
    assert "kind" in error.value.message_dict
    assert ComplaintNote.objects.count() == 0


def test_r33_assignment_checks_deadline_and_employee_dealership(
    advisor, engineer, vehicle, make_user, other_dealership
):
    complaint = register(advisor, vehicle)
    stranger = make_user(roles.SERVICE_ADVISOR, dealerships=[other_dealership])
    with pytest.raises(ValidationError) as error:
        services.complaint_assign(
            actor=engineer,
            complaint=complaint,
            category="other",
            department="service",
            assignee=stranger,
            deadline=timezone.localdate() - datetime.timedelta(days=1),
        )
    assert "deadline" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.complaint_assign(
            actor=engineer,
            complaint=complaint,
            category="other",
            department="service",
            assignee=stranger,
            deadline=timezone.localdate(),
        )
    assert "assignee" in error.value.message_dict
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.REGISTERED and complaint.assignee is None


# -- R24 emergency and media ---------------------------------------------------------------------------------------


@pytest.fixture
def contacts(dealership):
    return ClaimsSettings.objects.create(
        dealership=dealership, fmc_email="fmc@gm.example", tac_email="tac@gm.example", fmc_name="Ван Дань"
    )


def test_r24_emergency_notifies_fmc_and_tac_at_once_after_commit(
    advisor, vehicle, contacts, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        complaint = register(
            advisor, vehicle, severity="emergency", emergency_kind="vehicle_fire", description="Возгорание под капотом"
        )
        assert len(mail.outbox) == 0  # nothing leaves before the commit
    assert len(callbacks) == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["fmc@gm.example", "tac@gm.example"]
    assert "ЖЛ-000001" in mail.outbox[0].subject
    assert "police report" in mail.outbox[0].body.lower() or "протокол" in mail.outbox[0].body.lower()
    rows = ComplaintNotification.objects.filter(complaint=complaint).order_by("recipient")
    assert [(r.recipient, r.status) for r in rows] == [("fmc", "sent"), ("tac", "sent")]
    complaint.refresh_from_db()
    assert complaint.contacts_notified_at is not None


def test_r24_emergency_needs_kind_and_unconfigured_contacts_are_recorded(
    advisor, vehicle, django_capture_on_commit_callbacks
):
    with pytest.raises(ValidationError) as error:
        register(advisor, vehicle, severity="emergency")
    assert "emergency_kind" in error.value.message_dict
    with django_capture_on_commit_callbacks(execute=True):
        complaint = register(advisor, vehicle, severity="emergency", emergency_kind="major_accident")
    assert mail.outbox == []
    assert set(complaint.notifications.values_list("status", flat=True)) == {"no_address"}


def test_r24_upgrade_to_emergency_notifies_once(advisor, vehicle, contacts, django_capture_on_commit_callbacks):
    complaint = register(advisor, vehicle)
    with django_capture_on_commit_callbacks(execute=True):
        services.complaint_update(
            actor=advisor, complaint=complaint, data={"severity": "emergency", "emergency_kind": "vehicle_fire"}
        )
        services.complaint_update(actor=advisor, complaint=complaint, data={"insurance_info": "ОСАГО ХХХ"})
    assert len(mail.outbox) == 2
    assert complaint.notifications.count() == 2


def test_r24_media_case_records_outlet_programme_journalist_contact(advisor, vehicle):
    with pytest.raises(ValidationError) as error:
        register(advisor, vehicle, involves_media=True, media_outlet="Первый канал")
    assert set(error.value.message_dict) == {"media_programme", "journalist", "journalist_contact"}
    complaint = register(
        advisor,
        vehicle,
        involves_media=True,
        media_outlet="Первый канал",
        media_programme="Контрольная закупка",
        journalist="Петров П.",
        journalist_contact="+7 900 000-00-00",
    )
    assert complaint.journalist == "Петров П."


def test_r24_emergency_closes_only_with_checklist_complete(
    advisor, engineer, vehicle, contacts, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        complaint = register(advisor, vehicle, severity="emergency", emergency_kind="vehicle_fire")
    complaint = walk_to_solution(complaint, engineer, advisor)
    services.complaint_add_note(actor=advisor, complaint=complaint, kind="follow_up", text="Связались")
    with pytest.raises(ValidationError) as error:
        services.complaint_close(actor=engineer, complaint=complaint, closing_report="Отчёт", satisfaction=4)
    assert "checklist" in error.value.message_dict
    services.complaint_update(
        actor=advisor,
        complaint=complaint,
        data={
            "insurance_info": "КАСКО Ингосстрах",
            "insurance_checked": True,
            "aftermarket_equipment": "Нет",
            "aftermarket_checked": True,
            "police_report": "МЧС акт 12",
            "police_checked": True,
            "photos_taken": True,
        },
    )
    complaint = services.complaint_close(actor=engineer, complaint=complaint, closing_report="Отчёт", satisfaction=4)
    assert complaint.status == ComplaintStatus.CLOSED


# -- overdue flag and escalation -----------------------------------------------------------------------------------


def test_r33_overdue_complaints_are_flagged_and_escalated_to_this_dealerships_directors(
    advisor, engineer, vehicle, make_user, dealership, other_dealership, django_capture_on_commit_callbacks
):
    boss = make_user(roles.DIRECTOR, email="boss@dealer.example")
    make_user(roles.DIRECTOR, dealerships=[other_dealership], email="stranger@other.example")
    now = timezone.now()
    late = register(advisor, vehicle)
    late = services.complaint_assign(
        actor=engineer,
        complaint=late,
        category="other",
        department="service",
        assignee=advisor,
        deadline=late.local_today(now),
        now=now,
    )
    on_time = register(advisor, vehicle)
    services.complaint_assign(
        actor=engineer,
        complaint=on_time,
        category="other",
        department="service",
        assignee=advisor,
        deadline=late.local_today(now) + datetime.timedelta(days=5),
        now=now,
    )
    # The day of the deadline is not late yet.
    assert services.complaints_flag_overdue(now=now) == 0
    later = now + datetime.timedelta(days=2)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.complaints_flag_overdue(now=later) == 1
    late.refresh_from_db()
    assert late.overdue_flagged_at == later and late.escalated_at == later
    assert late.is_overdue(later)
    assert [m.to for m in mail.outbox] == [["boss@dealer.example"]]
    assert late.number in mail.outbox[0].body
    assert late.notifications.get().recipient == "director"
    assert boss.email == late.notifications.get().address
    # Flagged once: the next beat run does not escalate again.
    with django_capture_on_commit_callbacks(execute=True):
        assert services.complaints_flag_overdue(now=later + datetime.timedelta(hours=1)) == 0
    assert len(mail.outbox) == 1
    assert AuditEntry.objects.filter(object_id=late.pk, message__icontains="overdue").count() == 1


def test_r33_closed_complaints_are_never_flagged_and_a_new_deadline_lifts_the_flag(advisor, engineer, vehicle):
    now = timezone.now()
    complaint = register(advisor, vehicle)
    complaint = services.complaint_assign(
        actor=engineer,
        complaint=complaint,
        category="other",
        department="service",
        assignee=advisor,
        deadline=complaint.local_today(now),
        now=now,
    )
    later = now + datetime.timedelta(days=3)
    assert services.complaints_flag_overdue(now=later) == 1
    complaint.refresh_from_db()
    complaint = services.complaint_assign(
        actor=engineer,
        complaint=complaint,
        category="other",
        department="service",
        assignee=advisor,
        deadline=complaint.local_today(later) + datetime.timedelta(days=2),
        now=later,
    )
    assert complaint.overdue_flagged_at is None


def test_beat_task_runs_the_service(advisor, engineer, vehicle, settings):
    from claims.tasks import flag_overdue_complaints

    complaint = register(advisor, vehicle)
    past = timezone.now() - datetime.timedelta(days=5)
    services.complaint_assign(
        actor=engineer,
        complaint=complaint,
        category="other",
        department="service",
        assignee=advisor,
        deadline=complaint.local_today(past),
        now=past,
    )
    assert flag_overdue_complaints.delay().get() == 1
    assert "claims.tasks.flag_overdue_complaints" in {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}


def test_public_registration_matches_the_customer_by_phone(dealership, vehicle):
    complaint = services.complaint_register_public(
        dealership=dealership,
        name="Кто-то",
        phone=str(vehicle.customer.phone),
        vin=vehicle.vin.lower(),
        description="Долго ждал выдачи",
        source_ip="10.0.0.1",
    )
    assert complaint.channel == "web_form"
    assert complaint.customer == vehicle.customer and complaint.vehicle == vehicle
    assert complaint.registered_by is None and complaint.source_ip == "10.0.0.1"
    stranger = services.complaint_register_public(
        dealership=dealership, name="Незнакомец", email="x@example.com", description="Грубый мастер"
    )
    assert stranger.customer is None and stranger.contact_email == "x@example.com"
