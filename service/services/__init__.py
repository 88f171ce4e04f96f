"""Writes of the service department. Pages, API, admin and tasks all call these; one transaction each.

Each module holds one part of the department's work; this package names every write the rest of the project may
call, so ``service.services.<name>`` stays the one entry point.
"""

from .appointments import (
    APPOINTMENT_FIELDS,
    appointment_book,
    appointment_cancel,
    appointment_mark_no_show,
    appointment_reschedule,
)
from .confirmations import (
    CALL_RESULTS,
    appointment_confirm,
    appointment_from_token,
    appointment_request_reschedule,
    confirmation_call_record,
    confirmation_reply,
    confirmation_send,
    confirmations_send_due,
    reply_token,
    reply_url,
)
from .loaners import LOANER_FIELDS, loaner_create, loaner_reservation_cancel, loaner_reserve, loaner_update
from .online_booking import (
    booking_token,
    online_booking_complete,
    online_booking_from_token,
    online_booking_request,
    online_booking_verify,
)
from .preparation import preparation_mark_due, workorder_prepare_parts
from .quality import JobQualityResult, checklist_items_of, workorder_quality_check
from .recalls import RECALL_CSV_COLUMNS, recall_campaign_create, recall_campaign_update, recall_campaigns_import_csv
from .working_time import (
    day_off_create,
    day_off_delete,
    service_settings_update,
    working_hours_delete,
    working_hours_set,
)
from .workorders import (
    appointment_open_work_order,
    reception_check_in,
    workorder_consent_record,
    workorder_deliver,
    workorder_job_add,
    workorder_job_complete,
    workorder_job_remove,
    workorder_open,
    workorder_part_add,
    workorder_part_remove,
    workorder_record_interview,
    workorder_record_reception,
    workorder_start_diagnosis,
    workorder_start_repair,
    workorder_submit_for_quality_check,
)

__all__ = [
    "APPOINTMENT_FIELDS",
    "CALL_RESULTS",
    "JobQualityResult",
    "LOANER_FIELDS",
    "RECALL_CSV_COLUMNS",
    "appointment_book",
    "appointment_cancel",
    "appointment_confirm",
    "appointment_from_token",
    "appointment_mark_no_show",
    "appointment_open_work_order",
    "appointment_request_reschedule",
    "appointment_reschedule",
    "checklist_items_of",
    "confirmation_call_record",
    "confirmation_reply",
    "confirmation_send",
    "confirmations_send_due",
    "day_off_create",
    "day_off_delete",
    "loaner_create",
    "loaner_reservation_cancel",
    "loaner_reserve",
    "loaner_update",
    "booking_token",
    "online_booking_complete",
    "online_booking_from_token",
    "online_booking_request",
    "online_booking_verify",
    "preparation_mark_due",
    "recall_campaign_create",
    "recall_campaign_update",
    "recall_campaigns_import_csv",
    "reception_check_in",
    "reply_token",
    "reply_url",
    "service_settings_update",
    "working_hours_delete",
    "working_hours_set",
    "workorder_consent_record",
    "workorder_deliver",
    "workorder_job_add",
    "workorder_job_complete",
    "workorder_job_remove",
    "workorder_open",
    "workorder_part_add",
    "workorder_part_remove",
    "workorder_prepare_parts",
    "workorder_quality_check",
    "workorder_record_interview",
    "workorder_record_reception",
    "workorder_start_diagnosis",
    "workorder_start_repair",
    "workorder_submit_for_quality_check",
]
