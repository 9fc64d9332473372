"""pytest plugin: `pytest scenarios/` collects each drill file of a scenarios/ directory as a test item,
runs it through the drill CLI, and fails the item with the failed checks as its message.

Markers: `drill` on every item, `backend_<name>` for its backend, `sweep` for sweeps, `nemesis` for drills
whose schedule a nemesis draws (minutes long, and some break a verdict on purpose: `-m "not nemesis"`).
`--drill-backend docker` runs every drill on that backend instead of its environment's; `--engines a,b`
runs each drill once per engine (items named `drill[engine]`) instead of on its environment's.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.cli.exit_codes import ExitCode
from harness.core.errors import ConfigError

# What an exit code other than a judged run means, in the failure's first line.
_MEANINGS: dict[int, str] = {
    ExitCode.BAD_INPUT: " (bad input)",
    ExitCode.ENVIRONMENT_ERROR: " (the environment or the harness failed)",
    ExitCode.ABORTED: " (aborted by a stop condition)",
    ExitCode.INTERRUPTED: " (interrupted)",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--drill-backend",
        choices=["local", "docker"],
        default=None,
        help="run every redis-drill scenario on this backend (default: each environment's own)",
    )
    parser.addoption(
        "--engines",
        default=None,
        help="comma-separated engines (see `drill engines`): run every scenario on each (default: its own)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "drill: a redis-drill scenario run as a test")
    config.addinivalue_line("markers", "backend_local: a drill on the local backend")
    config.addinivalue_line("markers", "backend_docker: a drill on the Docker backend")
    config.addinivalue_line("markers", "sweep: a redis-drill sweep (a measurement, not a drill)")
    config.addinivalue_line("markers", "nemesis: a drill whose fault schedule a seeded nemesis draws")


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if file_path.suffix in (".yaml", ".yml") and file_path.parent.name == "scenarios":
        return DrillFile.from_parent(parent, path=file_path)
    return None


class DrillFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        from harness.scenario.loader import load_drill
        from harness.scenario.model import Sweep

        engines = self.config.getoption("--engines")
        for engine in [e.strip() for e in engines.split(",") if e.strip()] if engines else [None]:
            suffix = f"[{engine}]" if engine else ""
            try:
                drill = load_drill(self.path, engine)
            except ConfigError as exc:
                yield BadDrillFile.from_parent(self, name=self.path.stem + suffix, problems=str(exc))
                continue
            backend = self.config.getoption("--drill-backend") or drill.environment.backend
            item = DrillItem.from_parent(self, name=drill.name + suffix, backend=backend, engine=engine)
            item.add_marker(pytest.mark.drill)
            item.add_marker(getattr(pytest.mark, f"backend_{backend}"))
            if isinstance(drill, Sweep):
                item.add_marker(pytest.mark.sweep)
            elif drill.nemesis is not None:
                item.add_marker(pytest.mark.nemesis)
            yield item


class DrillFailed(Exception):
    pass


def _report_path(stdout: str) -> Path | None:
    """The report.json a drill names on its last line ("PASSED  report: ...")."""
    lines = stdout.strip().splitlines()
    if lines and "report: " in lines[-1]:
        return Path(lines[-1].split("report: ", 1)[1].strip())
    return None


class DrillItem(pytest.Item):
    def __init__(self, *, backend: str, engine: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.backend = backend
        self.engine = engine

    def runtest(self) -> None:
        # Run directories go where `drill run` puts them by default, so people find the reports.
        runs = self.config.rootpath / "runs"
        command = ["run", str(self.path), "--backend", self.backend, "--runs-dir", str(runs), "--quiet"]
        command += ["--engine", self.engine] if self.engine else []
        result = subprocess.run(
            [sys.executable, "-m", "harness", *command],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode == 0:
            return
        report_file = _report_path(result.stdout)
        judged = (ExitCode.CHECK_FAILED, ExitCode.UNKNOWN)
        if result.returncode in judged and report_file is not None:
            report: dict[str, Any] = json.loads(report_file.read_text())
            failed = [
                f"{c['name']}: {c['status']}: {c['evidence']}"
                for c in report["checks"]
                if c["status"] != "pass"
            ]
            what = (
                "failed checks"
                if result.returncode == ExitCode.CHECK_FAILED
                else "checks that could not judge"
            )
            raise DrillFailed(f"{what}:\n  " + "\n  ".join(failed) + f"\nreport: {report_file}")
        meaning = _MEANINGS.get(result.returncode, "")
        raise DrillFailed(f"drill exited {result.returncode}{meaning}:\n{result.stderr.strip()}")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, DrillFailed):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"drill: {self.name}"


class BadDrillFile(pytest.Item):
    def __init__(self, *, problems: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.problems = problems

    def runtest(self) -> None:
        raise DrillFailed(f"bad input:\n{self.problems}")

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"drill file: {self.path.name}"

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        return str(excinfo.value)
