"""A first run as a new user lives it: every inference mode names the generator it uses
(and says where the shipped one scored better on the same photos), a bad command answers
in one line before TensorFlow loads, a folder flag that names a file says so, and every
picture the project writes has its columns titled."""

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from srgan import cli
from srgan.evaluation import grids, provenance, report
from srgan.evaluation.curve import VALIDATION_TAG, validation_at
from srgan.evaluation.testing import run_testing
from srgan.inference import pretrained
from srgan.inference.upscale import output_names
from srgan.models.registry import build_generator_for
from srgan.training import compare, loop, samples
from tests.helpers import ROOT, photo, tiny_config, write_run

# A score set as the card writes one; the tests set it rather than read the card's, whose
# numbers change with each shipped generator.
BICUBIC_DB, SHIPPED_DB = 29.3022, 28.8109


def one_line_error(status: int, err: str, expected: str) -> None:
    assert status == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], err


# --- 1. every inference mode names its model ---

@pytest.fixture
def card_scores(monkeypatch):
    """The card with one score set (bicubic BICUBIC_DB, the shipped generator SHIPPED_DB)."""
    real = pretrained.card()
    scores = {"convention": "as --mode=testing", "demo": {
        "data": "the demo set's test photos", "bicubic": {"psnr": BICUBIC_DB, "ssim": 0.77},
        "model": {"psnr": SHIPPED_DB, "ssim": 0.76}}}
    monkeypatch.setattr(pretrained, "card", lambda: {**real, "scores": scores})


def log_validation(run: Path, step: int, psnr_y: float, bicubic_psnr_y: float) -> None:
    """Validation scalars as training logs them at a checkpoint."""
    writer = tf.summary.create_file_writer(str(run / "logs"))
    with writer.as_default(step=step):
        for name, value in (("psnr_y", psnr_y), ("bicubic_psnr_y", bicubic_psnr_y),
                            ("ssim_y", 0.7), ("bicubic_ssim_y", 0.75)):
            tf.summary.scalar(f"{VALIDATION_TAG}{name}", value)
    writer.close()


def inference_commands(run: Path, tmp_path: Path, data_dir: Path) -> dict[str, list[str]]:
    Image.fromarray(photo(12, 16)).save(tmp_path / "photo.png")
    return {"upscale": ["--mode=upscale", f"--checkpoint_dir={run}", f"--input={tmp_path / 'photo.png'}",
                        f"--output={tmp_path / 'up'}", "--precision=float32"],
            "testing": ["--mode=testing", f"--checkpoint_dir={run}", f"--data_dir={data_dir}",
                        f"--results_dir={tmp_path / 'results'}", "--precision=float32"],
            "export": ["--mode=export", f"--checkpoint_dir={run}", f"--output={tmp_path / 'export'}"]}


def test_each_inference_mode_names_the_checkpoint_its_step_and_score_and_the_better_shipped_one(
        tmp_path, capsys, data_dir, card_scores):
    run = tmp_path / "checkpoint"
    write_run(run)  # ckpt-0, at step 0
    commands = inference_commands(run, tmp_path, data_dir)
    assert cli.main(commands["upscale"]) == 0
    err = capsys.readouterr().err
    assert f"using {run / 'ckpt-0'} (step 0); its run logged no validation score at that step" in err
    assert "--checkpoint pretrained" not in err

    log_validation(run, 0, 27.5, BICUBIC_DB)
    for mode, command in commands.items():
        assert cli.main(command) == 0, mode
        lines = capsys.readouterr().err.splitlines()
        named = [line for line in lines if line.startswith("using ")]
        assert named == [f"using {run / 'ckpt-0'} (step 0); validation there: PSNR-Y 27.50 dB "
                         f"(bicubic {BICUBIC_DB:.2f})"], (mode, lines)
        advice = [line for line in lines if "below the shipped generator" in line]
        assert len(advice) == 1, (mode, lines)
        assert f"at 27.50 dB PSNR-Y, below the shipped generator's {SHIPPED_DB:.2f} dB" in advice[0]
        assert advice[0].endswith("pass --checkpoint pretrained to use the shipped one")


def test_a_run_found_by_itself_below_the_shipped_one_gives_way_to_it(
        tmp_path, capsys, data_dir, card_scores, monkeypatch):
    # The quick start's order: upscale, train a short demo run, upscale again. The second
    # upscale must not be worse than the first: the default folder's run, not named by the
    # command, is used only where it did not validate below the shipped generator.
    monkeypatch.chdir(tmp_path)
    run = Path("checkpoint")
    write_run(run)
    log_validation(run, 0, 27.5, BICUBIC_DB)
    for mode, command in inference_commands(run, tmp_path, data_dir).items():
        unnamed = [arg for arg in command if not arg.startswith("--checkpoint_dir")]
        assert cli.main(unnamed) == 0, mode
        lines = capsys.readouterr().err.splitlines()
        assert any(line.startswith(f"{run / 'ckpt-0'} validated at 27.50 dB PSNR-Y, below the shipped "
                                   f"generator's {SHIPPED_DB:.2f} dB") and line.endswith(
            "using the shipped generator; pass --checkpoint_dir checkpoint to use this run")
            for line in lines), (mode, lines)
        assert "using the shipped generator, srgan/pretrained/seed_x4" in lines, (mode, lines)
    log_validation(run, 0, SHIPPED_DB + 0.5, BICUBIC_DB)  # a better run is used as found
    assert cli.main([arg for arg in inference_commands(run, tmp_path, data_dir)["upscale"]
                     if not arg.startswith("--checkpoint_dir")]) == 0
    assert f"using {run / 'ckpt-0'} (step 0)" in capsys.readouterr().err


@pytest.mark.parametrize("psnr_y, bicubic_psnr_y", [(SHIPPED_DB + 0.5, BICUBIC_DB), (20.0, 31.0)],
                         ids=["above the shipped one", "other photos"])
def test_no_advice_where_the_run_did_better_or_was_scored_on_other_photos(
        tmp_path, capsys, data_dir, card_scores, psnr_y, bicubic_psnr_y):
    run = tmp_path / "checkpoint"
    write_run(run)
    log_validation(run, 0, psnr_y, bicubic_psnr_y)
    assert cli.main(inference_commands(run, tmp_path, data_dir)["upscale"]) == 0
    err = capsys.readouterr().err
    assert f"validation there: PSNR-Y {psnr_y:.2f} dB (bicubic {bicubic_psnr_y:.2f})" in err
    assert "shipped" not in err


def test_the_validation_score_is_read_from_logs_a_killed_run_cut_short(tmp_path):
    log_validation(tmp_path, 12, 27.5, BICUBIC_DB)
    first = set((tmp_path / "logs").glob("events*"))
    log_validation(tmp_path, 24, 28.0, BICUBIC_DB)
    second, = set((tmp_path / "logs").glob("events*")) - first
    second.write_bytes(second.read_bytes()[:-5])  # the last record (bicubic_ssim_y) cut
    assert validation_at(tmp_path, 12) == {"psnr_y": 27.5, "bicubic_psnr_y": pytest.approx(BICUBIC_DB),
                                           "ssim_y": pytest.approx(0.7),
                                           "bicubic_ssim_y": pytest.approx(0.75)}
    assert validation_at(tmp_path, 24) == {"psnr_y": 28.0, "bicubic_psnr_y": pytest.approx(BICUBIC_DB),
                                           "ssim_y": pytest.approx(0.7)}
    assert validation_at(tmp_path, 36) is None


def test_the_shipped_generator_is_named_by_its_files(tmp_path, capsys, data_dir):
    (tmp_path / "checkpoint").mkdir()  # a folder given that holds no run (a missing one is refused)
    commands = inference_commands(tmp_path / "checkpoint", tmp_path, data_dir)
    assert cli.main(commands["upscale"]) == 0
    err = capsys.readouterr().err
    assert (f"using the shipped generator, srgan/pretrained/seed_x4 (no trained run in "
            f"{tmp_path / 'checkpoint'}; train your own") in err
    assert cli.main([*commands["upscale"], "--checkpoint=pretrained"]) == 0
    assert "using the shipped generator, srgan/pretrained/seed_x4\n" in capsys.readouterr().err


@pytest.mark.parametrize("shipped_db", [99.0, None], ids=["shipped better", "no like score"])
def test_training_names_its_model_and_run_and_ends_on_the_better_shipped_one(
        tmp_path, capsys, data_dir, monkeypatch, shipped_db):
    # The run validates on photos of its own: the shipped generator's score on them is
    # what the card would hold, or nothing.
    monkeypatch.setattr(provenance, "shipped_score_on_same_photos",
                        lambda source: None if shipped_db is None else ("demo", shipped_db))
    folder = tmp_path / "run"
    loop.train(tiny_config(data_dir, folder, n_epoch=0, n_epoch_init=1, seed=5))
    lines = capsys.readouterr().err.splitlines()
    assert f"a new run of the seed model (4 features x 1 blocks) in {folder} (--init reference, --seed 5)" in lines
    advice = [line for line in lines if "below the shipped generator" in line]
    if shipped_db is None:
        assert advice == []
        assert (f"training finished: 1 epochs, step 2; testing, upscale and export now use this "
                f"run, {folder}") in lines
    else:
        assert "training finished: 1 epochs, step 2" in lines
        assert len(advice) == 1 and advice[0].startswith(f"{folder / 'ckpt-2'} validated at ")
        assert "shipped generator's 99.00 dB" in advice[0] and advice[0].endswith(
            f"testing, upscale and export keep the shipped generator unless you name this run "
            f"(--checkpoint_dir {folder})")
    loop.train(tiny_config(data_dir, folder, n_epoch=0, n_epoch_init=2, seed=5))
    assert f"resuming the seed model (4 features x 1 blocks) in {folder}" in capsys.readouterr().err


# --- 2. bad commands answer before TensorFlow loads, in one line ---

_MAIN = ("import sys\nfrom srgan import cli\nstatus = cli.main(sys.argv[1:])\n"
         "print('tensorflow' in sys.modules)\nsys.exit(status)")


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("bad")
    (folder / "notes.png").write_text("a text file named like a photo")
    (folder / "ckfile").write_text("a file where a folder belongs")
    Image.fromarray(photo(12, 16)).save(folder / "photo.png")
    Image.fromarray(photo(2, 5)).save(folder / "tiny.png")
    return folder


BAD_COMMANDS = {
    "missing --input folder": (["--mode=upscale", "--input", "{bad}/holiday/"],
                               "--input {bad}/holiday does not exist"),
    "--batch_size -4": (["--batch_size", "-4"], "--batch_size must be at least 1, got -4"),
    "--batch_size 0": (["--batch_size", "0", "--data_dir", "{bad}"],
                       "--batch_size must be at least 1, got 0"),
    "a text file named .png": (["--mode=upscale", "--input", "{bad}/notes.png"],
                               "cannot read photo {bad}/notes.png: not an image"),
    "training's --checkpoint_dir is a file": (["--checkpoint_dir", "{bad}/ckfile"],
                                              "--checkpoint_dir {bad}/ckfile is a file, not a folder"),
    "upscale's --checkpoint_dir is a file": (
        ["--mode=upscale", "--input", "{bad}/photo.png", "--checkpoint_dir", "{bad}/ckfile"],
        "--checkpoint_dir {bad}/ckfile is a file, not a folder"),
    "a missing --checkpoint": (["--mode=testing", "--checkpoint", "{bad}/ckpt-9"],
                               "--checkpoint {bad}/ckpt-9 does not exist"),
    "a missing --vgg_weights file": (["--vgg_weights", "{bad}/vgg.h5"],
                                     "VGG19 weights file {bad}/vgg.h5 does not exist"),
    "prepare without --source": (["--mode=prepare"], "--mode=prepare needs --source"),
    "--tile 8": (["--mode=upscale", "--input", "{bad}/photo.png", "--tile", "8"],
                 "--tile must be 0 (whole photos) or at least 16"),
    "--outscale 0": (["--mode=upscale", "--input", "{bad}/photo.png", "--outscale", "0"],
                     "--outscale must be above 0 and at most 16, got 0"),
    "--quality 101": (["--mode=upscale", "--input", "{bad}/photo.png", "--ext", "jpg", "--quality", "101"],
                      "--quality must be from 1 to 100, got 101"),
    "a photo under 3 px": (["--mode=upscale", "--input", "{bad}/tiny.png"],
                           "{bad}/tiny.png is 5x2 px, under the 3 px a side"),
    "a misspelt --checkpoint_dir": (["--mode=export", "--checkpoint_dir", "{bad}/chekpoint"],
                                    "--checkpoint_dir {bad}/chekpoint does not exist"),
    "compare's --minutes 0": (["--mode=compare", "--minutes", "0"], "--minutes must be positive, got 0.0"),
    # training's and compare's alike (TrainConfig.validate)
    "--minutes_init without a warm-up": (
        ["--minutes_init", "5"],
        "--minutes_init is the warm-up's budget: give --n_epoch_init too"),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", BAD_COMMANDS)
def test_a_bad_command_answers_in_one_line_before_tensorflow_loads(bad_inputs, case):
    args, expected = BAD_COMMANDS[case]
    args = [arg.format(bad=bad_inputs) for arg in args]
    start = time.monotonic()
    result = subprocess.run([sys.executable, "-c", _MAIN, *args], capture_output=True, text=True,
                            cwd=ROOT, timeout=120)
    seconds = time.monotonic() - start
    one_line_error(result.returncode, result.stderr, expected.format(bad=bad_inputs))
    assert result.stdout.strip() == "False", "TensorFlow was imported"
    # About a second on an idle 2-core CPU; TensorFlow's import alone takes 10 to 20 s.
    assert seconds < 5, f"{seconds:.1f} s"


def test_a_misspelt_flag_is_argparses_usage_and_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--mode=upscale", "--inptu", "a.png"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: main.py") and "unrecognized arguments: --inptu" in err


# --- 3. a folder flag that names a file, in every mode ---

FOLDER_FLAGS = [("train", "checkpoint_dir"), ("train", "data_dir"), ("prepare", "data_dir"),
                ("testing", "checkpoint_dir"), ("testing", "data_dir"), ("testing", "results_dir"),
                ("upscale", "checkpoint_dir"), ("upscale", "output"), ("export", "checkpoint_dir"),
                ("export", "output"), ("compare", "checkpoint_dir"), ("compare", "data_dir"),
                ("compare", "results_dir")]


@pytest.mark.parametrize("mode, flag", FOLDER_FLAGS)
def test_a_folder_flag_that_names_a_file_is_one_line(bad_inputs, capsys, mode, flag):
    file = bad_inputs / "ckfile"
    status = cli.main([f"--mode={mode}", f"--{flag}", str(file)])
    one_line_error(status, capsys.readouterr().err, f"--{flag} {file} is a file, not a folder")
    status = cli.main([f"--mode={mode}", f"--{flag}", str(file / "inside")])
    one_line_error(status, capsys.readouterr().err,
                   f"--{flag} {file / 'inside'}: {file} is a file, not a folder")


# --- 4. every picture is titled ---

def test_grid_titles_head_their_columns_and_widen_them_where_longer():
    red, blue = np.zeros((48, 48, 3), np.uint8), np.zeros((40, 36, 3), np.uint8)
    red[..., 0], blue[..., 2] = 255, 255
    titles = ["LR", grids.sr_title("a model with a long name"), "HR"]
    grid = grids.image_grid([[red, red, red], [blue, blue, blue]], 2, titles)
    band = grids.title_band(48, 2)
    assert band > 2 and grid.shape[0] == band + 2 * 48 + 2
    ink = (grid[:band] < 128).all(axis=2)
    # The long title widens the middle column; the others keep the cells' width.
    assert grid.shape[1] > 3 * 48 + 2 * 2
    middle = grid.shape[1] - 48 - 2 - 48 - 2
    left_of_middle = 48 + 2
    assert ink[:, :48].any() and ink[:, -48:].any() and ink[:, left_of_middle:left_of_middle + middle].any()
    assert np.array_equal(grid[band:band + 48, :48], red)
    assert np.array_equal(grid[band + 50:band + 90, :36], blue)
    assert np.array_equal(grid[band:band + 48, -48:], red)
    # Cells are centred under a wide title.
    centre = left_of_middle + (middle - 48) // 2
    assert np.array_equal(grid[band:band + 48, centre:centre + 48], red)
    with pytest.raises(ValueError, match="2 titles for 3 columns"):
        grids.image_grid([[red, red, red]], 2, titles[:2])


@pytest.fixture
def grid_titles(monkeypatch) -> list[list[str]]:
    """The titles of each grid drawn while the fixture is in use."""
    drawn: list[list[str]] = []
    real = grids.image_grid

    def spy(rows, gap, titles):
        drawn.append(list(titles))
        return real(rows, gap, titles)

    for module in (report, samples):
        monkeypatch.setattr(module, "image_grid", spy)
    return drawn


def test_training_samples_are_titled_lr_sr_and_model_hr(grid_titles):
    generator = build_generator_for("seed", 4, 1)
    grid = samples.sample_grid(generator, np.stack([photo(48, 48)] * 2), "seed model")
    assert grid_titles == [["LR", "SR (seed model)", "HR"]]
    assert grid.shape[0] == grids.title_band(48, 2) + 2 * 48 + 2


def test_testings_comparison_names_each_generator(run, tmp_path, data_dir, grid_titles):
    folder, _ = run
    other = tmp_path / "other"
    write_run(other, seed=1)
    run_testing(folder, None, data_dir, tmp_path / "results", compare=[f"w={other}"])
    assert grid_titles == [["HR", "bicubic", f"SR ({folder.name}/ckpt-0)", "SR (w)"]]


def test_compare_grid_names_each_model(tmp_path, data_dir, grid_titles):
    results = tmp_path / "results"
    pairs = compare.test_pairs(data_dir)
    names = output_names([hr for hr, _ in pairs])
    for hr, _ in pairs:
        for method in (*compare.BASELINES, compare.MODEL):
            (results / method).mkdir(parents=True, exist_ok=True)
            Image.fromarray(photo(48, 48)).save(results / method / names[hr])
    compare.write_compare_grid(results, data_dir)
    assert grid_titles == [["LR (x4 nearest)", "bicubic", "SR (SRGAN)", "SR (W-SRGAN)",
                            "SR (seed model)", "HR"]]
    assert (results / "compare.png").is_file()


def test_compare_grid_shows_photos_spread_over_the_test_set_each_in_every_column(tmp_path):
    # 40 test photos, each one flat grey level (its index): the grid's 16 rows must run
    # from the first to the last, and each row's columns must be of that photo.
    data_dir, results = tmp_path / "data", tmp_path / "results"
    for index in range(40):
        flat = np.full((24, 24, 3), 5 * index, np.uint8)
        (data_dir / "test").mkdir(parents=True, exist_ok=True)
        Image.fromarray(flat).save(data_dir / "test" / f"{index:02d}.png")
    pairs = compare.test_pairs(data_dir)
    names = output_names([hr for hr, _ in pairs])
    for hr, _ in pairs:
        for method in (*compare.BASELINES, compare.MODEL):
            (results / method).mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.asarray(Image.open(hr))).save(results / method / names[hr])
    compare.write_compare_grid(results, data_dir)
    grid = np.asarray(Image.open(results / "compare.png").convert("RGB"))
    band, gap = grids.title_band(24, report.GRID_GAP), report.GRID_GAP
    assert grid.shape[0] == band + 16 * (24 + gap) - gap
    levels = []
    for row in range(16):
        line = grid[band + row * (24 + gap) + 12, :, 0].astype(int)
        cells = line != 255  # the white between the columns
        runs = np.flatnonzero(np.diff(np.concatenate([[0], cells.astype(int), [0]])) == 1)
        assert len(runs) == 6 and len(set(line[cells])) == 1  # six columns of one photo
        levels.append(int(line[cells][0]) // 5)
    assert levels == sorted({round(i * 39 / 15) for i in range(16)})  # the first to the last
