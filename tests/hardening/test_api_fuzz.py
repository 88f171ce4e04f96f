"""Schemathesis against our own OpenAPI schema (issue 8 part 1, issue 12 item 9): no 5xx, no answer off the schema.

All four phases of schemathesis 4 run, as two roles of the demo dealership (a dealership administrator who is NOT a
superuser, and a service advisor — a 403 for the advisor is a documented answer, a 5xx never is):

- examples, coverage and fuzzing, one test per operation and role (``test_api_never_fails_and_matches_its_schema``);
- stateful: scenarios chaining operations along the schema's OpenAPI links — ours (``dms.core.schema.add_links``:
  create/list → retrieve, update and every action of the same record) plus those schemathesis infers from the
  schema's dependencies (``test_api_scenarios_never_fail``).

Bounded in the suite; ``FUZZ_LONG=1`` switches to the long run (README, Quality → API fuzzing). Each bound can be set
on its own: FUZZ_EXAMPLES (generated examples per operation and role), FUZZ_SCENARIOS (stateful scenarios per role),
FUZZ_STEPS (at most this many calls per scenario), FUZZ_ROLES (comma-separated role names).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
import schemathesis
from django.conf import settings as settings_module
from django.contrib.auth import get_user_model
from django.core import signals
from django.core.cache import cache
from django.core.management import call_command
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, settings
from rest_framework.authtoken.models import Token
from schemathesis import checks
from schemathesis.config import SchemathesisConfig
from schemathesis.generation.meta import TestPhase as GenerationPhase

from dms.core import roles
from dms.core.models import Dealership
from dms.wsgi_test import application
from tests.factories import UserFactory

LONG_RUN = os.environ.get("FUZZ_LONG", "") not in ("", "0")
MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "100" if LONG_RUN else "5"))
SCENARIOS = int(os.environ.get("FUZZ_SCENARIOS", "300" if LONG_RUN else "30"))
MAX_STEPS = int(os.environ.get("FUZZ_STEPS", "10" if LONG_RUN else "6"))
# The coverage phase derives its cases from the schema (about 11,000 per role: every boundary, every missing or
# wrong-typed value) and has no example budget; the bounded run sends every COVERAGE_SAMPLE-th of them (each role a
# different share), the long run all.
COVERAGE_SAMPLE = int(os.environ.get("FUZZ_COVERAGE_SAMPLE", "1" if LONG_RUN else "12"))
ROLES = os.environ.get("FUZZ_ROLES", f"{roles.ADMINISTRATOR},{roles.SERVICE_ADVISOR}").split(",")

# Business validation may reject a schema-valid payload (a phone number, a VIN) with a documented 400, so the
# positive-data-acceptance check is left out; server errors and schema violations are not.
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]

config = SchemathesisConfig.from_dict(
    {
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            "stateful": {
                "enabled": True,
                "max-steps": MAX_STEPS,
            },
        },
    }
)
schema = schemathesis.openapi.from_wsgi("/api/schema/", application, config=config)


# Answers by phase and status code, written to var/fuzz-summary.json (the long run: fuzz-summary-long.json) at the end
# of the module (README's figures).
TALLY: Counter[tuple[str, int]] = Counter()


@pytest.fixture(scope="module", autouse=True)
def _write_tally():
    started = time.monotonic()
    yield
    summary = {
        "examples_per_operation": MAX_EXAMPLES,
        "scenarios_per_role": SCENARIOS,
        "max_steps": MAX_STEPS,
        "roles": ROLES,
        "seconds": round(time.monotonic() - started),
        "answers": {
            phase: dict(sorted((str(code), n) for (seen, code), n in TALLY.items() if seen == phase))
            for phase in sorted({phase for phase, _code in TALLY})
        },
    }
    out = Path(settings_module.BASE_DIR) / "var" / ("fuzz-summary-long.json" if LONG_RUN else "fuzz-summary.json")
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(summary, indent=2))
    print("\nschemathesis:", json.dumps(summary))


@dataclass
class FuzzWorld:
    tokens: dict[str, str]


@pytest.fixture(scope="module")
def fuzz_world(django_db_setup, django_db_blocker):
    """The demo dealership (with the records the access matrix completes it with) and one token per fuzzed role,
    built once for the module inside a transaction rolled back at its end."""
    from tests.hardening.test_access_matrix import _complete_the_demo

    # In-process WSGI calls must not close the test's connection at the end of each request (as Django's test client
    # also arranges).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    # Thousands of expected 4xx answers (and refused logins) would each log a warning; server errors still log.
    quiet_logs = {name: logging.getLogger(name) for name in ("django.request", "axes")}
    levels = {name: log.level for name, log in quiet_logs.items()}
    for log in quiet_logs.values():
        log.setLevel(logging.ERROR)
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            call_command("load_demo", verbosity=0)
            main = Dealership.objects.get(code="demo-moscow")
            _complete_the_demo(main)
            tokens = {}
            for role in ROLES:
                # Not a superuser: the administrator's powers come from the role and the dealership, as in production.
                user = UserFactory(
                    username=f"fuzz_{role}", role=role, dealership=[main], is_staff=role == roles.ADMINISTRATOR
                )
                assert not get_user_model().objects.get(pk=user.pk).is_superuser
                tokens[role] = Token.objects.create(user=user).key
            yield FuzzWorld(tokens=tokens)
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)
            for name, log in quiet_logs.items():
                log.setLevel(levels[name])


@dataclass
class Caller:
    role: str
    headers: dict[str, str]
    coverage_cases_seen: int = 0

    def skips(self, case) -> bool:
        """Whether the bounded run leaves this coverage-phase case out (see COVERAGE_SAMPLE)."""
        if case.meta is None or case.meta.phase.name != GenerationPhase.COVERAGE:
            return False
        self.coverage_cases_seen += 1
        return (self.coverage_cases_seen + ROLES.index(self.role)) % COVERAGE_SAMPLE != 0


@pytest.fixture(params=ROLES)
def caller(request, fuzz_world, db) -> Caller:
    return Caller(role=request.param, headers={"Authorization": f"Token {fuzz_world.tokens[request.param]}"})


# The long run reports each failure as found instead of shrinking it first (which may take minutes per failure).
HYPOTHESIS_PHASES = [Phase.explicit, Phase.generate] if LONG_RUN else [Phase.explicit, Phase.generate, Phase.shrink]
HYPOTHESIS_SETTINGS = settings(
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    phases=HYPOTHESIS_PHASES,
)


@schema.parametrize()
@settings(HYPOTHESIS_SETTINGS, max_examples=MAX_EXAMPLES)
def test_api_never_fails_and_matches_its_schema(case, caller):
    if caller.skips(case):
        return
    response = case.call(headers=caller.headers)
    TALLY[(str(case.meta.phase.name) if case.meta else "examples", response.status_code)] += 1
    case.validate_response(response, checks=CHECKS, headers=caller.headers)


@pytest.mark.parametrize("role", ROLES)
def test_api_scenarios_never_fail(role, fuzz_world, db):
    headers = {"Authorization": f"Token {fuzz_world.tokens[role]}"}

    class Scenarios(schema.as_state_machine()):
        # Every scenario starts from the same data and cache (throttle counters live there): Hypothesis replays a
        # scenario to report it, and a replay that meets another state draws differently ("flaky strategy").
        def setup(self):
            cache.clear()
            self.savepoint = transaction.savepoint()

        def teardown(self):
            transaction.savepoint_rollback(self.savepoint)

        def get_call_kwargs(self, case):
            return {"headers": headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            TALLY[("stateful", response.status_code)] += 1
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs or None)

    assert schema.statistic.transitions.selected > 0, "the schema has no links: the stateful phase would not run"
    Scenarios.run(settings=settings(HYPOTHESIS_SETTINGS, max_examples=SCENARIOS, stateful_step_count=MAX_STEPS))
