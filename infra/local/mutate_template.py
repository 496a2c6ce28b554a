#!/usr/bin/env python3
"""Writes a changed copy of template.yaml (`--help` says how); the code is
`steward_local/mutate_template.py` beside this file."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from steward_local.mutate_template import main  # noqa: E402

if __name__ == "__main__":
    main()
