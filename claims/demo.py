"""Demo data for complaints and claims (called by ``manage.py load_demo``; idempotent)."""

import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from dms.core.models import StaffProfile, Vehicle

from . import services, workorders
from .models import ClaimsSettings, Complaint, GoodwillClaim, StaffAppraisal, WarrantyClaim
from .roles import CLAIMS_DEPARTMENT, CUSTOMER_ASSISTANCE, FIELD_MANAGER, sync_external_roles
from .staff_kpi import StaffPeriod

User = get_user_model()
DEMO_PASSWORD = "demo12345"
EXTERNAL_USERS = [
    ("fmc", "Дандан", "Ван", FIELD_MANAGER),
    ("claimsdept", "Цзян", "Жун", CLAIMS_DEPARTMENT),
    ("cac", "Пэйюэ", "Ван", CUSTOMER_ASSISTANCE),
]


def _external_users(dealership) -> dict:
    sync_external_roles()
    found = {}
    for username, first, last, role in EXTERNAL_USERS:
        user, created = User.objects.get_or_create(
            username=username, defaults={"first_name": first, "last_name": last, "email": f"{username}@oem.example"}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        user.groups.add(Group.objects.get(name=role))
        profile, _ = StaffProfile.objects.get_or_create(user=user, defaults={"default_dealership": dealership})
        profile.dealerships.add(dealership)
        found[username] = user
    return found


def _complaint(description, **kwargs):
    return Complaint.objects.filter(dealership=kwargs["dealership"], description=description).first() or (
        services.complaint_register(description=description, **kwargs)
    )


def load(*, users, dealership) -> None:
    advisor, engineer = users["advisor"], users["warranty"]
    external = _external_users(dealership)
    ClaimsSettings.objects.get_or_create(
        dealership=dealership,
        defaults={
            "fmc_name": "Ван Дандан",
            "fmc_email": "fmc@oem.example",
            "fmc_phone": "+86 21 2891 7901",
            "tac_name": "TAC региона «Центр»",
            "tac_email": "tac@oem.example",
            "tac_phone": "8-800-820-29-29",
            "cac_email": "cac@oem.example",
        },
    )
    vehicles = list(Vehicle.objects.filter(dealership=dealership).select_related("customer").order_by("pk")[:4])
    if len(vehicles) < 4:
        return
    now = timezone.now()
    today = timezone.localtime(now, dealership.tz).date()

    # 1. From the public web form, waiting to be assigned.
    if not Complaint.objects.filter(dealership=dealership, channel="web_form").exists():
        services.complaint_register_public(
            dealership=dealership,
            name="Сергей",
            phone="+79165550101",
            description="Записался на ТО на 10:00, приняли только в 11:30. Никто не предупредил.",
        )
    # 2. Assigned, deadline passed: the hourly beat job flags it and writes to the director.
    late = _complaint(
        "После замены колодок скрип при торможении, второй визит.",
        actor=advisor,
        dealership=dealership,
        channel="phone",
        vehicle=vehicles[0],
        received_at=now - datetime.timedelta(days=8),
    )
    if late.status == "registered":
        services.complaint_assign(
            actor=engineer,
            complaint=late,
            category="repair_quality",
            department="service",
            assignee=advisor,
            deadline=today - datetime.timedelta(days=2),
            now=now - datetime.timedelta(days=7),
        )
    # 3. Emergency: vehicle fire, with the media involved; investigation under way.
    fire = _complaint(
        "Возгорание в моторном отсеке на парковке, через неделю после ремонта проводки.",
        actor=advisor,
        dealership=dealership,
        channel="phone",
        vehicle=vehicles[1],
        severity="emergency",
        emergency_kind="vehicle_fire",
        insurance_info="КАСКО «Ингосстрах», полис АА 123456",
        insurance_checked=True,
        police_report="Акт МЧС № 77-118",
        police_checked=True,
        involves_media=True,
        media_outlet="Телеканал «Москва 24»",
        media_programme="«Авто-Новости»",
        journalist="Ирина Петрова",
        journalist_contact="+7 495 000-24-24",
    )
    if fire.status == "registered":
        fire = services.complaint_assign(
            actor=engineer,
            complaint=fire,
            category="repair_quality",
            department="quality",
            assignee=engineer,
            deadline=today + datetime.timedelta(days=1),
        )
        services.complaint_start_investigation(actor=engineer, complaint=fire)
    # 4. Closed with the report and the customer's satisfaction.
    done = _complaint(
        "Не вернули старые запчасти после ремонта.",
        actor=advisor,
        dealership=dealership,
        channel="in_person",
        vehicle=vehicles[2],
        received_at=now - datetime.timedelta(days=20),
    )
    if done.status == "registered":
        done = services.complaint_assign(
            actor=engineer,
            complaint=done,
            category="service_attitude",
            department="parts",
            assignee=users["parts"],
            deadline=today + datetime.timedelta(days=3),
        )
        done = services.complaint_start_investigation(actor=engineer, complaint=done)
        done = services.complaint_agree_solution(
            actor=engineer, complaint=done, cause="Кладовщик утилизировал детали", solution="Извинения, скидка 15%"
        )
        services.complaint_add_note(actor=engineer, complaint=done, kind="follow_up", text="Клиент доволен")
        services.complaint_close(actor=engineer, complaint=done, closing_report="Вопрос решён", satisfaction=5)
    # Goodwill claim for the fire case, waiting for the FMC's terms.
    if not GoodwillClaim.objects.filter(dealership=dealership).exists():
        services.goodwill_claim_create(
            actor=engineer,
            dealership=dealership,
            complaint=fire,
            customer=vehicles[1].customer,
            vehicle=vehicles[1],
            description="Восстановление проводки за счёт производителя после возгорания.",
            fmc_terms="Запчасти 100%, работа 50%",
            fmc_max_amount=Decimal("85000"),
        )
    # Warranty claims at every stage, from the delivered work orders' jobs (service demo) on cars in warranty.
    if not WarrantyClaim.objects.filter(dealership=dealership).exists():
        _warranty_claims(users=users, external=external, dealership=dealership, today=today)
    _staff_appraisals(users=users, dealership=dealership, now=now)


def _staff_appraisals(*, users, dealership, now) -> None:
    """Issue 18 item 6 (seed 004): last month's appraisals — the advisor's finalised with all four kinds of score,
    the parts manager's open with his self-assessment, waiting for the supervisor and colleagues."""
    if StaffAppraisal.objects.filter(dealership=dealership).exists():
        return
    today = timezone.localtime(now, dealership.tz).date()
    period = StaffPeriod.of("month", today.replace(day=1) - datetime.timedelta(days=1))
    director, advisor, parts = users["director"], users["advisor"], users["parts"]
    # The open one first: colleagues may read it (to score it), so it is the record the access matrix checks.
    pending = services.staff_appraisal_open(actor=director, dealership=dealership, employee=parts, period=period)
    services.appraisal_score_record(
        actor=parts, appraisal=pending, source="self", score=4, comment="Продажи выросли, возвратов меньше."
    )
    done = services.staff_appraisal_open(actor=director, dealership=dealership, employee=advisor, period=period)
    for actor, source, score, comment in [
        (advisor, "self", 4, "Все заказы закрыты в срок, одна жалоба закрыта с опозданием."),
        (parts, "colleague", 5, "Всегда помогает с подбором запчастей для клиентов."),
        (director, "customer", 4, "Опрос клиентов после визита: средняя оценка 4,3."),
        (director, "supervisor", 4, "Хороший объём работ; подтянуть сроки по жалобам."),
    ]:
        services.appraisal_score_record(actor=actor, appraisal=done, source=source, score=score, comment=comment)
    services.staff_appraisal_finalise(
        actor=director, appraisal=done, summary="Оценка «хорошо». Цель на месяц: все жалобы закрывать в срок."
    )


# The stage each demo claim is left at, in the order of the delivered jobs; the submitted stage passes straight on
# to «Проверена системой» (R22: the automatic check runs at submission).
CLAIM_STAGES = ["draft", "auto_checked", "fmc_confirmed", "confirmed", "paid", "returned", "rejected"]
CAUSAL_PARTS = ["04465-02220", "90919-01253", "90919-01253", "87139-0N010", "48510-09P20", "16400-0T040", "04152-YZZA1"]


def _warranty_claims(*, users, external, dealership, today) -> None:
    from parts.models import Part

    engineer, fmc, department = users["warranty"], external["fmc"], external["claimsdept"]
    jobs = [
        (work_order, job)
        for work_order in reversed(workorders.work_orders_for_dealership(dealership_id=dealership.pk, limit=50))
        if work_order.delivered
        for job in work_order.jobs
    ]
    for (work_order, job), stage, number in zip(jobs, CLAIM_STAGES, CAUSAL_PARTS, strict=False):
        claim = services.warranty_claim_create(
            actor=engineer,
            dealership=dealership,
            work_order_id=work_order.id,
            job_id=job.id,
            failure_date=today - datetime.timedelta(days=8),
            failure_code="P0171" if stage != "rejected" else "B1000",
            causal_part=Part.objects.filter(dealership=dealership, number=number).first(),
            description=f"{job.description}: неисправность подтверждена диагностикой, деталь заменена.",
        )
        if stage == "draft":
            continue
        claim = services.warranty_claim_submit(actor=engineer, claim=claim)
        if stage == "returned":
            services.warranty_claim_return(actor=fmc, claim=claim, reason="Приложите фото повреждённой детали")
            continue
        if stage == "rejected":
            services.warranty_claim_reject(
                actor=fmc, claim=claim, reason="Повреждение внешнего характера", part_instruction="scrap"
            )
            continue
        if stage == "auto_checked":
            continue
        claim = services.warranty_claim_fmc_confirm(actor=fmc, claim=claim)
        if stage == "fmc_confirmed":
            continue
        claim = services.warranty_claim_claims_confirm(actor=department, claim=claim, part_instruction="return")
        if stage == "paid":
            services.warranty_claim_record_payment(
                actor=engineer, claim=claim, amount=claim.approved_amount, reference=f"ПП-{claim.number}"
            )
