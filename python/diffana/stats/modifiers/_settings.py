# SPDX-License-Identifier: BSD-3-Clause
"""pyhf's ``modifier_settings``: which `Effect` each modifier type gets.

A type that takes settings lists its interpolation codes and their effects in
`Modifier.interpcodes`; `effects_for` reads a ``modifier_settings`` dict with
pyhf's rules (its defaults without one, each modifier's fallback for a type the
dict leaves out) and checks it.

Imports `.._common` and `._base`; the table (`histfactory_set`) is passed in,
so that this module does not import the package's ``__init__``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._common import _fail
from ._base import Effect, Modifier


def effects_for(
    table: Mapping[str, Modifier], settings: Mapping[str, Any] | None
) -> dict[str, Effect]:
    """The effect of each modifier type of ``table`` under pyhf's ``modifier_settings``.

    As pyhf: ``None`` gives its defaults (code 4 for normsys, 4p for histosys);
    a mapping gives each type its ``interpcode``, and a type it leaves out the
    code pyhf's modifier falls back to (code 1 for normsys, 0 for histosys).

    Raises
    ------
    WorkspaceError
        An unknown type or setting, or a code the type does not support.

    Examples
    --------
    >>> from diffana.stats.modifiers import effects_for, histfactory_set
    >>> effects = effects_for(histfactory_set, None)
    >>> effects["normsys"], effects["histosys"]
    (Code4Factor(), Code4pDelta())
    >>> effects = effects_for(histfactory_set, {"normsys": {"interpcode": "code4"}})
    >>> effects["normsys"], effects["histosys"]
    (Code4Factor(), Code0Delta())
    """
    if settings is None:
        return {t: m.effect for t, m in table.items()}
    if not isinstance(settings, Mapping):
        raise _fail(
            "modifier_settings must be a dict such as "
            '{"normsys": {"interpcode": "code4"}}, '
            f"not {type(settings).__name__}"
        )
    unknown = sorted(str(k) for k in settings if k not in table)
    if unknown:
        raise _fail(
            f"modifier_settings: unknown modifier type(s) {unknown} "
            f"(known: {', '.join(table)})"
        )
    out: dict[str, Effect] = {}
    for t, modifier in table.items():
        entry = settings.get(t, {})
        if not isinstance(entry, Mapping):
            raise _fail(f"modifier_settings[{t!r}] must be a dict, not {entry!r}")
        extra = sorted(str(k) for k in entry if k != "interpcode")
        if extra or ("interpcode" in entry and not modifier.interpcodes):
            keys = extra or ["interpcode"]
            raise _fail(f"modifier_settings[{t!r}]: {t} takes no setting {keys}")
        if not modifier.interpcodes:
            out[t] = modifier.effect
            continue
        code = entry.get("interpcode", modifier.fallback_interpcode)
        if code not in modifier.interpcodes:
            raise _fail(
                f"modifier_settings[{t!r}]: interpcode {code!r} is not supported "
                f"for {t} (supported: {', '.join(modifier.interpcodes)})"
            )
        out[t] = modifier.interpcodes[code]
    return out
