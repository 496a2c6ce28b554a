"""What every part of the local stack shares: where the repository is, the local account, the
stack's log (kept in the --log-dir too, once main() has set EVENTS_LOG) and the env file's reader
(infra/local.env, which `make dev`, the tests and bench.py read as well)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
ACCOUNT_ID = "123456789012"


# With --log-dir, what the stack says is also kept there (stack-events.log), for the tests to read.
EVENTS_LOG: Path | None = None


def log(message: str) -> None:
    print(f"[stack {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
    if EVENTS_LOG is not None:
        with EVENTS_LOG.open("a") as out:
            out.write(f"{time.strftime('%H:%M:%S')} {message}\n")


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
    return values
