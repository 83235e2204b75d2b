"""--mode=testing: loading a generator from a training checkpoint, and the test run's results."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

from srgan.cli import main
from srgan.config import TrainConfig
from srgan.data.degrade import downsample, from_model, to_model
from srgan.errors import UserError
from srgan.evaluation.grids import title_band
from srgan.evaluation.report import COLUMNS
from srgan.evaluation.testing import parse_compare, run_testing
from srgan.inference.restore import load_generator
from srgan.metrics import gmsd, mean_gradient, ms_ssim, psnr, sharpness, ssim
from srgan.models.generator import build_generator
from srgan.run.folder import write_arrays
from srgan.run.settings import save_settings
from tests.helpers import photo, write_run


def sr_of(generator: keras.Model, lr: np.ndarray) -> np.ndarray:
    return from_model(generator(to_model(lr[np.newaxis]), training=False)).numpy()[0]


@pytest.fixture
def data_dir(tmp_path) -> Path:
    test = tmp_path / "data" / "test"
    test.mkdir(parents=True)
    Image.fromarray(photo(48, 48)).save(test / "a.png")
    Image.fromarray(photo(50, 37, "chelsea")).save(test / "b.png")  # not multiples of 4
    Image.fromarray(photo(16, 16, "coffee")).save(test / "c_tiny.png")  # under SSIM's 19 px
    (test / "d_broken.png").write_bytes(b"not a png")
    return tmp_path / "data"


def test_load_generator_restores_the_checkpointed_weights(run):
    folder, generator = run
    loaded, config, path = load_generator(folder)
    assert (config.features, config.blocks) == (8, 1)
    assert path == str(folder / "ckpt-0")
    lr = photo(12, 12)
    assert np.array_equal(sr_of(loaded, lr), sr_of(generator, lr))
    keras.utils.set_random_seed(99)
    assert not np.array_equal(sr_of(build_generator(8, 1), lr), sr_of(generator, lr))


@pytest.mark.parametrize("given", ["ckpt-0", "ckpt-0.npz", "."])
def test_load_generator_takes_a_checkpoint_path_or_folder(run, given):
    folder, _ = run
    _, _, path = load_generator(Path("nowhere"), folder / given)
    assert path == str(folder / "ckpt-0")


def test_a_named_folder_without_checkpoint_says_how_to_train_one(tmp_path, capsys):
    # Without --checkpoint an empty folder means the shipped generator (test_pretrained.py);
    # a folder named with --checkpoint must hold a run.
    (tmp_path / "checkpoint").mkdir()
    with pytest.raises(UserError, match="no checkpoint in .*give a folder that training wrote"):
        load_generator(tmp_path, tmp_path / "checkpoint")
    results = tmp_path / "results"
    (tmp_path / "data2017").mkdir()  # empty: the checkpoint is looked for first
    assert main(["--mode=testing", f"--checkpoint={tmp_path / 'checkpoint'}",
                 f"--data_dir={tmp_path / 'data2017'}", f"--results_dir={results}"]) == 1
    assert "no checkpoint in" in capsys.readouterr().err
    assert not results.exists()
    with pytest.raises(UserError, match="no checkpoint at"):
        load_generator(tmp_path, tmp_path / "ckpt-7")


@pytest.mark.parametrize("features, blocks", [(16, 1), (8, 2), (8, 0)])
def test_checkpoint_of_another_architecture_is_refused(run, tmp_path, features, blocks):
    """settings.json that does not describe the checkpoint: wider, deeper, shallower."""
    folder, _ = run
    for file in folder.glob("ckpt-0*"):
        (tmp_path / file.name).write_bytes(file.read_bytes())
    (tmp_path / "checkpoint").write_text('model_checkpoint_path: "ckpt-0"\n')
    save_settings(TrainConfig(features=features, blocks=blocks), tmp_path)
    with pytest.raises(UserError, match="damaged or holds another architecture"):
        load_generator(tmp_path)


def test_checkpoint_without_a_generator_is_refused(tmp_path):
    """No weight's shape can differ here: the count of the generator's arrays must tell."""
    write_arrays(tmp_path / "ckpt-1", {"step": np.int64(3), "batchnorm_epsilon": np.float64(1e-5)})
    save_settings(TrainConfig(features=8, blocks=1), tmp_path)
    with pytest.raises(UserError, match="generator has 0 arrays in the checkpoint"):
        load_generator(tmp_path)


@pytest.mark.parametrize("damage", ["truncated", "zeroed"])
def test_damaged_checkpoint_is_refused_and_nothing_written(run, tmp_path, data_dir, damage):
    folder, _ = run
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    for file in folder.iterdir():
        if file.is_file():
            (damaged / file.name).write_bytes(file.read_bytes())
    target = damaged / "ckpt-0.npz"
    content = target.read_bytes()
    target.write_bytes(content[: len(content) // 2] if damage == "truncated" else b"\x00" * len(content))
    results = tmp_path / "results"
    with pytest.raises(UserError, match="no intact checkpoint .*ckpt-0 is damaged"):
        run_testing(damaged, None, data_dir, results)
    assert not results.exists()
    assert sorted(path.name for path in damaged.glob("damaged-ckpt-0.*")) == [
        f"damaged-{path.name}" for path in sorted(folder.glob("ckpt-0.*"))]


def test_missing_settings_is_a_clear_error(run, tmp_path):
    folder, _ = run
    for file in folder.glob("ckpt-0*"):
        (tmp_path / file.name).write_bytes(file.read_bytes())
    with pytest.raises(UserError, match="no settings.json"):
        load_generator(tmp_path, tmp_path / "ckpt-0")


def test_empty_test_folder_is_a_clear_error(run, tmp_path):
    (tmp_path / "data" / "test").mkdir(parents=True)
    with pytest.raises(UserError, match="no test photos in"):
        run_testing(run[0], None, tmp_path / "data", tmp_path / "results")


@pytest.mark.parametrize("layout", ["flat", "HR"])
def test_a_benchmark_folder_as_it_comes_is_scored(run, tmp_path, data_dir, layout):
    # Set5 and its kin come as a flat folder of photos, or with the photos in HR/.
    folder = tmp_path / "Set5"
    hr = folder if layout == "flat" else folder / "HR"
    hr.mkdir(parents=True)
    for name in ("a.png", "b.png"):
        (hr / name).write_bytes((data_dir / "test" / name).read_bytes())
    summary = run_testing(run[0], None, folder, tmp_path / "results")
    assert summary["images"] == 2 and summary["test_dir"] == str(hr)
    run_testing(run[0], None, data_dir, tmp_path / "reference")
    assert summary["methods"]["model"]["psnr"] == pytest.approx(
        np.mean([float(row["psnr"]) for row in _rows(tmp_path / "reference" / "metrics.csv")
                 if row["method"] == "model" and row["image"] in ("a.png", "b.png")]))


def _rows(path: Path) -> list[dict]:
    with open(path, newline="") as file:
        reader = csv.DictReader(file)
        assert tuple(reader.fieldnames) == COLUMNS
        return list(reader)


def test_testing_scores_model_and_bicubic_as_the_spec_says(run, tmp_path, data_dir):
    folder, generator = run
    results = tmp_path / "results"
    summary = run_testing(folder, None, data_dir, results)

    rows = _rows(results / "metrics.csv")
    assert [(r["image"], r["method"]) for r in rows] == [
        ("a.png", "bicubic"), ("a.png", "model"), ("b.png", "bicubic"), ("b.png", "model")]
    assert summary["images"] == 2 and len(summary["skipped"]) == 2
    assert any("c_tiny.png" in s for s in summary["skipped"])
    assert any("d_broken.png" in s for s in summary["skipped"])

    # Recomputed here from the photo: HR cropped to a multiple of 4 (37 -> 36 wide), the
    # training degradation, PIL bicubic for the baseline, the in-memory generator.
    hr = np.asarray(Image.open(data_dir / "test" / "b.png"))[:48, :36]
    lr = downsample(hr).numpy().astype(np.uint8)
    bicubic = np.asarray(Image.fromarray(lr).resize((36, 48), Image.BICUBIC))
    sr = sr_of(generator, lr)
    saved = np.asarray(Image.open(results / "model" / "b.png"))
    assert np.abs(saved.astype(int) - sr.astype(int)).max() <= 1
    for row, image in ((rows[2], bicubic), (rows[3], saved)):
        assert float(row["psnr"]) == pytest.approx(psnr(hr, image), abs=1e-5)
        assert float(row["ssim"]) == pytest.approx(ssim(hr, image), abs=1e-5)
        assert float(row["ms_ssim"]) == pytest.approx(ms_ssim(hr, image)[0], abs=1e-5)
        assert float(row["gmsd"]) == pytest.approx(gmsd(hr, image), abs=1e-5)
        assert float(row["sharpness"]) == pytest.approx(sharpness(hr, image, 4), abs=1e-5)
        assert float(row["time_ms"]) > 0

    stored = json.loads((results / "summary.json").read_text())
    assert list(stored["methods"]) == ["bicubic", "model"]
    hrs = [np.asarray(Image.open(data_dir / "test" / name)) for name in ("a.png", "b.png")]
    hrs = [hr[:hr.shape[0] // 4 * 4, :hr.shape[1] // 4 * 4] for hr in hrs]
    for method in ("bicubic", "model"):
        for metric in ("psnr", "ssim", "ms_ssim", "gmsd", "time_ms"):
            mean = np.mean([float(r[metric]) for r in rows if r["method"] == method])
            assert stored["methods"][method][metric] == pytest.approx(mean, abs=1e-5)
    # Sharpness is the set's: its mean SR gradient over its mean HR gradient.
    srs = [np.asarray(Image.open(results / "model" / name)) for name in ("a.png", "b.png")]
    expected = sum(map(mean_gradient, srs, [4, 4])) / sum(map(mean_gradient, hrs, [4, 4]))
    assert stored["methods"]["model"]["sharpness"] == pytest.approx(expected, abs=1e-5)
    assert stored["methods"]["bicubic"]["sharpness"] < 1
    assert stored["ms_ssim_scales"] == [2]  # 40x40 and 40x28 after the 4 px crop
    assert stored["device"].startswith(("CPU", "GPU"))
    markdown = (results / "summary.md").read_text()
    assert ("| method | PSNR (dB) | SSIM | MS-SSIM (2 scales) | GMSD | sharpness | time (ms) |"
            in markdown)
    assert "| model |" in markdown and stored["device"] in markdown

    grid = np.asarray(Image.open(results / "comparison.png"))
    band = title_band(48, 4)  # the titles: HR | bicubic | SR (checkpoint/ckpt-0)
    assert grid.shape[0] == band + 2 * 48 + 4 and grid.shape[1] >= 3 * 48 + 2 * 4  # two rows
    assert np.array_equal(grid[band + 48 + 4:, :36], hr)
    assert sorted(p.name for p in (results / "model").iterdir()) == ["a.png", "b.png"]


def test_testing_replaces_its_own_outputs_and_never_a_users_file(run, tmp_path, data_dir):
    folder, _ = run
    results = tmp_path / "results"
    run_testing(folder, None, data_dir, results)
    run_testing(folder, None, data_dir, results)  # its own SR photos: replaced
    mine = results / "model" / "b.png"
    Image.fromarray(photo(20, 20)).save(mine)
    before = mine.read_bytes()
    with pytest.raises(UserError, match=f"--results_dir {mine.parent} already holds b.png, "
                                        "which this tool did not write"):
        run_testing(folder, None, data_dir, results)
    assert mine.read_bytes() == before


@pytest.mark.parametrize("inside", ["test", "test/results"])
def test_results_inside_the_test_set_are_refused(run, data_dir, inside):
    before = sorted((data_dir / "test").rglob("*"))
    with pytest.raises(UserError, match=f"--results_dir {data_dir / inside} is inside "
                                        f"{data_dir / 'test'}, which testing reads"):
        run_testing(run[0], None, data_dir, data_dir / inside)
    assert sorted((data_dir / "test").rglob("*")) == before


def test_compare_adds_rows_and_columns(run, tmp_path, data_dir):
    """A baseline's run (W-SRGAN's SRResNet) as the extra row, as in the seed's table."""
    folder, _ = run
    other = tmp_path / "other"
    write_run(other, seed=1, model="wsrgan")
    results = tmp_path / "results"
    summary = run_testing(folder, None, data_dir, results, compare=[f"w_srgan={other}"])
    assert list(summary["methods"]) == ["bicubic", "model", "w_srgan"]
    assert [r["method"] for r in _rows(results / "metrics.csv")][:3] == ["bicubic", "model", "w_srgan"]
    assert np.asarray(Image.open(results / "comparison.png")).shape[1] >= 4 * 48 + 3 * 4
    assert summary["methods"]["model"]["psnr"] != summary["methods"]["w_srgan"]["psnr"]


@pytest.mark.parametrize("spec", ["nameonly", "=ckpt", "bicubic=x", "a b=x", "model=x"])
def test_bad_compare_specs_are_refused(spec):
    with pytest.raises(UserError, match="--compare"):
        parse_compare([spec])


def test_given_lr_photos_are_used_and_hr_cropped_to_match(run, tmp_path):
    folder, generator = run
    data = tmp_path / "data"
    (data / "test").mkdir(parents=True)
    (data / "test_lr").mkdir()
    hr = photo(52, 50)
    lr = photo(12, 11, "chelsea")  # not hr's own downsizing: proves the given LR is used
    Image.fromarray(hr).save(data / "test" / "a.png")
    Image.fromarray(lr).save(data / "test_lr" / "a.png")
    summary = run_testing(folder, None, data, tmp_path / "results")
    assert summary["lr"] == "given in test_lr/"
    assert any("cropped" in note for note in summary["notes"])
    row = _rows(tmp_path / "results" / "metrics.csv")[1]
    assert float(row["psnr"]) == pytest.approx(psnr(hr[:48, :44], sr_of(generator, lr)), abs=1e-3)

    Image.fromarray(photo(14, 11)).save(data / "test_lr" / "a.png")  # 56 px > 52 px HR
    with pytest.raises(UserError, match="larger than its HR"):
        run_testing(folder, None, data, tmp_path / "results")


def test_cli_testing_prints_the_table(run, tmp_path, data_dir, capsys):
    folder, _ = run
    results = tmp_path / "results"
    assert main(["--mode=testing", f"--checkpoint={folder / 'ckpt-0'}", f"--data_dir={data_dir}",
                 f"--results_dir={results}"]) == 0
    out = capsys.readouterr().out
    assert "| bicubic |" in out and "| model |" in out
    assert (results / "summary.md").is_file()
