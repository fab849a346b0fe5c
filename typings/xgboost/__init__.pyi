"""Stubs for the parts of XGBoost that sched-opt's cost model uses.

XGBoost ships annotations, but it writes paths as the bare `os.PathLike` and
parameters as bare `List`/`Dict`, which pyright's strict mode reads as
partially unknown; these stubs restate the signatures sched-opt calls. A stub
package replaces the whole of `xgboost` for pyright, so each submodule used
has a stub here.
"""

from xgboost import core as core
from xgboost.core import Booster as Booster
from xgboost.core import DMatrix as DMatrix
from xgboost.core import XGBoostError as XGBoostError
from xgboost.training import train as train
