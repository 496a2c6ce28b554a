"""The local stack after a day of use: how long moto takes to answer a table query, an index
query and a put as the table grows, with the local stack's patches (infra/local/steward_local/
moto_patches.py) and without them. moto alone sorts the whole table for every query; the patched
moto reads the partition, or the index map's entries for the key, as DynamoDB does.

    .venv/bin/python bench/aged_stack.py [--sizes 1000,20000,100000]

In-process moto through boto3, one request at a time as the local stack serves it. The figures
are moto's, on this machine: they say how the stack ages, nothing about DynamoDB."""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.update(AWS_DEFAULT_REGION="eu-west-1", AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")


def measure(sizes: list[int], patched: bool) -> list[dict]:
    import boto3
    from moto import mock_aws
    from moto.dynamodb.models import dynamodb_backends

    rows = []
    with mock_aws():
        client = boto3.client("dynamodb")
        client.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "gsi1pk")],
            GlobalSecondaryIndexes=[{"IndexName": "by-profile-id", "KeySchema": [{"AttributeName": "gsi1pk", "KeyType": "HASH"}],
                                     "Projection": {"ProjectionType": "KEYS_ONLY"}}],
            BillingMode="PAY_PER_REQUEST",
        )
        backend = dynamodb_backends["123456789012"]["eu-west-1"]
        stored = 0
        for size in sizes:
            # Profiles as Steward writes them: one in three carries the index key.
            for n in range(stored, size):
                item = {"pk": {"S": f"PROFILE#{n}"}, "sk": {"S": "PROFILE"}, "email": {"S": f"p{n}@example.com"}}
                if n % 3 == 0:
                    item["gsi1pk"] = {"S": f"P{n}"}
                backend.put_item("t", item)
            stored = size

            def timed(call, times=10):
                started = time.perf_counter()
                for _ in range(times):
                    call()
                return (time.perf_counter() - started) / times * 1000

            rows.append({
                "items": size,
                "patched": patched,
                "table_query_ms": timed(lambda: client.query(TableName="t", KeyConditionExpression="pk = :v",
                                                             ExpressionAttributeValues={":v": {"S": "PROFILE#3"}})),
                "index_query_ms": timed(lambda: client.query(TableName="t", IndexName="by-profile-id", KeyConditionExpression="gsi1pk = :v",
                                                             ExpressionAttributeValues={":v": {"S": "P3"}})),
                "put_ms": timed(lambda: client.put_item(TableName="t", Item={"pk": {"S": "PROFILE#new"}, "sk": {"S": "S"}})),
            })
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,20000,100000")
    parser.add_argument("--patched-only", action="store_true")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    rows = [] if args.patched_only else measure(sizes, patched=False)
    sys.path.insert(0, str(ROOT / "infra/local"))
    from steward_local import moto_patches

    moto_patches.apply()
    rows += measure(sizes, patched=True)
    print("| items | moto | table query ms | index query ms | put ms |")
    print("|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['items']:,} | {'patched' if row['patched'] else 'as shipped'} | {row['table_query_ms']:.1f} | "
              f"{row['index_query_ms']:.1f} | {row['put_ms']:.1f} |")


if __name__ == "__main__":
    main()
