"""The assessment engine: one data path for the CLI, the pytest front-end and campaigns.

    from conformance.engine import assess
    assessment = assess("fixtures/candidates/example")      # no pytest involved
    assessment.to_dict()                                     # the results.json document

plan.py      what will run (package, profile, date, selected checks and items, the (check, target) cases)
analysis.py  per item: capture -> symbol -> payload -> screen text, only what the selected checks need
judge.py     what a check saw -> a status, from the requirement's level in specs/ (the one place statuses are chosen)
run.py       assess(): items on a process pool, then subject and package checks
assessment.py the Assessment and its results.json document
"""
from conformance.engine.assessment import Assessment
from conformance.engine.plan import Case, Plan, UsageError
from conformance.engine.run import assess, run_plan, usable_cores

__all__ = ["assess", "run_plan", "Assessment", "Plan", "Case", "UsageError", "usable_cores"]
