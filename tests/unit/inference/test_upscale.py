"""--mode=upscale: tiled 4x upscaling of any photo, equal to the untiled result."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image, ImageCms
from test_testing import photo, write_run

from srgan.cli import main
from srgan.data.images import written_by_us
from srgan.errors import UserError
from srgan.inference.upscale import (_spans, context_margin, make_predictor, output_names, upscale_array,
                                     upscale_files)
from srgan.models.generator import build_generator
from srgan.models.registry import build_generator_for


@pytest.fixture(scope="module")
def generator() -> keras.Model:
    # Keras' defaults: an untrained generator whose output depends on its context enough to
    # show tile seams; the reference's N(0, 0.02) draws give a nearly flat grey image.
    keras.utils.set_random_seed(3)
    return build_generator(8, 1, init="glorot")


def test_spans_cover_each_pixel_once_in_nearly_equal_parts():
    for size, tile in ((130, 128), (1024, 128), (7, 3), (5, 8)):
        spans = _spans(size, tile)
        assert spans[0][0] == 0 and spans[-1][1] == size
        assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
        lengths = [end - start for start, end in spans]
        assert max(lengths) <= tile and max(lengths) - min(lengths) <= 1


def test_tiled_equals_untiled_with_the_receptive_field_margin(generator):
    predict = make_predictor(generator)
    lr = photo(37, 53)
    whole = predict(lr)
    assert whole.shape == (148, 212, 3) and whole.dtype == np.uint8
    tiled = upscale_array(predict, lr, tile=16, margin=context_margin("seed", 1))
    assert np.abs(tiled.astype(int) - whole.astype(int)).max() <= 1
    # Without context the seams show: the margin is what makes the two agree.
    seams = upscale_array(predict, lr, tile=16, margin=0)
    assert np.abs(seams.astype(int) - whole.astype(int)).max() > 10


def test_baseline_generator_tiles_equal_untiled_too():
    keras.utils.set_random_seed(4)
    predict = make_predictor(build_generator_for("srgan", 8, 2))
    lr = photo(29, 41)
    tiled = upscale_array(predict, lr, tile=12, margin=context_margin("srgan", 2))
    assert np.abs(tiled.astype(int) - predict(lr).astype(int)).max() <= 1


def test_tiles_stay_bounded_whatever_the_photo_size(generator):
    predict = make_predictor(generator)
    seen = []

    def recording(lr):
        seen.append(lr.shape[:2])
        return predict(lr)

    upscale_array(recording, photo(70, 90), tile=16, margin=10)
    assert len(seen) == 5 * 6
    assert max(max(shape) for shape in seen) <= 16 + 2 * 10


def test_output_names_keep_clashing_stems_apart():
    names = output_names([Path("a.jpg"), Path("a.png"), Path("b.tif")])
    assert names == {Path("a.jpg"): "a_jpg.png", Path("a.png"): "a_png.png", Path("b.tif"): "b.png"}


@pytest.fixture
def photos(tmp_path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    rgb = photo(12, 15)
    Image.fromarray(rgb).save(folder / "rgb.png")
    Image.fromarray(rgb).convert("L").save(folder / "gray.png")
    alpha = np.tile(np.linspace(0, 255, 15, dtype=np.uint8), (12, 1))
    Image.fromarray(np.dstack([rgb, alpha])).save(folder / "rgba.png")
    Image.fromarray(rgb).convert("P", palette=Image.ADAPTIVE, colors=16).save(folder / "palette.png")
    wide = (np.arange(12 * 15, dtype=np.uint16).reshape(12, 15) * 300).astype(np.uint16)
    Image.fromarray(wide).save(folder / "wide16.png")
    assert Image.open(folder / "wide16.png").mode.startswith("I;16")
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: upright it is 12 wide and 15 high
    exif[0x010F] = "a camera maker"
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    Image.fromarray(rgb).save(folder / "rotated.jpg", exif=exif, icc_profile=srgb)
    (folder / "broken.png").write_bytes(b"this is no photo")
    return folder


def test_every_kind_of_photo_is_upscaled_and_a_bad_one_named(generator, photos, tmp_path, capsys):
    out = tmp_path / "out"
    with pytest.raises(UserError, match="broken.png") as raised:
        upscale_files(generator, photos, out, tile=8, margin=context_margin("seed", 1))
    assert "1 of 7" in str(raised.value)
    # One bar over the folder's tiles (four a photo, from the headers; none for the broken
    # file), so its time left holds whatever the photos' sizes.
    bar = capsys.readouterr().err.split("\r")[-1]
    assert bar.startswith("upscaling: 100%") and " 24/24 " in bar
    written = {p.name: Image.open(p) for p in out.iterdir()}
    assert sorted(written) == ["gray.png", "palette.png", "rgb.png", "rgba.png", "rotated.png",
                               "wide16.png"]
    # Turned upright once: the pixels, and the EXIF orientation set to 1; the rest of the
    # EXIF and the colour profile carried over.
    rotated = written["rotated.png"]
    assert rotated.size == (48, 60) and rotated.getexif()[0x0112] == 1
    assert rotated.getexif()[0x010F] == "a camera maker"
    assert rotated.info["icc_profile"] == Image.open(photos / "rotated.jpg").info["icc_profile"]
    assert "icc_profile" not in written["rgb.png"].info and not written["rgb.png"].getexif()
    for name, mode in (("gray.png", "L"), ("palette.png", "RGB"), ("rgb.png", "RGB"), ("wide16.png", "I;16")):
        assert written[name].mode == mode and written[name].size == (60, 48), name
    # Gray in, gray out: the luma of the model's output on the replicated channels; 16 bits
    # in, 16 out, at the model's 8-bit precision.
    predict = make_predictor(generator)
    gray = np.asarray(Image.open(photos / "gray.png"))
    luma = np.asarray(Image.fromarray(predict(np.repeat(gray[:, :, None], 3, 2))).convert("L"))
    assert np.abs(np.asarray(written["gray.png"]).astype(int) - luma).max() <= 1
    wide = np.asarray(Image.open(photos / "wide16.png")).astype(np.float64)
    wide_luma = np.asarray(Image.fromarray(predict(np.repeat(
        np.round(wide / 257).astype(np.uint8)[:, :, None], 3, 2))).convert("L"))
    out16 = np.asarray(written["wide16.png"]).astype(int)
    assert out16.max() > 255 and np.abs(out16 - 257 * wide_luma.astype(int)).max() <= 257
    rgba = np.asarray(written["rgba.png"])
    assert rgba.shape == (48, 60, 4)
    alpha = np.tile(np.linspace(0, 255, 15, dtype=np.uint8), (12, 1))
    bicubic = Image.fromarray(alpha).resize((60, 48), Image.BICUBIC)
    assert np.array_equal(rgba[:, :, 3], np.asarray(bicubic))
    whole = make_predictor(generator)(photo(12, 15))
    assert np.abs(np.asarray(written["rgb.png"]).astype(int) - whole.astype(int)).max() <= 1


def test_a_single_non_image_is_a_clear_error(generator, tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("hello")
    with pytest.raises(UserError, match="notes.txt: not an image"):
        upscale_files(generator, bad, tmp_path / "out", tile=128, margin=10)
    with pytest.raises(UserError, match="does not exist"):
        upscale_files(generator, tmp_path / "missing.png", tmp_path / "out", tile=128, margin=10)


def test_inputs_are_never_overwritten(generator, tmp_path):
    Image.fromarray(photo(12, 12)).save(tmp_path / "a.png")
    with pytest.raises(UserError, match="would overwrite"):
        upscale_files(generator, tmp_path, tmp_path, tile=128, margin=10)


def test_a_file_the_tool_did_not_write_is_never_replaced(generator, tmp_path):
    # The user's own ok.png beside ok.jpg: upscaling ok.jpg into that folder would have
    # replaced it.
    Image.fromarray(photo(12, 12)).save(tmp_path / "ok.jpg")
    Image.fromarray(photo(20, 20)).save(tmp_path / "ok.png")
    before = (tmp_path / "ok.png").read_bytes()
    with pytest.raises(UserError, match=f"--output {tmp_path} already holds ok.png, which this "
                                        "tool did not write"):
        upscale_files(generator, tmp_path / "ok.jpg", tmp_path, tile=128, margin=10)
    assert (tmp_path / "ok.png").read_bytes() == before
    # Its own outputs it replaces: a second run into the same folder works.
    out = tmp_path / "out"
    for replaced in ([], [out / "ok.png"]):
        done = upscale_files(generator, tmp_path / "ok.jpg", out, tile=128, margin=10)
        assert done.written == [out / "ok.png"] and done.replaced == replaced


def test_cli_upscale(tmp_path, capsys):
    run = tmp_path / "checkpoint"
    write_run(run)
    Image.fromarray(photo(10, 14)).save(tmp_path / "photo.jpg")
    assert main(["--mode=upscale", f"--checkpoint_dir={run}", f"--input={tmp_path / 'photo.jpg'}",
                 f"--output={tmp_path / 'out'}", "--tile=16"]) == 0
    assert Image.open(tmp_path / "out" / "photo.png").size == (56, 40)
    assert main(["--mode=upscale", f"--checkpoint_dir={run}"]) == 1
    assert "--input" in capsys.readouterr().err
    assert main(["--mode=upscale", f"--checkpoint_dir={run}", f"--input={tmp_path / 'photo.jpg'}",
                 "--tile=8"]) == 1
    assert "--tile must be 0 (whole photos) or at least 16" in capsys.readouterr().err


def test_the_output_flags_users_know(tmp_path, capsys):
    run = tmp_path / "checkpoint"
    write_run(run)
    photos = tmp_path / "in"
    (photos / "sub").mkdir(parents=True)
    Image.fromarray(photo(10, 14)).save(photos / "a.jpg")
    rgba = np.dstack([photo(8, 12), np.full((8, 12), 128, np.uint8)])
    Image.fromarray(rgba).save(photos / "sub" / "b.png")
    out = tmp_path / "out"
    base = ["--mode=upscale", f"--checkpoint_dir={run}", f"--input={photos}", f"--output={out}",
            "--tile=16", "--recursive", "--outscale=2.5", "--suffix=_x2.5"]
    for ext, mode in (("jpg", "RGB"), ("webp", "RGBA")):
        assert main([*base, f"--ext={ext}", "--quality=80"]) == 0
        stdout = capsys.readouterr().out
        assert f"wrote 2 photo(s) 2.5x larger into {out}" in stdout
        # The tree mirrored, Real-ESRGAN's names, the scale by Lanczos after the model's 4x.
        a, b = Image.open(out / f"a_x2.5.{ext}"), Image.open(out / "sub" / f"b_x2.5.{ext}")
        assert a.size == (35, 25) and b.size == (30, 20) and b.mode == mode
        assert written_by_us(out / f"a_x2.5.{ext}")
    # Its own outputs it replaces, and says so; with --skip_existing it leaves them.
    assert main([*base, "--ext=webp"]) == 0
    assert "2 of them replacing this tool's earlier output" in capsys.readouterr().out
    (out / "a_x2.5.webp").unlink()
    assert main([*base, "--ext=webp", "--skip_existing"]) == 0
    assert ("wrote 1 photo(s) 2.5x larger into " f"{out}; left 1 whose output was there "
            "(--skip_existing)") in capsys.readouterr().out
    # Outputs inside the input tree are never read as inputs by the next --recursive run.
    inside = [arg if not arg.startswith("--output") else f"--output={photos / 'up'}" for arg in base]
    for _ in range(2):
        assert main([*inside, "--ext=png"]) == 0
        assert "wrote 2 photo(s)" in capsys.readouterr().out
