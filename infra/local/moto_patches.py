"""Keeps moto's DynamoDB transactions as cheap locally as they are in AWS.

moto 5.2 backs up every table a transaction touches with `copy.deepcopy` before applying it, and
restores the copy when a condition fails: each transaction costs time in proportion to the whole
table (a few thousand items make each one take seconds). This patch snapshots only the items the
transaction names and restores those. It relies on the local stack serving moto one request at a
time (stack.py's `start_moto`), as the original's whole-table restore already did.
"""

import copy

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models.table import Table


class _NoTableCopies:
    """`copy` as moto's DynamoDB backend sees it: tables are not copied (their items are
    snapshotted by the wrapper below); everything else is."""

    @staticmethod
    def deepcopy(value, *args, **kwargs):
        return value if isinstance(value, Table) else copy.deepcopy(value, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(copy, name)


def _key_of(backend, op: dict) -> tuple[str, dict] | None:
    table_name = op.get("TableName")
    if table_name not in backend.tables:
        return None
    if "Key" in op:
        return table_name, op["Key"]
    table = backend.tables[table_name]
    item = op.get("Item", {})
    key = {table.hash_key_attr: item.get(table.hash_key_attr)}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = item.get(table.range_key_attr)
    return table_name, key


def apply() -> None:
    backend_class = dynamodb_models.DynamoDBBackend
    if getattr(backend_class, "_steward_patched", False):
        return
    original = backend_class.transact_write_items
    dynamodb_models.copy = _NoTableCopies()

    def transact_write_items(self, transact_items):
        snapshots = []
        for entry in transact_items:
            _, op = next(iter(entry.items()))
            target = _key_of(self, op) if isinstance(op, dict) else None
            if target is None:
                continue
            table_name, key = target
            try:
                current = self.get_item(table_name, key)
            except Exception:  # an invalid key: the transaction itself reports it
                continue
            snapshots.append((table_name, key, copy.deepcopy(current.to_json()["Attributes"]) if current else None))
        try:
            return original(self, transact_items)
        except Exception:
            for table_name, key, attributes in reversed(snapshots):
                if attributes is None:
                    if self.get_item(table_name, key) is not None:
                        self.delete_item(table_name, key)
                else:
                    self.put_item(table_name, attributes)
            raise

    backend_class.transact_write_items = transact_write_items
    backend_class._steward_patched = True
