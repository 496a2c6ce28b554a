// The local stack's IAM evaluator: one JSON request a line on stdin, one JSON answer a line on
// stdout, in order. The policy language (actions, resources, every condition operator and key,
// explicit denies, resource policies) is @cloud-copilot/iam-simulate's;
// infra/local/steward_local/iam.py turns each AWS call into the request it evaluates.
//
//   {"define": "<identity>", "policies": [{"name": "...", "policy": {...}}]}     -> {"defined": "<identity>"}
//   {"identity": "<identity>", "principal": "arn:...", "action": "s3:GetObject",
//    "resource": "arn:...", "context": {...}, "resourcePolicy": {...}?}           -> {"result": "Allowed" | ...}
import { createInterface } from 'node:readline';
import { runSimulation } from '@cloud-copilot/iam-simulate';

const ACCOUNT = process.env.IAM_ACCOUNT_ID ?? '123456789012';
const identities = new Map();
const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });

for await (const line of lines) {
  let answer;
  try {
    const request = JSON.parse(line);
    if (request.define) {
      identities.set(request.define, request.policies);
      answer = { defined: request.define };
    } else {
      const simulation = {
        request: {
          principal: request.principal,
          action: request.action,
          resource: { resource: request.resource, accountId: ACCOUNT },
          contextVariables: request.context ?? {},
        },
        identityPolicies: identities.get(request.identity) ?? [],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        ...(request.resourcePolicy ? { resourcePolicy: request.resourcePolicy } : {}),
      };
      const result = await runSimulation(simulation, {});
      answer = result.resultType === 'error'
        ? { result: 'Error', errors: result.errors }
        : { result: result.overallResult };
    }
  } catch (error) {
    answer = { result: 'Error', errors: { message: String(error) } };
  }
  process.stdout.write(JSON.stringify(answer) + '\n');
}
