"""What the claims app adds to core pages (issue 14 item 5): the warranty engineer's day starts at the claims queue;
the claims KPIs are among the director's reports."""

from django.utils.translation import gettext_lazy as _

from dms.core import roles

ROLE_LANDINGS = {roles.WARRANTY_ENGINEER: "claims:claim_list"}

REPORTS = [("claims:kpi", _("Claims and complaints KPIs"), "claims.view_claims_kpi")]
