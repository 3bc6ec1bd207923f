"""The package's layers (processor/__init__.py): no stage imports a later one, and the
low-level workbook writing is reached only from the outputs."""

from __future__ import annotations

import ast
from pathlib import Path

import processor

PACKAGE = Path(processor.__file__).parent
# Earlier first: a module may import from its own layer and the layers before it.
LAYERS = ("domain", "intake", "store", "scoring", "outputs", "mail", "")


def _layer(module: str) -> int:
    """Index in LAYERS of a dotted module name under `processor` ('' = the top: cli, batch)."""
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 2 and parts[1] in LAYERS else len(LAYERS) - 1


def _imports(path: Path) -> list[str]:
    """Every `processor...` module the file imports, at the top or inside a function."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith("processor"):
                found += [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("processor")]
    return found


def _modules() -> list[tuple[str, Path]]:
    return [
        ("processor." + ".".join(p.relative_to(PACKAGE).with_suffix("").parts), p)
        for p in sorted(PACKAGE.rglob("*.py"))
    ]


def test_no_stage_imports_a_later_one() -> None:
    wrong = [
        f"{name} imports {target}"
        for name, path in _modules()
        for target in _imports(path)
        if _layer(target) > _layer(name)
    ]
    assert wrong == []


def test_the_workbook_writing_corner_is_private_to_the_outputs() -> None:
    wrong = [
        f"{name} imports {target}"
        for name, path in _modules()
        for target in _imports(path)
        if "._xlsx" in target and not name.startswith("processor.outputs")
    ]
    assert wrong == []


def test_every_module_is_in_a_layer_or_at_the_top() -> None:
    top = {name for name, _ in _modules() if name.count(".") == 1}
    assert top <= {
        "processor.__init__",
        "processor.cli",
        "processor.cli_text",
        "processor.batch",
        "processor.demo",
    }
