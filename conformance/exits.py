"""Exit codes of the command line, written once (README, "Exit codes"). Scripts and CI depend on them: extend,
never renumber."""
from __future__ import annotations

CONFORMANT = 0
NON_CONFORMANT = 1
UNUSABLE = 2  # the input cannot be used: nothing assessed, nothing written
INCOMPLETE = 3  # no MUST failed, but a MUST could not be judged (skip, review, error)
STALE_WAIVER = 4  # --waivers: a waiver no longer matches what it waives
SUITE_ERROR = 5  # the suite itself broke (a bug, or the machine ran out of something); not a verdict on the app

OF_VERDICT = {"conformant": CONFORMANT, "non-conformant": NON_CONFORMANT, "incomplete": INCOMPLETE}
