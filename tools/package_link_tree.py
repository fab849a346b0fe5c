"""Lay the `schedopt` package out as one folder of symbolic links, for static type checkers.

    python tools/package_link_tree.py            writes build/package-tree/schedopt/...

The package is spread over folders by pyproject.toml's `package-dir`
(`schedopt` is compiler/, `schedopt.dialects` is dialects/, ...), and the
editable install finds them through an import hook that pyright cannot
follow. The tree links each file under its dotted name's path,
so pyright (`extraPaths = ["build/package-tree"]`) resolves `schedopt.*`.
Run it again after adding a top-level module.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent


def link_tree(root: Path, destination: Path) -> None:
    """Replace `destination` with real folders of links to the package's files (pyright skips linked folders)."""
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    package_dirs: Mapping[str, str] = pyproject["tool"]["setuptools"]["package-dir"]
    shutil.rmtree(destination, ignore_errors=True)
    for package, folder in sorted(package_dirs.items()):
        target = destination.joinpath(*package.split("."))
        target.mkdir(parents=True, exist_ok=True)
        for source in sorted((root / folder).rglob("*.py")):
            link = target / source.relative_to(root / folder)
            if "__pycache__" not in link.parts and not link.exists():
                link.parent.mkdir(parents=True, exist_ok=True)
                link.symlink_to(source.resolve())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("destination", nargs="?", type=Path, default=REPOSITORY / "build" / "package-tree")
    args = parser.parse_args(argv)
    link_tree(REPOSITORY, args.destination)
    return 0


if __name__ == "__main__":
    sys.exit(main())
