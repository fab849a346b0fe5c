"""Stub for `xgboost.training`: `train`, with the arguments sched-opt's cost model passes."""

import os
from collections.abc import Mapping, Sequence

from xgboost.core import Booster, DMatrix, Metric, PlainObj

def train(
    params: Mapping[str, object],
    dtrain: DMatrix,
    num_boost_round: int = 10,
    *,
    evals: Sequence[tuple[DMatrix, str]] | None = None,
    obj: PlainObj | None = None,
    maximize: bool | None = None,
    early_stopping_rounds: int | None = None,
    verbose_eval: bool | int | None = True,
    xgb_model: str | os.PathLike[str] | Booster | bytearray | None = None,
    custom_metric: Metric | None = None,
) -> Booster: ...
