"""The CI templates in ci/ parse, and their shell steps run as written against a real package: the job's exit code
is the suite's, and every artifact path they publish exists afterwards (also when the job fails).

The install steps (cloning the suite, scripts/setup.sh) are not run here: this checkout's virtualenv stands in for
the installed suite (VNQR points to its console script)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
CANDIDATES = REPO / "fixtures" / "candidates"
VNQR = Path(sys.executable).parent / "vnqr-conformance"


def run_steps(scripts: list[str], env: dict[str, str], cwd: Path) -> int:
    """Each step in its own `bash -e`, as both CI systems do; the first failing step ends the job."""
    for script in scripts:
        p = subprocess.run(["bash", "-e", "-c", script], cwd=cwd, env=env, capture_output=True, text=True,
                           timeout=900)
        if p.returncode != 0:
            assert "Traceback" not in p.stderr, p.stderr[-3000:]
            return p.returncode
    return 0


def workspace(tmp_path: Path, package: str) -> Path:
    ws = tmp_path / "ws"
    shutil.copytree(CANDIDATES / package, ws / "evidence" / "my-app", ignore=shutil.ignore_patterns("expected.json"))
    return ws


def base_env(job_env: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    env.update({k: str(v) for k, v in job_env.items()})
    env["VNQR"] = str(VNQR)
    return env


def test_github_actions_template(tmp_path):
    doc = yaml.safe_load((REPO / "ci" / "github-actions.yml").read_text(encoding="utf-8"))
    assert doc.get("on", doc.get(True)) is not None  # PyYAML reads the key `on` as True
    job = doc["jobs"]["conformance"]
    steps = job["steps"]
    assert any(s.get("uses", "").startswith("actions/checkout") for s in steps)
    uploads = [s for s in steps if s.get("uses", "").startswith("actions/upload-artifact")]
    assert uploads and all(s.get("if") == "always()" for s in uploads)  # published whatever the outcome
    assert any("setup.sh" in s.get("run", "") for s in steps if s.get("name", "").startswith("Install"))
    scripts = [s["run"] for s in steps if "run" in s and not s.get("name", "").startswith("Install")]
    assert scripts and any("assess" in s for s in scripts)
    ws = workspace(tmp_path, "example")
    env = base_env(job["env"]) | {"GITHUB_RUN_ID": "4242", "GITHUB_REPOSITORY": "vendor/my-app"}
    assert run_steps(scripts, env, ws) == 0
    for s in uploads:
        for path in str(s["with"]["path"]).split():
            assert (ws / path).exists(), path
    assert (ws / "conformance-report" / "report.pdf").read_bytes().startswith(b"%PDF-")
    assert "CI-4242" in (ws / "conformance-report" / "results.json").read_text(encoding="utf-8")


def test_gitlab_ci_template_fails_the_job_and_keeps_artifacts(tmp_path):
    doc = yaml.safe_load((REPO / "ci" / "gitlab-ci.yml").read_text(encoding="utf-8"))
    job = doc["vnqr-conformance"]
    assert any("setup.sh" in line for line in job["before_script"])
    art = job["artifacts"]
    assert art["when"] == "always" and art["reports"]["junit"].endswith("junit.xml")
    ws = workspace(tmp_path, "payload-005-type-2")  # non-conformant: the job must fail with exit 1
    env = base_env(job["variables"]) | {"CI_PIPELINE_ID": "77", "CI_PROJECT_PATH": "vendor/my-app"}
    assert run_steps(list(job["script"]), env, ws) == 1
    for path in [art["reports"]["junit"], *art["paths"]]:
        assert (ws / path).exists(), path
    assert "PAYLOAD-005" in (ws / art["reports"]["junit"]).read_text(encoding="utf-8")
