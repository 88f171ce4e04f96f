"""Logging filters shared by every environment."""

import logging


class ClientErrorWithoutTraceback(logging.Filter):
    """A 4xx answer is the client's mistake or a refused role, not a fault: log its line without the traceback.

    Django logs every 403 ("Forbidden (Permission denied)") and 400 with the exception attached, so ``make run``
    printed a traceback each time a role opened a page it may not see (issue 14 item 9). 5xx keep theirs.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        status_code = getattr(record, "status_code", None)
        if record.name.startswith("django.") and status_code is not None and 400 <= status_code < 500:
            record.exc_info = None
            record.exc_text = None
        return True
