"""Writes for complaints (R33, R24), goodwill claims (R23) and warranty claims (R22).

Each write is one transaction: lock, check, change, save, audit row; a status changes only through
``dms.core.transitions.run_transition``; e-mails only in ``transaction.on_commit``. Pages, API and admin call
these functions. Reads (lists, the R22 automatic checks) live in ``claims.selectors``.
"""

from .appraisals import appraisal_score_record, staff_appraisal_finalise, staff_appraisal_open
from .attachments import ALLOWED_UPLOADS, ATTACHMENT_KINDS, MAX_UPLOAD_BYTES, attachment_add, validate_upload
from .complaints import (
    COMPLAINT_INTAKE_FIELDS,
    complaint_add_note,
    complaint_agree_solution,
    complaint_assign,
    complaint_close,
    complaint_register,
    complaint_register_public,
    complaint_start_investigation,
    complaint_update,
    complaints_flag_overdue,
)
from .contacts import SETTINGS_FIELDS, claims_settings, claims_settings_update
from .goodwill import (
    GOODWILL_FIELDS,
    goodwill_claim_cac_confirm,
    goodwill_claim_create,
    goodwill_claim_fmc_confirm,
    goodwill_claim_record_payment,
    goodwill_claim_reject,
    goodwill_claim_return,
    goodwill_claim_submit,
    goodwill_claim_update,
)
from .warranty import (
    WARRANTY_FIELDS,
    quarantined_part_dispose,
    warranty_claim_claims_confirm,
    warranty_claim_create,
    warranty_claim_fmc_confirm,
    warranty_claim_record_payment,
    warranty_claim_reject,
    warranty_claim_return,
    warranty_claim_submit,
    warranty_claim_update,
)

__all__ = [
    "ALLOWED_UPLOADS",
    "ATTACHMENT_KINDS",
    "COMPLAINT_INTAKE_FIELDS",
    "GOODWILL_FIELDS",
    "MAX_UPLOAD_BYTES",
    "SETTINGS_FIELDS",
    "WARRANTY_FIELDS",
    "appraisal_score_record",
    "attachment_add",
    "claims_settings",
    "claims_settings_update",
    "complaint_add_note",
    "complaint_agree_solution",
    "complaint_assign",
    "complaint_close",
    "complaint_register",
    "complaint_register_public",
    "complaint_start_investigation",
    "complaint_update",
    "complaints_flag_overdue",
    "goodwill_claim_cac_confirm",
    "goodwill_claim_create",
    "goodwill_claim_fmc_confirm",
    "goodwill_claim_record_payment",
    "goodwill_claim_reject",
    "goodwill_claim_return",
    "goodwill_claim_submit",
    "goodwill_claim_update",
    "quarantined_part_dispose",
    "staff_appraisal_finalise",
    "staff_appraisal_open",
    "validate_upload",
    "warranty_claim_claims_confirm",
    "warranty_claim_create",
    "warranty_claim_fmc_confirm",
    "warranty_claim_record_payment",
    "warranty_claim_reject",
    "warranty_claim_return",
    "warranty_claim_submit",
    "warranty_claim_update",
]
