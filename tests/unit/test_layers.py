"""Dependencies point one way: transport -> domain -> store, with no circles in domain.

Read from the source (every import, also one inside a function), so a shortcut taken
for convenience fails here rather than in a review.
"""

from __future__ import annotations

import ast
from pathlib import Path

import parley

ROOT = Path(parley.__file__).resolve().parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """Each parley module -> the parley modules it imports (submodules resolved)."""
    found: dict[str, set[str]] = {}
    for path in ROOT.rglob("*.py"):
        name = _module_name(path)
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets.add(node.module)
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    if (ROOT.parent / Path(*sub.split("."))).with_suffix(".py").exists():
                        targets.add(sub)
        found[name] = {t for t in targets if t == "parley" or t.startswith("parley.")}
    return found


def _in(package: str, module: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_domain_modules_import_each_other_without_a_circle() -> None:
    graph = {
        name: {t for t in targets if _in("parley.domain", t) and t != name}
        for name, targets in _imports().items()
        if _in("parley.domain", name)
    }
    circles: list[list[str]] = []
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            circles.append([*path[path.index(name) :], name])
            return
        if name in done:
            return
        for target in sorted(graph.get(name, ())):
            visit(target, [*path, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])
    assert circles == []


def test_domain_knows_no_transport_and_of_the_store_only_its_interface() -> None:
    leaks = {
        (name, target)
        for name, targets in _imports().items()
        if _in("parley.domain", name)
        for target in targets
        if _in("parley.web", target)
        or _in("parley.realtime", target)
        or (_in("parley.store", target) and target != "parley.store")
    }
    assert leaks == set()


def test_the_websocket_gateway_does_not_import_the_http_layer() -> None:
    leaks = {
        (name, target)
        for name, targets in _imports().items()
        if _in("parley.realtime", name)
        for target in targets
        if _in("parley.web", target)
    }
    assert leaks == set()
