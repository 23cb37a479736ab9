"""Route modules of ``dailypapers.web`` do not import each other: what two of them share lives in a module
without routes (``common.py``, ``deps.py``, ``auth.py``, ``account_mails.py``, ``submitting.py``), so each
route module can be read, tested and moved on its own, and ``app.py`` alone puts them together.

The modules are read with ``ast``, not imported, so an import inside a function counts as well.
"""

from __future__ import annotations

import ast
from importlib.resources import files
from pathlib import Path

PACKAGE = "dailypapers.web"
WEB_DIR = Path(str(files(PACKAGE)))
ROUTE_DECORATORS = {"get", "post", "put", "patch", "delete", "head", "options", "api_route", "route"}


def _tree(name: str) -> ast.Module:
    return ast.parse((WEB_DIR / f"{name}.py").read_text(encoding="utf-8"), filename=f"{name}.py")


def _module_names() -> list[str]:
    return sorted(path.stem for path in WEB_DIR.glob("*.py") if path.stem != "__init__")


def defines_routes(tree: ast.Module) -> bool:
    """Whether the module makes an ``APIRouter`` and puts a route on it (``@router.get(...)`` and so on)."""
    routers = {
        target.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
        and node.value.func.id == "APIRouter"
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in node.decorator_list:
                call = decorator.func if isinstance(decorator, ast.Call) else decorator
                if (
                    isinstance(call, ast.Attribute)
                    and call.attr in ROUTE_DECORATORS
                    and isinstance(call.value, ast.Name)
                    and call.value.id in routers
                ):
                    return True
    return False


def web_imports(tree: ast.Module, known: set[str]) -> set[str]:
    """The modules of ``dailypapers.web`` that ``tree`` imports, however the import is spelled."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(PACKAGE + "."):
                    found.add(alias.name.split(".")[2])
        elif isinstance(node, ast.ImportFrom):
            if node.level == 1:
                base = node.module or ""
            elif node.module is not None and (
                node.module == PACKAGE or node.module.startswith(PACKAGE + ".")
            ):
                base = node.module.removeprefix(PACKAGE).lstrip(".")
            else:
                continue
            if base:
                found.add(base.split(".")[0])
            else:  # from dailypapers.web import pages / from . import pages
                found.update(alias.name for alias in node.names)
    return found & known


def route_module_imports() -> set[tuple[str, str]]:
    """Every (importer, imported) pair of route modules."""
    names = _module_names()
    trees = {name: _tree(name) for name in names}
    routed = {name for name, tree in trees.items() if defines_routes(tree)}
    return {
        (name, imported)
        for name in sorted(routed)
        for imported in web_imports(trees[name], set(names))
        if imported in routed and imported != name
    }


def test_the_route_modules_are_found() -> None:
    routed = {name for name in _module_names() if defines_routes(_tree(name))}
    assert {"sign_in", "account_page", "api", "api_community", "community", "pages", "submit"} <= routed
    assert not {"app", "auth", "common", "deps", "render"} & routed


def test_every_spelling_of_an_import_is_seen() -> None:
    source = (
        "import dailypapers.web.pages\n"
        "from dailypapers.web.sign_in import render_page\n"
        "from dailypapers.web import community, render\n"
        "from . import api\n"
        "from .submit import x\n"
        "def later():\n"
        "    from dailypapers.web.search_page import y\n"
        "from dailypapers.webhooks import z\n"
    )
    known = {"pages", "sign_in", "community", "render", "api", "submit", "search_page", "hooks"}
    assert web_imports(ast.parse(source), known) == known - {"hooks"}


def test_no_route_module_imports_another() -> None:
    unexpected = sorted(route_module_imports())
    assert not unexpected, (
        "route modules import other route modules: "
        + ", ".join(f"{a} -> {b}" for a, b in unexpected)
        + "; move what they share into a module without routes (common.py, deps.py or one of its own)"
    )
