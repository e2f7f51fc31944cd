"""The conformance checks as pytest tests: `pytest conformance --candidate PATH`.

Each test is one (check, target) case; its ID starts with the requirement IDs the check verifies, so
`-k PAYLOAD-003` selects them. The checks themselves live in conformance/checks/, the judgement in
conformance/engine/.
"""
import pytest

from conformance.engine.plan import Case
from conformance.plugin import FrontEnd, judge


def test_requirement(conformance_case: Case, conformance_frontend: FrontEnd, request: pytest.FixtureRequest) -> None:
    judge(conformance_frontend, conformance_case, request.node)
