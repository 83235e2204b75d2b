"""A run folder's checkpoint files, its lock, and how to tell where the run stands.

TensorFlow writes each checkpoint as `ckpt-N.index` plus `ckpt-N.data-*` shards,
staged in `ckpt-N_temp/` while saving, and records the list in a small pointer file,
`checkpoint`. The pointer alone is fragile: it can be lost (a copy of the `ckpt-N.*`
files alone), emptied, garbled, or name a checkpoint whose files are gone or damaged.
So here the files themselves decide: the newest `ckpt-N` whose every value reads back
with a matching checksum is where the run stands, and the pointer is rewritten to
agree. Damaged checkpoints are moved aside as `damaged-ckpt-N.*`, never deleted.
"""

import dataclasses
import datetime
import fcntl
import os
import re
import shutil
from pathlib import Path

import tensorflow as tf

from srgan.errors import UserError, first_line
from srgan.files import write_text
from srgan.log import tensorflow_warnings_muted

PREFIX = "ckpt"
LOCK_FILE = ".lock"
POINTER = "checkpoint"
DAMAGED = "damaged-"
# CheckpointManager stages a save in ckpt-N_temp/; one left behind is a killed save.
TEMP_SUFFIX = "_temp"
_FILE = re.compile(rf"^{PREFIX}-(\d+)\.(index|data-\d+-of-\d+)$")
_TEMP = re.compile(rf"^{PREFIX}-\d+{TEMP_SUFFIX}$")
# tf.train's atomic writer stages the pointer as checkpoint.tmp<hex>.
_POINTER_TEMP = re.compile(rf"^{POINTER}\.tmp[0-9a-f]+$")


def prefix_of(folder: Path, number: int) -> Path:
    return Path(folder) / f"{PREFIX}-{number}"


def numbers(folder: Path) -> list[int]:
    """The N of every `ckpt-N` with any file in `folder`, newest first."""
    if not Path(folder).is_dir():
        return []
    found = {int(match[1]) for path in Path(folder).iterdir() if (match := _FILE.match(path.name))}
    return sorted(found, reverse=True)


def files_of(prefix: Path) -> list[Path]:
    """The files of the checkpoint at `prefix` (its index and data shards)."""
    prefix = Path(prefix)
    if not prefix.parent.is_dir():
        return []
    return sorted(path for path in prefix.parent.iterdir()
                  if path.name == f"{prefix.name}.index"
                  or (path.name.startswith(f"{prefix.name}.data-") and _FILE.match(path.name)))


def damage(prefix: Path) -> str | None:
    """Why the checkpoint at `prefix` cannot be read whole, or None where it can.

    Every value is read back, so a truncated or zeroed shard fails on its checksum and
    a missing or zeroed index fails on opening; the cost is one read of the files.
    """
    try:
        reader = tf.train.load_checkpoint(str(prefix))
        for name in reader.get_variable_to_shape_map():
            reader.get_tensor(name)
    # Which error depends on which bytes are wrong (DataLossError, IndexError, ...).
    except Exception as error:
        return f"{type(error).__name__}: {first_line(error)}"
    return None


def read_pointer(folder: Path) -> tuple[str | None, str | None]:
    """(the checkpoint name the pointer file gives, or None; what is wrong with it, or None)."""
    path = Path(folder) / POINTER
    if not path.exists():
        return None, f"the pointer file {path} is missing"
    try:
        with tensorflow_warnings_muted():  # a garbled file is reported below, in one line
            state = tf.train.get_checkpoint_state(str(folder))
    except ValueError:  # TensorFlow's word for a file that parses to no checkpoint
        return None, f"the pointer file {path} is empty or garbled"
    except tf.errors.OpError as error:
        return None, f"the pointer file {path} is unreadable ({first_line(error)})"
    if state is None or not state.model_checkpoint_path:
        return None, f"the pointer file {path} is empty or garbled"
    return Path(state.model_checkpoint_path).name, None


def write_pointer(folder: Path, intact: list[int]) -> None:
    """Makes the pointer list the intact checkpoints `intact`, in the text format
    CheckpointManager writes, with each file's time: the manager then prunes them in
    turn as it saves new ones (it keeps, forever, any it has no time for)."""
    intact = sorted(intact)
    times = [prefix_of(folder, number).with_suffix(".index").stat().st_mtime for number in intact]
    lines = [f'model_checkpoint_path: "{PREFIX}-{intact[-1]}"']
    lines += [f'all_model_checkpoint_paths: "{PREFIX}-{number}"' for number in intact]
    lines += [f"all_model_checkpoint_timestamps: {time!r}" for time in times]
    lines.append(f"last_preserved_timestamp: {min(times) - 1.0!r}")
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


def remove_partial_saves(folder: Path) -> list[Path]:
    """Removes what killed or failed saves left: ckpt-N_temp/ folders and pointer temps."""
    removed = []
    if Path(folder).is_dir():
        for path in Path(folder).iterdir():
            if _TEMP.match(path.name) and path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
            elif _POINTER_TEMP.match(path.name) and path.is_file():
                path.unlink(missing_ok=True)
                removed.append(path)
    return removed


def remove_checkpoint(prefix: Path) -> None:
    """Removes a checkpoint's files and its staging folder (a save that failed)."""
    prefix = Path(prefix)
    for path in files_of(prefix):
        path.unlink(missing_ok=True)
    shutil.rmtree(prefix.with_name(prefix.name + TEMP_SUFFIX), ignore_errors=True)


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
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._made = missing[-1] if missing else None
        handle = open(self.path, "a+")
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
    with RunLock(folder):
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        target = folder.with_name(f"{folder.name}-{stamp}")
        target.mkdir()
        for entry in folder.iterdir():
            if entry.name not in kept:
                shutil.move(str(entry), str(target / entry.name))
    return target
