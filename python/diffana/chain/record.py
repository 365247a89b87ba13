# SPDX-License-Identifier: BSD-3-Clause
"""The provenance record every gradient file carries (`Record`), and the checks
made when a gradient file is read with the values file it belongs to.

A program of a chain reads a values file ``in`` (and its gradient ``in_grad``) and
writes ``out`` (and ``out_grad``). The gradient file never travels alone: its
record names the values file (path and the sha256 of its bytes), the parameters
(names in tangent order, and their values at the point), the configuration that
made it (``config.model_dump(mode="json")``), the diffana version, the program,
and the direction: ``forward`` (tangents: every value gets one number per
parameter, d value / d parameter) or ``backward`` (cotangents: every value gets
one number, d result / d value).

Reading refuses, in one line naming both files, a gradient whose values file has
other bytes (`Record.check_values`), other parameter names (`Record.check_names`)
or the other direction (`Record.check_direction`): `ChainError`.

May import the standard library and ``diffana`` (its version).

Examples
--------
>>> r = Record("forward", {"a": 1.0, "b": 2.0}, "y.json", "0" * 64, program="test")
>>> r.names
('a', 'b')
>>> Record.from_json(r.to_json()) == r
True
>>> try:
...     r.check_names(["a", "c"], "y_grad.json")
... except ChainError as e:
...     print(e)
y_grad.json: tangents w.r.t. parameters ['a', 'b'], expected ['a', 'c']
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["DIRECTIONS", "ChainError", "Record", "sha256_file"]

#: The two kinds of gradient file: tangents (forward) and cotangents (backward).
DIRECTIONS = ("forward", "backward")

_WHAT = {"forward": "forward tangents", "backward": "backward cotangents"}


class ChainError(ValueError):
    """A values or gradient file a program of a chain cannot use: not such a file,
    a gradient paired with another values file, other parameter names, the other
    direction, or a structure that does not match (the message names the file)."""


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The sha256 of a file's bytes, in hex (ChainError when it cannot be read).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = pathlib.Path(d) / "a"
    ...     _ = p.write_bytes(b"abc")
    ...     sha256_file(p)[:16]
    'ba7816bf8f01cfea'
    """
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except OSError as e:
        msg = f"{os.fspath(path)}: cannot read it ({e.strerror or e})"
        raise ChainError(msg) from None
    return h.hexdigest()


def _version() -> str:
    from .. import __version__

    return __version__


@dataclasses.dataclass(frozen=True)
class Record:
    """The provenance of one gradient file.

    Parameters
    ----------
    direction : {"forward", "backward"}
        Tangents (one number per value and parameter) or cotangents (one number
        per value).
    params : mapping
        Parameter name -> value at the point; the order is the tangents' order.
    values_path, values_sha256 : str
        The values file the gradient belongs to (its path when written, and the
        sha256 of its bytes: what pairing checks).
    config : dict, optional
        The configuration that made the file (``config.model_dump(mode="json")``).
    program : str
        The program that wrote it (``diffana evaluate``, ...).
    version : str
        The diffana version (default: this one).
    """

    direction: str
    params: Mapping[str, float]
    values_path: str
    values_sha256: str
    config: Mapping[str, Any] | None = None
    program: str = ""
    version: str = dataclasses.field(default_factory=_version)

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            msg = f"direction must be one of {DIRECTIONS}, got {self.direction!r}"
            raise ValueError(msg)
        object.__setattr__(
            self, "params", {k: float(v) for k, v in self.params.items()}
        )

    @property
    def names(self) -> tuple[str, ...]:
        """The parameter names, in tangent order."""
        return tuple(self.params)

    @classmethod
    def for_values(
        cls,
        direction: str,
        params: Mapping[str, float],
        values_file: str | os.PathLike[str],
        config: Mapping[str, Any] | None = None,
        program: str = "",
    ) -> Record:
        """The record of a gradient of the (already written) ``values_file``: its
        absolute path and the sha256 of its bytes."""
        return cls(
            direction,
            params,
            os.path.abspath(values_file),
            sha256_file(values_file),
            config,
            program,
        )

    def to_json(self) -> dict[str, Any]:
        """The record as JSON types."""
        return {
            "direction": self.direction,
            "param_names": list(self.names),
            "params": dict(self.params),
            "values_file": {"path": self.values_path, "sha256": self.values_sha256},
            "config": None if self.config is None else dict(self.config),
            "program": self.program,
            "diffana_version": self.version,
        }

    @classmethod
    def from_json(cls, data: Any, where: str = "record") -> Record:
        """The record `to_json` wrote; ChainError naming ``where`` (the file) when
        a key is missing or of the wrong type."""
        try:
            names = list(data["param_names"])
            params = dict(data["params"])
            if names != list(params):
                msg = f"{where}: param_names {names} differ from params {list(params)}"
                raise ChainError(msg)
            values = data["values_file"]
            return cls(
                str(data["direction"]),
                {k: float(v) for k, v in params.items()},
                str(values["path"]),
                str(values["sha256"]),
                data.get("config"),
                str(data.get("program", "")),
                str(data["diffana_version"]),
            )
        except ChainError:
            raise
        except (KeyError, TypeError, ValueError) as e:
            msg = f"{where}: not a diffana gradient record ({type(e).__name__}: {e})"
            raise ChainError(msg) from None

    # ---- the checks made on reading -----------------------------------------------

    def check_values(self, values_file: str | os.PathLike[str], where: str) -> None:
        """ChainError unless ``values_file``'s bytes are those the gradient
        ``where`` was computed for."""
        actual = sha256_file(values_file)
        if actual != self.values_sha256:
            msg = (
                f"{where} belongs to the values file {self.values_path} (sha256 "
                f"{self.values_sha256[:12]}), not to {os.fspath(values_file)} (sha256 "
                f"{actual[:12]}): pass the values file it was written with"
            )
            raise ChainError(msg)

    def check_names(self, expected: Sequence[str], where: str) -> None:
        """ChainError unless the tangents are w.r.t. ``expected`` (names and
        order)."""
        if list(self.names) != list(expected):
            msg = (
                f"{where}: tangents w.r.t. parameters {list(self.names)}, expected "
                f"{list(expected)}"
            )
            raise ChainError(msg)

    def check_direction(self, expected: str, where: str) -> None:
        """ChainError unless the file holds ``expected`` gradients."""
        if self.direction != expected:
            msg = (
                f"{where}: holds {_WHAT[self.direction]}, expected "
                f"{_WHAT.get(expected, expected)}"
            )
            raise ChainError(msg)
