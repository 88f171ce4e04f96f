from dms.core import roles

_VIEW = [
    "service.view_appointment",
    "service.view_workorder",
    "service.view_loaner",
    "service.view_loanerreservation",
    "service.view_recallcampaign",
    "service.view_workinghours",
    "service.view_dayoff",
    "service.view_workshop_board",
]

ROLE_PERMISSIONS = {
    # The advisor books appointments, prepares them, receives cars and runs work orders (seeds 001, 004).
    roles.SERVICE_ADVISOR: [
        *_VIEW,
        "service.add_appointment",
        "service.change_appointment",
        "service.prepare_appointment",
        "service.add_workorder",
        "service.change_workorder",
        "service.add_loanerreservation",
        "service.change_loanerreservation",
        "service.add_workinghours",
        "service.change_workinghours",
        "service.delete_workinghours",
        "service.add_dayoff",
        "service.delete_dayoff",
        "service.add_recallcampaign",
        "service.change_recallcampaign",
        "service.add_loaner",
        "service.change_loaner",
        # Issue 17 item 5: service reminders that need a call.
        "service.view_servicereminder",
        "service.call_servicereminder",
    ],
    # The inspector does the quality check (R31).
    roles.QUALITY_INSPECTOR: [*_VIEW, "service.qc_workorder"],
    # The parts manager sees what preparation ordered; the warranty engineer sees rollback reports.
    roles.PARTS_MANAGER: ["service.view_appointment", "service.view_workorder", "service.view_workshop_board"],
    roles.STOREKEEPER: ["service.view_workorder", "service.view_workshop_board"],
    roles.WARRANTY_ENGINEER: ["service.view_workorder", "service.view_odometerrollbackreport"],
    roles.DIRECTOR: [
        *_VIEW,
        "service.view_odometerrollbackreport",
        "service.view_servicesettings",
        "service.view_servicereminder",
    ],
    roles.ADMINISTRATOR: ["service.change_servicesettings"],
}
