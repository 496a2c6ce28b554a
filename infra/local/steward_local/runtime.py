"""The functions: each function's real binary runs as Lambda runs it, polling a local Lambda
Runtime API (the same protocol as AWS), one endpoint per execution environment, with Lambda's
limits on events, responses, timeouts and memory."""

from __future__ import annotations

import json
import queue
import re
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from .config import ACCOUNT_ID, log

RUNTIME_PREFIX = "/2018-06-01/runtime"
# Lambda's limits on a synchronous invocation's event and on its response, as Lambda counts them.
LAMBDA_REQUEST_LIMIT = 6_291_456
LAMBDA_RESPONSE_LIMIT = 6_291_556
# How long a queue's or a schedule's event waits for an environment that never starts (one whose
# start keeps failing) before the invocation fails, as Lambda's does.
UNSTARTED_LIMIT_SECONDS = 30


class QuietServer(ThreadingHTTPServer):
    """Connections that drop while the stack stops are expected, not worth a traceback."""

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


@dataclass
class Invocation:
    request_id: str
    payload: bytes
    deadline_ms: int
    done: threading.Event = field(default_factory=threading.Event)
    response: bytes | None = None
    error: dict | None = None
    # Which worker (execution environment) runs it, and which start of that worker: the one
    # Lambda stops when it times out.
    worker: int | None = None
    spawn: int = 0
    # time.perf_counter() when a worker took it and when it answered: the billed duration.
    started_at: float = 0.0
    finished_at: float = 0.0


def peak_rss_kb(pid: int) -> int:
    """A process's peak resident set (VmHWM), what Lambda reports as Max Memory Used."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class LocalFunction:
    """One function of the template: its Runtime API endpoint and the processes that poll it."""

    def __init__(self, logical: str, binary: Path, env: dict[str, str], timeout: int, workers: int, log_dir: Path | None,
                 memory_mb: int = 128):
        self.logical = logical
        self.binary = binary
        self.env = env
        self.timeout = timeout
        self.memory_mb = memory_mb
        self.workers = workers
        self.log_dir = log_dir
        self.pending: queue.Queue[Invocation] = queue.Queue()
        self.in_flight: dict[str, Invocation] = {}
        self.lock = threading.Lock()
        self.processes: list[subprocess.Popen] = []
        # How often each worker was started: an event is only handed to the worker's current process.
        self.spawns = [0] * workers
        self.stopping = False
        self.supervising = True
        # make bench (BENCH=1): billed durations, and cold starts on demand (see cold_start).
        self.bench = False
        self.durations_ms: list[float] = []
        self.paused = False
        self.generation = 0
        self.first_poll: threading.Event | None = None
        self.first_poll_at = 0.0
        self.cold_started_at = 0.0
        self.last_cold_start: dict = {}
        self.cold_lock = threading.Lock()
        # make bench: the AWS calls this function's binary made so far, by service (moto_server.Gate).
        self.aws_calls = None
        # make bench: this function's last DynamoDB writes, each with its item and units.
        self.dynamodb_writes = None
        # One Runtime API endpoint per worker, as each Lambda execution environment has its own:
        # the stack knows which process runs which invocation, and stops that one when it must.
        self.servers = []
        for index in range(workers):
            server = QuietServer(("127.0.0.1", 0), self._handler_class(index))
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, daemon=True).start()
            self.servers.append(server)

    def start(self) -> None:
        for index in range(self.workers):
            self.processes.append(self._spawn(index))
        threading.Thread(target=self._supervise, daemon=True).start()

    def _spawn(self, index: int, binary: Path | None = None) -> subprocess.Popen:
        self.spawns[index] += 1
        env = {
            **self.env,
            "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{self.servers[index].server_address[1]}",
            "AWS_LAMBDA_FUNCTION_NAME": self.env.get("AWS_LAMBDA_FUNCTION_NAME", self.logical),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{self.logical}",
            "AWS_LAMBDA_LOG_STREAM_NAME": f"local-{index}",
            "_HANDLER": "bootstrap",
        }
        out = None
        if self.log_dir:
            out = open(self.log_dir / f"{self.logical}.log", "ab")
        # Own session: a Ctrl-C at the terminal reaches the stack, which then stops its workers in
        # order, instead of killing them under a supervisor that would restart them.
        return subprocess.Popen(
            [str(binary or self.binary)], env=env, stdout=out, stderr=subprocess.STDOUT if out else None, start_new_session=True
        )

    def _supervise(self) -> None:
        while self.supervising:
            if self.paused:
                time.sleep(0.2)
                continue
            with self.cold_lock:  # not while a cold start replaces the workers
                for index, process in enumerate(self.processes):
                    if process.poll() is None and self.busy(index):
                        self.check_memory(index)
                    if process.poll() is not None and self.supervising and not self.paused:
                        log(f"{self.logical} worker {index} exited with {process.returncode}; restarting")
                        self._fail_in_flight(index, {"errorType": "Runtime.ExitError", "errorMessage": "process exited"})
                        self.processes[index] = self._spawn(index)
            time.sleep(0.2)

    def _fail_in_flight(self, worker: int, error: dict) -> None:
        """A process that died takes its current invocation with it."""
        with self.lock:
            for request_id, invocation in list(self.in_flight.items()):
                if invocation.worker == worker:
                    invocation.error = error
                    invocation.done.set()
                    del self.in_flight[request_id]

    def busy(self, worker: int) -> bool:
        with self.lock:
            return any(invocation.worker == worker for invocation in self.in_flight.values())

    def check_memory(self, index: int) -> bool:
        """Lambda stops an environment whose invocation uses more than its MemorySize. True when
        this one did, and was stopped."""
        process = self.processes[index] if index < len(self.processes) else None
        if self.bench or process is None or peak_rss_kb(process.pid) <= self.memory_mb * 1024:
            return False
        log(f"{self.logical} worker {index} used more than its {self.memory_mb} MB; stopped (Runtime.OutOfMemory)")
        self.stop_worker(index, {"errorType": "Runtime.OutOfMemory", "errorMessage": "Runtime exited with error: signal: killed"})
        return True

    def stop_worker(self, index: int, error: dict, spawn: int | None = None) -> None:
        """Stops one execution environment, as Lambda does past its timeout or its memory; the
        supervisor starts a new one (the next invocation there is a cold start). With `spawn`,
        only if that start of the worker is still the one running."""
        if spawn is not None and spawn != self.spawns[index]:
            return
        if index < len(self.processes) and self.processes[index].poll() is None:
            self.processes[index].kill()
        self._fail_in_flight(index, error)

    def invoke(self, payload: dict, wait_at_most: float | None = None) -> tuple[bytes | None, dict | None]:
        invocation = self.invoke_timed(payload, wait_at_most)
        return invocation.response, invocation.error

    def invoke_timed(self, payload: dict, wait_at_most: float | None = None) -> Invocation:
        """Invokes as Lambda does: an event over 6 MB is refused, a run past the function's
        Timeout is stopped (its environment with it). `wait_at_most` is how long the caller waits
        (API Gateway's integration timeout); the run goes on past it, as in AWS."""
        invocation = Invocation(
            request_id=str(uuid.uuid4()),
            payload=json.dumps(payload).encode(),
            deadline_ms=int((time.time() + self.timeout) * 1000),
        )
        if len(invocation.payload) > LAMBDA_REQUEST_LIMIT:
            invocation.error = {
                "errorType": "RequestEntityTooLargeException",
                "errorMessage": f"Request must be smaller than {LAMBDA_REQUEST_LIMIT} bytes for the InvokeFunction operation",
            }
            return invocation
        self.pending.put(invocation)
        if wait_at_most is not None:
            # API Gateway waits at most this long from the request, whatever the function's timeout;
            # it decides alone (the event it gave up on is dropped a second later, if still queued).
            threading.Thread(target=self._time_out, args=(invocation, wait_at_most + 1), daemon=True).start()
            if not invocation.done.wait(wait_at_most):
                return Invocation(invocation.request_id, b"", invocation.deadline_ms,
                                  error={"errorType": "Gateway.IntegrationTimeout", "errorMessage": "the integration timed out"})
            return invocation
        self._time_out(invocation, UNSTARTED_LIMIT_SECONDS)
        return invocation

    def _time_out(self, invocation: Invocation, give_up_unstarted: float | None = None) -> None:
        # The timeout runs from when an environment takes the event, as Lambda's does. A request
        # API Gateway stopped waiting for is not run by an environment started later.
        waiting_since = time.time()
        while not invocation.done.is_set() and not invocation.started_at and not self.stopping:
            if give_up_unstarted is not None and time.time() - waiting_since > give_up_unstarted:
                if invocation.error is None:
                    invocation.error = {"errorType": "Runtime.Unavailable", "errorMessage": "no execution environment started"}
                invocation.done.set()
                return
            invocation.done.wait(0.05)
        remaining = invocation.deadline_ms / 1000 - time.time()
        if invocation.done.wait(max(remaining, 0)):
            return
        error = {"errorType": "Sandbox.Timedout", "errorMessage": f"Task timed out after {self.timeout:.2f} seconds"}
        with self.lock:
            taken = self.in_flight.get(invocation.request_id)
        if taken is not None and taken.worker is not None:
            log(f"{self.logical} worker {taken.worker} ran past its {self.timeout} s timeout; stopped")
            self.stop_worker(taken.worker, error, taken.spawn)
        else:
            with self.lock:
                self.in_flight.pop(invocation.request_id, None)
        if invocation.error is None and invocation.response is None:
            invocation.error = error
        invocation.done.set()

    def cold_start(self, binary: Path | None = None) -> dict:
        """make bench: replaces the workers by one new process (running `binary` instead, for the
        empty yardstick function) and times its init as Lambda reports Init Duration: from the
        process's start to its first request for an event. Its first response is timed when it
        answers its next invocation (`last_cold_start`). The other workers start again after."""
        with self.cold_lock:
            self.paused = True
            self.generation += 1  # pollers of the workers being stopped give up their wait
            for process in self.processes:
                process.terminate()
            for process in self.processes:
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
            self.first_poll = threading.Event()
            started = time.perf_counter()
            process = self._spawn(0, binary)
            if not self.first_poll.wait(30):
                process.kill()
                raise RuntimeError(f"{self.logical} did not ask for an event within 30 s")
            self.first_poll = None
            self.cold_started_at = started
            self.last_cold_start = {"init_ms": (self.first_poll_at - started) * 1000, "pid": process.pid}
            self.processes = [process]
            return dict(self.last_cold_start)

    def resume_workers(self) -> None:
        with self.cold_lock:
            while len(self.processes) < self.workers:
                self.processes.append(self._spawn(len(self.processes)))
            self.paused = False

    def stats(self) -> dict:
        return {
            "durations_ms": list(self.durations_ms),
            "peak_rss_kb": max([peak_rss_kb(p.pid) for p in self.processes if p.poll() is None] or [0]),
            "last_cold_start": dict(self.last_cold_start),
            "aws_calls": self.aws_calls() if self.aws_calls else {},
            "dynamodb_writes": self.dynamodb_writes() if self.dynamodb_writes else [],
        }

    def stop(self) -> None:
        # Workers first, while they wait quietly for their next event; then the Runtime API.
        self.supervising = False
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                process.kill()
        self.stopping = True
        for server in self.servers:
            server.shutdown()

    def _handler_class(self, worker: int):
        function = self

        class RuntimeApi(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _reply(self, status: int, body: bytes = b"", headers: dict | None = None):
                try:
                    self.send_response(status)
                    for key, value in (headers or {}).items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the worker went away (stopping); Lambda would not notice either

            def do_GET(self):
                if self.path != f"{RUNTIME_PREFIX}/invocation/next":
                    return self._reply(404)
                generation = function.generation
                spawn = function.spawns[worker]
                if function.first_poll is not None and not function.first_poll.is_set():
                    function.first_poll_at = time.perf_counter()
                    function.first_poll.set()
                while True:
                    try:
                        invocation = function.pending.get(timeout=0.2 if function.bench else 1)
                        if invocation.done.is_set():
                            continue  # failed before any environment took it: nobody waits for it
                        if generation != function.generation or spawn != function.spawns[worker]:
                            function.pending.put(invocation)  # for the worker that replaced this one
                            self.close_connection = True
                            return
                        break
                    except queue.Empty:
                        if function.stopping or generation != function.generation or spawn != function.spawns[worker]:
                            # No answer: the worker is being stopped, and an error answer without
                            # a request id would only make it panic on its way out.
                            self.close_connection = True
                            return
                with function.lock:
                    invocation.worker = worker
                    invocation.spawn = spawn
                    invocation.deadline_ms = int((time.time() + function.timeout) * 1000)
                    function.in_flight[invocation.request_id] = invocation
                if not function.bench:  # make bench reports the environment's peak
                    try:
                        # The memory limit holds each invocation to its own peak: it starts again.
                        Path(f"/proc/{function.processes[worker].pid}/clear_refs").write_text("5")
                    except (OSError, IndexError):
                        pass
                invocation.started_at = time.perf_counter()
                self._reply(
                    200,
                    invocation.payload,
                    {
                        "Content-Type": "application/json",
                        "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
                        "Lambda-Runtime-Deadline-Ms": str(invocation.deadline_ms),
                        "Lambda-Runtime-Invoked-Function-Arn": f"arn:aws:lambda:local:{ACCOUNT_ID}:function:{function.logical}",
                        "Lambda-Runtime-Trace-Id": f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0",
                    },
                )

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                match = re.fullmatch(rf"{RUNTIME_PREFIX}/invocation/([^/]+)/(response|error)", self.path)
                if self.path == f"{RUNTIME_PREFIX}/init/error":
                    log(f"{function.logical} failed to initialise: {body.decode(errors='replace')}")
                    return self._reply(202, b"{}")
                if not match:
                    return self._reply(404)
                if function.check_memory(worker):
                    # The invocation failed with the environment, which is stopped.
                    return self._reply(202, b"{}")
                with function.lock:
                    invocation = function.in_flight.pop(match.group(1), None)
                if invocation is None:
                    return self._reply(400, b'{"errorMessage":"unknown request id"}')
                invocation.finished_at = time.perf_counter()
                if function.bench:
                    function.durations_ms.append((invocation.finished_at - invocation.started_at) * 1000)
                if function.cold_started_at and "first_response_ms" not in function.last_cold_start:
                    function.last_cold_start["first_response_ms"] = (invocation.finished_at - function.cold_started_at) * 1000
                    function.last_cold_start["peak_rss_kb"] = peak_rss_kb(function.last_cold_start["pid"])
                if match.group(2) == "response" and len(body) > LAMBDA_RESPONSE_LIMIT:
                    # Lambda refuses the response, and the invocation fails.
                    invocation.error = {
                        "errorType": "Function.ResponseSizeTooLarge",
                        "errorMessage": f"Response payload size exceeded maximum allowed payload size ({LAMBDA_RESPONSE_LIMIT} bytes).",
                    }
                    invocation.done.set()
                    return self._reply(413, json.dumps({"errorType": "RequestEntityTooLarge", "errorMessage": invocation.error["errorMessage"]}).encode())
                if match.group(2) == "response":
                    invocation.response = body
                else:
                    try:
                        invocation.error = json.loads(body or b"{}")
                    except ValueError:
                        invocation.error = {"errorMessage": body.decode(errors="replace")}
                invocation.done.set()
                self._reply(202, b"{}")

        return RuntimeApi
