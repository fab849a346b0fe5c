"""schedopt.progress: tuning progress goes through logging, to stdout by default, elsewhere on request."""

from __future__ import annotations

import io
import logging

from schedopt.progress import PROGRESS, progress_to, report


def test_progress_prints_to_the_current_stdout(capsys):
    report("round 1")
    report(".E*", end="")
    assert capsys.readouterr().out == "round 1\n.E*"


def test_progress_to_routes_the_messages_and_restores_stdout(capsys):
    stream = io.StringIO()
    with progress_to(stream):
        report("tuning")
    report("after")
    assert stream.getvalue() == "tuning\n"
    assert capsys.readouterr().out == "after\n"


def test_an_application_silences_progress_with_the_logger_level(capsys):
    PROGRESS.setLevel(logging.WARNING)
    try:
        report("hidden")
    finally:
        PROGRESS.setLevel(logging.INFO)
    assert capsys.readouterr().out == ""
