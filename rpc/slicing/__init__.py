"""Experimental render reload: re-run only the part of ``render()`` a sideeffect needs.

``slice_render(render, reload_fields, model=Model)`` parses render()'s source,
keeps the statements that the returned reload fields depend on (backward
data-flow slicing, see ``slicer`` and ``effects`` for the rules) and compiles
them once into a function that runs in render()'s own globals and closure. It
returns ``RenderSlice(function=None, reason=...)`` whenever the slice cannot be
shown to give the same values; the caller then does a full render and logs
the reason once.
"""

from rpc.slicing.render_slice import RenderSlice, slice_render

__all__ = ["RenderSlice", "slice_render"]
