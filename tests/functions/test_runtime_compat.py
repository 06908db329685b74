"""The functions and every package of their lock use nothing Python 3.12, 3.13 or 3.14 removed.

Only Python 3.11 runs here (Debian 12 packages no other; docs/deploy.md, "Runtimes"), so the
newer runtimes `function_runtime` accepts are vouched for statically: the source of `functions/`
and of each locked distribution, as installed in this environment at the locked version, is
parsed and searched for the standard library modules and names those versions removed ("What's
New In Python 3.12/3.13/3.14", Removed; PEP 594 for the 3.13 modules), and, in `functions/`, for
what 3.12 deprecated that the functions could still be using (`datetime.utcnow()`,
`datetime.utcfromtimestamp()`). An import inside `try` with a handler that catches its failure
(`ImportError`, `Exception`, a bare `except`) or under a `sys.version_info` test is a fallback,
not a use.
"""

import ast
import importlib.metadata
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.function_server import FUNCTIONS_DIR
from tests.functions.test_runtime_requirements import LOCK, read_lock

REMOVED_MODULES = {
    # 3.12
    "distutils": "3.12", "imp": "3.12", "asynchat": "3.12", "asyncore": "3.12", "smtpd": "3.12",
    # 3.13 (PEP 594, and lib2to3 / tkinter.tix / typing's namespaces)
    "aifc": "3.13", "audioop": "3.13", "cgi": "3.13", "cgitb": "3.13", "chunk": "3.13",
    "crypt": "3.13", "imghdr": "3.13", "mailcap": "3.13", "msilib": "3.13", "nis": "3.13",
    "nntplib": "3.13", "ossaudiodev": "3.13", "pipes": "3.13", "sndhdr": "3.13", "spwd": "3.13",
    "sunau": "3.13", "telnetlib": "3.13", "uu": "3.13", "xdrlib": "3.13", "lib2to3": "3.13",
    "tkinter.tix": "3.13", "typing.io": "3.13", "typing.re": "3.13",
}  # fmt: skip
# Names removed from modules that still exist: (module, name) -> the version that removed it.
REMOVED_NAMES = {
    ("ssl", "wrap_socket"): "3.12", ("ssl", "match_hostname"): "3.12",
    ("configparser", "SafeConfigParser"): "3.12", ("locale", "format"): "3.12",
    ("io", "OpenWrapper"): "3.12", ("locale", "resetlocale"): "3.13", ("re", "template"): "3.13",
    ("ast", "Num"): "3.14", ("ast", "Str"): "3.14", ("ast", "Bytes"): "3.14",
    ("ast", "NameConstant"): "3.14", ("ast", "Ellipsis"): "3.14",
    ("pkgutil", "find_loader"): "3.14", ("pkgutil", "get_loader"): "3.14",
    ("collections.abc", "ByteString"): "3.14", ("typing", "ByteString"): "3.14",
    ("urllib.request", "URLopener"): "3.14", ("urllib.request", "FancyURLopener"): "3.14",
    ("asyncio", "get_child_watcher"): "3.14", ("asyncio", "set_child_watcher"): "3.14",
}  # fmt: skip
DEPRECATED_IN_OURS = {"utcnow": "3.12", "utcfromtimestamp": "3.12"}
# Handlers that catch a failed import ("" is a bare except): cffi's shim of distutils, for one,
# imports it inside `except Exception` and says setuptools is needed on 3.12+ (compiling only).
FALLBACK_CATCHES = {"", "Exception", "BaseException", "ModuleNotFoundError"}


def guarded(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """Tell whether ``node`` sits in an ImportError fallback or under a version test."""
    while node in parents:
        parent = parents[node]
        if isinstance(parent, ast.Try) and node in parent.body:
            caught = {ast.unparse(h.type) if h.type else "" for h in parent.handlers}
            if any(c in FALLBACK_CATCHES or "ImportError" in c for c in caught):
                return True
        if isinstance(parent, ast.If) and "version_info" in ast.unparse(parent.test):
            return True
        node = parent
    return False


def findings(path: Path, ours: bool) -> Iterator[str]:
    """Yield each use in ``path`` of what a newer Python removed (or, in ours, deprecated)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
    except SyntaxError:  # e.g. a vendored Python 2 test file: never imported
        return
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                aliases[alias.asname or alias.name.split(".")[0]] = alias.name
                yield from _module(alias.name, node, path, parents)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield from _module(node.module, node, path, parents)
            for alias in node.names:
                yield from _name(node.module, alias.name, node, path, parents)
        elif isinstance(node, ast.Attribute):
            owner = ast.unparse(node.value)
            yield from _name(aliases.get(owner, owner), node.attr, node, path, parents)
            if ours and node.attr in DEPRECATED_IN_OURS:
                yield f"{path}:{node.lineno}: {owner}.{node.attr} (deprecated in 3.12)"


def _module(module: str, node: ast.AST, path: Path, parents: dict) -> Iterator[str]:
    for removed, version in REMOVED_MODULES.items():
        if (module == removed or module.startswith(removed + ".")) and not guarded(node, parents):
            yield f"{path}:{node.lineno}: import {module} (removed in {version})"


def _name(module: str, name: str, node: ast.AST, path: Path, parents: dict) -> Iterator[str]:
    version = REMOVED_NAMES.get((module, name))
    if version and not guarded(node, parents):
        yield f"{path}:{node.lineno}: {module}.{name} (removed in {version})"


def locked_sources() -> Iterator[Path]:
    """Yield the installed .py files of every distribution the lock installs here."""
    for name, (requirement, _) in read_lock(LOCK).items():
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        dist = importlib.metadata.distribution(name)
        assert requirement.specifier.contains(dist.version), name
        for file in dist.files or []:
            if file.suffix == ".py":
                yield Path(dist.locate_file(file))


def test_the_functions_use_nothing_removed_or_deprecated_in_3_12_to_3_14() -> None:
    found = [f for path in FUNCTIONS_DIR.rglob("*.py") for f in findings(path, ours=True)]
    assert found == []


def test_the_locked_packages_use_nothing_3_12_to_3_14_removed() -> None:
    sources = list(locked_sources())
    assert len(sources) > 300  # the whole closure was read, not an empty list
    found = [f for path in sources for f in findings(path, ours=False)]
    assert found == []


@pytest.mark.parametrize(
    ("code", "found"),
    [
        ("import imp", "import imp (removed in 3.12)"),
        ("from distutils.util import strtobool", "import distutils.util (removed in 3.12)"),
        ("import cgi", "import cgi (removed in 3.13)"),
        ("import ast\nast.Num(1)", "ast.Num (removed in 3.14)"),
        ("from datetime import datetime\ndatetime.utcnow()",
         "datetime.utcnow (deprecated in 3.12)"),
        ("try:\n    import imp\nexcept ImportError:\n    imp = None", ""),
        ("import sys\nif sys.version_info < (3, 12):\n    import asyncore", ""),
    ],
)  # fmt: skip
def test_the_check_finds_what_it_looks_for(tmp_path: Path, code: str, found: str) -> None:
    path = tmp_path / "sample.py"
    path.write_text(code)
    results = list(findings(path, ours=True))
    assert [r.split(": ", 1)[1] for r in results] == ([found] if found else [])
