"""``keras.callbacks.BackupAndRestore`` whose weights and epoch are replaced together.

Keras' callback overwrites ``latest.weights.h5`` and then ``training_metadata.json`` in place.
A process killed between the two writes resumes new weights at the old epoch (an epoch runs
twice, the optimizer step counts no longer match an uninterrupted run); killed during the
first, it leaves a truncated weights file. Here each backup is written into a fresh folder,
and one small pointer file, replaced atomically, names the complete folder to resume from.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile

import keras
import numpy as np

from tfgenopt import _keras_adapter
from tfgenopt._io import atomic_write_json
from tfgenopt.distribute import is_chief

POINTER = "current.json"
RUN_FILE = "run.json"
HISTORY, CALLBACKS, ARRAYS = "history.json", "callbacks.json", "callbacks.npz"


def check_backup_run(backup_dir, run):
    """Record ``run`` in ``backup_dir``, or raise ``ValueError`` if the folder holds a backup
    made by a run with a different description (resuming it would mix two runs).

    A folder with no backup yet (a run that failed before its first epoch ended) takes the
    new description: fixing a bad argument and rerunning is not refused.

    Args:
        backup_dir: the backup folder (created if missing).
        run: a JSON-able dict describing the run, or ``None`` to skip the check.

    Example:
        >>> import tempfile
        >>> folder = tempfile.mkdtemp()
        >>> check_backup_run(folder, {"epochs": 3})
        >>> _ = atomic_write_json(os.path.join(folder, POINTER), {"state": "epoch-00001"})
        >>> check_backup_run(folder, {"epochs": 4})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: `backup_dir` ... holds the backup of a different run (differs in ['epochs']); ...
    """
    if run is None:
        return
    run = json.loads(json.dumps(run))
    path = os.path.join(backup_dir, RUN_FILE)
    if os.path.exists(path) and os.path.exists(os.path.join(backup_dir, POINTER)):
        with open(path, encoding="utf-8") as fh:
            saved = json.load(fh)
        if saved != run:
            diff = sorted(k for k in set(saved) | set(run) if saved.get(k) != run.get(k))
            raise ValueError(
                f"`backup_dir` {backup_dir!r} holds the backup of a different run "
                f"(differs in {diff}); rerun with the same arguments to resume, or use "
                "another backup folder.")
        return
    os.makedirs(backup_dir, exist_ok=True)
    atomic_write_json(path, run, sort_keys=True)


class AtomicBackupAndRestore(keras.callbacks.BackupAndRestore):
    """Back up the model at every epoch end; a killed run resumes from the last complete one.

    Besides the weights (optimizers included) and the epoch, each backup holds the run's
    history so far (:attr:`history`: every epoch of the whole run, also after a resume) and
    the state of the ``stateful`` callbacks (``get_state`` / ``set_state``, e.g.
    ``tfgenopt.callbacks.EarlyStopping``: best value, epochs waited, best weights).

    Under ``MultiWorkerMirroredStrategy`` every worker saves (a save is a step all workers
    take), but only the chief's backup lands in ``backup_dir``; the other workers write into
    a temporary folder removed at once, and every worker resumes from the chief's backup
    (so ``backup_dir`` must be a folder every worker reads, as on one machine).

    Args:
        backup_dir: the folder of the backups (removed when training ends normally).
        run: an optional JSON-able description of the run (its command-line arguments); a
            backup made by a run with a different description raises ``ValueError`` instead
            of resuming the wrong run.
        stateful: callbacks whose ``get_state()`` / ``set_state(state)`` go into each backup.

    Example:
        >>> import tempfile
        >>> cb = AtomicBackupAndRestore(tempfile.mkdtemp())
        >>> cb.save_freq
        'epoch'
    """

    def __init__(self, backup_dir, run=None, stateful=()):
        super().__init__(os.fspath(backup_dir), save_freq="epoch")
        self.run = run
        self.stateful = list(stateful)
        self._state = None
        self.history, self.epochs, self._pending = {}, [], None

    def _point_at(self, state, root=None):
        self._state = state
        folder = os.path.join(root or self.backup_dir, state)
        _keras_adapter.point_backup(self, os.path.join(folder, "latest.weights.h5"),
                                    os.path.join(folder, "training_metadata.json"))
        return folder

    def on_train_begin(self, logs=None):
        self.history, self.epochs, self._pending = {}, [], None
        if is_chief():  # the others read the chief's backup and write none
            check_backup_run(self.backup_dir, self.run)
        pointer = os.path.join(self.backup_dir, POINTER)
        if os.path.exists(pointer):
            with open(pointer, encoding="utf-8") as fh:
                folder = self._point_at(json.load(fh)["state"])
            _keras_adapter.load_backup(self)
            if os.path.exists(os.path.join(folder, HISTORY)):  # (older backups had none)
                with open(os.path.join(folder, HISTORY), encoding="utf-8") as fh:
                    saved = json.load(fh)
                self.history, self.epochs = saved["history"], saved["epochs"]
                self._pending = folder  # callback states: at the first epoch, after every reset

    def on_epoch_begin(self, epoch, logs=None):
        if self._pending is None:
            return
        with open(os.path.join(self._pending, CALLBACKS), encoding="utf-8") as fh:
            states = json.load(fh)
        with np.load(os.path.join(self._pending, ARRAYS)) as arrays:
            arrays = {k: arrays[k] for k in arrays.files}
        for i, (cb, state) in enumerate(zip(self.stateful, states)):
            prefix = f"{i}:"
            cb.set_state({**state, "arrays": {k[len(prefix):]: v for k, v in arrays.items()
                                              if k.startswith(prefix)}})
        self._pending = None

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append(int(epoch))
        for key, value in (logs or {}).items():
            try:
                self.history.setdefault(key, []).append(float(np.asarray(value).ravel()[0]))
            except (TypeError, ValueError, IndexError):
                continue  # a figure or text in the logs: not part of the history
        super().on_epoch_end(epoch, logs)

    def _save_model(self):
        chief = is_chief()
        root = self.backup_dir if chief else tempfile.mkdtemp(prefix="tfgenopt-backup-")
        state = f"epoch-{_keras_adapter.backup_epoch(self):05d}"
        try:
            folder = self._point_at(state, root)
            shutil.rmtree(folder, ignore_errors=True)  # a half-written folder of a killed run
            os.makedirs(folder)
            self.model.save_weights(_keras_adapter.backup_weights_path(self), overwrite=True)
            states = [cb.get_state() for cb in self.stateful]
            np.savez(os.path.join(folder, ARRAYS), **{
                f"{i}:{k}": v for i, st in enumerate(states) for k, v in st.get("arrays", {}).items()})
            atomic_write_json(os.path.join(folder, CALLBACKS),
                              [{k: v for k, v in st.items() if k != "arrays"} for st in states])
            atomic_write_json(os.path.join(folder, HISTORY),
                              {"history": self.history, "epochs": self.epochs})
            atomic_write_json(_keras_adapter.backup_metadata_path(self), {
                "epoch": _keras_adapter.backup_epoch(self),
                "batch": _keras_adapter.backup_last_batch(self)})
            if not chief:
                return
            atomic_write_json(os.path.join(self.backup_dir, POINTER), {"state": state})
            for name in os.listdir(self.backup_dir):  # older complete backups: not needed
                if name.startswith("epoch-") and name != state:
                    shutil.rmtree(os.path.join(self.backup_dir, name), ignore_errors=True)
        finally:
            if not chief:
                shutil.rmtree(root, ignore_errors=True)
                self._point_at(state)

    def on_train_end(self, logs=None):
        if is_chief():  # the chief's folder is the one every worker read
            super().on_train_end(logs)
