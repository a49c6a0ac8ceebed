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

    def build(self, identifier, argument=None, key="name", **kwargs):
        """An instance from a name (with ``kwargs``), a config dict or an instance.

        A config dict names the class under ``key``; its other entries are the arguments. An
        instance of a registered class is returned as is.

        Example:
            >>> SHAPES = Registry("shape")
            >>> @SHAPES.register("box")
            ... class Box:
            ...     def __init__(self, side=1):
            ...         self.side = side
            >>> SHAPES.build({"name": "box", "side": 3}).side, SHAPES.build("box").side
            (3, 1)
        """
        if isinstance(identifier, tuple(c for c in self._items.values() if isinstance(c, type))):
            return identifier
        if isinstance(identifier, dict):
            kwargs = {k: v for k, v in identifier.items() if k != key}
            identifier = identifier.get(key)
        if not isinstance(identifier, str) or identifier not in self._items:
            arg = argument or self.kind
            raise ValueError(f"Unknown {self.kind} {identifier!r} for `{arg}`; known: "
                             f"{self.names()} (or a config dict with {key!r}, or an instance).")
        return self._items[identifier](**kwargs)

    def get(self, name, argument=None):
        """Return the object registered as ``name``; callables pass through unchanged."""
        if callable(name) and not isinstance(name, str):
            return name
        if isinstance(name, str) and name in self._items:
            return self._items[name]
        arg = argument or self.kind
        raise ValueError(f"Unknown {self.kind} {name!r} for `{arg}`; known: {self.names()}.")
