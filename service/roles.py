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
    "service.view_technicianprofile",
    "service.view_jobclock",
]

_MANAGE_TECHNICIANS = [
    "service.add_technicianprofile",
    "service.change_technicianprofile",
    "service.view_technicianhours",
    "service.add_technicianhours",
    "service.change_technicianhours",
    "service.delete_technicianhours",
    "service.view_technicianabsence",
    "service.add_technicianabsence",
    "service.delete_technicianabsence",
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
        # Issue 17: findings recorded at the tablet and sent to the customer.
        "service.view_inspectionfinding",
        "service.add_inspectionfinding",
        "service.delete_inspectionfinding",
        # Issue 17 item 5: service reminders that need a call.
        "service.view_servicereminder",
        "service.call_servicereminder",
    ],
    # The inspector does the quality check (R31).
    roles.QUALITY_INSPECTOR: [
        *_VIEW,
        "service.qc_workorder",
        "service.view_inspectionfinding",
        "service.add_inspectionfinding",
    ],
    # The parts manager sees what preparation ordered; the warranty engineer sees rollback reports.
    roles.PARTS_MANAGER: ["service.view_appointment", "service.view_workorder", "service.view_workshop_board"],
    roles.STOREKEEPER: ["service.view_workorder", "service.view_workshop_board"],
    roles.WARRANTY_ENGINEER: ["service.view_workorder", "service.view_odometerrollbackreport"],
    roles.DIRECTOR: [
        *_VIEW,
        "service.view_odometerrollbackreport",
        "service.view_servicesettings",
        # Issue 18 item 1: the director (the service manager) keeps the technicians' records.
        *_MANAGE_TECHNICIANS,
        "service.view_inspectionfinding",
        "service.view_servicereminder",
    ],
    # Issue 18 item 2: the technician sees the work orders and the board, and clocks their own jobs on the tablet.
    roles.TECHNICIAN: [
        "service.view_workorder",
        "service.view_workshop_board",
        "service.view_technicianprofile",
        "service.view_inspectionfinding",  # issue 17: the technician records the findings
        "service.add_inspectionfinding",
        "service.view_jobclock",
        "service.clock_job",
    ],
    roles.ADMINISTRATOR: ["service.change_servicesettings"],
}
