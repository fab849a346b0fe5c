"""Search policies: Ansor's sketch search, the empty baseline, and their callbacks."""

from schedopt.search_policy.search_callbacks import PreloadCustomSketchRule, PreloadMeasuredStates
from schedopt.search_policy.search_policy import EmptyPolicy, SearchCallback, SearchPolicy
from schedopt.search_policy.sketch_policy import SketchPolicy

__all__ = [
    "EmptyPolicy",
    "PreloadCustomSketchRule",
    "PreloadMeasuredStates",
    "SearchCallback",
    "SearchPolicy",
    "SketchPolicy",
]
