"""The walls between layers hold: every package imports only from packages of its own layer or below
(docs/ARCHITECTURE.md's table), backends know nothing of faults, observers, load or runbooks, and pure
evaluation (harness/runbooks) reaches nothing that does network or process I/O, however indirectly."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

HARNESS = Path(__file__).resolve().parents[2] / "harness"
IO_MODULES = ("socket", "subprocess", "redis", "docker", "gevent", "locust", "requests", "urllib")


def module_name(path: Path) -> str:
    parts = path.relative_to(HARNESS.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    return {module_name(p): p for p in HARNESS.rglob("*.py")}


@cache
def imports(name: str) -> frozenset[str]:
    """Every module a module imports, anywhere in it (function-level imports count too)."""
    tree = ast.parse(modules()[name].read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return frozenset(found)


def closure(start: str) -> set[str]:
    """The harness modules `start` reaches through imports, itself included."""
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name in seen or name not in modules():
            continue
        seen.add(name)
        todo.extend(m for m in imports(name) if m in modules())
    return seen


# Each package's layer, lowest first; a module may import its own layer and the ones below.
LAYERS = {
    "core": 0,
    "scenario": 1,
    "clients": 2,
    "runbooks": 2,  # pure evaluation over the log, beside the live clients: neither imports the other
    "backends": 3,
    "proxy": 3,
    "load": 4,
    "faults": 4,
    "observe": 4,
    "alerting": 5,
    "respond": 5,
    "report": 6,
    "run": 7,
    "sweep": 8,
    "bench": 8,
    "audit": 8,
    "cli": 9,
}
TOP_LEVEL = {"harness", "harness.__main__"}


def _layer(module: str) -> int:
    return LAYERS[module.split(".")[1]]


def test_every_module_belongs_to_a_layer() -> None:
    loose = sorted(m for m in modules() if m not in TOP_LEVEL and m.split(".")[1] not in LAYERS)
    assert loose == [], "a module outside every layer's folder (add its package to LAYERS)"


def test_no_import_runs_back_up_the_layers() -> None:
    edges = {
        f"{name} -> {target.rsplit('.', 1)[0] if target not in modules() else target}"
        for name in modules()
        if name not in TOP_LEVEL
        for target in imports(name)
        if target.startswith("harness.") and target.split(".")[1] in LAYERS and _layer(target) > _layer(name)
    }
    assert edges == set()


def test_the_top_level_holds_a_handful_of_modules() -> None:
    assert len(list(HARNESS.glob("*.py"))) <= 6


def test_backends_import_nothing_from_the_layers_above() -> None:
    above = ("harness.faults", "harness.observe", "harness.runbooks", "harness.respond", "harness.load")
    offending = sorted(
        f"{name} -> {target}"
        for name in modules()
        if name.startswith("harness.backends")
        for target in imports(name)
        if target.startswith(above)
    )
    assert offending == []


def test_evaluation_reaches_no_io_module() -> None:
    offending = []
    for name in (m for m in modules() if m.startswith("harness.runbooks")):
        for reached in sorted(closure(name)):
            bad = [m for m in imports(reached) if m.split(".")[0] in IO_MODULES]
            if bad:
                offending.append(f"{name} reaches {reached}, which imports {', '.join(sorted(bad))}")
    assert offending == []


def test_the_test_would_see_an_io_import() -> None:
    """The closure really follows imports: the responder, which acts on live nodes, does reach I/O."""
    reached = closure("harness.respond.responder")
    assert any(m.split(".")[0] in IO_MODULES for r in reached for m in imports(r))
