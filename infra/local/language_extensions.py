#!/usr/bin/env python3
"""Writes template.yaml with its Fn::ForEach loops written out (`--help` says how); the code is
`steward_local/language_extensions.py` beside this file."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from steward_local.language_extensions import main  # noqa: E402

if __name__ == "__main__":
    main()
