"""CloudFormation's `AWS::LanguageExtensions` transform, offline, for what template.yaml uses of it:
`Fn::ForEach` loops. The local stack, `make bench` and `make template-lint` read the template with
its loops written out, as CloudFormation does before SAM's transform runs.

    language_extensions.py [--template template.yaml] --out /tmp/expanded.json

writes the expanded template as JSON (which is YAML), intrinsic functions in their long forms.

`expand(template)` takes the template as loaded (long forms: `{"Ref": ...}`, `{"Fn::Sub": ...}`)
and returns a copy in which:

- every `Fn::ForEach::<Loop>: [Identifier, [Value, ...], {OutputKey: OutputValue, ...}]` key, in
  Conditions, Resources and Outputs or anywhere inside them (a resource's Properties, a nested
  loop), is replaced by one copy of its fragment per value, in the collection's order: in every
  key and every string of the fragment (Fn::Sub strings included), `${Identifier}` becomes the
  value and `&{Identifier}` the value without its non-alphanumeric characters, and
  `{"Ref": "Identifier"}` becomes the value itself;
- the logical id given to `Ref` or `Fn::GetAtt` by an intrinsic function the transform can work
  out (an `Fn::Sub` with nothing left to substitute once the loops are written out), as in
  `Ref: !Sub "${Stem}Function"`, is written as that logical id: with this transform CloudFormation
  allows functions there (one it cannot work out is left as it is);
- `AWS::LanguageExtensions` leaves `Transform` (a single transform left is written as a string, a
  template with none left has no `Transform`).

A key a loop writes twice, or one that is already there, is an error, as it is for CloudFormation.
The collection must be a literal list of strings: a `Ref` to a `CommaDelimitedList` parameter is
refused rather than resolved (the template uses none). A template without `AWS::LanguageExtensions`
comes back unchanged (a loop in it is an error), so expanding an expanded template changes nothing.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
from pathlib import Path
from typing import Any

TRANSFORM = "AWS::LanguageExtensions"
FOR_EACH = "Fn::ForEach::"
SECTIONS = ("Conditions", "Resources", "Outputs")


def expand(template: dict) -> dict:
    """The template with its `Fn::ForEach` loops written out and `AWS::LanguageExtensions` gone."""
    result = copy.deepcopy(template)
    transforms = result.get("Transform")
    if TRANSFORM not in ([transforms] if isinstance(transforms, str) else transforms or []):
        if any(_has_loop(result.get(section)) for section in SECTIONS):
            raise ValueError(f"Fn::ForEach needs the {TRANSFORM} transform in the template's Transform")
        return result
    for section in SECTIONS:
        if isinstance(result.get(section), dict):
            result[section] = _resolve_names(_expand_loops(result[section], []))
    if transforms == TRANSFORM:
        del result["Transform"]
    elif isinstance(transforms, list) and TRANSFORM in transforms:
        left = [t for t in transforms if t != TRANSFORM]
        if not left:
            del result["Transform"]
        else:
            result["Transform"] = left[0] if len(left) == 1 else left
    return result


def _has_loop(node: Any) -> bool:
    if isinstance(node, list):
        return any(_has_loop(item) for item in node)
    if isinstance(node, dict):
        return any((isinstance(k, str) and k.startswith(FOR_EACH)) or _has_loop(v) for k, v in node.items())
    return False


def _expand_loops(node: Any, identifiers: list[str]) -> Any:
    """`node` with every loop inside it written out (identifiers: those of the enclosing loops)."""
    if isinstance(node, list):
        return [_expand_loops(item, identifiers) for item in node]
    if not isinstance(node, dict):
        return node
    result: dict = {}
    for key, value in node.items():
        if isinstance(key, str) and key.startswith(FOR_EACH):
            for out_key, out_value in _for_each(key, value, identifiers).items():
                _put(result, out_key, out_value, key)
        else:
            _put(result, key, _expand_loops(value, identifiers), key)
    return result


def _put(result: dict, key: Any, value: Any, source: str) -> None:
    if key in result:
        raise ValueError(f"{source}: the key {key} is written twice")
    result[key] = value


def _for_each(key: str, value: Any, identifiers: list[str]) -> dict:
    if not key[len(FOR_EACH):]:
        raise ValueError(f"{key}: a loop needs a name")
    if not (isinstance(value, list) and len(value) == 3):
        raise ValueError(f"{key}: expected [Identifier, [Value, ...], {{OutputKey: OutputValue}}]")
    identifier, collection, fragment = value
    if not (isinstance(identifier, str) and re.fullmatch(r"[A-Za-z0-9]+", identifier)):
        raise ValueError(f"{key}: the identifier must be alphanumeric, not {identifier!r}")
    if identifier in identifiers:
        raise ValueError(f"{key}: the identifier {identifier} is already an enclosing loop's")
    if not (isinstance(collection, list) and all(isinstance(v, str) for v in collection)):
        raise ValueError(f"{key}: only a literal list of strings is supported as the collection, not {collection!r}")
    if not isinstance(fragment, dict):
        raise ValueError(f"{key}: the fragment must be a mapping of OutputKey to OutputValue")
    result: dict = {}
    for item in collection:
        written = _expand_loops(_substitute(fragment, identifier, item), identifiers + [identifier])
        for out_key, out_value in written.items():
            _put(result, out_key, out_value, key)
    return result


def _substitute(node: Any, identifier: str, value: str) -> Any:
    """The identifier replaced by the value in every key and string, and in `{"Ref": identifier}`."""
    if isinstance(node, str):
        stripped = re.sub(r"[^A-Za-z0-9]", "", value)
        return node.replace("${" + identifier + "}", value).replace("&{" + identifier + "}", stripped)
    if isinstance(node, list):
        return [_substitute(item, identifier, value) for item in node]
    if isinstance(node, dict):
        if len(node) == 1 and node.get("Ref") == identifier:
            return value
        return {_substitute(k, identifier, value): _substitute(v, identifier, value) for k, v in node.items()}
    return node


def _literal(node: Any) -> str | None:
    """The string an intrinsic function stands for when nothing is left to substitute in it."""
    if isinstance(node, str):
        return node
    if isinstance(node, dict) and len(node) == 1 and isinstance(node.get("Fn::Sub"), str):
        text = node["Fn::Sub"]
        if "${" not in text.replace("${!", ""):
            return text.replace("${!", "${")
    return None


def _resolve_names(node: Any) -> Any:
    """A `Ref`'s or `Fn::GetAtt`'s logical id given by a function it can work out, as the logical id
    itself; one it cannot is left as it is."""
    if isinstance(node, list):
        return [_resolve_names(item) for item in node]
    if not isinstance(node, dict):
        return node
    if len(node) == 1 and isinstance(node.get("Ref"), dict):
        name = _literal(node["Ref"])
        if name is not None:
            return {"Ref": name}
    if len(node) == 1 and isinstance(node.get("Fn::GetAtt"), dict):
        name = _literal(node["Fn::GetAtt"])
        if name is not None and "." in name:
            return {"Fn::GetAtt": name.split(".", 1)}
    if len(node) == 1 and isinstance(node.get("Fn::GetAtt"), list):
        parts = [_literal(part) if isinstance(part, dict) else part for part in node["Fn::GetAtt"]]
        if all(part is not None for part in parts):
            return {"Fn::GetAtt": parts}
    return {key: _resolve_names(value) for key, value in node.items()}


def main() -> None:
    from .config import ROOT
    from .template import load_template

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.write_text(json.dumps(expand(load_template(args.template)), indent=1) + "\n")


if __name__ == "__main__":
    main()
