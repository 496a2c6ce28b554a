"""Keeps moto's DynamoDB as cheap locally as it is in AWS, and its answers DynamoDB's: transactions
snapshot only their items, consumed capacity is counted by DynamoDB's rules, and queries read one
partition (see each part below). Also Cognito's: a user pool finds its users by name as its
UsernameConfiguration says (case-insensitively when CaseSensitive is false), and a client with
PreventUserExistenceErrors does not tell an unknown name from a wrong password, as Cognito does.

moto 5.2 backs up every table a transaction touches with `copy.deepcopy` before applying it, and
restores the copy when a condition fails: each transaction costs time in proportion to the whole
table (a few thousand items make each one take seconds). This patch snapshots only the items the
transaction names and restores those. It relies on the local stack serving moto one request at a
time (moto_server.py's `start_moto`), as the original's whole-table restore already did.
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
    apply_capacity()
    apply_partitioned_queries()
    apply_cognito()


# --- consumed capacity, as DynamoDB computes it ------------------------------------------------
#
# moto answers ReturnConsumedCapacity with constants (1 unit per write, an empty list for
# transactions). `make bench` reports what Steward's operations cost, so this applies DynamoDB's
# documented rules instead: a write is 1 WCU per started KB of the larger of the item before and
# after, a read 1 RCU per started 4 KB (half for eventually consistent reads), each write to the
# table's index (KEYS_ONLY: one unit) on top, and a transaction twice all of that (the
# conservative reading: the documentation doubles the table's units and does not say for indexes). A query or scan is
# charged for the items it returns here (DynamoDB charges the ones it reads before a filter).

import itertools
import math
import re
import threading
from collections import deque

from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.responses import DynamoHandler

_WRITE_UNIT = 1024
_READ_UNIT = 4096

# make bench (BENCH=1, `record_writes`): each write's units, by the caller's access key, so that
# the bench can say where one request's write units go (which item, how large, in which call).
# The items are named by their keys' fixed prefixes (`EMAIL/PROFILE`, `RATE#ip/WINDOW`); an id
# shows as `…`.
_WRITES: dict[str, deque] | None = None
_WRITES_LOCK = threading.Lock()
_WRITE_SEQUENCE = itertools.count(1)
_CALL_SEQUENCE = itertools.count(1)
_ACCESS_KEY = re.compile(r"Credential=([^/]+)/")


def record_writes() -> None:
    global _WRITES
    _WRITES = {}


def writes_of(access_key: str) -> list[dict]:
    """The last writes made with `access_key`, oldest first, each with a sequence number."""
    with _WRITES_LOCK:
        return list((_WRITES or {}).get(access_key, ()))


# An id is a run of letters and digits with a digit in it, or a long run of hex digits: fixed words
# (`DELIVERY_DEAD`, `SENT`) stay.
_ID_PART = re.compile(r"[A-Za-z0-9]*\d[A-Za-z0-9]*|[0-9a-fA-F]{8,}")


def _item_name(key: dict) -> str:
    def prefix(value: dict | None, parts: int) -> str:
        text = str(next(iter((value or {}).values()), ""))
        # A key that is an id throughout (a delivery's, a message's) keeps its shape, not its id:
        # `evt_….crm`, `confirm-…-…-…`.
        return _ID_PART.sub("…", "#".join(text.split("#")[:parts]))

    pk, sk = key.get("pk"), key.get("sk")
    # A rate counter's partition names its scope (ip, email, email-day) before the subject.
    return f"{prefix(pk, 2 if prefix(pk, 1) == 'RATE' else 1)}/{prefix(sk, 1)}"


def _record(handler, call: str, writes: list[tuple[str, dict, int, float]]) -> None:
    """Records one call's writes: (what, key, bytes, units) each."""
    if _WRITES is None:
        return
    found = _ACCESS_KEY.search(handler.headers.get("Authorization", ""))
    if found is None:
        return
    number = next(_CALL_SEQUENCE)
    with _WRITES_LOCK:
        kept = _WRITES.setdefault(found[1], deque(maxlen=500))
        for what, key, size, units in writes:
            kept.append({"seq": next(_WRITE_SEQUENCE), "call": number, "operation": call, "what": what,
                         "item": _item_name(key), "bytes": size, "units": units})


def _item_size(attributes: dict | None) -> int:
    if not attributes:
        return 0
    return sum(len(name.encode()) + DynamoType(value).size() for name, value in attributes.items())


def _stored(backend, table_name: str, key: dict) -> dict | None:
    try:
        item = backend.get_item(table_name, key)
    except Exception:
        return None
    return item.to_json()["Attributes"] if item else None


def _index_writes(backend, table_name: str, before: dict | None, after: dict | None) -> int:
    """Writes to the global secondary indexes: a put where an item enters one, a delete where it
    leaves, both where its index key changes."""
    writes = 0
    for index in backend.tables[table_name].global_indexes:
        names = [part["AttributeName"] for part in index.schema]
        old = tuple(str((before or {}).get(n)) for n in names) if before and all(n in before for n in names) else None
        new = tuple(str((after or {}).get(n)) for n in names) if after and all(n in after for n in names) else None
        if old != new:
            writes += (old is not None) + (new is not None)
    return writes


def _write_units(backend, table_name: str, before: dict | None, after: dict | None) -> float:
    size = max(_item_size(before), _item_size(after))
    return max(1, math.ceil(size / _WRITE_UNIT)) + _index_writes(backend, table_name, before, after)


def _read_units(sizes: list[int], consistent: bool) -> float:
    units = max(1, math.ceil(sum(sizes) / _READ_UNIT))
    return units if consistent else units / 2


def _report(handler, result, table_name: str, units: float, listed: bool = False) -> None:
    if handler.body.get("ReturnConsumedCapacity", "NONE") == "NONE":
        return
    capacity = {"TableName": table_name, "CapacityUnits": units}
    result.result["ConsumedCapacity"] = [capacity] if listed else capacity


def _metered_write(original, operation: str):
    def wrapper(self):
        table_name = self.body["TableName"]
        target = _key_of(self.dynamodb_backend, self.body)
        before = _stored(self.dynamodb_backend, *target) if target else None
        result = original(self)
        after = _stored(self.dynamodb_backend, *target) if target else None
        units = _write_units(self.dynamodb_backend, table_name, before, after)
        _report(self, result, table_name, units)
        if target:
            size = max(_item_size(before), _item_size(after))
            _record(self, operation, [(operation, target[1], size, units)])
        return result

    return wrapper


def _metered_get(original):
    def wrapper(self):
        result = original(self)
        item = result.result.get("Item")
        _report(self, result, self.body["TableName"], _read_units([_item_size(item)], self.body.get("ConsistentRead", False)))
        return result

    return wrapper


def _metered_query(original):
    def wrapper(self):
        result = original(self)
        sizes = [_item_size(item) for item in result.result.get("Items", [])]
        _report(self, result, self.body["TableName"], _read_units(sizes, self.body.get("ConsistentRead", False)))
        return result

    return wrapper


def _metered_transaction(original):
    def wrapper(self):
        backend = self.dynamodb_backend
        targets = []
        for entry in self.body.get("TransactItems", []):
            kind, op = next(iter(entry.items()))
            target = _key_of(backend, op)
            if target:
                targets.append((kind, target, _stored(backend, *target)))
        result = original(self)
        units: dict[str, float] = {}
        recorded = []
        for kind, (table_name, key), before in targets:
            after = before if kind == "ConditionCheck" else _stored(backend, table_name, key)
            item_units = 2 * _write_units(backend, table_name, before, after)
            units[table_name] = units.get(table_name, 0) + item_units
            recorded.append((kind, key, max(_item_size(before), _item_size(after)), item_units))
        _record(self, "TransactWriteItems", recorded)
        if self.body.get("ReturnConsumedCapacity", "NONE") != "NONE":
            result.result["ConsumedCapacity"] = [
                {"TableName": name, "CapacityUnits": total, "WriteCapacityUnits": total} for name, total in units.items()
            ]
        return result

    return wrapper


# --- transactions' idempotency tokens, as DynamoDB keeps them ---------------------------------
#
# DynamoDB treats a TransactWriteItems carrying a ClientRequestToken it saw in the last 10 minutes,
# with the same items, as the same transaction: it succeeds again without writing twice (and a
# different request with that token is refused). moto ignores the token, so an SDK's retry after a
# lost answer would meet its own transaction's conditions; this keeps AWS's behaviour.

import json
import time

from moto.core.exceptions import JsonRESTError

_IDEMPOTENCY_WINDOW_SECONDS = 600
_TRANSACTIONS_BY_TOKEN: dict[str, tuple[float, str, object]] = {}


class IdempotentParameterMismatch(JsonRESTError):
    code = 400

    def __init__(self):
        super().__init__("IdempotentParameterMismatchException", "The request uses the same client token as a previous, but non-identical request.")


def _idempotent_transaction(original):
    def wrapper(self):
        token = self.body.get("ClientRequestToken")
        if not token:
            return original(self)
        items = json.dumps(self.body.get("TransactItems", []), sort_keys=True)
        now = time.time()
        if len(_TRANSACTIONS_BY_TOKEN) > 1000:
            for old in [t for t, (at, _, _) in _TRANSACTIONS_BY_TOKEN.items() if now - at > _IDEMPOTENCY_WINDOW_SECONDS]:
                del _TRANSACTIONS_BY_TOKEN[old]
        seen = _TRANSACTIONS_BY_TOKEN.get(token)
        if seen is not None:
            if seen[1] != items:
                raise IdempotentParameterMismatch()
            return seen[2]
        result = original(self)
        _TRANSACTIONS_BY_TOKEN[token] = (now, items, result)
        return result

    return wrapper


def apply_capacity() -> None:
    if getattr(DynamoHandler, "_steward_capacity", False):
        return
    for name, operation in (("put_item", "PutItem"), ("update_item", "UpdateItem"), ("delete_item", "DeleteItem")):
        setattr(DynamoHandler, name, _metered_write(getattr(DynamoHandler, name), operation))
    DynamoHandler.get_item = _metered_get(DynamoHandler.get_item)
    DynamoHandler.query = _metered_query(DynamoHandler.query)
    DynamoHandler.scan = _metered_query(DynamoHandler.scan)
    DynamoHandler.transact_write_items = _idempotent_transaction(_metered_transaction(DynamoHandler.transact_write_items))
    DynamoHandler._steward_capacity = True


# Who each local access key is (iam.py): sts:GetCallerIdentity answers with the
# function's assumed role, or the operator's, as AWS does for their temporary credentials.
LOCAL_IDENTITIES: dict[str, str] = {}


def apply_identities(identities: dict[str, str]) -> None:
    import zlib

    from moto.sts.models import STSBackend

    LOCAL_IDENTITIES.update(identities)
    original = STSBackend.get_caller_identity
    if getattr(original, "_steward_local", False):
        return

    def get_caller_identity(self, access_key_id, region):
        arn = LOCAL_IDENTITIES.get(access_key_id)
        if arn is None:
            return original(self, access_key_id, region)
        role = arn.split("/")[1]
        return f"AROA{zlib.crc32(role.encode()):012d}:{arn.rsplit('/', 1)[1]}", arn, arn.split(":")[4]

    get_caller_identity._steward_local = True
    STSBackend.get_caller_identity = get_caller_identity


# --- queries that read one partition, as DynamoDB does -----------------------------------------
#
# moto 5.2 answers every Query by sorting the whole table (`Table.all_items`) and then keeping the
# partition asked for: a query costs time in proportion to everything the stack ever stored, so
# after a long test session (hundreds of thousands of items) each one takes seconds and calls
# time out. DynamoDB reads only the partition. These patches give moto the same shape: a table
# query reads its partition, and an index query reads the items an index map names for its key,
# kept up to date by every write (put, delete, update, and so batch writes and transactions,
# which use them). moto's own query code still applies every condition, filter, order, page and
# projection to the candidates, so answers are unchanged; only what it has to look at shrinks.

from moto.dynamodb.models import DynamoDBBackend as _Backend


def _primary(item):
    return (item.hash_key, item.range_key)


def _index_key(index, attrs):
    """The item's key in `index` (its hash attributes' values), or None when it is not in it (a
    key attribute missing, or of a type no key can have, which DynamoDB would refuse)."""
    values = []
    for part in index.schema:
        if part["KeyType"] != "HASH":
            continue
        value = attrs.get(part["AttributeName"])
        if value is None or value.type not in ("S", "N", "B"):
            return None
        values.append(value)
    for part in index.schema:
        if part["KeyType"] == "RANGE" and attrs.get(part["AttributeName"]) is None:
            return None
    return tuple(values)


def _index_shape(table):
    return tuple((index.name, repr(index.schema)) for index in table.global_indexes or [])


def _maps(table):
    """The table's index maps (by index key; by primary key), built from what it holds when it has
    none, or its indexes or items were replaced (an index added by UpdateTable, a restored table),
    and kept by every write after that."""
    maps = table.__dict__.get("_steward_index_maps")
    shape = _index_shape(table)
    stale = table.__dict__.get("_steward_index_shape") != shape or table.__dict__.get("_steward_items") is not table.items
    if maps is None or stale:
        maps = table.__dict__["_steward_index_maps"] = ({}, {})
        table.__dict__["_steward_index_shape"] = shape
        table.__dict__["_steward_items"] = table.items
        for partition in list(table.items.values()):
            for item in (list(partition.values()) if table.range_key_attr else [partition]):
                _place(table, maps, item)
    return maps


def _place(table, maps, item):
    forward, reverse = maps
    primary = _primary(item)
    placed = {}
    for index in table.global_indexes or []:
        key = _index_key(index, item.attrs)
        if key is not None:
            forward.setdefault(index.name, {}).setdefault(key, set()).add(primary)
            placed[index.name] = key
    if placed:
        reverse[primary] = placed


def _unindex(table, primary):
    forward, reverse = _maps(table)
    for index_name, key in reverse.pop(primary, {}).items():
        members = forward.get(index_name, {}).get(key)
        if members is not None:
            members.discard(primary)
            if not members:
                del forward[index_name][key]


def _reindex(table, item):
    try:
        _unindex(table, _primary(item))
        _place(table, _maps(table), item)
    except Exception:
        # Never fail a write for the map's sake: forget it, and the next query rebuilds it.
        table.__dict__.pop("_steward_index_maps", None)


def _stored_item(table, primary):
    hash_key, range_key = primary
    partition = table.items.get(hash_key)
    if partition is None:
        return None
    return partition.get(range_key) if table.range_key_attr else partition


def apply_partitioned_queries() -> None:
    original_put, original_delete, original_query = Table.put_item, Table.delete_item, Table.query
    original_update = _Backend.update_item

    def put_item(self, *args, **kwargs):
        item = original_put(self, *args, **kwargs)
        if item is not None and self.global_indexes:
            _reindex(self, item)
        return item

    def delete_item(self, hash_key, range_key=None, *args, **kwargs):
        deleted = original_delete(self, hash_key, range_key, *args, **kwargs)
        if deleted is not None:
            try:
                _unindex(self, _primary(deleted))
            except Exception:
                self.__dict__.pop("_steward_index_maps", None)  # rebuilt by the next query
        return deleted

    def update_item(self, table_name, key, *args, **kwargs):
        # An update changes the item in place (its index keys with it): whatever happens, the
        # maps follow what is stored afterwards.
        table = self.get_table(table_name)
        try:
            return original_update(self, table_name, key, *args, **kwargs)
        finally:
            if table.global_indexes:
                try:
                    hash_value, range_value = self.get_keys_value(table, key)
                    item = table.get_item(hash_value, range_value)
                except Exception:
                    item = None
                if item is not None:
                    _reindex(table, item)

    def query(self, *args, **kwargs):
        index_name = kwargs["index_name"] if "index_name" in kwargs else (args[7] if len(args) > 7 else None)
        hash_key = kwargs["hash_key"] if "hash_key" in kwargs else (args[0] if args else None)
        candidates = None
        if index_name is None and hash_key is not None:
            partition = self.items.get(hash_key)
            if partition is None:
                candidates = []
            elif self.range_key_attr:
                candidates = list(partition.values())
            else:
                candidates = [partition]
        elif index_name is not None:
            index = next((i for i in self.global_indexes or [] if i.name == index_name), None)
            conditions = dict(kwargs.get("hash_key_conditions") or [])
            if index is not None:
                wanted = []
                for part in index.schema:
                    if part["KeyType"] == "HASH":
                        wanted.append(conditions.get(part["AttributeName"], hash_key if len(conditions) == 0 else None))
                if all(value is not None for value in wanted):
                    primaries = _maps(self)[0].get(index_name, {}).get(tuple(wanted), set())
                    candidates = [item for item in (_stored_item(self, p) for p in primaries) if item is not None]
        if candidates is None:
            return original_query(self, *args, **kwargs)
        # moto's query reads `all_items()`; for this call it reads the candidates (sorted after).
        self.__dict__["all_items"] = lambda: candidates
        try:
            return original_query(self, *args, **kwargs)
        finally:
            self.__dict__.pop("all_items", None)

    Table.put_item = put_item
    Table.delete_item = delete_item
    Table.query = query
    _Backend.update_item = update_item


# --- Cognito: user names as the pool's UsernameConfiguration says -----------------------------------


def apply_cognito() -> None:
    """A pool with `UsernameConfiguration: {CaseSensitive: false}` (template.yaml's staff pool)
    finds a user whatever the case of the name or the email typed, as Cognito does; moto compares
    exactly. Every lookup by name (sign-in, admin calls, a refused duplicate) goes through
    `_get_user`. A pool without the setting stays case-sensitive, as Cognito's API default is."""
    from moto.cognitoidp.models import CognitoIdpUserPool, flatten_attrs

    if getattr(CognitoIdpUserPool, "_steward_case", False):
        return
    original = CognitoIdpUserPool._get_user

    def _get_user(self, username):
        user = original(self, username)
        insensitive = (self.extended_config.get("UsernameConfiguration") or {}).get("CaseSensitive") is False
        if user is not None or not insensitive or not isinstance(username, str):
            return user
        wanted = username.casefold()
        attribute_types = self.extended_config.get("UsernameAttributes") or []
        for candidate in self.users.values():
            names = [candidate.username] + [flatten_attrs(candidate.attributes).get(kind) for kind in attribute_types]
            if any(isinstance(name, str) and name.casefold() == wanted for name in names):
                return candidate
        return None

    CognitoIdpUserPool._get_user = _get_user
    CognitoIdpUserPool._steward_case = True

    # A client with `PreventUserExistenceErrors: ENABLED` (the staff console's) answers a sign-in
    # with an unknown name as it answers a wrong password, as Cognito does; moto tells them apart.
    from moto.cognitoidp.exceptions import NotAuthorizedError, UserNotFoundError
    from moto.cognitoidp.models import CognitoIdpBackend

    original_initiate = CognitoIdpBackend.initiate_auth

    def initiate_auth(self, client_id, *args, **kwargs):
        try:
            return original_initiate(self, client_id, *args, **kwargs)
        except UserNotFoundError:
            client = next((pool.clients[client_id] for pool in self.user_pools.values() if client_id in pool.clients), None)
            if client is not None and client.extended_config.get("PreventUserExistenceErrors") == "ENABLED":
                raise NotAuthorizedError("Incorrect username or password.") from None
            raise

    CognitoIdpBackend.initiate_auth = initiate_auth
