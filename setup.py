"""Build hook: the wheel carries specs/ (requirement catalogue, profile, JSON Schemas) as conformance/_specs, so an
installed suite finds its catalogue without this repository (conformance/specs.py looks there first)."""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPyWithSpecs(build_py):
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "conformance" / "_specs"
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(Path(__file__).parent / "specs", target)


setup(cmdclass={"build_py": BuildPyWithSpecs})
