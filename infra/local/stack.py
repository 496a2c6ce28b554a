#!/usr/bin/env python3
"""Starts Steward's local stack (`--help` says what it runs); the code is the package
`steward_local/` beside this file."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from steward_local.main import main  # noqa: E402

if __name__ == "__main__":
    main()
