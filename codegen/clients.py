"""Controllers and actions to TypeScript: an interface per controller class and a client object.

Controller inheritance is kept: a base controller that is not served becomes a
generic interface over the page state (``interface BaseShop<TState>``) and its
subclasses extend it with their own render model, so code written against the
base accepts every subclass's client. Served controllers also get a ``const``
of the same name holding the endpoint functions.
"""

from __future__ import annotations

import json

from codegen.interfaces import Declaration, TypeWriter, doc_comment, property_name
from rpcmeta import ActionFacts, AppDescription, ControllerFacts, action_path, render_path

STATE_PARAM = "TState"


def action_signature(action: ActionFacts, state: str, *, generic: bool, writer: TypeWriter) -> str:
    """One action's indented method line(s), wrapped like a formatter would past 100 columns."""
    params = _params_type(action, writer)
    optional = "?" if _all_optional(action) else ""
    returns = _result_type(action, state, generic=generic, writer=writer)
    kind = "StreamOptions" if action.stream else "ActionOptions"
    args = [f"params{optional}: {params}", f"options?: {kind}"]
    line = f"  {action.name}({', '.join(args)}): Promise<{returns}>;"
    if len(line) <= 100:
        return line
    inner = "".join(f"    {arg},\n" for arg in args)
    return f"  {action.name}(\n{inner}  ): Promise<{returns}>;"


def action_endpoint(action: ActionFacts, path: str) -> tuple[str, set[str]]:
    """One action's entry in the client object, and the names it uses."""
    factory = (
        ("sideeffectStreamEndpoint" if action.kind == "sideeffect" else "streamEndpoint")
        if action.stream
        else "sideeffectEndpoint"
        if action.kind == "sideeffect"
        else "passthroughEndpoint"
    )
    errors = ", ".join(action.errors)
    args = ["client", json.dumps(path), f"[{errors}]"]
    text = f"    {action.name}: {factory}({', '.join(args)}),"
    if len(text) > 100:  # wrapped as a formatter would
        inner = "".join(f"      {arg},\n" for arg in args)
        text = f"    {action.name}: {factory}(\n{inner}    ),"
    return text, {factory, *action.errors}


DISCONNECT_NOTES = {
    "finish": "Leaving the loop early stops reading; the action still runs to its end.",
    "cancel": "Leaving the loop early stops the action on the server.",
}


def _action_doc(action: ActionFacts) -> list[str]:
    """The action's doc comment; a streaming sideeffect's also says what ``break`` does."""
    note = DISCONNECT_NOTES.get(action.on_disconnect or "")
    if note is None:
        return doc_comment(action.description, "  ")
    text = [*(action.description or "").splitlines(), note]
    return ["  /**", *(f"   * {line}".rstrip().replace("*/", "*\\/") for line in text), "   */"]


def _params_type(action: ActionFacts, writer: TypeWriter) -> str:
    members = [
        f"{property_name(p.name)}{'' if p.required else '?'}: {writer.write(p.type)}"
        for p in action.params
    ]
    if action.body is not None:
        optional = "" if action.body_required else "?"
        members.append(f"requestBody{optional}: {writer.write(action.body)}")
    return "{ " + "; ".join(members) + " }" if members else "Record<string, never>"


def _all_optional(action: ActionFacts) -> bool:
    body_optional = action.body is None or not action.body_required
    return body_optional and not any(p.required for p in action.params)


def _result_type(action: ActionFacts, state: str, *, generic: bool, writer: TypeWriter) -> str:
    returns = writer.write(action.returns)
    if action.stream and action.kind == "passthrough":
        return f"AsyncGenerator<{returns}, void, undefined>"
    if action.kind == "passthrough":
        return f"PassthroughResult<{returns}>"
    sideeffect = state
    if action.reload is not None:
        keys = " | ".join(json.dumps(name) for name in action.reload) or "never"
        keys = f"Extract<{keys}, keyof {state}>" if generic else keys
        sideeffect = f"Pick<{state}, {keys}>"
    if action.stream:  # the items, then the state (`returns` is the item type)
        return f"SideeffectStream<{returns}, {sideeffect}>"
    return f"SideeffectResult<{sideeffect}, {returns}>"


class ControllerDeclarations:
    """Builds the declarations of each controller class, given the whole app for its bases."""

    def __init__(self, app: AppDescription) -> None:
        self.app = app
        self.by_id = {c.id: c for c in app.controllers}

    def visible_actions(self, controller: ControllerFacts) -> list[ActionFacts]:
        """Own actions, then inherited ones (nearest base first), each name once."""
        seen: dict[str, ActionFacts] = {}
        for action in controller.actions:
            seen.setdefault(action.name, action)
        for base in controller.bases:
            for action in self.visible_actions(self.by_id[base]):
                seen.setdefault(action.name, action)
        return list(seen.values())

    def is_generic(self, controller: ControllerFacts) -> bool:
        if controller.served:
            return False
        return any(a.kind == "sideeffect" for a in self.visible_actions(controller))

    def build(self, controller: ControllerFacts) -> list[Declaration]:
        decls = [self._interface(controller)]
        if controller.served:
            decls.append(self._live_frame(controller))
            decls.append(self._client(controller))
        return decls

    def _live_frame(self, controller: ControllerFacts) -> Declaration:
        """``{Controller}LiveFrame``: the full state, or a ``Pick<>`` of a broadcast's fields.

        One ``Pick<>`` per distinct ``reload=`` of a ``broadcast=True`` sideeffect,
        in declaration order. Coalesced changes send the union of their fields,
        which each of those ``Pick<>``s still describes.
        """
        state = controller.render_model or "never"
        picks: list[str] = []
        for action in self.visible_actions(controller):
            if action.broadcast and action.reload is not None:
                keys = " | ".join(json.dumps(name) for name in action.reload) or "never"
                pick = f"Pick<{state}, {keys}>"
                if pick not in picks:
                    picks.append(pick)
        name = f"{controller.id}LiveFrame"
        union = " | ".join([state, *picks])
        line = f"export type {name} = {union};"
        if len(line) > 100:
            line = (
                f"export type {name} =\n"
                + "\n".join(f"  | {part}" for part in [state, *picks])
                + ";"
            )
        lines = [
            "/**",
            f" * A frame of {controller.id}'s live state (`live: true`): the full state",
            " * first, then the fields each broadcast reloads.",
            " */",
            line,
        ]
        return Declaration(name, "\n".join(lines), {state} if controller.render_model else set())

    def _interface(self, controller: ControllerFacts) -> Declaration:
        writer = TypeWriter()
        generic = self.is_generic(controller)
        state = (
            STATE_PARAM if generic or controller.render_model is None else controller.render_model
        )
        own = {a.name for a in controller.actions}
        redeclared: list[ActionFacts] = []
        parents = []
        for base_id in controller.bases:
            parent, extra = self._extends(controller, self.by_id[base_id], own, state)
            parents.append(parent)
            redeclared += [a for a in extra if a.name not in {r.name for r in redeclared}]
        name = controller.id + (f"<{STATE_PARAM}>" if generic else "")
        extends = f" extends {', '.join(parents)}" if parents else ""
        lines = [*doc_comment(controller.description or controller.python_name)]
        lines.append(f"export interface {name}{extends} {{")
        if controller.served:
            writer.uses.add(state)
            lines.append(f"  render(options?: RenderOptions): Promise<{state}>;")
        for action in [*controller.actions, *redeclared]:
            lines += _action_doc(action)
            lines.append(action_signature(action, state, generic=generic, writer=writer))
        lines[-1] += "}" if lines[-1].endswith("{") else ""
        if not lines[-1].endswith("}"):
            lines.append("}")
        uses = writer.uses | set(controller.bases) | _runtime_types(controller, redeclared)
        return Declaration(controller.id, "\n".join(lines), uses)

    def _extends(
        self, child: ControllerFacts, parent: ControllerFacts, own: set[str], state: str
    ) -> tuple[str, list[ActionFacts]]:
        inherited = self.visible_actions(parent)
        omitted = {a.name for a in inherited if a.name in own}
        redeclared: list[ActionFacts] = []
        if parent.served and child.served and parent.render_model != child.render_model:
            redeclared = [a for a in inherited if a.kind == "sideeffect" and a.name not in own]
            omitted |= {"render", *(a.name for a in redeclared)}
        ref = parent.id + (f"<{state}>" if self.is_generic(parent) else "")
        if not omitted:
            return ref, redeclared
        keys = " | ".join(json.dumps(name) for name in sorted(omitted))
        return f"Omit<{ref}, {keys}>", redeclared

    def _client(self, controller: ControllerFacts) -> Declaration:
        bind = f"bind{controller.id}"
        lines = [f"function {bind}(client: ClientContext): {controller.id} {{", "  return {"]
        render = json.dumps(render_path(self.app, controller))
        lines.append(f"    render: renderEndpoint(client, {render}),")
        uses = {controller.id, "renderEndpoint", "ClientContext", "defaultClient"}
        for action in self.visible_actions(controller):
            text, names = action_endpoint(action, action_path(self.app, controller, action))
            lines.append(text)
            uses |= names
        lines += ["  };", "}", ""]
        lines.append(f"export const {controller.id}: {controller.id} = {bind}(defaultClient);")
        return Declaration(f"{controller.id}$client", "\n".join(lines), uses)


def client_factory(app: AppDescription) -> Declaration:
    """``ApiClient`` (every served controller) and ``createClient(options)`` binding them anew."""
    served = [c.id for c in app.controllers if c.served]
    lines = ["/** Every served controller, bound to one client configuration. */"]
    lines.append("export interface ApiClient {")
    lines += [f"  {name}: {name};" for name in served]
    lines += ["}", ""]
    lines += [
        "/** The controllers bound to their own configuration (base URL, headers, fetch...). */",
        "export function createClient(options: ClientOptions = {}): ApiClient {",
        "  const client = newClient(options);",
    ]
    lines += ["  return {", *(f"    {name}: bind{name}(client)," for name in served), "  };", "}"]
    uses = {"ClientOptions", "newClient", *served}
    return Declaration("createClient", "\n".join(lines), uses)


def _runtime_types(controller: ControllerFacts, redeclared: list[ActionFacts]) -> set[str]:
    actions = [*controller.actions, *redeclared]
    uses: set[str] = {"RenderOptions"} if controller.served else set()
    if any(not a.stream for a in actions):
        uses.add("ActionOptions")
    for action in actions:
        if action.stream:
            uses.add("StreamOptions")
            if action.kind == "sideeffect":
                uses.add("SideeffectStream")
            continue
        uses.add("SideeffectResult" if action.kind == "sideeffect" else "PassthroughResult")
    return uses
