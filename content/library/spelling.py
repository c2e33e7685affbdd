"""Common US spellings that GOV.UK style does not use, with the UK form to suggest.

A refusal list rather than a dictionary check: it catches the mistakes people actually
make without flagging product names and jargon. Words that are correct in UK English in
some senses (license/licence, practice/practise, program, dialog, meter) are left out.
"""

from __future__ import annotations

import re

# -ize verbs: every listed stem is spelt -ise in GOV.UK style, and so are its derived forms.
_IZE_VERBS = """
    apologize authorize categorize centralize characterize criticize customize emphasize
    familiarize finalize harmonize itemize jeopardize legitimize localize maximize memorize
    minimize mobilize monetize neutralize normalize optimize organize penalize personalize
    prioritize publicize realize recognize sanitize socialize specialize stabilize
    standardize summarize synchronize utilize visualize
""".split()
_IZE_ENDINGS = ("e", "es", "ed", "ing", "ation", "ations", "ational", "er", "ers")

_YZE_VERBS = ["analyze", "paralyze", "catalyze"]
_YZE_ENDINGS = ("e", "es", "ed", "ing", "er", "ers")

# Pairs of "US UK" words, one or more pairs a line, "#" lines are comments.
_OTHER_PAIRS = """
    # -or / -our
    color colour  colors colours  colored coloured  colorful colourful
    behavior behaviour  behaviors behaviours  behavioral behavioural
    favorite favourite  favorites favourites  favor favour
    favors favours  favored favoured  favorable favourable
    honor honour  honors honours  honored honoured  honorable honourable
    labor labour  neighbor neighbour  neighbors neighbours
    neighborhood neighbourhood  rumor rumour  rumors rumours
    humor humour  flavor flavour  endeavor endeavour
    endeavors endeavours  harbor harbour  vapor vapour
    # -er / -re
    center centre  centers centres  centered centred  theater theatre
    fiber fibre  somber sombre  maneuver manoeuvre
    # -ense / -ence
    defense defence  defenses defences  offense offence
    offenses offences  pretense pretence
    # doubled and single consonants
    traveled travelled  traveling travelling  traveler traveller
    travelers travellers  canceled cancelled  canceling cancelling
    cancelation cancellation  labeled labelled  labeling labelling
    modeled modelled  modeling modelling  signaled signalled
    fueled fuelled  counselor counsellor  enroll enrol  enrolls enrols
    enrollment enrolment  enrollments enrolments  fulfill fulfil
    fulfills fulfils  fulfillment fulfilment  installment instalment
    skillful skilful  willful wilful
    # other
    catalog catalogue  catalogs catalogues  cozy cosy
    jewelry jewellery  aluminum aluminium
"""


def _build() -> dict[str, str]:
    table: dict[str, str] = {}
    for line in _OTHER_PAIRS.splitlines():
        words = [] if line.strip().startswith("#") else line.split()
        table.update(zip(words[::2], words[1::2], strict=True))
    for verb in _IZE_VERBS:
        stem = verb[:-1]  # "organiz"
        for ending in _IZE_ENDINGS:
            table[stem + ending] = stem[:-1] + "s" + ending
    for verb in _YZE_VERBS:
        stem = verb[:-1]
        for ending in _YZE_ENDINGS:
            table[stem + ending] = stem[:-1] + "s" + ending
    return table


US_TO_UK: dict[str, str] = _build()

# Whole words, looked up in the table. (One regex alternation of every listed word gives
# the same matches but is about a hundred times slower, and lint runs at every start-up.)
_TOKEN_RE = re.compile(r"\w+")
_URL_RE = re.compile(r"https?://\S+")


def us_spellings(text: str) -> list[tuple[str, str]]:
    """(US word as written, UK suggestion) for each US spelling found, URLs ignored."""
    text = _URL_RE.sub(" ", text)
    found = []
    for match in _TOKEN_RE.finditer(text):
        uk = US_TO_UK.get(match.group(0).lower())
        if uk is not None:
            found.append((match.group(0), uk))
    return found
