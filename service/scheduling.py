"""Pure helpers of the appointment book's 15-minute grid (R16), in the dealership's time zone."""

import datetime
import zoneinfo

from .models import SLOT, SLOT_MINUTES


def local(dt: datetime.datetime, tz: zoneinfo.ZoneInfo) -> datetime.datetime:
    return dt.astimezone(tz)


def on_grid(dt: datetime.datetime, tz: zoneinfo.ZoneInfo) -> bool:
    value = local(dt, tz)
    return value.minute % SLOT_MINUTES == 0 and value.second == 0 and value.microsecond == 0


def slot_starts(start: datetime.datetime, minutes: int) -> list[datetime.datetime]:
    """The consecutive 15-minute cells a job of ``minutes`` starting at ``start`` occupies."""
    count = max(1, -(-minutes // SLOT_MINUTES))
    return [start + SLOT * n for n in range(count)]


def hour_bounds(dt: datetime.datetime, tz: zoneinfo.ZoneInfo) -> tuple[datetime.datetime, datetime.datetime]:
    value = local(dt, tz).replace(minute=0, second=0, microsecond=0)
    return value, value + datetime.timedelta(hours=1)


def day_bounds(day: datetime.date, tz: zoneinfo.ZoneInfo) -> tuple[datetime.datetime, datetime.datetime]:
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)
    return start, datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)


def day_grid(day: datetime.date, start: datetime.time, end: datetime.time, tz) -> list[datetime.datetime]:
    cells = []
    cursor = datetime.datetime.combine(day, start, tzinfo=tz)
    stop = datetime.datetime.combine(day, end, tzinfo=tz)
    while cursor + SLOT <= stop:
        cells.append(cursor)
        cursor += SLOT
    return cells
