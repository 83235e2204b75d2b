"""Reading and writing photos, and the degradation / value mapping."""

from __future__ import annotations

import io
import logging
import os
import re
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from skimage import data as skdata

from srgan import files
from srgan.data.degrade import downsample, from_model, to_model
from srgan.data.images import (ImageError, PhotoKind, as_kind, list_images, load_folder, load_rgb, load_rgba,
                               save_png)
from srgan.errors import UserError, shown


def _noise(height: int, width: int, channels: int = 3, seed: int = 0) -> np.ndarray:
    shape = (height, width, channels) if channels else (height, width)
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


# --- load_rgb / load_rgba: every colour mode ends as uint8 HxWx3 ---


def test_rgb_png_round_trips_exactly(tmp_path: Path) -> None:
    photo = _noise(7, 9)
    Image.fromarray(photo).save(tmp_path / "a.png")
    out = load_rgb(tmp_path / "a.png")
    assert out.dtype == np.uint8 and out.shape == (7, 9, 3)
    np.testing.assert_array_equal(out, photo)
    assert load_rgba(tmp_path / "a.png")[1] is None


def test_grayscale_becomes_three_equal_channels(tmp_path: Path) -> None:
    gray = _noise(6, 5, channels=0)
    Image.fromarray(gray).save(tmp_path / "g.png")
    out = load_rgb(tmp_path / "g.png")
    assert out.shape == (6, 5, 3)
    for channel in range(3):
        np.testing.assert_array_equal(out[:, :, channel], gray)


def test_bilevel_becomes_black_and_white(tmp_path: Path) -> None:
    bits = np.zeros((4, 8), dtype=bool)
    bits[:, 4:] = True
    Image.fromarray(bits).convert("1").save(tmp_path / "b.png")
    out = load_rgb(tmp_path / "b.png")
    assert out.shape == (4, 8, 3)
    assert (out[:, :4] == 0).all() and (out[:, 4:] == 255).all()


def test_rgba_drops_alpha_without_compositing(tmp_path: Path) -> None:
    rgba = _noise(5, 6, channels=4)
    rgba[:, :, 3] = 0  # fully transparent: compositing over black would zero the colours
    rgba[0, 0, 3] = 200
    Image.fromarray(rgba).save(tmp_path / "t.png")
    rgb = load_rgb(tmp_path / "t.png")
    np.testing.assert_array_equal(rgb, rgba[:, :, :3])
    rgb2, alpha = load_rgba(tmp_path / "t.png")
    np.testing.assert_array_equal(rgb2, rgba[:, :, :3])
    assert alpha is not None and alpha.dtype == np.uint8 and alpha.shape == (5, 6)
    np.testing.assert_array_equal(alpha, rgba[:, :, 3])


def test_gray_with_alpha(tmp_path: Path) -> None:
    la = np.stack([np.full((3, 4), 90, np.uint8), np.full((3, 4), 17, np.uint8)], axis=2)
    Image.frombytes("LA", (4, 3), la.tobytes()).save(tmp_path / "la.png")
    rgb, alpha = load_rgba(tmp_path / "la.png")
    assert (rgb == 90).all() and rgb.shape == (3, 4, 3)
    assert alpha is not None and (alpha == 17).all()


def test_palette_with_and_without_transparency(tmp_path: Path) -> None:
    colours = [(255, 0, 0), (0, 128, 255), (10, 20, 30)]
    indices = np.array([[0, 1, 2], [2, 1, 0]], dtype=np.uint8)
    img = Image.frombytes("P", (3, 2), indices.tobytes())
    img.putpalette([value for colour in colours for value in colour])
    img.save(tmp_path / "p.png")
    expected = np.array(colours, dtype=np.uint8)[indices]
    rgb, alpha = load_rgba(tmp_path / "p.png")
    np.testing.assert_array_equal(rgb, expected)
    assert alpha is None

    img.save(tmp_path / "pt.png", transparency=1)
    rgb, alpha = load_rgba(tmp_path / "pt.png")
    np.testing.assert_array_equal(rgb, expected)
    np.testing.assert_array_equal(alpha, np.where(indices == 1, 0, 255))
    np.testing.assert_array_equal(load_rgb(tmp_path / "pt.png"), expected)


def test_cmyk_becomes_rgb(tmp_path: Path) -> None:
    cmyk = np.zeros((2, 3, 4), dtype=np.uint8)  # no ink: white
    cmyk[1, :, 3] = 255  # full black ink
    Image.frombytes("CMYK", (3, 2), cmyk.tobytes()).save(tmp_path / "c.tif")
    out = load_rgb(tmp_path / "c.tif")
    assert out.shape == (2, 3, 3)
    assert (out[0] == 255).all() and (out[1] == 0).all()


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_16_bit_gray_is_scaled_not_clipped(tmp_path: Path, suffix: str) -> None:
    values = np.array([[0, 257, 32768, 65535]], dtype=np.uint16)
    Image.fromarray(values).save(tmp_path / f"w{suffix}")
    with Image.open(tmp_path / f"w{suffix}") as img:
        assert img.mode.startswith("I")  # really read as a wide mode
    out = load_rgb(tmp_path / f"w{suffix}")
    assert out.dtype == np.uint8 and out.shape == (1, 4, 3)
    np.testing.assert_array_equal(out[0, :, 0], [0, 1, 128, 255])
    assert (out[..., 0] == out[..., 2]).all()


@pytest.mark.parametrize("mode, values, expected", [
    ("I;16B", [0, 257, 32768, 65535], [0, 1, 128, 255]),
    ("I", [0, 257, 32768, 65535], [0, 1, 128, 255]),  # how Pillow long opened 16-bit PNGs
    ("F", [0.0, 0.25, 0.5, 1.0], [0, 64, 128, 255]),  # a float image's usual 0..1
])
def test_wide_tiffs_are_read_in_their_range(tmp_path: Path, mode: str, values: list, expected: list) -> None:
    img = Image.new(mode, (4, 1))
    img.putdata(values)
    img.save(tmp_path / "w.tif")
    with Image.open(tmp_path / "w.tif") as reread:
        assert reread.mode == mode
    np.testing.assert_array_equal(load_rgb(tmp_path / "w.tif")[0, :, 1], expected)


@pytest.mark.parametrize("mode, values, problem", [
    ("F", [0.0, 0.5, 1.0, 300.0], "32-bit floating-point values from 0 to 300: only 0..1"),
    ("F", [0.0, 0.5, 1.0, float("nan")], "32-bit floating-point values"),
    ("I", [-5, 0, 1, 70000], "32-bit integer values from -5 to 70000: only 0..65535"),
])
def test_wide_tiffs_of_no_known_range_are_refused_naming_it(tmp_path: Path, mode: str, values: list,
                                                            problem: str) -> None:
    img = Image.new(mode, (4, 1))
    img.putdata(values)
    img.save(tmp_path / "w.tif")
    with pytest.raises(ImageError, match=f"w.tif.*{re.escape(problem)}"):
        load_rgb(tmp_path / "w.tif")


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    # Stored 40 wide x 20 high: left half red, right half blue. Orientation 6 means
    # "rotate 90 degrees clockwise to display": the red half ends on top.
    stored = np.zeros((20, 40, 3), dtype=np.uint8)
    stored[:, :20] = (255, 0, 0)
    stored[:, 20:] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(stored).save(tmp_path / "r.jpg", quality=95, exif=exif)
    out = load_rgb(tmp_path / "r.jpg").astype(int)
    assert out.shape == (40, 20, 3)
    assert out[:16, :, 0].min() > 200 and out[:16, :, 2].max() < 60
    assert out[24:, :, 2].min() > 200 and out[24:, :, 0].max() < 60


def _truncated_png(tmp_path: Path) -> Path:
    buffer = io.BytesIO()
    Image.fromarray(_noise(64, 64)).save(buffer, format="PNG")
    path = tmp_path / "cut.png"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    return path


def _truncated_jpeg(tmp_path: Path) -> Path:
    buffer = io.BytesIO()
    Image.fromarray(_noise(64, 64)).save(buffer, format="JPEG")
    path = tmp_path / "cut.jpg"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    return path


def _text_as_png(tmp_path: Path) -> Path:
    path = tmp_path / "notes.png"
    path.write_text("this is not a photo\n")
    return path


@pytest.mark.parametrize("make", [_truncated_png, _truncated_jpeg, _text_as_png])
def test_bad_files_raise_image_error_naming_the_file(tmp_path: Path, make) -> None:
    path = make(tmp_path)
    for load in (load_rgb, load_rgba):
        with pytest.raises(ImageError) as caught:
            load(path)
        assert caught.value.path == path
        assert str(caught.value).startswith(f"cannot read photo {path}: ")
        assert isinstance(caught.value, UserError)


def test_text_file_reason_is_not_an_image(tmp_path: Path) -> None:
    with pytest.raises(ImageError) as caught:
        load_rgb(_text_as_png(tmp_path))
    assert caught.value.reason == "not an image"


def test_missing_file_raises_image_error(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="no such file"):
        load_rgb(tmp_path / "absent.png")


# --- list_images, save_png, load_folder ---


def test_list_images_sorted_case_insensitive_no_hidden(tmp_path: Path) -> None:
    for name in ["b.PNG", "a.jpg", "c.JpEg", ".hidden.png", "notes.txt", "d.webp", "e.TIFF", "f.gif"]:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "f.bmp").write_bytes(b"x")
    (tmp_path / ".cache").mkdir()
    (tmp_path / ".cache" / "g.png").write_bytes(b"x")
    (tmp_path / "folder.png").mkdir()  # a folder with a photo-like name is not a file
    names = [p.name for p in list_images(tmp_path)]
    assert names == ["a.jpg", "b.PNG", "c.JpEg", "d.webp", "e.TIFF", "f.gif"]
    deep = [p.relative_to(tmp_path).as_posix() for p in list_images(tmp_path, recursive=True)]
    assert deep == ["a.jpg", "b.PNG", "c.JpEg", "d.webp", "e.TIFF", "f.gif", "sub/f.bmp"]


def test_broken_and_looping_links_named_like_photos_are_skipped_by_name(tmp_path: Path) -> None:
    save_png(tmp_path / "a.png", skdata.astronaut()[:64, :64])
    Image.fromarray(skdata.chelsea()[:64, :64]).convert("P").save(tmp_path / "g.gif")
    (tmp_path / "dangling.png").symlink_to(tmp_path / "gone.png")
    (tmp_path / "loop.jpg").symlink_to(tmp_path / "loop.jpg")
    photos, skipped = load_folder(tmp_path, min_size=48)
    assert [photo.shape for photo in photos] == [(64, 64, 3)] * 2  # the GIF too, as RGB
    assert sorted(skipped) == [f"{tmp_path / 'dangling.png'}: a symbolic link whose target is missing: not read",
                               f"{tmp_path / 'loop.jpg'}: a symbolic link that loops: not read"]


def test_list_images_of_missing_folder_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not a folder"):
        list_images(tmp_path / "nowhere")


@pytest.mark.parametrize("channels", [0, 3, 4])
def test_save_png_round_trip_and_no_temp_files(tmp_path: Path, channels: int) -> None:
    photo = _noise(5, 7, channels=channels)
    path = tmp_path / "new" / "deeper" / "out.png"
    save_png(path, photo)
    save_png(path, photo)  # overwriting works too
    assert os.listdir(path.parent) == ["out.png"]
    with Image.open(path) as img:
        assert img.format == "PNG"
        np.testing.assert_array_equal(np.asarray(img), photo)


def test_save_png_failure_keeps_old_file_and_leaves_no_temp(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "out.png"
    save_png(path, np.zeros((4, 4, 3), np.uint8))
    before = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        save_png(path, np.full((4, 4, 3), 255, np.uint8))
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["out.png"]


def test_save_png_rejects_wrong_arrays(tmp_path: Path) -> None:
    for bad in (np.zeros((4, 4, 3), np.float32), np.zeros((4, 4, 5), np.uint8), np.zeros(4, np.uint8),
                np.zeros((4, 4, 3), np.uint16)):
        with pytest.raises(ValueError):
            save_png(tmp_path / "x.png", bad)
    assert os.listdir(tmp_path) == []


def test_load_folder_skips_small_and_broken_files(tmp_path: Path) -> None:
    save_png(tmp_path / "a_big.png", _noise(60, 50, seed=1))
    save_png(tmp_path / "b_exact.png", _noise(48, 48, seed=2))
    save_png(tmp_path / "c_small.png", _noise(30, 40, seed=3))
    save_png(tmp_path / "d_thin.png", _noise(100, 47, seed=4))
    _text_as_png(tmp_path)
    (tmp_path / "readme.txt").write_text("ignored")
    photos, skipped = load_folder(tmp_path, min_size=48)
    assert [p.shape for p in photos] == [(60, 50, 3), (48, 48, 3)]
    np.testing.assert_array_equal(photos[0], _noise(60, 50, seed=1))
    assert skipped == [
        "c_small.png: 40x30 px is under 48 px",
        "d_thin.png: 47x100 px is under 48 px",
        "notes.png: not an image",
    ]


# --- degradation and value mapping ---


def _pil_downsample(photo: np.ndarray, scale: int = 4) -> np.ndarray:
    height, width = photo.shape[:2]
    return np.asarray(Image.fromarray(photo).resize((width // scale, height // scale), Image.BICUBIC))


@pytest.mark.parametrize(
    "crop, max_bound",
    # Measured: 96x96 crop max 3 (mean 0.11), 48x48 crop max 1 (mean 0.10).
    [((slice(100, 196), slice(200, 296)), 3), ((slice(100, 148), slice(200, 248)), 1)],
)
def test_downsample_matches_pil_bicubic(crop, max_bound: int) -> None:
    photo = skdata.astronaut()[crop]
    ours = downsample(photo).numpy().astype(int)
    pil = _pil_downsample(photo).astype(int)
    assert ours.shape == pil.shape
    diff = np.abs(ours - pil)
    # Same kernel; PIL rounds and clips to 8 bits between its horizontal and vertical
    # passes, which moves about 10% of values by one level and a few pixels at strong
    # edges (where the first pass overshoots 0..255) by up to 3.
    assert diff.mean() < 0.2
    assert diff.max() <= max_bound


def test_pil_is_tf_kernel_with_8_bit_rounding_between_passes() -> None:
    # Pins the explanation of the gap above: one pass per axis with PIL's intermediate
    # 8-bit rounding reproduces PIL exactly.
    photo = skdata.astronaut()[100:196, 200:296]

    def one_axis(x: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        y = tf.image.resize(tf.cast(x, tf.float32), size, "bicubic", antialias=True).numpy()
        return np.clip(np.floor(y + 0.5), 0, 255)

    two_pass = one_axis(one_axis(photo, (96, 24)), (24, 24))
    np.testing.assert_array_equal(two_pass, _pil_downsample(photo))


def test_downsample_shapes_dtypes_and_whole_levels() -> None:
    photo = skdata.astronaut()[:48, :64]
    single = downsample(photo)
    assert single.dtype == tf.float32 and single.shape == (12, 16, 3)
    batch = downsample(np.stack([photo, photo[::-1]]).astype(np.float32))
    assert batch.shape == (2, 12, 16, 3)
    np.testing.assert_array_equal(batch[0], single)
    values = batch.numpy()
    np.testing.assert_array_equal(values, np.round(values))
    assert values.min() >= 0 and values.max() <= 255
    assert downsample(photo[:32, :32], scale=2).shape == (16, 16, 3)


def test_downsample_rejects_sizes_not_multiple_of_scale() -> None:
    with pytest.raises(ValueError, match=r"50, 48, 3"):
        downsample(np.zeros((50, 48, 3), np.uint8))
    with pytest.raises(ValueError):
        downsample(np.zeros((48, 3), np.uint8))


def test_downsample_in_a_traced_step_needs_a_known_size() -> None:
    # tf.data and jitted steps trace it: the crops' size is static there, and the LR's
    # size is computed from it alike under every backend.
    @tf.function(input_signature=[tf.TensorSpec([None, 48, 96, 3], tf.uint8)])
    def run(hr):
        return downsample(hr)

    photo = skdata.astronaut()[:48, :96]
    out = run(tf.constant(np.stack([photo] * 3)))
    assert out.shape == (3, 12, 24, 3)
    np.testing.assert_array_equal(out[1], downsample(photo))
    unknown = tf.function(downsample, input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8)])
    with pytest.raises(ValueError, match="needs a known height and width"):
        unknown.get_concrete_function()


def test_model_value_mapping() -> None:
    levels = np.arange(256, dtype=np.uint8)
    mapped = to_model(levels)
    assert mapped.dtype == tf.float32
    assert float(mapped[0]) == -1.0 and float(mapped[255]) == 1.0
    np.testing.assert_allclose(to_model(levels.astype(np.float32)), mapped)
    back = from_model(mapped)
    assert back.dtype == tf.uint8
    np.testing.assert_array_equal(back, levels)
    np.testing.assert_array_equal(from_model(tf.constant([-1.5, -0.999, 0.0, 1.2])), [0, 0, 128, 255])


def test_names_with_control_characters_are_escaped_in_every_message(tmp_path: Path, capsys) -> None:
    forged, coloured = "x\nerror: forged.png", "\x1b[31mred\r.jpg"
    for name in (forged, coloured):
        (tmp_path / name).write_text("not a photo")
    (tmp_path / "link\x1b.png").symlink_to(tmp_path / "gone.png")
    _, skipped = load_folder(tmp_path, min_size=48)
    text = "\n".join(skipped)
    assert not any(char in text for char in "\x1b\r") and len(skipped) == text.count("\n") + 1 == 3
    assert "x\\nerror: forged.png: not an image" in text and "\\x1b[31mred\\r.jpg" in text
    with pytest.raises(ImageError) as error:
        load_rgb(tmp_path / forged)
    assert "\n" not in str(error.value) and shown(tmp_path / forged) in str(error.value)
    assert shown("a\u2028b\x9bc\x7f") == "a\\u2028b\\x9bc\\x7f"
    # Whatever else a log line holds: no escape sequence reaches the terminal.
    logging.getLogger("srgan").info("cleared\x1b[2J\tand\nkept")
    assert capsys.readouterr().err == "cleared\\x1b[2J\tand\nkept\n"


def test_an_output_takes_its_inputs_kind(tmp_path: Path) -> None:
    rgb = skdata.astronaut()[:6, :7]
    alpha = np.full((6, 7), 200, np.uint8)
    luma = np.asarray(Image.fromarray(rgb).convert("L"))
    assert as_kind(rgb, alpha, PhotoKind()).shape == (6, 7, 4)
    np.testing.assert_array_equal(as_kind(rgb, alpha, PhotoKind(gray=True)), np.dstack([luma, alpha]))
    # 16 bits with alpha: Pillow has no 16-bit gray with alpha, so 8 bits and the alpha.
    assert as_kind(rgb, alpha, PhotoKind(gray=True, sixteen_bit=True)).dtype == np.uint8
    wide = as_kind(rgb, None, PhotoKind(gray=True, sixteen_bit=True))
    np.testing.assert_array_equal(wide, luma.astype(np.uint16) * 257)
    save_png(tmp_path / "la.png", as_kind(rgb, alpha, PhotoKind(gray=True)))
    save_png(tmp_path / "w.png", wide)
    assert Image.open(tmp_path / "la.png").mode == "LA" and Image.open(tmp_path / "w.png").mode == "I;16"
