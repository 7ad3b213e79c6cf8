"""A report frame's rows encoded a column at a time are byte for byte what json.dumps of its records gives."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from sandbox.json_rows import json_rows


def _dumps(frame: pd.DataFrame) -> str:
    return json.dumps(frame.to_dict("records"), separators=(",", ":"))[1:-1]


def test_every_kind_of_column_is_encoded_as_json_dumps_would():
    frame = pd.DataFrame(
        {
            "date": ["2026-11-30", "2026-12-01", "2026-12-02", "2026-12-03"],
            "campaignId": np.array([1, 2**53 + 1, -7, 0], dtype=np.int64),
            "cost": [0.1 + 0.2, 1e-05, 1e16, -0.0],
            "share": [np.nan, 12.5, np.inf, 3.0],
            "keyword": ['say "hi"', "café ☕", "50% off", "tab\tand\\slash"],
            "maybe": ["x", None, "y", None],
            "mixed": [1, "one", 1.5, None],
            "flag": [True, False, True, False],
            "100%": [1, 2, 3, 4],
        }
    )
    frame["typed"] = pd.Series(["a", "ü", "b", "c"], dtype="string")  # pandas 3: str columns by default
    assert json_rows(frame) == _dumps(frame)
    assert json.loads("[" + json_rows(frame) + "]")[1]["keyword"] == "café ☕"


def test_an_empty_frame_and_a_slice_of_a_frame():
    frame = pd.DataFrame({"a": np.arange(10), "b": np.linspace(0, 1, 10), "c": list("abcdefghij")})
    assert json_rows(frame.iloc[0:0]) == ""
    assert json_rows(frame.iloc[3:7]) == _dumps(frame.iloc[3:7])
