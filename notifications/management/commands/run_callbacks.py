from django.core.management import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from notifications import services


class Command(BaseCommand):
    help = "Run one call-event generator tick (R3, R5–R12), as of now or of --now ISO-DATETIME."

    def add_arguments(self, parser):
        parser.add_argument("--now", help="ISO date-time of the tick, e.g. 2025-03-31T09:00:00+03:00")

    def handle(self, *args, now=None, **options):
        moment = timezone.now()
        if now:
            moment = parse_datetime(now)
            if moment is None:
                raise CommandError(f"Not an ISO date-time: {now!r}")
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment)
        result = services.call_events_generate(now=moment)
        self.stdout.write(f"created {result.created}, cancelled {result.cancelled} (as of {moment.isoformat()})")
