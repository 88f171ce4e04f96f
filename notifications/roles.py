from dms.core import roles

_CALLER = [
    "notifications.view_callevent",
    "notifications.complete_callevent",
    "notifications.view_call_compliance_report",
    "notifications.view_optout",
    "notifications.add_optout",
    "notifications.delete_optout",
    "notifications.view_delivery",
    # Issue 17 item 3: the customers' messages, answering them and handling their tasks.
    "notifications.view_inboundmessage",
    "notifications.handle_inboundmessage",
    "notifications.add_delivery",
]

ROLE_PERMISSIONS = {
    # Seed 000: advisors, parts managers and warranty engineers make the calls and record their results.
    roles.SERVICE_ADVISOR: _CALLER,
    roles.PARTS_MANAGER: _CALLER,
    roles.WARRANTY_ENGINEER: _CALLER,
    # R14: directors read everything and check every employee's call compliance.
    roles.DIRECTOR: [
        "notifications.view_callevent",
        "notifications.view_call_compliance_report",
        "notifications.view_team_call_compliance",
        "notifications.view_optout",
        "notifications.view_delivery",
        "notifications.view_inboundmessage",
    ],
}
