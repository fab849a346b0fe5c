"""What the case-based benchmark scripts share: which cases to run, `--json FILE`, and the table they print.

parser = case_parser(__doc__, CASES)
parser.add_argument("--trials", ...)
options = parse_cases(parser, argv, CASES)   # options.cases: the named cases, or all
...
write_json(options.json, rows)
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any


def case_parser(
    doc: str, cases: Collection[str], default: Sequence[str] | None = None, json_help: str = "the rows"
) -> argparse.ArgumentParser:
    """A parser described by `doc`'s first paragraph, taking case names (`default`, or all, if none) and `--json`."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    default_text = ", ".join(default) if default is not None else f"all of {', '.join(cases)}"
    parser.add_argument("cases", nargs="*", help=f"cases to run (default: {default_text})")
    parser.add_argument("--json", metavar="FILE", help=f"also write {json_help} as JSON")
    return parser


def parse_cases(
    parser: argparse.ArgumentParser,
    argv: Sequence[str] | None,
    cases: Collection[str],
    default: Sequence[str] | None = None,
) -> argparse.Namespace:
    """`argv` parsed, with `cases` set to the cases named (else `default`, else all); an unknown one is an error."""
    options = parser.parse_args(argv)
    unknown = [c for c in options.cases if c not in cases]
    if unknown:
        parser.error(f"unknown cases {unknown}; known: {', '.join(cases)}")
    options.cases = options.cases or list(cases if default is None else default)
    return options


def write_json(path: str | None, document: Any) -> None:
    """`document` (rows as dataclasses or dicts, or any JSON value) written to `path`, indented; no path, no file."""
    if path is None:
        return
    if isinstance(document, list):
        document = [
            asdict(row) if is_dataclass(row) and not isinstance(row, type) else row for row in document
        ]
    Path(path).write_text(json.dumps(document, indent=2) + "\n")


def print_ruled_table(header: str, lines: Iterable[str], note: str) -> None:
    """`header`, a rule under it, one line a row, and the `note` that says what the numbers are."""
    print(header + "\n" + "-" * len(header))
    for line in lines:
        print(line)
    print(note)
