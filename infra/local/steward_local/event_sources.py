"""The events that invoke functions other than HTTP: Lambda's SQS event source mapping (a queue's
messages in batches) and the template's `Schedule` events (EventBridge's scheduled event, on its
own and on demand at POST /_local/schedules/<LogicalId>)."""

from __future__ import annotations

import datetime
import json
import re
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
    never twice at once (its own runs and those asked for at POST /_local/schedules/<LogicalId>).

    When it runs by itself: a `rate(...)` every `every` seconds locally (LOCAL_SCHEDULE_SECONDS, or
    LOCAL_SCHEDULE_SECONDS_<LogicalId>), not at its rate; a `cron(...)` at its own times, in UTC as
    EventBridge reads it (a daily job runs daily: run it on demand to see it now), unless
    LOCAL_SCHEDULE_SECONDS_<LogicalId> gives it a local interval (`every`)."""

    def __init__(self, function: LocalFunction, expression: str, every: float | None, region: str):
        self.function = function
        self.expression = expression.strip()
        self.region = region
        self.stopping = False
        self.lock = threading.Lock()
        self.cron = None
        if self.expression.startswith("cron(") and every is None:
            try:
                self.cron = Cron(self.expression)
            except ValueError as err:
                # Never a reason not to start: the function still runs on demand.
                log(f"{function.logical}: {self.expression} is not run by itself locally ({err}); run it with POST /_local/schedules/{function.logical}")
        elif not self.expression.startswith(("rate(", "cron(")):
            raise SystemExit(f"{function.logical}: {self.expression} is not a schedule expression (rate(...) or cron(...))")
        self.every = every if every is not None else (None if self.expression.startswith("cron(") else 60.0)

    def describe(self) -> dict:
        following = self.cron.next_after(datetime.datetime.now(datetime.timezone.utc)) if self.cron else None
        return {
            "function": self.function.logical, "schedule": self.expression, "every_seconds": self.every,
            "next": following.strftime("%Y-%m-%dT%H:%M:%SZ") if following else None,
        }

    def when(self) -> str:
        """How it runs locally, for the stack's log."""
        if self.every is not None:
            return f"every {self.every:g} s locally"
        if self.cron is not None:
            following = self.cron.next_after(datetime.datetime.now(datetime.timezone.utc))
            return f"at its times (UTC), next {following:%Y-%m-%d %H:%M}" if following else "never by itself"
        return "on demand only"

    def start(self) -> None:
        threading.Thread(target=self._run, daemon=True).start()

    def event(self) -> dict:
        return {
            "version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
            "account": ACCOUNT_ID, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "region": self.region,
            "resources": [f"arn:aws:events:{self.region}:{ACCOUNT_ID}:rule/{self.function.logical}"], "detail": {},
        }

    def run_now(self) -> tuple[bytes | None, dict | None]:
        """Runs the function once with a scheduled event, after any run in progress; returns its
        response and error, as Lambda's invocation gives them."""
        with self.lock:
            return self.function.invoke(self.event())

    def _sleep_until(self, moment: float) -> bool:
        while not self.stopping and time.time() < moment:
            time.sleep(min(1.0, max(moment - time.time(), 0)))
        return not self.stopping

    def _run(self) -> None:
        while not self.stopping:
            if self.every is not None:
                time.sleep(self.every)
            elif self.cron is not None:
                following = self.cron.next_after(datetime.datetime.now(datetime.timezone.utc))
                if following is None or not self._sleep_until(following.timestamp()):
                    return
            else:
                return
            if self.stopping:
                return
            _, error = self.run_now()
            if error is not None and not self.stopping:
                log(f"{self.function.logical} (scheduled) failed: {error.get('errorMessage')}")


class Cron:
    """EventBridge's `cron(minutes hours day-of-month month day-of-week year)`, in UTC: numbers,
    `*`, `?`, ranges, lists, `/` steps, names (JAN-DEC, SUN-SAT; day-of-week 1 is Sunday), and `L`
    (the month's last day), `W` (the weekday nearest a day) and `#` (the nth weekday of the month)."""

    MONTHS = {name: n for n, name in enumerate(["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1)}
    DAYS = {name: n for n, name in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], 1)}

    def __init__(self, expression: str):
        inner = expression.strip()
        if not (inner.startswith("cron(") and inner.endswith(")")):
            raise ValueError("not cron(...)")
        fields = inner[5:-1].split()
        if len(fields) != 6:
            raise ValueError("a cron expression has six fields")
        minutes, hours, dom, month, dow, year = fields
        if (dom == "?") == (dow == "?"):
            raise ValueError("one of day-of-month and day-of-week must be ?, not both")
        self.minutes = self._values(minutes, 0, 59)
        self.hours = self._values(hours, 0, 23)
        self.months = self._values(month, 1, 12, self.MONTHS)
        self.years = self._values(year, 1970, 2199)
        self.dom, self.dow = dom.upper(), dow.upper()
        if dom != "?" and not re.fullmatch(r"L|L-\d+|LW|\d+W", self.dom):
            self.dom_values = self._values(dom, 1, 31)
        if dow != "?" and not re.fullmatch(r"[0-9A-Z]+L|[0-9A-Z]+#[1-5]", self.dow):
            self.dow_values = self._values(dow, 1, 7, self.DAYS)

    @staticmethod
    def _values(text: str, low: int, high: int, names: dict[str, int] | None = None) -> set[int]:
        def number(token: str) -> int:
            token = token.upper()
            value = names[token] if names and token in names else int(token)
            if not low <= value <= high:
                raise ValueError(f"{value} is out of range {low}-{high}")
            return value

        values: set[int] = set()
        for part in text.split(","):
            span, _, step = part.partition("/")
            if span in ("*", "?"):
                first, last = low, high
            elif "-" in span:
                first, last = (number(bound) for bound in span.split("-", 1))
            else:
                first = number(span)
                last = high if step else first
            stride = int(step) if step else 1
            if stride < 1:
                raise ValueError(f"step {step}")
            if first <= last:
                values.update(range(first, last + 1, stride))
            else:  # a range across the end, e.g. FRI-MON
                values.update(v for i, v in enumerate(list(range(first, high + 1)) + list(range(low, last + 1))) if i % stride == 0)
        return values

    def _day_matches(self, day: datetime.date) -> bool:
        last = (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1) - datetime.timedelta(days=1)
        if self.dom != "?":
            if self.dom == "L":
                return day == last
            if self.dom.startswith("L-"):
                return day.day == last.day - int(self.dom[2:])
            if self.dom.endswith("W"):
                wanted = last.day if self.dom == "LW" else min(int(self.dom[:-1]), last.day)
                target = day.replace(day=wanted)
                if target.weekday() == 5:  # Saturday: the Friday before, unless in another month
                    target = target - datetime.timedelta(days=1) if target.day > 1 else target + datetime.timedelta(days=2)
                elif target.weekday() == 6:  # Sunday: the Monday after, unless in another month
                    target = target + datetime.timedelta(days=1) if target.day < last.day else target - datetime.timedelta(days=2)
                return day == target
            return day.day in self.dom_values
        weekday = (day.weekday() + 1) % 7 + 1  # EventBridge: 1 is Sunday
        if self.dow.endswith("L") and self.dow != "L":
            wanted = self.DAYS.get(self.dow[:-1]) or int(self.dow[:-1])
            return weekday == wanted and day + datetime.timedelta(days=7) > last
        if "#" in self.dow:
            name, nth = self.dow.split("#")
            wanted = self.DAYS.get(name) or int(name)
            return weekday == wanted and (day.day - 1) // 7 + 1 == int(nth)
        if self.dow == "L":
            return weekday == 7
        return weekday in self.dow_values

    def next_after(self, moment: datetime.datetime) -> datetime.datetime | None:
        """The first time after `moment` (UTC) the expression names, or None within 5 years."""
        start = moment.replace(second=0, microsecond=0) + datetime.timedelta(minutes=1)
        day = start.date()
        for _ in range(366 * 5):
            if day.year in self.years and day.month in self.months and self._day_matches(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        candidate = datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=datetime.timezone.utc)
                        if candidate >= start:
                            return candidate
            day += datetime.timedelta(days=1)
        return None
