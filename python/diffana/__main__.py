# SPDX-License-Identifier: BSD-3-Clause
"""``python -m diffana``: the same command line as the ``diffana`` script."""

from __future__ import annotations

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
