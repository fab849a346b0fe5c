"""Stub for `xgboost.core`: the booster, the data matrix and the library's error."""

import os
from collections.abc import Callable, Mapping

import numpy as np
import numpy.typing as npt

class XGBoostError(ValueError):
    """An error the XGBoost library reports (a bad model file, bad parameters...)."""

class DMatrix:
    def __init__(self, data: npt.ArrayLike, label: npt.ArrayLike | None = None) -> None: ...

PlainObj = Callable[[np.ndarray, DMatrix], tuple[np.ndarray, np.ndarray]]
"""A custom objective: per row, the gradient and hessian of the predictions."""

Metric = Callable[[np.ndarray, DMatrix], tuple[str, float]]
"""A custom evaluation metric: its name and value."""

class Booster:
    def __init__(
        self,
        params: Mapping[str, object] | None = None,
        cache: list[DMatrix] | None = None,
        model_file: Booster | bytearray | os.PathLike[str] | str | None = None,
    ) -> None: ...
    def predict(
        self,
        data: DMatrix,
        output_margin: bool = False,
        pred_leaf: bool = False,
        pred_contribs: bool = False,
        approx_contribs: bool = False,
        pred_interactions: bool = False,
        validate_features: bool = True,
        training: bool = False,
        iteration_range: tuple[int, int] = (0, 0),
        strict_shape: bool = False,
    ) -> npt.NDArray[np.float32]: ...
    def attr(self, key: str) -> str | None: ...
    def set_attr(self, **kwargs: str | None) -> None: ...
    def save_model(self, fname: str | os.PathLike[str]) -> None: ...
    def load_model(self, fname: bytearray | str | os.PathLike[str]) -> None: ...
