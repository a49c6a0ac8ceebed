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

import keras

from tfgenopt._io import atomic_write_json

POINTER = "current.json"
RUN_FILE = "run.json"


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

    Args:
        backup_dir: the folder of the backups (removed when training ends normally).
        run: an optional JSON-able description of the run (its command-line arguments); a
            backup made by a run with a different description raises ``ValueError`` instead
            of resuming the wrong run.

    Example:
        >>> import tempfile
        >>> cb = AtomicBackupAndRestore(tempfile.mkdtemp())
        >>> cb.save_freq
        'epoch'
    """

    def __init__(self, backup_dir, run=None):
        super().__init__(os.fspath(backup_dir), save_freq="epoch")
        self.run = run
        self._state = None

    def _point_at(self, state):
        self._state = state
        folder = os.path.join(self.backup_dir, state)
        self._weights_path = os.path.join(folder, "latest.weights.h5")
        self._training_metadata_path = os.path.join(folder, "training_metadata.json")

    def on_train_begin(self, logs=None):
        check_backup_run(self.backup_dir, self.run)
        pointer = os.path.join(self.backup_dir, POINTER)
        if os.path.exists(pointer):
            with open(pointer, encoding="utf-8") as fh:
                self._point_at(json.load(fh)["state"])
            self._load_model()

    def _save_model(self):
        state = f"epoch-{self._current_epoch:05d}"
        self._point_at(state)
        folder = os.path.join(self.backup_dir, state)
        shutil.rmtree(folder, ignore_errors=True)  # a half-written folder of a killed run
        os.makedirs(folder)
        self.model.save_weights(self._weights_path, overwrite=True)
        atomic_write_json(self._training_metadata_path, {"epoch": self._current_epoch,
                                                         "batch": self._last_batch_seen})
        atomic_write_json(os.path.join(self.backup_dir, POINTER), {"state": state})
        for name in os.listdir(self.backup_dir):  # older complete backups are no longer needed
            if name.startswith("epoch-") and name != state:
                shutil.rmtree(os.path.join(self.backup_dir, name), ignore_errors=True)
