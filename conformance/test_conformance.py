"""The conformance checks as pytest tests: `pytest conformance --candidate PATH`.

Each test is one (check, evidence item) pair; its ID starts with the requirement IDs the check verifies, so
`-k PAYLOAD-003` selects them. The checks themselves live in conformance/checks/.
"""
from conformance.plugin import judge


def test_requirement(conformance_case, conformance_assessment):
    spec, target = conformance_case
    judge(conformance_assessment, spec, target)
