"""Experimental render reload: re-run only the part of ``render()`` a sideeffect needs.

``slice_render(render, reload_fields, model=Model)`` parses render()'s source,
keeps the statements the returned reload fields depend on and compiles them,
once, into a function that runs in render()'s own module globals and closure
cells. The function takes ``self`` and only the parameters it still uses, and
returns ``full.model_dump(mode="json", by_alias=True, include=reload_fields)``.

Rules (details in ``slicer``, ``effects``, ``aliases``, ``fields``):

- Data flow through assignments, ``+=``, unpacking, loops (to a fixed point),
  branches, ``match``, comprehensions, walrus and awaits. A kept ``with`` or
  ``try`` with handlers is kept whole; a kept loop with ``break``/``continue``
  is kept whole; nested functions keep every write to the locals they read.
- Calls of module-level functions/classes are computations that may change
  only the objects handed to them (``f(rows)``, ``f(d["k"])``, a parameter
  of a mutable type, an iterator consumed by ``for``/``in``/``[*it]``/unpacking);
  attributes of ``self`` are trusted unchanged by them. Any other call (methods of
  ``self``, of parameters, of module objects), store into an attribute or item
  of anything but a local list/dict/set, or ``await`` of a non-call may change
  any state: such a statement is kept whenever anything after it is kept. Bare
  expression calls, ``raise`` and ``assert`` are always kept.
- Errors raised only by dropped statements are not raised by the slice.

It returns ``RenderSlice(function=None, reason=...)`` (never raises) when it
cannot show the slice gives the same values: several or early returns, a
return that is not ``Model(field=...)`` of the render model by name,
``global``/``nonlocal``, ``del``, ``yield``, ``locals()``/``vars()``/
``eval()``/``exec()``/``globals()``, frame inspection, name-mangled
``__private`` names, decorators or ``__wrapped__``, source unavailable or not
matching the code, and models with model/field validators or serializers,
computed fields, ``model_post_init``, overridden ``__init__``/``model_dump``,
info-reading validators on reload fields, AliasPath/AliasChoices, unknown
keywords with ``extra="allow"``/``"forbid"``, or data-reading default factories.
"""

from rpc.slicing.render_slice import RenderSlice, slice_render

__all__ = ["RenderSlice", "slice_render"]
