"""A run folder's checkpoint files, its lock, and how to tell where the run stands.

Each checkpoint is one file, `ckpt-N.npz`: NumPy's zip of named arrays, which every
Keras backend reads and writes (srgan/run/state.py says what it holds). It is written
under a temporary name and renamed into place whole, so a run killed mid-save leaves the
previous checkpoints as they were. A small pointer file, `checkpoint`, names the newest.
The pointer alone is fragile: it can be lost (a copy of the `ckpt-N.*` files alone),
emptied, garbled, or name a checkpoint whose file is gone or damaged. So here the files
themselves decide: the newest `ckpt-N` whose every array reads back with a matching
checksum is where the run stands, and the pointer is rewritten to agree. Damaged
checkpoints are moved aside as `damaged-ckpt-N.*`, never deleted.

Runs saved before this format hold TensorFlow checkpoints (`ckpt-N.index` with
`ckpt-N.data-*` shards); they are still found here and read by srgan/run/legacy.py.
"""

import dataclasses
import datetime
import fcntl
import os
import re
import shutil
import zipfile
from pathlib import Path

import numpy as np

from srgan import files
from srgan.errors import UserError, first_line
from srgan.files import write_text
from srgan.run.settings import SETTINGS_FILE

PREFIX = "ckpt"
SUFFIX = ".npz"
LOCK_FILE = ".lock"
POINTER = "checkpoint"
DAMAGED = "damaged-"
_FILE = re.compile(rf"^{PREFIX}-(\d+)(?:\.npz|\.index|\.data-\d+-of-\d+)$")
# What a killed save of a TensorFlow checkpoint left: its staging folder, its pointer temp.
_LEGACY_TEMP = re.compile(rf"^{PREFIX}-\d+_temp$|^{POINTER}\.tmp[0-9a-f]+$")
_POINTER_LINE = re.compile(r'^model_checkpoint_path: "([^"]+)"$')


def prefix_of(folder: Path, number: int) -> Path:
    return Path(folder) / f"{PREFIX}-{number}"


def file_of(prefix: Path | str) -> Path:
    """The checkpoint file at `prefix` (folder/ckpt-N), in this format."""
    return Path(f"{prefix}{SUFFIX}")


def is_legacy(prefix: Path | str) -> bool:
    """Whether the checkpoint at `prefix` is a TensorFlow checkpoint of an earlier version."""
    return not file_of(prefix).exists() and Path(f"{prefix}.index").exists()


def numbers(folder: Path) -> list[int]:
    """The N of every `ckpt-N` with any file in `folder`, newest first."""
    if not Path(folder).is_dir():
        return []
    found = {int(match[1]) for path in Path(folder).iterdir() if (match := _FILE.match(path.name))}
    return sorted(found, reverse=True)


def files_of(prefix: Path) -> list[Path]:
    """The files of the checkpoint at `prefix` (its .npz; a legacy one's index and shards)."""
    prefix = Path(prefix)
    if not prefix.parent.is_dir():
        return []
    return sorted(path for path in prefix.parent.iterdir()
                  if path.name.startswith(f"{prefix.name}.") and _FILE.match(path.name))


def write_arrays(prefix: Path, arrays: dict[str, np.ndarray]) -> Path:
    """Writes `arrays` as the checkpoint at `prefix`, whole or not at all; returns its file.

    Flushed to the disk before the rename, so that the pointer, written after, never
    names a file a power cut could leave half-written."""
    path = file_of(prefix)
    with files.atomic_path(path) as temporary:
        with open(temporary, "xb") as handle:
            np.savez(handle, **arrays)
            handle.flush()
            os.fsync(handle.fileno())
    return path


def read_arrays(prefix: Path | str, names: list[str] | None = None) -> dict[str, np.ndarray]:
    """The arrays of the checkpoint at `prefix` (only `names` where given), each read whole,
    so that a damaged byte fails on its zip checksum."""
    with np.load(file_of(prefix), allow_pickle=False) as archive:
        return {name: archive[name] for name in (archive.files if names is None else names)}


def damage(prefix: Path) -> str | None:
    """Why the checkpoint at `prefix` cannot be read whole, or None where it can.

    Every value is read back, so a truncated or zeroed file fails on its checksum or its
    zip directory; the cost is one read of the file. A legacy checkpoint is checked by
    TensorFlow where it is importable, and taken as intact where it is not (reading it
    then says how to convert it).
    """
    if is_legacy(prefix):
        from srgan.run import legacy
        return legacy.damage(prefix)
    try:
        read_arrays(prefix)
    # Which error depends on which bytes are wrong (BadZipFile, ValueError, EOFError, ...).
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as error:
        return f"{type(error).__name__}: {first_line(error)}"
    return None


def read_pointer(folder: Path) -> tuple[str | None, str | None]:
    """(the checkpoint name the pointer file gives, or None; what is wrong with it, or None)."""
    path = Path(folder) / POINTER
    if not path.exists():
        return None, f"the pointer file {path} is missing"
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        return None, f"the pointer file {path} is unreadable ({error})"
    named = [match[1] for line in text.splitlines() if (match := _POINTER_LINE.match(line.strip()))]
    if len(named) != 1 or not named[0]:
        return None, f"the pointer file {path} is empty or garbled"
    return Path(named[0]).name, None


def write_pointer(folder: Path, intact: list[int]) -> None:
    """Makes the pointer name the newest of the intact checkpoints `intact` and list them
    all (the text format TensorFlow's pointer has, which earlier versions wrote)."""
    intact = sorted(intact)
    lines = [f'model_checkpoint_path: "{PREFIX}-{intact[-1]}"']
    lines += [f'all_model_checkpoint_paths: "{PREFIX}-{number}"' for number in intact]
    write_text(Path(folder) / POINTER, "\n".join(lines) + "\n")


def move_damaged(prefix: Path) -> list[Path]:
    """Renames the files of the checkpoint at `prefix` to damaged-ckpt-N.* (with a
    numeric suffix where a damaged copy of that name is already kept)."""
    moved = []
    for path in files_of(prefix):
        target = path.with_name(DAMAGED + path.name)
        copy = 1
        while target.exists():
            target = path.with_name(f"{DAMAGED}{path.name}.{copy}")
            copy += 1
        path.rename(target)
        moved.append(target)
    return moved


def _is_partial_save(path: Path) -> bool:
    target = files.target_of_temporary(path.name)
    if target is not None:
        return target == POINTER or bool(_FILE.match(target))
    return bool(_LEGACY_TEMP.match(path.name))


def remove_partial_saves(folder: Path) -> list[Path]:
    """Removes what killed or failed saves left: the temporaries of checkpoints and of
    the pointer (and a legacy save's ckpt-N_temp/ folders and pointer temps)."""
    removed = []
    if Path(folder).is_dir():
        for path in Path(folder).iterdir():
            if _is_partial_save(path):
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
                removed.append(path)
    return removed


def remove_checkpoint(prefix: Path) -> None:
    """Removes a checkpoint's files."""
    for path in files_of(Path(prefix)):
        path.unlink(missing_ok=True)


def prune(folder: Path, keep: int) -> None:
    """Removes all but the `keep` newest checkpoints in `folder`."""
    for number in numbers(folder)[keep:]:
        remove_checkpoint(prefix_of(folder, number))


@dataclasses.dataclass
class Standing:
    """Where a run folder stands: the newest intact checkpoint, and what was found wrong."""

    latest: str | None
    any_checkpoint: bool
    notes: list[str]

    def explain(self) -> str:
        """One line for the log: what was wrong and which checkpoint is used."""
        used = f"using {self.latest}" if self.latest else "no intact checkpoint is left"
        return "; ".join(self.notes) + f": {used}"


def standing(folder: Path, repair: bool) -> Standing:
    """The newest intact checkpoint in `folder`, whatever the pointer says.

    With `repair` (the caller holds the run's lock), damaged checkpoints are moved
    aside, killed saves' partial files removed, and the pointer rewritten where it was
    wrong; without it nothing is changed.
    """
    folder = Path(folder)
    notes: list[str] = []
    if repair:
        removed = remove_partial_saves(folder)
        if removed:
            notes.append(f"removed {len(removed)} partial save(s) of a killed run "
                         f"({', '.join(path.name for path in removed)})")
    found = numbers(folder)
    if not found:
        return Standing(None, False, notes)
    named, problem = read_pointer(folder)
    if problem is None and named not in {f"{PREFIX}-{number}" for number in found}:
        problem = f"the pointer file names {named}, which is not there"
    if problem is not None:
        notes.append(problem)
    damaged, intact = False, []
    for number in found:
        prefix = prefix_of(folder, number)
        if not intact:  # only checked until the newest intact one
            why = damage(prefix)
            if why is not None:
                if repair:
                    kept = move_damaged(prefix)
                    where = f"; moved aside as {', '.join(path.name for path in kept)}"
                else:
                    where = ""
                notes.append(f"{prefix} is damaged ({why}){where}")
                damaged = True
                continue
        intact.append(number)
    latest = str(prefix_of(folder, intact[0])) if intact else None
    behind = latest is not None and problem is None and named != Path(latest).name
    if behind:
        notes.append(f"the pointer names {named}, an older checkpoint (a save killed "
                     "after writing its files)")
    if repair and intact and (problem is not None or damaged or behind):
        write_pointer(folder, intact)
    return Standing(latest, True, notes)


class RunLock:
    """An exclusive lock on a checkpoint folder, held for a whole run.

    flock() is released by the kernel when the process dies, even by kill -9, so a
    crashed run never leaves a stale lock behind.
    """

    def __init__(self, folder: Path):
        self.path = folder / LOCK_FILE
        self._file = None
        # The outermost folder this lock made, removed again by a start that fails
        # while it holds nothing but the lock.
        self._made: Path | None = None

    def __enter__(self) -> "RunLock":
        missing = [path for path in (self.path.parent, *self.path.parent.parents)
                   if not path.exists()]
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._made = missing[-1] if missing else None
            handle = open(self.path, "a+")
        except PermissionError as error:
            # The folder the user gave, not the lock file inside it that could not be made.
            raise UserError(f"the checkpoint folder {self.path.parent} is not writable "
                            f"({error.strerror}): fix its permissions, or pass another "
                            "--checkpoint_dir") from error
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            owner = handle.read().strip() or "another process"
            handle.close()
            raise UserError(f"{self.path.parent} is in use by a running training (pid {owner}). "
                            "Wait for it to finish, stop it, or pass another --checkpoint_dir.")
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle
        return self

    def __exit__(self, error_type, *exc_info) -> None:
        if error_type is not None and self._made is not None:
            self._remove_if_left_empty()
        fcntl.flock(self._file, fcntl.LOCK_UN)
        self._file.close()

    def _remove_if_left_empty(self) -> None:
        """Removes the lock and the folders this lock made, where the failed start left
        nothing else in them (still holding the lock, so no other run is starting there)."""
        folder = self.path.parent
        if any(entry.name != LOCK_FILE for entry in folder.iterdir()):
            return
        self.path.unlink(missing_ok=True)
        while True:
            try:
                folder.rmdir()
            except OSError:  # not empty: something else lives there
                return
            if folder == self._made:
                return
            folder = folder.parent


def move_run_aside(folder: Path) -> Path | None:
    """Moves a previous run out of `folder` into FOLDER-YYYYmmdd-HHMMSS.

    Returns where it went, or None where there was nothing to move. The folder itself
    stays (the repository keeps it), so the lock is taken in place while moving.
    """
    kept = (LOCK_FILE, ".gitkeep")
    if not folder.is_dir() or all(p.name in kept for p in folder.iterdir()):
        return None
    # What every run writes at its start and at its saves: a folder without any of it is
    # someone's other folder (a data folder, say), whose files are not a run to move.
    if not ((folder / SETTINGS_FILE).is_file() or (folder / POINTER).is_file() or numbers(folder)):
        raise UserError(f"--restart moves a previous run aside, but {folder} holds no run (no "
                        "settings.json, no checkpoint): give --checkpoint_dir a run's folder, or "
                        "a new or empty one")
    with RunLock(folder):
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        target = folder.with_name(f"{folder.name}-{stamp}")
        target.mkdir()
        for entry in folder.iterdir():
            if entry.name not in kept:
                shutil.move(str(entry), str(target / entry.name))
    return target
