# SPDX-License-Identifier: BSD-3-Clause
"""Built-in sample generators: NanoAOD-like ROOT files drawn from a seed.

Two kinds of samples, one module each:

- ``"demo"`` (`diffana.generators.toy`): the toy dijet-resonance search of
  ``diffana demo``: a ``signal`` (X -> jj, m = 400 GeV), ``ttbar`` and ``qcd``, with
  jets, a tagger-like score ``disc`` and pile-up-like weight variations; ``events``
  counts the events of all samples together (20 / 30 / 50 %).
- ``"agc"`` (`diffana.generators.agc`): toy stand-ins for the CMS Open Data files of
  the Analysis Grand Challenge ttbar analysis: ``ttbar``, ``single_top`` and
  ``wjets``, with jets (b-tag score, flavour), electrons and muons; ``events``
  counts the events of each sample.

`generate` picks the kind by name (as ``diffana generate --kind``); the modules keep
their own ``generate``, ``SAMPLES`` and ``DEFAULT_EVENTS``.

Imports numpy (through the generator modules); awkward and uproot load only when
files are written.
"""

from __future__ import annotations

import pathlib
from collections.abc import Sequence
from types import ModuleType

from .._optional import require

require(__name__)  # before the imports: a missing dependency names its extra

from . import agc, toy
from .agc import make_chunk
from .toy import make_sample

__all__ = ["KINDS", "agc", "default_events", "generate", "make_chunk",
           "make_sample", "samples", "toy"]  # fmt: skip

#: The kinds of samples and the modules that generate them: a new kind is a module
#: with ``SAMPLES``, ``DEFAULT_EVENTS`` and ``generate(out, seed, events, samples)``
#: plus one entry here.
_MODULES: dict[str, ModuleType] = {"demo": toy, "agc": agc}
#: The names `generate` accepts as ``kind``.
KINDS: tuple[str, ...] = tuple(_MODULES)


def _module(kind: str) -> ModuleType:
    try:
        return _MODULES[kind]
    except KeyError:
        msg = f"unknown kind of samples {kind!r}; known: {list(KINDS)}"
        raise ValueError(msg) from None


def samples(kind: str) -> tuple[str, ...]:
    """The samples of ``kind``, in the order that fixes their seeds.

    Examples
    --------
    >>> from diffana.generators import samples
    >>> samples("demo")
    ('signal', 'ttbar', 'qcd')
    >>> samples("agc")
    ('ttbar', 'single_top', 'wjets')
    """
    return tuple(_module(kind).SAMPLES)


def default_events(kind: str) -> int:
    """The default ``events`` of ``kind``: in all samples together for ``"demo"``, per
    sample for ``"agc"``.

    Examples
    --------
    >>> from diffana.generators import default_events
    >>> default_events("demo"), default_events("agc")
    (100000, 100000)
    """
    return int(_module(kind).DEFAULT_EVENTS)


def generate(
    kind: str,
    out: str | pathlib.Path,
    seed: int = 1,
    events: int | None = None,
    samples: Sequence[str] | None = None,
) -> dict[str, pathlib.Path]:
    """Write ``<out>/<sample>.root`` for the samples of ``kind`` (``"demo"`` or
    ``"agc"``; default: all of them); returns {sample: path}.

    ``events``: for ``"demo"`` the events of all samples together, shared as in
    `toy.SAMPLES`; for ``"agc"`` the events of each sample (default:
    `default_events`). The same seed and sizes give the same file contents. Raises
    ValueError for an unknown kind or sample or too few events.

    Examples
    --------
    >>> import tempfile, uproot
    >>> from diffana.generators import generate
    >>> paths = generate("demo", tempfile.mkdtemp(), seed=3, events=1000)
    >>> sorted(paths)
    ['qcd', 'signal', 'ttbar']
    >>> uproot.open(paths["signal"])["Events"].num_entries
    200
    >>> generate("zjets", tempfile.mkdtemp())
    Traceback (most recent call last):
    ...
    ValueError: unknown kind of samples 'zjets'; known: ['demo', 'agc']
    """
    module = _module(kind)
    n = default_events(kind) if events is None else int(events)
    paths: dict[str, pathlib.Path] = module.generate(out, seed, n, samples)
    return paths
