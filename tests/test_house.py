"""The house (docs/architecture.md, "Apps"): imports between apps run one way, and no two
modules import each other in a circle, counting imports made inside functions too."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# an app may import the apps listed for it, and nothing else of ours
MAY_IMPORT = {
    "projects": set(),
    "reporting": {"projects"},
    "indicators": {"projects"},
    "supervision": {"projects", "reporting"},
    "portfolio": {"projects", "reporting", "indicators", "supervision"},
}


def modules():
    found = {}
    for app in MAY_IMPORT:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def imports_of(name, path, known):
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            candidates = [module] + [f"{module}.{alias.name}" for alias in node.names]
        else:
            continue
        for candidate in candidates:
            # the longest known module the import names
            while candidate and candidate not in known:
                candidate = candidate.rpartition(".")[0]
            if candidate and candidate != name:
                targets.add(candidate)
    return targets


def graph():
    known = modules()
    return {name: imports_of(name, path, known) for name, path in known.items()}


def test_imports_between_apps_run_one_way():
    wrong = sorted(f"{source} → {target}" for source, targets in graph().items() for target in targets
                   if target.split(".")[0] != source.split(".")[0]
                   and target.split(".")[0] not in MAY_IMPORT[source.split(".")[0]])
    assert wrong == []


def test_no_modules_import_each_other_in_a_circle():
    edges = graph()
    circles, state = [], {}

    def visit(node, path):
        state[node] = "open"
        for target in sorted(edges.get(node, ())):
            if state.get(target) == "open":
                circles.append(" → ".join(path[path.index(target):] + [target]))
            elif target not in state:
                visit(target, path + [target])
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert circles == []
