"""A small name -> object registry, one per kind of thing we name (losses, schedules, ...)."""

from __future__ import annotations


class Registry:
    """Maps names to objects and raises a ``ValueError`` listing the known names otherwise.

    Example:
        >>> LOSSES = Registry("loss")
        >>> @LOSSES.register("hinge")
        ... def hinge(real, fake): ...
        >>> LOSSES.get("hinge") is hinge
        True
    """

    def __init__(self, kind):
        self.kind = kind
        self._items = {}

    def register(self, *names):
        def decorator(obj):
            for name in names or (obj.__name__,):
                self._items[name] = obj
            return obj

        return decorator

    def names(self):
        return sorted(self._items)

    def __contains__(self, name):
        return name in self._items

    def get(self, name, argument=None):
        """Return the object registered as ``name``; callables pass through unchanged."""
        if callable(name) and not isinstance(name, str):
            return name
        if isinstance(name, str) and name in self._items:
            return self._items[name]
        arg = argument or self.kind
        raise ValueError(f"Unknown {self.kind} {name!r} for `{arg}`; known: {self.names()}.")
