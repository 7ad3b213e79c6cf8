"""A report frame's rows as JSON text, byte for byte what `json.dumps(frame.to_dict("records"), separators=(",", ":"))`
gives, but encoded a column at a time instead of a value at a time.

Why: the sandbox shares the machine with the sync it serves, and building one dict per row (`to_dict("records")`)
and walking it again in `json.dumps` was most of its CPU (about 47 of 56 s for the demo sync's 72 reports). Here
each column is encoded by a C-level map (`int.__repr__`, `float.__repr__`, the json module's own string escaper),
and a row is one `%` of a template over the encoded columns.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii  # what json.dumps uses for str with ensure_ascii=True

import numpy as np
import pandas as pd


def _value(v) -> str:
    """One value as json.dumps writes it (the general case: None, NaN, numpy scalars, anything else)."""
    if type(v) is str:
        return encode_basestring_ascii(v)
    if hasattr(v, "item") and not isinstance(v, (list, tuple, dict)):  # a numpy scalar: to_dict boxes it natively
        v = v.item()
    return json.dumps(v, separators=(",", ":"))


def _column(series: pd.Series) -> list[str]:
    """The JSON text of every value of one column."""
    kind = series.dtype.kind
    if kind in "iu":
        return list(map(int.__repr__, series.tolist()))
    if kind == "f" and np.isfinite(series.to_numpy()).all():
        return list(map(float.__repr__, series.tolist()))
    if kind == "b":
        return ["true" if v else "false" for v in series.tolist()]
    if (
        kind not in "fc" and not series.hasnans
    ):  # texts repeat (names, dates, match types): escape each distinct one once
        codes, uniques = pd.factorize(series)
        distinct = list(uniques)
        if all(type(v) is str for v in distinct):  # only str: no 1 == 1.0 == True merged by the factorizing
            return np.array(list(map(encode_basestring_ascii, distinct)), dtype=object)[codes].tolist()
    return list(map(_value, series.tolist()))


def json_rows(frame: pd.DataFrame) -> str:
    """The frame's rows as JSON objects separated by commas (no brackets): the inside of the report's array."""
    if frame.empty:
        return ""
    names = [str(c) for c in frame.columns]
    if len(set(names)) != len(names):  # a dict of the row would keep one of them: let json do exactly that
        return json.dumps(frame.to_dict("records"), separators=(",", ":"))[1:-1]
    template = "{" + ",".join(encode_basestring_ascii(n).replace("%", "%%") + ":%s" for n in names) + "}"
    columns = [_column(frame.iloc[:, i]) for i in range(len(names))]
    return ",".join([template % row for row in zip(*columns)])
