"""Publishing Celery tasks from requests without letting a dead broker fail the request.

Side effects are published in ``transaction.on_commit``, i.e. after the user's change is committed. If Redis is
down, ``.delay()`` raises kombu's ``OperationalError`` (after ~1 s of retries) and, unguarded, the request answers 500
although its data is saved. ``publish`` logs instead and returns False; the periodic jobs (the 15-minute call-event
tick) pick up what was not published, so nothing is lost.
"""

import logging

from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)


def publish(task, *args, **kwargs) -> bool:
    """``task.apply_async(args, kwargs)``; False (logged) when the broker cannot be reached."""
    try:
        task.apply_async(args=args, kwargs=kwargs)
    except (OperationalError, OSError) as error:
        logger.warning(
            "broker unreachable, %s%r not published (the periodic job catches up): %s", task.name, args, error
        )
        return False
    return True
