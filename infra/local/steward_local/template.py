"""Reading `template.yaml`: CloudFormation's short-form tags as their long forms, and the intrinsic
functions the template uses (Ref, Fn::Sub, Fn::GetAtt, conditions, ...) resolved to the local
values: the env file's parameters and the physical names of what the stack created."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from .config import ACCOUNT_ID
from .language_extensions import expand


class CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation's short-form tags (!Ref, !Sub, !GetAtt, ...) as their long forms."""


def _cfn_tag(loader: CfnLoader, tag_suffix: str, node: yaml.Node):
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CfnLoader.add_multi_constructor("!", _cfn_tag)


def load_template(path: Path) -> dict:
    # With its Fn::ForEach loops written out, as CloudFormation does before SAM's transform.
    return expand(yaml.load(path.read_text(), Loader=CfnLoader))


class Resolver:
    """Resolves the intrinsic functions the template uses to local values."""

    def __init__(self, template: dict, params: dict[str, str], stack: str, region: str):
        self.template = template
        # Every value of the env file: secrets are seeded from it (they are not parameters).
        self.settings = params
        self.params = {}
        for name, spec in template.get("Parameters", {}).items():
            if name in params:
                self.params[name] = params[name]
            elif "Default" in spec:
                self.params[name] = str(spec["Default"])
            else:
                raise SystemExit(f"template parameter {name} has no default; set it in infra/local.env")
        self.stack = stack
        self.region = region
        self.physical: dict[str, str] = {}

    def pseudo(self, name: str) -> str:
        return {
            "AWS::StackName": self.stack,
            "AWS::Region": self.region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::Partition": "aws",
        }[name]

    def ref(self, name: str) -> str:
        if name in self.params:
            return self.params[name]
        if name.startswith("AWS::"):
            return self.pseudo(name)
        if name in self.physical:
            return self.physical[name]
        raise KeyError(f"cannot resolve Ref {name} locally")

    def resolve(self, value):
        if isinstance(value, dict) and len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::Sub":
                text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

                def sub(match):
                    name = match.group(1)
                    if name in extra:
                        return str(extra[name])
                    if "." in name:
                        return self.get_att(*name.split(".", 1))
                    return self.ref(name)

                return re.sub(r"\$\{([^}!]+)\}", sub, text)
            if key == "Fn::GetAtt":
                return self.get_att(*arg)
            if key == "Fn::Join":
                return arg[0].join(str(self.resolve(v)) for v in arg[1])
            if key == "Fn::Split":
                return self.resolve(arg[1]).split(arg[0])
            if key == "Fn::Select":
                return self.resolve(arg[1])[int(self.resolve(arg[0]))]
            if key == "Fn::If":
                return self.resolve(arg[1] if self.condition(arg[0]) else arg[2])
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items() if v != {"Ref": "AWS::NoValue"}}
        if isinstance(value, list):
            return [self.resolve(v) for v in value if v != {"Ref": "AWS::NoValue"}]
        return value

    def condition(self, name: str) -> bool:
        """A template condition, as CloudFormation evaluates it with the local parameters."""
        return bool(self._condition(self.template.get("Conditions", {})[name]))

    def _condition(self, value):
        if isinstance(value, dict) and len(value) == 1:
            (key, arg), = value.items()
            if key == "Fn::Equals":
                return str(self._condition(arg[0])) == str(self._condition(arg[1]))
            if key == "Fn::Not":
                return not self._condition(arg[0])
            if key == "Fn::And":
                return all(self._condition(v) for v in arg)
            if key == "Fn::Or":
                return any(self._condition(v) for v in arg)
            if key == "Condition":
                return self.condition(arg)
        return self.resolve(value)

    def get_att(self, resource: str, attribute: str) -> str:
        kind = self.template["Resources"][resource]["Type"]
        name = self.ref(resource)
        if kind == "AWS::DynamoDB::Table" and attribute == "Arn":
            return f"arn:aws:dynamodb:{self.region}:{ACCOUNT_ID}:table/{name}"
        if kind == "AWS::DynamoDB::Table" and attribute == "StreamArn":
            return f"arn:aws:dynamodb:{self.region}:{ACCOUNT_ID}:table/{name}/stream/local"
        if kind == "AWS::S3::Bucket" and attribute == "Arn":
            return f"arn:aws:s3:::{name}"
        if kind == "AWS::SQS::Queue" and attribute == "Arn":
            return f"arn:aws:sqs:{self.region}:{ACCOUNT_ID}:{name}"
        if kind == "AWS::Serverless::Function" and attribute == "Arn":
            return f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{name}"
        if kind == "AWS::Events::EventBus" and attribute in ("Arn", "Name"):
            # Ref of an event bus is its name (resources.py).
            return f"arn:aws:events:{self.region}:{ACCOUNT_ID}:event-bus/{name}" if attribute == "Arn" else name
        if kind == "AWS::Cognito::UserPool":
            # Ref of a user pool is its id (resources.py).
            provider = f"cognito-idp.{self.region}.amazonaws.com/{name}"
            attributes = {
                "Arn": f"arn:aws:cognito-idp:{self.region}:{ACCOUNT_ID}:userpool/{name}",
                "ProviderName": provider,
                "ProviderURL": f"https://{provider}",
                "UserPoolId": name,
            }
            if attribute in attributes:
                return attributes[attribute]
        if kind == "AWS::Cognito::UserPoolClient" and attribute == "ClientId":
            return name
        raise KeyError(f"cannot resolve GetAtt {resource}.{attribute} locally")
