"""Atomic file writes: a file a rerun trusts is either the old one or the complete new one.

Every writer here writes a temporary file in the destination's own directory (same file
system, so the rename is atomic) and moves it over the destination with ``os.replace``. A
process killed mid-write (``SIGKILL``, out of memory) leaves at most a hidden ``.tmp-*`` file,
never a truncated ``summary.json``, results table or checkpoint.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid

__all__ = ["atomic_path", "atomic_write_bytes", "atomic_write_text", "atomic_write_json",
           "file_in_the_way", "make_dir"]


def _temp_name(path):
    """A unique hidden name beside ``path`` that keeps its full extension (``x.weights.h5``)."""
    folder, base = os.path.split(os.fspath(path))
    return os.path.join(folder, f".tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}-{base}")


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path to write; on success it replaces ``path`` in one rename.

    For writers that take a file name (``model.save``, ``save_weights``, ``savefig``): the
    temporary name ends with ``path``'s own base name, so extension checks still pass. If the
    block raises, the temporary file is removed and ``path`` is left as it was. If the block
    writes nothing (a non-chief worker that skips its save), nothing is replaced.

    Args:
        path: the destination file; its directory must exist.

    Returns:
        A context manager yielding the temporary path (a ``str``).

    Example:
        >>> import tempfile
        >>> dest = os.path.join(tempfile.mkdtemp(), "notes.txt")
        >>> with atomic_path(dest) as tmp:
        ...     with open(tmp, "w") as fh:
        ...         _ = fh.write("done")
        >>> open(dest).read()
        'done'
    """
    tmp = _temp_name(path)
    try:
        yield tmp
        if os.path.exists(tmp):
            os.replace(tmp, os.fspath(path))
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def atomic_write_bytes(path, data):
    """Write ``data`` (bytes) to ``path`` atomically, flushed to disk before the rename.

    Args:
        path: the destination file; its directory must exist.
        data: the bytes to write.

    Returns:
        ``path`` as a string.

    Example:
        >>> import tempfile
        >>> dest = atomic_write_bytes(os.path.join(tempfile.mkdtemp(), "b.bin"), b"\\x00\\x01")
        >>> open(dest, "rb").read()
        b'\\x00\\x01'
    """
    path = os.fspath(path)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    return path


def atomic_write_text(path, text, encoding="utf-8"):
    """Write ``text`` to ``path`` atomically (see :func:`atomic_write_bytes`).

    Args:
        path: the destination file; its directory must exist.
        text: the string to write.
        encoding: the text encoding.

    Returns:
        ``path`` as a string.

    Example:
        >>> import tempfile
        >>> dest = atomic_write_text(os.path.join(tempfile.mkdtemp(), "t.txt"), "hello")
        >>> open(dest).read()
        'hello'
    """
    return atomic_write_bytes(path, text.encode(encoding))


def atomic_write_json(path, obj, **dump_kwargs):
    """Serialize ``obj`` with ``json.dumps(obj, **dump_kwargs)`` and write it atomically.

    The object is serialized before anything is opened, so an object JSON cannot encode
    raises ``TypeError`` and leaves ``path`` untouched.

    Args:
        path: the destination file; its directory must exist.
        obj: a JSON-serializable object.
        **dump_kwargs: passed to ``json.dumps`` (``indent``, ``sort_keys``, ``default``...).

    Returns:
        ``path`` as a string.

    Example:
        >>> import tempfile
        >>> dest = atomic_write_json(os.path.join(tempfile.mkdtemp(), "s.json"), {"a": 1})
        >>> json.load(open(dest))
        {'a': 1}
    """
    return atomic_write_text(path, json.dumps(obj, **dump_kwargs))


def file_in_the_way(path):
    """The existing non-folder that stops ``path`` from being (or becoming) a folder, or None.

    Walks up from ``path`` to its first existing ancestor: ``path`` itself when it is a file,
    a parent when that is a file (``out.txt/run``), else None.

    Example:
        >>> import tempfile
        >>> folder = tempfile.mkdtemp()
        >>> open(os.path.join(folder, "f"), "w").close()
        >>> file_in_the_way(os.path.join(folder, "f", "run")) == os.path.join(folder, "f")
        True
        >>> file_in_the_way(os.path.join(folder, "new", "run")) is None
        True
    """
    current = os.path.abspath(os.path.expanduser(os.fspath(path)))
    while not os.path.exists(current):
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent
    if os.path.isdir(current):
        return None
    return current if os.path.isabs(os.fspath(path)) else os.path.relpath(current)


def make_dir(path, name="out"):
    """Create the folder ``path`` (and its parents) and return it as ``str``.

    Args:
        path: the folder (``str`` or ``os.PathLike``); an existing folder is fine.
        name: the argument's name for the message (``"--out"`` on the command line).

    Returns:
        ``path`` as a ``str``.

    Raises:
        ValueError: a file stands where the folder (or one of its parents) should be; the
            message names ``name``, the value received and the file in the way.

    Example:
        >>> import tempfile
        >>> folder = tempfile.mkdtemp()
        >>> os.path.isdir(make_dir(os.path.join(folder, "run", "a")))
        True
        >>> open(os.path.join(folder, "notes.txt"), "w").close()
        >>> make_dir(os.path.join(folder, "notes.txt"), "--out")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: `--out` must be a folder (created if missing); received '...notes.txt', but ...
    """
    text = os.fspath(path)
    blocker = file_in_the_way(text)
    if blocker is not None:
        where = "which is a file" if os.path.abspath(blocker) == os.path.abspath(text) else (
            f"{blocker!r} is a file")
        raise ValueError(f"`{name}` must be a folder (created if missing); received {text!r}, "
                         f"but {where}. Pass a folder path, or move the file away.")
    os.makedirs(text, exist_ok=True)
    return text
