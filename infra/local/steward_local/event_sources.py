"""The events that invoke functions other than HTTP: Lambda's SQS event source mapping (a queue's
messages in batches) and the template's `Schedule` events (EventBridge's scheduled event)."""

from __future__ import annotations

import json
import threading
import time
import uuid

from .config import ACCOUNT_ID, log
from .runtime import LocalFunction


# --- event source mappings: SQS -> function ---------------------------------------------------


class SqsPoller:
    """Lambda's SQS event source mapping: receive a batch, invoke, delete what succeeded. With
    ReportBatchItemFailures only the failed messages stay for redelivery; on a function error all do."""

    def __init__(self, function: LocalFunction, queue_arn: str, batch_size: int, endpoint: str, region: str,
                 access_key: str, secret_key: str):
        import boto3

        self.function = function
        self.queue_arn = queue_arn
        self.batch_size = max(1, min(int(batch_size), 10))
        self.region = region
        session = boto3.session.Session(region_name=region, aws_access_key_id=access_key, aws_secret_access_key=secret_key)
        self.sqs = session.client("sqs", endpoint_url=endpoint)
        # The mapping knows its queue by ARN: the URL is looked up as the stack, not as the role.
        admin = boto3.session.Session(region_name=region).client("sqs", endpoint_url=endpoint)
        self.queue_url = admin.get_queue_url(QueueName=queue_arn.rsplit(":", 1)[1])["QueueUrl"]
        self.stopping = False

    def start(self) -> None:
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while not self.stopping:
            try:
                self._poll_once()
            except Exception as err:  # keep polling, as Lambda does, whatever one batch did
                if not self.stopping:
                    log(f"SQS poller for {self.function.logical}: {err}")
                    time.sleep(1)

    def _poll_once(self) -> None:
        received = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            # No long polling: moto would hold its (serialising) lock while it waits.
            WaitTimeSeconds=0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not received:
            time.sleep(0.2)
            return
        records = [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": m.get("MessageAttributes", {}),
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": self.queue_arn,
                "awsRegion": self.region,
            }
            for m in received
        ]
        response, error = self.function.invoke({"Records": records})
        if error is not None:
            log(f"{self.function.logical} failed a batch: {error.get('errorMessage')}")
            return
        try:
            failures = {f["itemIdentifier"] for f in (json.loads(response or b"{}") or {}).get("batchItemFailures", [])}
        except (ValueError, AttributeError, TypeError):
            failures = {r["messageId"] for r in records}
        for message in received:
            if message["MessageId"] not in failures:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])


# --- schedules: EventBridge -> function ---------------------------------------------------------


class Schedule:
    """A template `Schedule` event: the function is invoked with EventBridge's scheduled event,
    every LOCAL_SCHEDULE_SECONDS locally (its rate in AWS), never twice at once."""

    def __init__(self, function: LocalFunction, expression: str, every: float, region: str):
        self.function = function
        self.expression = expression
        self.every = every
        self.region = region
        self.stopping = False

    def start(self) -> None:
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while not self.stopping:
            time.sleep(self.every)
            event = {
                "version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
                "account": ACCOUNT_ID, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "region": self.region,
                "resources": [f"arn:aws:events:{self.region}:{ACCOUNT_ID}:rule/{self.function.logical}"], "detail": {},
            }
            _, error = self.function.invoke(event)
            if error is not None and not self.stopping:
                log(f"{self.function.logical} (scheduled) failed: {error.get('errorMessage')}")
