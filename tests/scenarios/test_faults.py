"""A user's bad day: lost pointers, damaged checkpoints, kills mid-save, full disks,
read-only folders, bad settings, tiny photos, special files and repeated signals.

Each fault must end in one line and exit status 1 (or be recovered from, saying so),
never in a traceback, and must lose no checkpoint.
"""

import collections
import errno
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
import skimage.data

from srgan import cli
from srgan.data import download, stl10
from srgan.data.images import save_png
from srgan.data.prepare import prepare
from srgan.errors import UserError
from srgan.run.folder import RunLock, read_pointer
from srgan.run.state import checkpoint_step
from tests.helpers import ROOT, checkpoint_values

# End to end: each test runs the command line, most of them training.
pytestmark = pytest.mark.slow
# Two steps an epoch of two photos each: a GAN step's time grows with its photos.
TINY = ["--features", "4", "--blocks", "1", "--batch_size", "2", "--save_every", "1", "--seed", "1",
        "--vgg_weights", "none", "--val_images", "0", "--bn_batches", "2", "--precision", "float32"]
INFERENCE = ("testing", "upscale", "export")
MODES = ("train", *INFERENCE)
NOBODY = 65534


@pytest.fixture(scope="module")
def base():
    """A folder any user may enter: the read-only cases run as an unprivileged user."""
    folder = Path(tempfile.mkdtemp(prefix="srgan-faults-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def data_dir(base) -> Path:
    """Four 64 px training crops and two test crops of a real photo."""
    photo = skimage.data.astronaut()
    for i in [0, 1, 2, 3, 8, 9]:
        split = "train" if i < 8 else "test"
        save_png(base / "data" / split / f"p{i}.png", photo[25 * i:25 * i + 64, 30 * i:30 * i + 64])
    save_png(base / "in" / "photo.png", photo[:64, :64])
    return base / "data"


def train_args(data_dir: Path, folder: Path, epochs: int) -> list[str]:
    return [*TINY, "--n_epoch", str(epochs), "--data_dir", str(data_dir),
            "--checkpoint_dir", str(folder)]


@pytest.fixture(scope="module")
def run(base, data_dir) -> Path:
    """A tiny run of 3 epochs (2 steps each): ckpt-2, ckpt-4 and ckpt-6."""
    folder = base / "run"
    assert cli.main(train_args(data_dir, folder, 3)) == 0
    return folder


def call(capsys, args: list[str]) -> tuple[int, str]:
    status = cli.main([str(arg) for arg in args])
    return status, capsys.readouterr().err


def assert_one_line_error(status: int, err: str, *expected: str) -> str:
    assert status == 1, err
    assert "Traceback" not in err and "Exception ignored" not in err, err
    line = err.strip().splitlines()[-1]
    assert line.startswith("error: "), err
    for text in expected:
        assert text in line, line
    return line


def copy_run(run: Path, folder: Path) -> Path:
    shutil.copytree(run, folder, ignore=shutil.ignore_patterns(".lock"))
    return folder


def mode_args(mode: str, folder: Path, data_dir: Path, base: Path, epochs: int = 4) -> list[str]:
    """The command of `mode` on the run in `folder`; training trains up to `epochs`."""
    out = folder.parent / f"{folder.name}-{mode}-out"
    return {"train": train_args(data_dir, folder, epochs),
            "testing": ["--mode=testing", "--checkpoint_dir", folder, "--data_dir", data_dir,
                        "--results_dir", out],
            "upscale": ["--mode=upscale", "--checkpoint_dir", folder, "--input",
                        base / "in" / "photo.png", "--output", out],
            "export": ["--mode=export", "--checkpoint_dir", folder, "--output", out]}[mode]


def mtimes(folder: Path, pattern: str) -> dict[str, int]:
    return {path.name: path.stat().st_mtime_ns for path in folder.glob(pattern)}


def pointed(folder: Path) -> Path:
    """The checkpoint the pointer file names."""
    return folder / read_pointer(folder)[0]


# --- the pointer file ---

POINTERS = {"missing": None, "empty": "", "garbled": "model_checkpoint_path {{ ckpt",
            "dangling": 'model_checkpoint_path: "ckpt-9"\nall_model_checkpoint_paths: "ckpt-9"\n'}
POINTER_WORDS = {"missing": "is missing", "empty": "empty or garbled", "garbled": "empty or garbled",
                 "dangling": "names ckpt-9, which is not there"}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("pointer", POINTERS)
def test_a_lost_pointer_never_restarts_a_run(run, data_dir, base, capsys, tmp_path, pointer, mode):
    folder = copy_run(run, tmp_path / "run")
    if POINTERS[pointer] is None:
        (folder / "checkpoint").unlink()
    else:
        (folder / "checkpoint").write_text(POINTERS[pointer])
    before = mtimes(folder, "ckpt-[46].*")
    # One case trains on (an epoch costs seconds); in the others training finds the run
    # finished, which it can only know from the checkpoint it found.
    trains_on = mode == "train" and pointer == "missing"
    status, err = call(capsys, mode_args(mode, folder, data_dir, base, epochs=4 if trains_on else 3))
    assert status == 0, err
    assert POINTER_WORDS[pointer] in err and f"using {folder / 'ckpt-6'}" in err, err
    assert "Couldn't match" not in err  # TensorFlow's own words no longer leak
    assert mtimes(folder, "ckpt-[46].*") == before  # nothing overwritten
    if mode == "train" and not trains_on:
        assert f"{folder / 'ckpt-6'} has finished all 3 epochs (step 6)" in err
    if trains_on:
        assert f"resuming from {folder / 'ckpt-6'}" in err
        assert pointed(folder) == folder / "ckpt-8"
        assert sorted(path.name for path in folder.glob("ckpt-*.npz")) == [
            "ckpt-4.npz", "ckpt-6.npz", "ckpt-8.npz"]  # the pointer was rebuilt: 2 pruned


def test_a_checkpoint_newer_than_the_pointer_is_used(run, data_dir, base, capsys, tmp_path):
    """A save killed after writing its files but before the pointer: the files are whole."""
    folder = copy_run(run, tmp_path / "run")
    text = (folder / "checkpoint").read_text().replace('"ckpt-6"', '"ckpt-4"', 1)
    (folder / "checkpoint").write_text(text)
    status, err = call(capsys, mode_args("upscale", folder, data_dir, base))
    assert status == 0 and "names ckpt-4, an older checkpoint" in err, err
    assert pointed(folder) == folder / "ckpt-6"


# --- damaged checkpoints ---

def damage(prefix: Path, kind: str) -> None:
    path = prefix.with_name(prefix.name + ".npz")
    data = bytearray(path.read_bytes())
    if kind == "truncated":
        data = data[: len(data) // 2]
    elif kind == "zeroed":
        data = bytearray(len(data))
    elif kind == "flipped_byte":  # a weight's byte: only its checksum tells
        data[len(data) // 3] ^= 0xFF
    elif kind == "empty":
        data = bytearray()
    path.write_bytes(bytes(data))


KINDS = ("truncated", "zeroed", "flipped_byte", "empty")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", KINDS)
def test_a_damaged_checkpoint_is_moved_aside_and_the_previous_used(run, data_dir, base, capsys,
                                                                   tmp_path, kind, mode):
    folder = copy_run(run, tmp_path / "run")
    damage(folder / "ckpt-6", kind)
    left = sorted(path.name for path in folder.glob("ckpt-6.*"))
    trains_on = mode == "train" and kind == "truncated"  # the others: as in the pointer test
    status, err = call(capsys, mode_args(mode, folder, data_dir, base, epochs=3 if trains_on else 2))
    assert status == 0, err
    assert f"{folder / 'ckpt-6'} is damaged" in err and f"using {folder / 'ckpt-4'}" in err, err
    assert sorted(path.name for path in folder.glob("damaged-ckpt-6.*")) == [
        f"damaged-{name}" for name in left]
    if mode == "train" and not trains_on:
        assert f"{folder / 'ckpt-4'} has finished all 2 epochs (step 4)" in err
    if trains_on:
        # Trained again from ckpt-4 to the end: a new, whole ckpt-6 beside the damaged one.
        assert f"resuming from {folder / 'ckpt-4'}" in err
        assert pointed(folder) == folder / "ckpt-6"
        assert checkpoint_step(str(folder / "ckpt-6")) == 6


@pytest.mark.parametrize("mode", MODES)
def test_no_intact_checkpoint_is_one_line_and_nothing_starts_afresh(run, data_dir, base, capsys,
                                                                    tmp_path, mode):
    folder = copy_run(run, tmp_path / "run")
    for number in (2, 4, 6):
        damage(folder / f"ckpt-{number}", "zeroed")
    assert_one_line_error(*call(capsys, mode_args(mode, folder, data_dir, base)),
                          "no intact checkpoint", "--restart")
    assert not list(folder.glob("ckpt-*")) and len(list(folder.glob("damaged-ckpt-*"))) == 3


def test_a_named_damaged_checkpoint_is_refused(run, data_dir, base, capsys, tmp_path):
    folder = copy_run(run, tmp_path / "run")
    damage(folder / "ckpt-4", "truncated")
    args = mode_args("upscale", folder, data_dir, base) + ["--checkpoint", folder / "ckpt-4"]
    assert_one_line_error(*call(capsys, args), f"{folder / 'ckpt-4'} is damaged")


def test_training_in_use_skips_a_damaged_checkpoint_without_moving_it(run, data_dir, base, capsys,
                                                                       tmp_path):
    folder = copy_run(run, tmp_path / "run")
    damage(folder / "ckpt-6", "truncated")
    with RunLock(folder):
        status, err = call(capsys, mode_args("upscale", folder, data_dir, base))
    assert status == 0 and f"using {folder / 'ckpt-4'}" in err, err
    assert (folder / "ckpt-6.npz").exists() and not list(folder.glob("damaged-*"))


# --- kills and failed saves ---

KILLER = '''
import os, signal, sys
from pathlib import Path
import numpy as np
savez = np.savez
def killed_midway(handle, **arrays):  # kill -9 halfway through the second save's file
    if Path(handle.name).name.startswith(".ckpt-4.npz."):
        handle.write(b"PK\\x03\\x04 half a checkpoint")
        handle.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    return savez(handle, **arrays)
np.savez = killed_midway
sys.path.insert(0, {root!r})
from srgan.cli import main
sys.exit(main(sys.argv[1:]))
'''


def test_kill_9_during_a_save_loses_nothing(run, data_dir, base, capsys, tmp_path):
    folder = tmp_path / "run"
    script = tmp_path / "killer.py"
    script.write_text(KILLER.format(root=str(ROOT)))
    killed = subprocess.run([sys.executable, str(script), *train_args(data_dir, folder, 3)],
                            capture_output=True, text=True, timeout=600)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    [partial] = folder.glob(".ckpt-4.npz.*.tmp")
    status, err = call(capsys, train_args(data_dir, folder, 3))
    assert status == 0, err
    assert f"removed 1 partial save(s) of a killed run ({partial.name})" in err
    assert f"resuming from {folder / 'ckpt-2'}" in err
    assert not partial.exists()
    resumed, uninterrupted = checkpoint_values(folder / "ckpt-6"), checkpoint_values(run / "ckpt-6")
    assert resumed.keys() == uninterrupted.keys()
    for name, value in uninterrupted.items():
        np.testing.assert_allclose(resumed[name], value, rtol=1e-5, atol=1e-6, err_msg=name)


def test_a_full_disk_during_a_save_frees_its_files_and_keeps_the_last(run, data_dir, base, capsys,
                                                                       monkeypatch, tmp_path):
    folder = copy_run(run, tmp_path / "run")

    def full_disk(handle, **arrays):
        handle.write(bytes(1000))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), handle.name)

    monkeypatch.setattr(np, "savez", full_disk)
    line = assert_one_line_error(*call(capsys, train_args(data_dir, folder, 4)),
                                 f"cannot save {folder / 'ckpt-8'}", "No space left on device",
                                 f"({folder / 'ckpt-6'}) is intact")
    assert "run the same command" in line
    assert not list(folder.glob("*ckpt-8*")) and pointed(folder) == folder / "ckpt-6"
    monkeypatch.undo()
    status, err = call(capsys, train_args(data_dir, folder, 4))
    assert status == 0 and f"resuming from {folder / 'ckpt-6'}" in err, err


def no_space(path_argument: int | str):
    """A writer that fails as a full disk does, naming the path it was given."""
    def write(*args, **kwargs):
        path = args[path_argument] if isinstance(path_argument, int) else kwargs[path_argument]
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
    return write


@pytest.mark.parametrize("mode, target, argument", [
    ("train", "srgan.run.settings.write_text", 0),
    ("testing", "srgan.evaluation.testing.save_png", 0),
    ("upscale", "srgan.inference.outputs.save_png", 0),
    ("export", "keras.Model.save", 1),
    ("prepare", "srgan.data.prepare.save_png", 0)])
def test_a_full_disk_is_one_line_in_every_mode(run, data_dir, base, capsys, monkeypatch, tmp_path,
                                               mode, target, argument):
    folder = copy_run(run, tmp_path / "run")
    monkeypatch.setattr(target, no_space(argument))
    args = (["--mode=prepare", "--source", base / "in", "--data_dir", tmp_path / "prepared"]
            if mode == "prepare" else mode_args(mode, folder, data_dir, base))
    assert_one_line_error(*call(capsys, args), ": No space left on device")


# --- folders that cannot be written, or are files ---

@pytest.fixture
def unprivileged():
    """Runs the block as an ordinary user, for whom a read-only folder is read-only
    (root writes into any folder)."""
    if os.geteuid() != 0:
        yield
        return
    os.seteuid(NOBODY)
    try:
        yield
    finally:
        os.seteuid(0)


FOLDER_FLAGS = {"train": "--checkpoint_dir", "testing": "--results_dir", "upscale": "--output",
                "export": "--output", "prepare": "--data_dir"}


def with_folder(mode: str, run: Path, data_dir: Path, base: Path, target: Path) -> list:
    if mode == "prepare":
        return ["--mode=prepare", "--source", base / "in", "--data_dir", target]
    if mode == "train":
        return train_args(data_dir, target, 1)
    args = mode_args(mode, run, data_dir, base)
    args[args.index(FOLDER_FLAGS[mode]) + 1] = target
    return args


@pytest.mark.parametrize("mode", FOLDER_FLAGS)
def test_a_read_only_folder_is_one_line(run, data_dir, base, capsys, mode, request):
    target = base / f"read-only-{mode}"
    target.mkdir(mode=0o555)
    target.chmod(0o555)
    args = with_folder(mode, run, data_dir, base, target)
    request.getfixturevalue("unprivileged")
    assert_one_line_error(*call(capsys, args), str(target), "Permission denied")


@pytest.mark.parametrize("mode", FOLDER_FLAGS)
def test_a_file_where_a_folder_belongs_is_one_line(run, data_dir, base, capsys, mode):
    target = base / f"a-file-{mode}"
    target.write_text("not a folder")
    assert_one_line_error(*call(capsys, with_folder(mode, run, data_dir, base, target)),
                          str(target))


# --- settings, photos, flags and special files ---

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("settings", [{"features": "4"}, {"features": 4.5}, {"features": None},
                                      {"seed": -3}, ["not", "an", "object"]],
                         ids=["string", "float", "null", "range", "list"])
def test_settings_of_wrong_types_are_one_line(run, data_dir, base, capsys, tmp_path, mode, settings):
    folder = copy_run(run, tmp_path / "run")
    saved = json.loads((folder / "settings.json").read_text())
    (folder / "settings.json").write_text(json.dumps({**saved, **settings} if isinstance(
        settings, dict) else settings))
    assert_one_line_error(*call(capsys, mode_args(mode, folder, data_dir, base)),
                          str(folder / "settings.json"))


def test_testing_skips_and_lists_photos_too_small_for_any_step(run, capsys, tmp_path):
    data = tmp_path / "tiny-test"
    photo = skimage.data.astronaut()
    for name, side in (("dot.png", 3), ("small.png", 12), ("fine.png", 48)):
        save_png(data / "test" / name, photo[:side, :side])
    status, err = call(capsys, ["--mode=testing", "--checkpoint_dir", run, "--data_dir", data,
                                "--results_dir", tmp_path / "results"])
    out = json.loads((tmp_path / "results" / "summary.json").read_text())
    assert status == 0, err
    assert out["images"] == 1 and [line.split(":")[0] for line in out["skipped"]] == [
        f"cannot read photo {data / 'test' / name}" for name in ("dot.png", "small.png")]


@pytest.mark.parametrize("args, expected", [
    (["--seed", "-1", "--data_dir", "data"], "--seed must be from 0"),
    (["--seed", str(2**64), "--data_dir", "data"], "--seed must be from 0"),
    (["--mode=upscale", "--tile", "3", "--input", "x.png"], "--tile must be 0")])
def test_out_of_range_flags_are_one_line(base, capsys, args, expected):
    assert_one_line_error(*call(capsys, [*args, "--checkpoint_dir", base / "no-run"]), expected)


def test_special_files_are_never_read(run, data_dir, base, capsys, tmp_path):
    folder = tmp_path / "special"
    folder.mkdir()
    shutil.copy(base / "in" / "photo.png", folder / "photo.png")
    os.mkfifo(folder / "pipe.png")
    args = mode_args("upscale", run, data_dir, base)
    args[args.index("--input") + 1] = folder / "pipe.png"
    assert_one_line_error(*call(capsys, args), "pipe.png is a FIFO, not a regular file")
    args[args.index("--input") + 1] = folder
    status, err = call(capsys, args)
    assert status == 0 and "pipe.png: a FIFO, not a regular file: not read" in err, err
    assert (Path(args[args.index("--output") + 1]) / "photo.png").is_file()


# --- signals ---

def test_a_second_signal_quits_at_once_without_saving(data_dir, tmp_path):
    folder = tmp_path / "run"
    command = [sys.executable, str(ROOT / "main.py"), *TINY, "--n_epoch", "50", "--data_dir", str(data_dir), "--checkpoint_dir", str(folder)]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, bufsize=1)
    lines = []
    # Text mode reads tqdm's carriage returns as line ends; the bar is drawn once the
    # epoch loop, and with it the signal handler, has started.
    for line in process.stderr:
        lines.append(line)
        if "batch/s" in line or "s/batch" in line:
            break
    process.send_signal(signal.SIGINT)
    deadline = time.monotonic() + 60
    for line in process.stderr:
        lines.append(line)
        if "SIGINT received" in line or time.monotonic() > deadline:
            break
    process.send_signal(signal.SIGINT)
    rest = process.communicate(timeout=60)[1]
    err = "".join(lines) + rest
    assert process.returncode == 130, err
    assert "quitting without saving" in err
    assert "Exception ignored" not in err and "Traceback" not in err, err
    assert not list(folder.glob("ckpt-*.npz"))


# --- STL10 extraction ---

def stl10_archive(path: Path, extra_bytes: int = 0) -> Path:
    """A small archive in STL10's layout: two photos per split (and, where asked, a
    large file of zeros that compresses to almost nothing)."""
    folder = path.parent / "stl10_source" / stl10.FOLDER_NAME
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in stl10.BINARY_FILES.values():
        (folder / name).write_bytes(rng.integers(0, 256, 2 * stl10.IMAGE_BYTES, np.uint8).tobytes())
    if extra_bytes:
        with open(folder / "zeros.bin", "wb") as file:
            file.truncate(extra_bytes)
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        tar.add(folder, arcname=stl10.FOLDER_NAME)
    return path


def test_a_cut_extraction_is_redone_on_rerun(tmp_path, monkeypatch):
    archive = stl10_archive(tmp_path / "stl10_binary.tar.gz")
    extracted = []
    real_extract = tarfile.TarFile.extract

    def cut_after_two(self, member, *args, **kwargs):
        if len(extracted) == 2:
            raise KeyboardInterrupt
        extracted.append(member.name)
        return real_extract(self, member, *args, **kwargs)

    monkeypatch.setattr(tarfile.TarFile, "extract", cut_after_two)
    with pytest.raises(KeyboardInterrupt):
        prepare(str(archive), tmp_path / "data")
    monkeypatch.undo()
    assert list((tmp_path / "data" / "downloads").iterdir()) == []
    assert prepare(str(archive), tmp_path / "data").written == {"train": 2, "test": 2}


def test_free_space_is_checked_against_each_members_size(tmp_path, monkeypatch):
    archive = stl10_archive(tmp_path / "stl10_binary.tar.gz", extra_bytes=300 * 2**20)
    assert archive.stat().st_size < 2 * 2**20  # what the old check trusted
    usage = collections.namedtuple("usage", "total used free")
    # As if 200 MiB were free beyond the margin kept: far more than the archive's size.
    monkeypatch.setattr(shutil, "disk_usage",
                        lambda path: usage(10**12, 0, 200 * 2**20 + download.MARGIN_BYTES))

    with pytest.raises(UserError, match="not enough disk space for extracting stl10_binary/zeros.bin"):
        prepare(str(archive), tmp_path / "data")
    assert list((tmp_path / "data" / "downloads").iterdir()) == []


# --- bad input, second round: what a hostile user tries ---

VALIDATING = ["--val_images", "2"]


def test_start_only_flags_given_to_a_run_are_named_and_settings_keep_the_start(run, data_dir,
                                                                               capsys, tmp_path):
    folder = copy_run(run, tmp_path / "run")
    status, err = call(capsys, [*train_args(data_dir, folder, 3), "--init", "pretrained",
                                "--seed", "5"])
    assert status == 0, err
    assert (f"--init pretrained, --seed 5 ignored: resuming {folder / 'ckpt-6'} of a run started "
            "with --init reference, --seed 1") in err
    saved = json.loads((folder / "settings.json").read_text())
    assert (saved["init"], saved["seed"]) == ("reference", 1)


@pytest.mark.parametrize("where", ["new", "new/nested/run"])
def test_a_refused_start_leaves_no_folder_it_made(data_dir, capsys, tmp_path, where):
    folder = tmp_path / where
    line = assert_one_line_error(*call(capsys, [*train_args(data_dir, folder, 1), "--init",
                                                "pretrained", "--features", "8"]),
                                 "--init pretrained needs the shipped generator's architecture")
    assert "--features 8" in line
    assert list(tmp_path.iterdir()) == []


def test_a_refused_start_keeps_a_folder_it_did_not_make(data_dir, capsys, tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    assert_one_line_error(*call(capsys, [*train_args(data_dir, folder, 1), "--init", "pretrained",
                                         "--features", "8"]), "--init pretrained needs")
    assert folder.is_dir()


def test_best_that_cannot_be_written_is_said_before_an_epoch_and_on_every_rerun(run, data_dir,
                                                                                capsys, tmp_path):
    folder = copy_run(run, tmp_path / "run")
    (folder / "best").write_text("not a folder")
    for _ in range(2):
        assert_one_line_error(*call(capsys, [*train_args(data_dir, folder, 4), *VALIDATING]),
                              f"{folder / 'best'} is a file, not a folder", "--val_images 0")
        assert sorted(path.name for path in folder.glob("ckpt-*.npz")) == [
            "ckpt-2.npz", "ckpt-4.npz", "ckpt-6.npz"]  # no epoch spent
    (folder / "best").unlink()
    status, err = call(capsys, [*train_args(data_dir, folder, 4), *VALIDATING])
    assert status == 0 and "the best so far" in err, err


def test_a_failed_save_of_best_names_the_newest_intact_and_the_rerun_keeps_that_epoch(
        run, data_dir, capsys, monkeypatch, tmp_path):
    folder = copy_run(run, tmp_path / "run")
    savez = np.savez

    def best_disk_full(handle, **arrays):
        if Path(handle.name).parent.name == "best":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), handle.name)
        return savez(handle, **arrays)

    monkeypatch.setattr(np, "savez", best_disk_full)
    assert_one_line_error(*call(capsys, [*train_args(data_dir, folder, 4), *VALIDATING]),
                          f"cannot save {folder / 'best' / 'ckpt-8'}", "No space left on device",
                          f"the run's newest checkpoint ({folder / 'ckpt-6'}) is intact")
    assert not list(folder.glob("ckpt-8*"))  # the epoch is not saved without its best
    monkeypatch.undo()
    status, err = call(capsys, [*train_args(data_dir, folder, 4), *VALIDATING])
    assert status == 0 and f"resuming from {folder / 'ckpt-6'}" in err, err
    record = json.loads((folder / "best" / "best.json").read_text())
    assert (record["epoch"], record["step"]) == (4, 8)
    assert pointed(folder / "best") == folder / "best" / "ckpt-8"


def test_best_json_of_the_wrong_shape_is_said_before_an_epoch(run, data_dir, capsys, tmp_path):
    folder = copy_run(run, tmp_path / "run")
    (folder / "best").mkdir()
    (folder / "best" / "best.json").write_text(json.dumps({"psnr_y": "high"}))
    assert_one_line_error(*call(capsys, [*train_args(data_dir, folder, 4), *VALIDATING]),
                          str(folder / "best" / "best.json"), "epoch is missing")
    assert not list(folder.glob("ckpt-8*"))


def upscale(run: Path, photo: Path, out: Path) -> list:
    return ["--mode=upscale", "--checkpoint_dir", run, "--input", photo, "--output", out]


@pytest.mark.parametrize("side", [1, 2])
def test_upscale_refuses_a_photo_too_small_to_enlarge_faithfully(run, capsys, tmp_path, side):
    from srgan.inference.inputs import MIN_SIDE
    save_png(tmp_path / "in" / "tiny.png", skimage.data.astronaut()[:side, :side + 1])
    assert_one_line_error(*call(capsys, upscale(run, tmp_path / "in" / "tiny.png", tmp_path / "out")),
                          f"tiny.png is {side + 1}x{side} px, under the {MIN_SIDE} px a side")
    assert not (tmp_path / "out" / "tiny.png").exists()
    save_png(tmp_path / "in" / "fine.png", skimage.data.astronaut()[:MIN_SIDE, :MIN_SIDE])
    line = assert_one_line_error(*call(capsys, upscale(run, tmp_path / "in", tmp_path / "out")),
                                 "1 of 2 file(s) could not be upscaled (1 written")
    assert "tiny.png" in line and (tmp_path / "out" / "fine.png").is_file()


def test_upscale_says_which_frame_of_an_animation_it_enlarged(run, capsys, tmp_path):
    from PIL import Image
    frames = [Image.fromarray(skimage.data.astronaut()[i * 40:i * 40 + 24, :32]) for i in range(3)]
    frames[0].save(tmp_path / "moving.gif", save_all=True, append_images=frames[1:])
    Image.open(tmp_path / "moving.gif").convert("RGB").save(tmp_path / "first.png")
    status, err = call(capsys, upscale(run, tmp_path / "moving.gif", tmp_path / "out"))
    assert status == 0, err
    assert f"{tmp_path / 'moving.gif'} holds 3 frames (an animation, or pages): upscaled the first" in err
    assert call(capsys, upscale(run, tmp_path / "first.png", tmp_path / "out"))[0] == 0
    assert np.array_equal(np.asarray(Image.open(tmp_path / "out" / "moving.png")),
                          np.asarray(Image.open(tmp_path / "out" / "first.png")))


def chief_alone(data_dir: Path, folder: Path, wait: str) -> subprocess.Popen:
    """Worker 0 of a two-worker cluster on 127.0.0.1 whose worker 1 never starts."""
    with socket.socket() as one, socket.socket() as two:
        one.bind(("127.0.0.1", 0))
        two.bind(("127.0.0.1", 0))
        ports = one.getsockname()[1], two.getsockname()[1]
    config = {"cluster": {"worker": [f"127.0.0.1:{port}" for port in ports]},
              "task": {"type": "worker", "index": 0}}
    env = {**os.environ, "TF_CONFIG": json.dumps(config), "SRGAN_WORKER_WAIT": wait}
    return subprocess.Popen([sys.executable, str(ROOT / "main.py"), *train_args(data_dir, folder, 1),
                             "--strategy", "multiworker"], stderr=subprocess.PIPE, text=True,
                            env=env)


def test_a_worker_that_never_comes_is_waited_for_a_bounded_time(data_dir, tmp_path):
    started = time.monotonic()
    process = chief_alone(data_dir, tmp_path / "run", "3")
    err = process.communicate(timeout=120)[1]
    assert process.returncode == 1, err
    assert "waiting for worker 1 at 127.0.0.1:" in err and "(up to 3 s; SRGAN_WORKER_WAIT" in err
    line = err.strip().splitlines()[-1]
    assert line.startswith("error: worker 1 at 127.0.0.1:") and "did not answer within 3 s" in line
    assert "Traceback" not in err and time.monotonic() - started < 100
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_the_wait_for_workers_at_once(data_dir, tmp_path, signum):
    process = chief_alone(data_dir, tmp_path / "run", "600")
    lines = []
    for line in process.stderr:
        lines.append(line)
        if "waiting for worker 1" in line:
            break
    sent = time.monotonic()
    process.send_signal(signum)
    err = "".join(lines) + process.communicate(timeout=60)[1]
    assert process.returncode == 0, err
    assert time.monotonic() - sent < 30
    assert (f"{signal.Signals(signum).name} received while waiting for the cluster: stopped "
            "before training began. Run the same command to start again.") in err
    assert "Traceback" not in err


def test_compare_stops_on_ctrl_c_as_training_does(data_dir, tmp_path):
    folder = tmp_path / "checkpoint"
    command = [sys.executable, str(ROOT / "main.py"), "--mode=compare", *TINY, "--n_epoch", "50",
               "--data_dir", str(data_dir), "--checkpoint_dir", str(folder),
               "--results_dir", str(tmp_path / "results")]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               bufsize=1)
    lines = []
    for line in process.stderr:  # as in the second-signal test: the loop's bar is drawn
        lines.append(line)
        if "batch/s" in line or "s/batch" in line:
            break
    process.send_signal(signal.SIGINT)
    out, rest = process.communicate(timeout=120)
    err = "".join(lines) + rest
    assert process.returncode == 0, err
    assert "compare stopped while training srgan. Run the same command to resume" in err
    assert "error:" not in err and "Traceback" not in err
    assert read_pointer(folder / "compare" / "srgan")[0] is not None
    assert not (tmp_path / "results").exists() and "wrote" not in out
