"""Demo data to click through every page. Idempotent: running it again changes nothing that exists.

Core's own (dealerships, users, customers, vehicles) is here; each app adds its own from its ``demo.py``."""

import contextlib
import datetime
import io
from importlib import import_module
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.files.base import ContentFile
from django.core.management import BaseCommand
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone
from django.utils.module_loading import module_has_submodule

from dms.core import roles, services
from dms.core.models import Customer, DealerGroup, Dealership, StaffProfile, Vehicle
from dms.core.pdf import FONT_DIR

User = get_user_model()
DEMO_PASSWORD = "demo12345"

DEMO_USERS = [
    ("advisor", "Анна", "Смирнова", roles.SERVICE_ADVISOR),
    ("parts", "Павел", "Кузнецов", roles.PARTS_MANAGER),
    ("warranty", "Виктор", "Орлов", roles.WARRANTY_ENGINEER),
    ("storekeeper", "Сергей", "Васильев", roles.STOREKEEPER),
    ("inspector", "Игорь", "Соколов", roles.QUALITY_INSPECTOR),
    ("mechanic", "Олег", "Петров", roles.TECHNICIAN),
    ("mechanic2", "Дмитрий", "Волков", roles.TECHNICIAN),
    ("director", "Елена", "Морозова", roles.DIRECTOR),
    ("admin", "Алексей", "Админов", roles.ADMINISTRATOR),
]

# (name, phone, e-mail, channel, VIN, make, model, age in years, plate). Ages, not model years: the demo is dated
# relative to today, so the young cars (age 1–2) are always in their 3-year warranty (issue 14 item 7).
DEMO_CUSTOMERS = [
    (
        "Иванов Иван Петрович",
        "+79161234501",
        "ivanov@example.ru",
        "sms",
        "JTDBR32E720012345",
        "Toyota",
        "Corolla",
        1,
        "А123ВС77",
    ),
    (
        "Петрова Мария Сергеевна",
        "+79161234502",
        "petrova@example.ru",
        "email",
        "JTMHV05J604123456",
        "Toyota",
        "Land Cruiser",
        2,
        "В456ОР77",
    ),
    ("Сидоров Алексей Николаевич", "+79161234503", "", "phone", "VF7SA9HZ8CW123456", "Citroën", "C4", 7, "Е789КХ50"),
    (
        "ООО «Автолайн»",
        "+74951234504",
        "fleet@autoline.example",
        "email",
        "LSGPC52U6AF123456",
        "Chevrolet",
        "Cruze",
        6,
        "К321МН99",
    ),
    (
        "Кузьмина Ольга Викторовна",
        "+79161234505",
        "olga@example.ru",
        "sms",
        "JTNB11HK503123456",
        "Toyota",
        "Camry",
        1,
        "М654ТУ77",
    ),
    (
        "Новиков Дмитрий Андреевич",
        "+79161234506",
        "",
        "phone",
        "VF7NC9HP0DY123456",
        "Citroën",
        "C5 Aircross",
        2,
        "Н987АВ177",
    ),
    (
        "Фёдорова Татьяна Ивановна",
        "+79161234507",
        "fedorova@example.ru",
        "sms",
        "JTEBU3FJ705123456",
        "Toyota",
        "RAV4",
        8,
        "О111РР197",
    ),
    (
        "Морозов Константин Ильич",
        "+79161234508",
        "morozov@example.ru",
        "email",
        "LSGJA52U4CS123456",
        "Chevrolet",
        "Malibu",
        9,
        "Р222СС750",
    ),
]

DEMO_REQUISITES = {
    "demo-moscow": {
        "legal_name": "Общество с ограниченной ответственностью «Демо Моторс Москва»",
        "legal_address": "125167, г. Москва, Ленинградский проспект, д. 39, стр. 14",
        "address": "г. Москва, Ленинградский проспект, д. 39, стр. 14",
        "phone": "+74951234567",
        "inn": "7728123459",
        "kpp": "772801001",
        "ogrn": "1027700123450",
        "bank_name": "ПАО Сбербанк, г. Москва",
        "bik": "044525225",
        "settlement_account": "40702810200000012345",
        "correspondent_account": "30101810400000000225",
    },
    "demo-kazan": {
        "legal_name": "Общество с ограниченной ответственностью «Демо Моторс Казань»",
        "legal_address": "420111, Республика Татарстан, г. Казань, ул. Баумана, д. 1",
        "address": "г. Казань, ул. Баумана, д. 1",
        "phone": "+78432123456",
        "inn": "1655123453",
        "kpp": "165501001",
        "ogrn": "1161690123451",
        "bank_name": "Отделение «Банк Татарстан» № 8610 ПАО Сбербанк",
        "bik": "049205603",
        "settlement_account": "40702810462000012345",
        "correspondent_account": "30101810600000000603",
    },
}


def demo_logo(letters: str) -> ContentFile:
    """A plain logo for the demo dealerships' documents: white letters on blue, drawn in the shipped font."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (320, 160), "#0b3d91")
    font = ImageFont.truetype(str(FONT_DIR / "DejaVuSans-Bold.ttf"), 80)
    ImageDraw.Draw(image).text((160, 80), letters, fill="white", font=font, anchor="mm")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return ContentFile(buffer.getvalue())


def app_demo_loaders() -> list:
    """Each installed project app's ``demo.load(users=..., dealership=...)``, in INSTALLED_APPS order (an app's
    demo data may build on the apps before it: orders on parts). Found through the app registry, so dms/core names
    no domain app (issue 13 item 5); third-party apps are not asked."""
    return [
        import_module(f"{app_config.name}.demo").load
        for app_config in apps.get_app_configs()
        if _is_project_app(app_config) and module_has_submodule(app_config.module, "demo")
    ]


def _is_project_app(app_config) -> bool:
    path = Path(app_config.path)
    return path.is_relative_to(settings.BASE_DIR) and "site-packages" not in path.parts


class Command(BaseCommand):
    help = "Create the demo dealerships, users (password demo12345), customers and vehicles, then each app's demo data."

    def handle(self, *args, **options):
        # The demo's flows send e-mails and SMS (emergency complaints, arrivals, low stock): keep them in memory so
        # loading prints no raw messages on the console backends (issue 14 item 7).
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            with contextlib.redirect_stdout(io.StringIO()):
                users = self._load()
        self.stdout.write(
            self.style.SUCCESS("Demo data ready. Users: " + ", ".join(users) + f"; password {DEMO_PASSWORD}")
        )

    @transaction.atomic
    def _load(self) -> dict:
        roles.sync_roles(Group, Permission)
        main, second = _dealerships()
        users = _users(main, second)
        _customers(users, main, second)
        for load in app_demo_loaders():
            load(users=users, dealership=main)
        return users


def _dealerships() -> tuple[Dealership, Dealership]:
    group, _ = DealerGroup.objects.get_or_create(name="Автогруппа «Демо»")
    main, _ = Dealership.objects.get_or_create(
        code="demo-moscow",
        defaults={"group": group, "name": "Демо Моторс Москва", "time_zone": "Europe/Moscow", "order_prefix": "Ф"},
    )
    second, _ = Dealership.objects.get_or_create(
        code="demo-kazan",
        defaults={"group": group, "name": "Демо Моторс Казань", "time_zone": "Europe/Moscow", "order_prefix": "К"},
    )
    for dealership in (main, second):
        # The requisites printed on customer documents (issue 16, item 4); valid checksums, fictitious company.
        # Only empty fields are filled: what an administrator entered stays.
        for name, value in DEMO_REQUISITES[dealership.code].items():
            if not getattr(dealership, name):
                setattr(dealership, name, value)
        if not dealership.logo:
            dealership.logo.save(f"{dealership.code}.png", demo_logo("ДМ"), save=False)
        dealership.full_clean()
        dealership.save()
    return main, second


def _users(main: Dealership, second: Dealership) -> dict:
    users = {}
    for username, first, last, role in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "email": f"{username}@demo.example"},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.is_staff = role == roles.ADMINISTRATOR
            user.is_superuser = role == roles.ADMINISTRATOR
            user.save()
        user.groups.add(Group.objects.get(name=role))
        profile, _ = StaffProfile.objects.get_or_create(user=user, defaults={"default_dealership": main})
        profile.dealerships.add(main)
        if role == roles.DIRECTOR:
            profile.dealerships.add(second)
        users[username] = user
    return users


def _customers(users: dict, main: Dealership, second: Dealership) -> None:
    admin = users["admin"]
    this_year = timezone.localdate().year
    for name, phone, email, channel, vin, make, model, age, plate in DEMO_CUSTOMERS:
        year = this_year - age
        customer = Customer.objects.filter(dealership=main, name=name).first()
        if customer is None:
            customer = services.customer_create(
                actor=admin,
                dealership=main,
                name=name,
                phone=phone,
                email=email,
                preferred_channel=channel,
                first_contact_channel="phone",
                lead_source="recommendation",
                assigned_manager=users["advisor"],
            )
        if not Vehicle.objects.filter(dealership=main, vin=vin).exists():
            services.vehicle_create(
                actor=admin,
                dealership=main,
                customer=customer,
                vin=vin,
                make=make,
                model=model,
                year=year,
                plate=plate,
                mileage=15000 + year % 100 * 1000,
                warranty_start=datetime.date(year, 3, 1),
                warranty_end=datetime.date(year + 3, 3, 1),
                warranty_mileage_limit=100000,
            )
    # A customer of the second dealership, to see that the dealerships stay apart.
    other = Customer.objects.filter(dealership=second).first() or services.customer_create(
        actor=admin, dealership=second, name="Гарипов Рустам", phone="+79031234599", preferred_channel="sms"
    )
    if not Vehicle.objects.filter(dealership=second).exists():
        services.vehicle_create(
            actor=admin, dealership=second, customer=other, vin="XW8ZZZ61ZHG123456", make="Škoda", model="Rapid"
        )
