"""tools/package_link_tree.py: each package of `package-dir` laid out under its dotted name, as links."""

from pathlib import Path

from schedopt.tools.package_link_tree import link_tree


def test_the_tree_links_every_module_under_its_dotted_name(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.setuptools]\npackage-dir = { "pkg" = "src", "pkg.extra" = "extra" }\n'
    )
    for name in ("src/__init__.py", "src/sub/mod.py", "src/__pycache__/x.py", "extra/__init__.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    tree = tmp_path / "tree"
    (tree / "stale.py").parent.mkdir()
    (tree / "stale.py").write_text("")

    link_tree(tmp_path, tree)

    links = sorted(str(path.relative_to(tree)) for path in tree.rglob("*.py"))
    assert links == ["pkg/__init__.py", "pkg/extra/__init__.py", "pkg/sub/mod.py"]
    assert (tree / "pkg/sub/mod.py").resolve() == (tmp_path / "src/sub/mod.py").resolve()
    assert not (tree / "pkg/sub").is_symlink()
