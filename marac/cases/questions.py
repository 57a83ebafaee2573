"""What each panel's referral asks, in our own words, and the coded lists its answers use."""
from marac.cases.models import RiskLevel
from marac.core.enums import Labelled
from marac.people.models import YesNoUnknown

# The 24 questions of the domestic abuse risk checklist (DASH topics), in our own words.
DASH_QUESTIONS = [
    ("injury", "Did the most recent incident leave the victim injured?"),
    ("frightened", "Is the victim very frightened?"),
    ("fears_harm", "Is the victim afraid of further harm, or of being killed, or for someone else's safety?"),
    ("isolated", "Is the victim cut off from family, friends or other support by the abuser?"),
    ("depressed", "Is the victim feeling low, depressed or having thoughts of suicide?"),
    ("separation", "Has the victim separated, or tried to, from the abuser in the last year?"),
    ("child_contact", "Is there conflict over contact with children?"),
    ("stalking", "Does the abuser keep calling, messaging, following, watching or harassing the victim?"),
    ("pregnancy", "Is the victim pregnant, or have they had a baby in the last 18 months?"),
    ("children_harmed", "Has the abuser hurt, or threatened to hurt, the children or other dependants?"),
    ("escalation", "Is the abuse getting worse or happening more often?"),
    ("controlling", "Is the abuser jealous or controlling, for example over money, friends or movements?"),
    ("weapons", "Has the abuser used, or threatened to use, a weapon or object to hurt the victim?"),
    ("threats_to_kill", "Has the abuser threatened to kill the victim or someone else?"),
    ("strangulation", "Has the abuser ever strangled, choked, suffocated or drowned the victim?"),
    ("sexual_abuse", "Does the abuser do or say sexual things that make the victim feel bad or hurt them?"),
    ("others_threatened", "Is anyone else threatening or abusing the victim?"),
    ("hurt_others", "Has the abuser hurt anyone else, or harmed animals?"),
    ("financial", "Are there financial problems, or has the abuser lost their job recently?"),
    ("substance_misuse", "Does the abuser misuse drugs or alcohol?"),
    ("abuser_mental_health", "Does the abuser have mental health problems?"),
    ("abuser_suicide", "Has the abuser threatened or attempted suicide?"),
    ("breach", "Has the abuser broken bail, an injunction or another order?"),
    ("criminal_history", "Does the abuser have a history of violence or trouble with the police?"),
]
VISIBLE_HIGH_RISK_SCORE = 14


def dash_score(dash):
    """The risk checklist's score: how many of its questions were answered yes ({key: answer})."""
    return sum(1 for key, _ in DASH_QUESTIONS if (dash or {}).get(key) == YesNoUnknown.YES)



POTENTIAL_ESCALATION_INCIDENTS = 3

# MACE screening indicators, each scored 0 (none) to 3 (significant).
MACE_INDICATORS = [
    ("missing", "Missing episodes"),
    ("peers", "Association with peers or adults of concern"),
    ("hotspots", "Seen at locations of concern"),
    ("money", "Unexplained money, gifts, clothes or phones"),
    ("weapons", "Carrying or access to weapons"),
    ("night_economy", "Contact with hotels, taxis or takeaways at night"),
    ("substances", "Drug or alcohol use, or drug debts"),
    ("education", "Exclusion, absence or a change in behaviour at school"),
    ("online", "Online contact with unknown or older people"),
    ("injuries", "Unexplained injuries or sexual health concerns"),
]


class MaceScore(Labelled):
    """How strongly a MACE screening indicator is present, 0 to 3."""

    NONE = "0", "0 – none"
    SOME = "1", "1 – some"
    MODERATE = "2", "2 – moderate"
    SIGNIFICANT = "3", "3 – significant"



MACE_HIGH_SCORE, MACE_MEDIUM_SCORE = 16, 8


class ExploitationType(Labelled):
    """The kinds of exploitation a MACE referral names."""

    SEXUAL = "sexual", "Child sexual exploitation"
    CRIMINAL = "criminal", "Child criminal exploitation"
    COUNTY_LINES = "county_lines", "County lines"
    MISSING = "missing", "Missing episodes"
    TRAFFICKING = "trafficking", "Trafficking"
    ONLINE = "online", "Online harm"


# ASB victim vulnerability assessment: yes / no questions; the score sets priority and response time.
ASB_QUESTIONS = [
    ("disability", "Does the victim have a disability or long-term illness?"),
    ("mental_health", "Does the victim have a mental health condition?"),
    ("age", "Is the victim under 18 or over 65?"),
    ("isolated", "Does the victim live alone or have little support?"),
    ("previous", "Has the victim been targeted before?"),
    ("hate", "Does the victim believe they are targeted because of who they are?"),
    ("unsafe_home", "Does the victim feel unsafe in their home?"),
    ("health_effect", "Is the behaviour affecting the victim's health or sleep?"),
    ("moving", "Has the victim considered moving home because of it?"),
    ("children_affected", "Are children in the household affected?"),
    ("long_running", "Has the behaviour gone on for more than three months?"),
    ("reprisals", "Does the victim fear reprisals for reporting?"),
]
ASB_PRIORITIES = [  # (minimum score, priority, response time in working days)
    (7, RiskLevel.HIGH, 1),
    (4, RiskLevel.MEDIUM, 3),
    (0, RiskLevel.STANDARD, 10),
]


class AsbCategory(Labelled):
    """The kinds of anti-social behaviour an ASB referral names."""

    DRUGS = "drugs", "Drug dealing or use"
    CUCKOOING = "cuckooing", "Cuckooing"
    NOISE = "noise", "Noise"
    INTIMIDATION = "intimidation", "Intimidation or harassment"
    HATE = "hate", "Hate-related"
    DAMAGE = "damage", "Criminal damage"
    YOUTH = "youth", "Youth-related"
    STREET_DRINKING = "street_drinking", "Street drinking"
    NEIGHBOUR = "neighbour", "Neighbour dispute"


class Need(Labelled):
    """Needs behind anti-social behaviour."""

    MENTAL_HEALTH = "mental_health", "Mental health"
    SUBSTANCE_MISUSE = "substance_misuse", "Substance misuse"
    SAFEGUARDING = "safeguarding", "Safeguarding"


class Intervention(Labelled):
    """Interventions already used against anti-social behaviour."""

    WARNING_LETTER = "warning_letter", "Warning letter"
    ABA = "aba", "Acceptable behaviour agreement"
    CPW = "cpw", "Community Protection Warning"
    CPN = "cpn", "Community Protection Notice"
    INJUNCTION = "injunction", "Civil injunction"
    CLOSURE_ORDER = "closure_order", "Closure order"


class Relationship(Labelled):
    """A perpetrator's relationship to the victim."""

    INTIMATE_PARTNER = "intimate_partner", "Current intimate partner"
    EX_PARTNER = "ex_partner", "Former intimate partner"
    FAMILY_MEMBER = "family_member", "Other family member"
    CHILD = "child", "Son or daughter"
    OTHER = "other", "Other"


class LivesWith(Labelled):
    """Whom a child in the household lives with."""

    VICTIM = "victim", "Victim"
    PERPETRATOR = "perpetrator", "Perpetrator"
    BOTH = "both", "Both"
    OTHER = "other", "Someone else"
