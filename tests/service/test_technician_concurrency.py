"""Issue 18 item 2 under concurrency: a technician tapping "start" on two jobs at the same moment (two tablets)
gets one open interval, never two (real PostgreSQL threads; the user-row lock and the partial unique index)."""

import datetime

import pytest

from dms.core import roles
from dms.core.exceptions import ConflictError
from service import services
from service.models import JobClock

from .conftest import MSK
from .factories import make_work_order
from .test_concurrency import run_concurrently

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_starts_at_once_leave_one_open_interval(dealership, make_user, advisor):
    director = make_user(roles.DIRECTOR)
    user = make_user(roles.TECHNICIAN)
    tech = services.technician_create(actor=director, dealership=dealership, user=user)
    wo = make_work_order(dealership=dealership, advisor=advisor, number="ЗН-К1", jobs=("A", "B", "C", "D"))
    jobs = list(wo.jobs.all())
    for job in jobs:
        services.job_assign(actor=advisor, job=job, technician=tech.user)
    t0 = datetime.datetime(2030, 3, 4, 9, 0, tzinfo=MSK)
    results = run_concurrently(*[lambda job=job: services.job_clock_start(actor=user, job=job, now=t0) for job in jobs])
    started = [r for r in results if isinstance(r, JobClock)]
    refused = [r for r in results if isinstance(r, ConflictError)]
    assert len(started) == 1 and len(refused) == len(jobs) - 1, results
    assert JobClock.objects.filter(technician=user, ended_at__isnull=True).count() == 1
