"""Moved: the backup callback lives in :mod:`tfgenopt.callbacks._backup` (every callback of the
package lives in ``tfgenopt/callbacks/``); re-exported here for existing imports."""

from tfgenopt.callbacks._backup import AtomicBackupAndRestore, check_backup_run

__all__ = ["AtomicBackupAndRestore", "check_backup_run"]
