"""What AWS does over time that moto does not, so that a stack that has run all day answers as
fast as a new one: DynamoDB deletes items whose TTL has passed (here after `LOCAL_TTL_GRACE_SECONDS`,
as AWS too deletes them some time after they expire; Steward's reads never trust an expired
item meanwhile), and the dev mailbox keeps the newest `LOCAL_MAILBOX_KEEP` messages (SES keeps
none: it sends them). Without this moto keeps every object it ever made, and each request pays
for all of them.

It runs every `LOCAL_HOUSEKEEPING_SECONDS` in the stack's own process, under moto's one lock for
the moments it changes moto's state, and logs what it removed."""

from __future__ import annotations

import threading
import time

from .config import log


class Housekeeping:
    def __init__(self, lock: threading.Lock, settings: dict[str, str]):
        self.lock = lock
        self.every = float(settings.get("LOCAL_HOUSEKEEPING_SECONDS", "60"))
        self.grace = float(settings.get("LOCAL_TTL_GRACE_SECONDS", "21600"))
        self.mailbox_keep = int(settings.get("LOCAL_MAILBOX_KEEP", "10000"))

    def start(self) -> None:
        threading.Thread(target=self._run, name="housekeeping", daemon=True).start()

    def _run(self) -> None:
        while True:
            time.sleep(self.every)
            try:
                self.run_once(time.time())
            except Exception as err:  # housekeeping must never take the stack down
                log(f"housekeeping failed: {err!r}")

    def run_once(self, now: float) -> tuple[int, int]:
        expired = self.expire_items(now - self.grace)
        dropped = self.trim_mailbox()
        if expired or dropped:
            log(f"housekeeping: {expired} expired items deleted (TTL), {dropped} old messages dropped from the dev mailbox")
        return expired, dropped

    def expire_items(self, cutoff: float) -> int:
        from moto.dynamodb.models import dynamodb_backends

        deleted = 0
        for _, regions in list(dynamodb_backends.items()):
            for _, backend in list(regions.items()):
                for table in list(backend.tables.values()):
                    ttl = getattr(table, "ttl", None) or {}
                    if ttl.get("TimeToLiveStatus") != "ENABLED" or not ttl.get("AttributeName"):
                        continue
                    deleted += self._expire(table, ttl["AttributeName"], cutoff)
        return deleted

    def _expire(self, table, attribute: str, cutoff: float) -> int:
        def expired(item) -> bool:
            value = item.attrs.get(attribute)
            # DynamoDB's rule: a number of epoch seconds; anything else never expires.
            if value is None or value.type != "N":
                return False
            try:
                return float(value.value) < cutoff
            except ValueError:
                return False

        # One pass under the lock (moto's dicts change under writes); the deletes follow in batches.
        with self.lock:
            partitions = list(table.items.values())
            if table.range_key_attr:
                candidates = [item for partition in partitions for item in partition.values()]
            else:
                candidates = partitions
            doomed = [(item.hash_key, item.range_key) for item in candidates if expired(item)]
        deleted = 0
        # In small batches, each under the lock: requests go on meanwhile.
        for start in range(0, len(doomed), 500):
            with self.lock:
                for hash_key, range_key in doomed[start:start + 500]:
                    current = table.get_item(hash_key, range_key)
                    if current is not None and expired(current):
                        table.delete_item(hash_key, range_key)
                        deleted += 1
        return deleted

    def trim_mailbox(self) -> int:
        from moto.ses.models import ses_backends

        from . import devtools

        dropped = 0
        with self.lock:
            for _, regions in list(ses_backends.items()):
                for _, backend in list(regions.items()):
                    extra = len(backend.sent_messages) - self.mailbox_keep
                    if extra > 0:
                        gone = backend.sent_messages[:extra]
                        del backend.sent_messages[:extra]
                        devtools.forget([getattr(message, "id", None) for message in gone])
                        dropped += extra
        return dropped
