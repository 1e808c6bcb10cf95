"""Words that reach the pages as data (codes, states, holiday names, organisations): marked here
for extraction, translated where they are shown (Lang.p / Lang._). Texts from diagrams and forms
are extracted from their files instead (app/web/extract.py)."""

from __future__ import annotations

from app.web.i18n import N_, pN_

STATUSES = {  # of a case
    "running": N_("running"),
    "completed": N_("completed"),
}
TASK_STATES = {
    "ready": N_("open"),
    "completed": N_("done"),
    "cancelled": N_("cancelled"),
}
TIMER_STATUSES = {
    "armed": N_("armed"),
    "fired": N_("fired"),
    "disarmed": N_("disarmed"),
    "failed": N_("failed"),
}
ROLES = {
    "officer": N_("officer"),
    "head": N_("head"),
    "analyst": N_("analyst"),
    "auditor": N_("auditor"),
    "admin": N_("administrator"),
}
CAPACITIES = {
    "first_head": N_("as first head"),
    "acting_head": N_("as acting head (delegation)"),
}
EVENT_TYPES = {
    "communication_registered": N_("Communication registered"),
    "instance_started": N_("Case started"),
    "instance_completed": N_("Case completed"),
    "instance_reopened": N_("Case reopened"),
    "task_created": N_("Task opened"),
    "task_claimed": N_("Task claimed"),
    "task_unclaimed": N_("Task released"),
    "task_completed": N_("Task completed"),
    "task_cancelled": N_("Task cancelled"),
    "timer_armed": N_("Deadline armed"),
    "timer_rearmed": N_("Deadline recomputed"),
    "timer_disarmed": N_("Deadline disarmed (act done)"),
    "timer_fired": N_("Reminder fired"),
    "timers_recomputed": N_("Deadlines recomputed (calendar changed)"),
    "deadline_breached": N_("Deadline breached"),
    "deadline_extended": N_("Reply deadline extended"),
    "message_received": N_("Message received"),
}
PROCESS_NAMES = {  # by process key, for the search form's choices
    "communication": N_("Communication from UN special procedures"),
    "visit_invitation": N_("Country-visit invitation"),
    "treaty_body": N_("Treaty-body interaction"),
}
# Data field names shown in a case's summary and in earlier steps' data, where no form titles them.
DATA_FIELDS = {
    "reference": N_("Reference"),
    "type": N_("Type"),
    "received_on": N_("Received on"),
    "language": N_("Language"),
    "reply_deadline": N_("Reply deadline"),
    "subject": N_("Subject"),
    "mandates": N_("Mandates"),
    "body_submissions": N_("Information of the competent bodies"),
    "body": N_("Body"),
    "signature": N_("Signature"),
    "information_signature": N_("Signature"),
    "reply_signature": N_("Signature of the reply"),
    "by": N_("Signed by (user)"),
    "name": N_("Name"),
    "on": N_("Date"),
    "capacity": N_("Capacity"),
    "delegation": N_("Delegation"),
    "delegation_period": N_("Delegation period"),
    "ground": N_("Ground (14-10)"),
    "mandate": N_("Special procedure"),
    "proposed_dates": N_("Proposed dates"),
    "period_start": N_("Period starts"),
    "period_end": N_("Period ends"),
    "proposing_body": N_("Proposing body"),
    "bodies": N_("Competent state bodies"),
    "treaty_body": N_("Treaty body"),
    "treaty_body_name": N_("Treaty body"),
    "lead_body": N_("Lead body"),
    "report_due": N_("State party report due"),
    "list_of_issues_reply_due": N_("Reply to the list of issues due"),
    "follow_up_due": N_("Follow-up to concluding observations due"),
    "individual_communication_observations_due": N_("Observations on an individual communication due"),
    "reminder_working_days": N_("Reminder (working days before each date)"),
    "publication": N_("OHCHR publication"),
    "publications": N_("OHCHR publications"),
    "item": N_("Item"),
    "published_on": N_("Published on"),
    "url": N_("Address"),
    "agreements": N_("Agreements"),
}
# Holidays as the `holidays` package names them in English (app/calendar), and the calendar's words.
HOLIDAYS = [
    pN_("holiday", "working day"),
    pN_("holiday", "weekend"),
    pN_("holiday", "New Year's Day"),
    pN_("holiday", "Orthodox Christmas"),
    pN_("holiday", "International Women's Day"),
    pN_("holiday", "Nowruz Holiday"),
    pN_("holiday", "Kazakhstan's People Solidarity Holiday"),
    pN_("holiday", "Defender of the Fatherland Day"),
    pN_("holiday", "Victory Day"),
    pN_("holiday", "Capital Day"),
    pN_("holiday", "Constitution Day"),
    pN_("holiday", "Republic Day"),
    pN_("holiday", "Independence Day"),
    pN_("holiday", "Kurban Ait (first day)"),
    pN_("holiday", "Eid al-Adha"),
    pN_("holiday", "Day of the First President of the Republic of Kazakhstan"),
]
DECREE_KINDS = [
    pN_("decree", "Government Decree"),
    pN_("decree", "Order of the Minister of Labour and Social Protection of Population"),
    pN_("decree", "Order of the acting Minister of Labour and Social Protection of Population"),
]
ORGANISATIONS = [  # the demo organisations' codes (the diagrams' lanes)
    pN_("organisation", "MFA"),
    pN_("organisation", "MVD"),
    pN_("organisation", "MINJUST"),
    pN_("organisation", "OMBUDSMAN"),
    pN_("organisation", "PA"),
]
# Start forms' choices (services.communications / visits / treaty_bodies codes).
ENUMS = [
    pN_("enum", "AL"),
    pN_("enum", "UA"),
    pN_("enum", "OL"),
    pN_("enum", "JAL"),
    pN_("enum", "JUA"),
    pN_("enum", "JOL"),
    pN_("enum", "body_proposal"),
    pN_("enum", "mfa_initiative"),
    pN_("enum", "ombudsman_proposal"),
    pN_("enum", "CERD"),
    pN_("enum", "CESCR"),
    pN_("enum", "CCPR"),
    pN_("enum", "CEDAW"),
    pN_("enum", "CAT"),
    pN_("enum", "CRC"),
    pN_("enum", "CMW"),
    pN_("enum", "CRPD"),
    pN_("enum", "CED"),
    pN_("enum", "first_head"),
    pN_("enum", "acting_head"),
    pN_("enum", "running"),
    pN_("enum", "completed"),
]
