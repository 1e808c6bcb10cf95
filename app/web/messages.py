"""The services' messages (English, for the JSON API) in the page's language.

Services explain refusals in English sentences with values in them; the API passes them on as they
are. The pages recognise the ones a person meets on a form and translate them with their values;
rules written in a diagram (`message:<field>`) are translated whole (their text is in the
catalogue, extracted from the BPMN files). Anything else is shown as it came, marked lang="en",
so nothing is ever hidden from the user."""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.web.i18n import N_, Lang

# (pattern, msgid): the pattern's named groups fill the msgid's {placeholders}.
PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), m)
    for p, m in [
        # JSON Schema (services.forms.validate)
        (r"^'(?P<name>[^']+)' is a required property$", N_("This field is required.")),
        (r"^.* is not one of \[.*\]$", N_("Choose one of the offered values.")),
        (r"^'(?P<value>.*)' is not a 'date'$", N_("Enter a date as year-month-day, e.g. 2024-03-19.")),
        (r"^'(?P<value>.*)' is not a 'uri'$", N_("Enter a full web address, starting with https://.")),
        (r"^(?:''|\[\]) should be non-empty$", N_("This field must not be empty.")),
        (r"^'.*' is too short$", N_("This field must not be empty.")),
        (r"^\[\] is too short$", N_("Choose at least one.")),
        (r"^True was expected$", N_("Tick the box to confirm.")),
        (r"^.* has non-unique elements$", N_("Choose each value once.")),
        (r"^.* is not of type '(?P<type>\w+)'$", N_("The value has the wrong type.")),
        (r"^Additional properties are not allowed.*$", N_("The form sent a field it does not have.")),
        (
            r"^'(?P<value>[^']+)' is not a known organisation of kind '\w+'; choose one of .*$",
            N_("{value} is not an organisation that can be chosen here."),
        ),
        (
            r"^(?P<value>\d{4}-\d\d-\d\d) is after \w+ \((?P<limit>[\d-]+)\); choose a date on or before .*$",
            N_("{value} is after {limit}; choose a date on or before {limit}."),
        ),
        (r"^the field name .* is reserved; rename it$", N_("This field name is reserved.")),
        # communications
        (
            r"^'.*' is not a special-procedures reference; write it as .*$",
            N_("This is not a special-procedures reference: write it as TYPE COUNTRY NUMBER/YEAR, e.g. AL KAZ 1/2024."),
        ),
        (r"^type '(?P<value>\w+)' is not one of \[.*\]$", N_("{value} is not a letter type of special procedures.")),
        (
            r"^country '(?P<value>\w+)' must be KAZ \(or OTH for letters to several states\)$",
            N_("The country code {value} must be KAZ (or OTH for letters to several states)."),
        ),
        (
            r"^type '(?P<value>\w+)' does not match the reference's '(?P<other>\w+)'$",
            N_("The type {value} does not match the reference's type {other}."),
        ),
        (
            r"^(?P<value>\d{4}-\d\d-\d\d) is in the future \(today is (?P<today>[\d-]+)\)$",
            N_("{value} is in the future (today is {today})."),
        ),
        (
            r"^year (?P<value>\d+) must be between 2000 and the year of receipt \((?P<other>\d+)\)$",
            N_("The year {value} must be between 2000 and the year of receipt ({other})."),
        ),
        (
            r"^the (?:new )?reply deadline must be after the day of receipt$",
            N_("The reply deadline must be after the day of receipt."),
        ),
        (r"^'(?P<value>.*)' is not a UN language code; use one of .*$", N_("{value} is not a UN language code.")),
        (r"^the subject must not be empty$", N_("The subject must not be empty.")),
        (r"^name at least one mandate, none of them empty$", N_("Name at least one mandate, none of them empty.")),
        (
            r"^communication (?P<value>.+) is already registered$",
            N_("Communication {value} is already registered."),
        ),
        # visits (14-10)
        (
            r"^name the special procedure, e\.g\. .*$",
            N_("Name the special procedure, e.g. Special Rapporteur on torture."),
        ),
        (
            r"^(?P<value>\d{4}-\d\d-\d\d) is in the past \(today is (?P<today>[\d-]+)\)$",
            N_("{value} is in the past (today is {today})."),
        ),
        (r"^the period must not end before it starts$", N_("The period must not end before it starts.")),
        (r"^a body's proposal \(ground body_proposal\) names the proposing body$", N_("Name the proposing body.")),
        (
            r"^only a body's proposal \(ground body_proposal\) has one$",
            N_("Only a competent body's proposal has a proposing body; leave it empty."),
        ),
        (
            r"^the MFA's initiative \(ground mfa_initiative\) is agreed with the competent bodies: name at least one$",
            N_("The MFA's initiative is agreed with the competent bodies: choose at least one."),
        ),
        (r"^name each body once$", N_("Choose each value once.")),
        (
            r"^competent bodies are named only on the MFA's initiative .*$",
            N_("Competent bodies are chosen only on the MFA's initiative; leave them empty."),
        ),
        (
            r"^'(?P<value>[^']+)' is not the code of an existing organisation$",
            N_("{value} is not a known organisation."),
        ),
        (
            r"^'(?P<value>[^']+)' is an organisation of kind '\w+', not a state_body$",
            N_("{value} is not a competent state body."),
        ),
        (r"^'(?P<value>\w+)' is not one of \[.*\] \(14-10\)$", N_("Choose one of the three grounds of 14-10.")),
        # treaty bodies (14-11)
        (
            r"^(?P<value>\d{4}-\d\d-\d\d) has already passed \(today is (?P<today>[\d-]+)\); .*$",
            N_("{value} has already passed (today is {today}); enter the treaty body's current date."),
        ),
        (r"^give at least one of the treaty body's dates: .*$", N_("Give at least one of the treaty body's dates.")),
        (r"^must be between 1 and (?P<value>\d+)$", N_("Enter a number between 1 and {value}.")),
        # delegations
        (r"^no active user '(?P<value>.*)'$", N_("There is no active user {value}.")),
        (
            r"^(?P<value>\S+) is not an officer of (?P<other>\w+); delegate to a member$",
            N_("{value} is not an officer of {other}: delegate to a member."),
        ),
        (r"^(?P<value>\S+) is already a head of (?P<other>\w+)$", N_("{value} is already a head of {other}.")),
        (r"^the last day is before the first day$", N_("The last day is before the first day.")),
        (r"^a delegation lasts at most (?P<value>\d+) days$", N_("A delegation lasts at most {value} days.")),
        (
            r"^the period has already ended; a delegation cannot act in the past$",
            N_("The period has already ended: a delegation cannot act in the past."),
        ),
        (r"^say why \(leave, illness, business trip, \.\.\.\)$", N_("Say why: leave, illness, business trip, ...")),
        (
            r"^(?P<value>\S+) already acts as head of (?P<other>\w+) from (?P<start>[\d-]+) to (?P<end>[\d-]+) .*$",
            N_("{value} already acts as head of {other} from {start} to {end}: revoke that delegation first."),
        ),
        (
            r"^delegation \d+ was already revoked by (?P<value>\S+)$",
            N_("This delegation was already revoked by {value}."),
        ),
        # refusals (404 / 403 pages)
        (r"^no task \S+ that you may see$", N_("There is no such task, or it belongs to another organisation.")),
        (r"^no case \S+ that you may see$", N_("There is no such case, or you may not see it.")),
        (
            r"^no organisation '(?P<value>\w+)'( whose delegations you may see)?$",
            N_("There is no organisation {value} that you may see."),
        ),
        (r"^no delegation \d+ of \w+$", N_("There is no such delegation.")),
        (
            r"^this step needs the first head of (?P<value>\w+) or a person acting in his stead.*$",
            N_("This step is for the first head of {value} or the person acting in his stead."),
        ),
        (
            r"^this step needs the role '(?P<role>\w+)' in (?P<value>\w+); you are .* there$",
            N_("This step is for an officer or head of {value}."),
        ),
        (
            r"^communications are registered by MFA officers$",
            N_("Communications are registered by MFA officers and heads."),
        ),
        (
            r"^only the first head of (?P<value>\w+) or an administrator may manage its acting-head delegations$",
            N_("Only the first head of {value} or an administrator manages its delegations."),
        ),
        (
            r"^.* \(or an admin\); ground '(?P<ground>\w+)' \(14-10\) is not yours to invoke$",
            N_("Your organisation cannot invoke this ground of 14-10."),
        ),
        (
            r"^a proposal of (?P<value>\w+) is started by an officer or head of \w+ \(or an admin\)$",
            N_("A proposal of {value} is started by an officer or head of {value}."),
        ),
        (
            r"^treaty-body cases are started by .*$",
            N_("Treaty-body cases are started by the lead body, the MFA or an administrator."),
        ),
        (
            r"^a case led by (?P<value>\w+) is started by .*$",
            N_("A case led by {value} is started by that body, the MFA or an administrator."),
        ),
        # tasks
        (
            r"^task \S+ is claimed by (?P<value>\S+); ask them to release it$",
            N_("{value} has claimed this task; ask them to release it."),
        ),
        (r"^task \S+ is claimed by (?P<value>\S+)$", N_("{value} has claimed this task.")),
        (
            r"^task \S+ is (?P<value>\w+); it can no longer be changed$",
            N_("This task is no longer open; it cannot be changed."),
        ),
        (
            r"^task \S+ is claimed by (?P<value>\S+); only they or a head of (?P<other>\w+) can release it$",
            N_("{value} has claimed this task; only they or a head of {other} can release it."),
        ),
        (
            r"^the case was changed by someone else at the same time; reload and try again$",
            N_("Someone else changed the case at the same time: reload the page and try again."),
        ),
        (
            r"^.*: a deadline or another event ended it first$",
            N_("A deadline or another event ended this task first."),
        ),
    ]
]


@dataclass(frozen=True)
class Shown:
    """A message ready for a page: its text, and whether it is in the page's language."""

    text: str
    translated: bool = True
    field: str | None = None  # set when the message names the field it is about ("... is required")


def _fill(lang: Lang, value: str) -> str:
    value = value.strip("'")
    return lang.date(value) if re.fullmatch(r"\d{4}-\d\d-\d\d", value) else value


def translate(lang: Lang, message: str) -> Shown:
    """A service's message in the page's language (see the module's docstring)."""
    message = str(message).strip()
    whole = lang.name(message)
    if whole != message:  # a diagram's rule, or any sentence the catalogue has whole
        return Shown(whole)
    for pattern, msgid in PATTERNS:
        match = pattern.match(message)
        if match:
            values = {k: _fill(lang, v) for k, v in match.groupdict().items() if v is not None and k != "name"}
            return Shown(lang._(msgid, **values), field=match.groupdict().get("name"))
    return Shown(message, translated=lang.locale == "en")
