"""Described models, enums and errors to isolated TypeScript declarations.

Each builder returns a ``Declaration``: its text and the names it refers to, so
the file generators can write the imports. Nothing here touches the disk or
knows which file a declaration ends up in.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from rpcmeta import EnumFacts, ErrorFacts, FieldFacts, ModelFacts, TypeRef

_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")


@dataclass
class Declaration:
    """One top-level TS declaration and the names (types, values) it uses."""

    name: str
    text: str
    uses: set[str] = field(default_factory=set)


class TypeWriter:
    """Renders ``TypeRef``s, recording the named types they mention."""

    def __init__(self) -> None:
        self.uses: set[str] = set()

    def write(self, ref: TypeRef) -> str:
        kind = ref.kind
        if kind == "primitive":
            return ref.name
        if kind in ("model", "enum"):
            self.uses.add(ref.name)
            return ref.name
        if kind == "enum_member":
            self.uses.add(ref.name)
            return f"typeof {ref.name}.{ref.value}"
        if kind == "literal":
            return literal(ref.value)
        if kind == "array":
            item = self.write(ref.args[0])
            return f"({item})[]" if ref.args[0].kind == "union" else f"{item}[]"
        if kind == "tuple":
            return "[" + ", ".join(self.write(arg) for arg in ref.args) + "]"
        if kind == "record":
            return f"Record<string, {self.write(ref.args[0])}>"
        return " | ".join(self.write(arg) for arg in ref.args)


def literal(value: object) -> str:
    """A TS literal for a JSON scalar."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return repr(value)


def property_name(name: str) -> str:
    """``name`` as a TS property key (quoted unless it is an identifier)."""
    return name if _IDENTIFIER.match(name) else json.dumps(name, ensure_ascii=False)


def doc_comment(text: str | None, indent: str = "") -> list[str]:
    """A one-line JSDoc comment, or nothing."""
    if not text:
        return []
    safe = text.replace("*/", "*\\/")
    return [f"{indent}/** {safe} */"]


def field_lines(fields: tuple[FieldFacts, ...], writer: TypeWriter) -> list[str]:
    """One property line (with its doc comment) per field."""
    lines: list[str] = []
    for item in fields:
        lines += doc_comment(item.description, "  ")
        optional = "" if item.required else "?"
        lines.append(f"  {property_name(item.name)}{optional}: {writer.write(item.type)};")
    return lines


def model_declaration(model: ModelFacts) -> Declaration:
    """``export interface Model extends Base { ...own fields }``."""
    writer = TypeWriter()
    bases = list(model.bases)
    if model.overrides:
        keys = " | ".join(json.dumps(name) for name in model.overrides)
        bases = [f"Omit<{base}, {keys}>" for base in bases]
    extends = f" extends {', '.join(bases)}" if bases else ""
    body = field_lines(model.fields, writer)
    head = f"export interface {model.name}{extends}"
    lines = [*doc_comment(model.description), head + (" {" if body else " {}")]
    if body:
        lines += [*body, "}"]
    return Declaration(model.name, "\n".join(lines), writer.uses | set(model.bases))


def enum_declaration(facts: EnumFacts) -> Declaration:
    """An erasable enum: ``export const Color = { RED: "red" } as const;`` plus its union type.

    No TypeScript ``enum``: ``erasableSyntaxOnly`` (create-vite's template) and
    Node's type stripping reject it. Member names are the Python ones.
    """
    name = facts.name
    lines = [*doc_comment(facts.description), f"export const {name} = {{"]
    lines += [f"  {m.name}: {literal(m.value)}," for m in facts.members]
    lines.append("} as const;")
    lines += ["", f"export type {name} = (typeof {name})[keyof typeof {name}];"]
    return Declaration(name, "\n".join(lines))


def error_declarations(error: ErrorFacts) -> list[Declaration]:
    """The body interface and the error class of one ``APIException`` subclass."""
    writer = TypeWriter()
    body_name = f"{error.name}Body"
    body_lines = [
        f"/** The JSON body of {error.name} ({error.python_name}). */",
        f"export interface {body_name} {{",
        *field_lines(error.fields, writer),
        "}",
    ]
    keys = ", ".join(json.dumps(f.name) for f in error.fields)
    class_lines = [
        f"/** {error.python_name}: HTTP {error.status}. */",
        f"export class {error.name} extends BelayAPIError<{body_name}> {{",
        # The class name is what the server sends as the error's type.
        f"  static readonly type = {json.dumps(error.name)};",
        f"  static readonly status = {error.status};",
        f"  static readonly detail = {literal(error.detail)};",
        f"  static readonly fields = [{keys}] as const;",
        "}",
    ]
    return [
        Declaration(body_name, "\n".join(body_lines), writer.uses),
        Declaration(error.name, "\n".join(class_lines), {body_name, "BelayAPIError"}),
    ]
