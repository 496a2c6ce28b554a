"""A copy of template.yaml with IAM statements taken away (or a property changed), to show that
the local stack refuses what AWS would refuse without them (tests/iam.rs, tests/limits.rs).

    mutate_template.py --without PrivacyFunction=dynamodb:UpdateItem --out /tmp/t.json

removes, from that resource's policies (a function's inline `Statement`s, or a managed policy's
document), every statement that allows the action. The copy is written as JSON, which is YAML,
with the intrinsic functions in their long forms.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .config import ROOT
from .template import load_template


def allows(statement: dict, action: str) -> bool:
    actions = statement.get("Action", [])
    return statement.get("Effect") == "Allow" and action in ([actions] if isinstance(actions, str) else actions)


def without(template: dict, logical: str, action: str) -> None:
    props = template["Resources"][logical]["Properties"]
    documents = [props["PolicyDocument"]] if "PolicyDocument" in props else [p for p in props.get("Policies", []) if "Statement" in p]
    removed = 0
    for document in documents:
        kept = [s for s in document["Statement"] if not allows(s, action)]
        removed += len(document["Statement"]) - len(kept)
        document["Statement"] = kept
    if not removed:
        raise SystemExit(f"{logical} has no statement allowing {action}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    parser.add_argument("--without", action="append", default=[], metavar="LOGICAL_ID=ACTION")
    parser.add_argument("--set", action="append", default=[], metavar="LOGICAL_ID.PROPERTY=VALUE",
                        help="set a resource's property (a number where it reads as one), e.g. SubmitFormFunction.Timeout=1")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    template = load_template(args.template)
    for pair in args.without:
        logical, action = pair.split("=", 1)
        without(template, logical, action)
    for pair in args.set:
        target, value = pair.split("=", 1)
        logical, prop = target.split(".", 1)
        template["Resources"][logical]["Properties"][prop] = int(value) if value.isdigit() else value
    # Empty statement lists are not valid policies: drop the emptied ones.
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        if isinstance(props.get("Policies"), list):
            props["Policies"] = [p for p in props["Policies"] if not ("Statement" in p and not p["Statement"])]
    args.out.write_text(json.dumps(template, indent=1))


if __name__ == "__main__":
    main()
