"""Steward's local stack: everything `template.yaml` defines, on loopback, for `make dev`, the
black-box tests (tests/support) and `make bench`. Started by `infra/local/stack.py` (`--help` says
how); `infra/local/mutate_template.py` makes the changed templates some tests start it with, and
`infra/local/language_extensions.py` writes the template with its loops expanded. Those three
scripts only call into this package.

One module per concern:

- `main`: the command line, and the wiring of everything below, in order;
- `config`: the repository root, the local account, the stack's log, the env file's reader;
- `template`: reading `template.yaml` and resolving its intrinsic functions locally;
- `language_extensions`: CloudFormation's `AWS::LanguageExtensions` (`Fn::ForEach`), offline;
- `resources`: the template's tables, queues, buckets, secrets, SES resources, event buses and
  Cognito user pools (clients, groups), in moto (with each bus's local tap queue);
- `staff`: local only, one staff member per user pool group, with an authenticator app set up;
- `moto_server`: moto's server, one request at a time, behind the Gate (limits, then IAM);
- `iam`: IAM enforced as AWS enforces it (the evaluator itself is Node, in `infra/local/iam/`);
- `limits`: the service limits AWS enforces and moto does not;
- `moto_patches`: moto's DynamoDB transactions kept cheap, its consumed capacity counted as
  DynamoDB counts it, STS answering with each local identity, and Cognito's user names as
  case-insensitive as the pool says and unknown ones not told apart from wrong passwords;
- `runtime`: the functions' real binaries, behind a local Lambda Runtime API;
- `event_sources`: SQS event source mappings and `Schedule` events (rate and cron, and on demand);
- `gateway`: the HTTP API (API Gateway's payload v2, its route selection), the reference site, the
  local tools (/_local/...) and the bench endpoints;
- `authorizers`: the HTTP API's JWT authorizers, as API Gateway runs them before a route's function;
- `devtools`: the dev mailbox;
- `webhooks`: the dev webhook receiver, where the local webhook destinations deliver;
- `faults`: the fault-injecting proxy between the functions and moto (tests/faults.rs);
- `mutate_template`: a copy of the template with IAM statements taken away or a property changed.
"""
