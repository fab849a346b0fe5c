"""tools/import_graph.py: deferred imports count, TYPE_CHECKING ones do not, and the package has no cycle."""

from pathlib import Path

import pytest

from schedopt.tools.import_graph import import_cycles, import_graph, main, subpackage_imports

REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.fixture
def toy_package(tmp_path: Path) -> Path:
    """`pkg` (in src/): a <-> b through a deferred import, c -> a under TYPE_CHECKING only, sub.d -> c."""
    (tmp_path / "pyproject.toml").write_text('[tool.setuptools]\npackage-dir = { "pkg" = "src" }\n')
    files = {
        "src/__init__.py": "",
        "src/a.py": "from pkg import b\nimport pkg.c\n",
        "src/b.py": "def late():\n    from pkg.a import something\n",
        "src/c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import a\n",
        "src/sub/__init__.py": "",
        "src/sub/d.py": "from ..c import name\nfrom . import e\n",
        "src/sub/e.py": "import numpy\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def test_the_graph_resolves_relative_imports_and_skips_outside_and_type_checking_ones(toy_package: Path):
    graph = import_graph(toy_package)
    assert graph == {
        "pkg": set(),
        "pkg.a": {"pkg.b", "pkg.c"},
        "pkg.b": {"pkg.a"},
        "pkg.c": set(),
        "pkg.sub": set(),
        "pkg.sub.d": {"pkg.c", "pkg.sub.e"},
        "pkg.sub.e": set(),
    }


def test_a_deferred_import_makes_a_cycle(toy_package: Path):
    assert import_cycles(import_graph(toy_package)) == [["pkg.a", "pkg.b"]]


def test_subpackage_imports_count_the_module_imports_between_packages(toy_package: Path):
    assert subpackage_imports(import_graph(toy_package)) == {("pkg.sub", "pkg"): 1}


def test_main_prints_the_cycles_and_fails_on_one(toy_package: Path, capsys: pytest.CaptureFixture[str]):
    assert main([str(toy_package), "--subpackages"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "pkg.sub -> pkg (1)",
        "cycle of 2: pkg.a, pkg.b",
        "1 import cycles over 2 of 7 modules",
    ]


def test_schedopt_has_no_import_cycle():
    assert import_cycles(import_graph(REPOSITORY)) == []
