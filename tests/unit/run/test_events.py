"""The event-file writer and reader (srgan/run/events.py) against TensorFlow's own: what
one writes, the other reads, both ways."""

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from srgan.evaluation.curve import read_validation_curve
from srgan.run import events
from tests.helpers import load_script


def test_crc32c_is_castagnolis():
    # The check value of the CRC-32C catalogue, and RFC 3720's 32 zero bytes.
    assert events.crc32c(b"123456789") == 0xE3069283
    assert events.crc32c(bytes(32)) == 0x8A9136AA


def test_tensorflow_reads_what_the_writer_writes(tmp_path):
    writer = events.EventWriter(tmp_path)
    writer.scalar("loss/content", 0.25, 3)
    writer.scalar("validation/psnr_y", 27.5, 2**40)
    pixels = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    writer.image("samples/train", pixels, 4)
    writer.close()
    read = list(tf.compat.v1.train.summary_iterator(str(writer.path)))
    assert read[0].file_version == "brain.Event:2"
    scalars = {(event.step, value.tag): value.simple_value for event in read[1:]
               for value in event.summary.value if value.HasField("simple_value")}
    assert scalars == {(3, "loss/content"): 0.25, (2**40, "validation/psnr_y"): 27.5}
    [image] = [value.image for event in read for value in event.summary.value if value.HasField("image")]
    assert (image.height, image.width, image.colorspace) == (5, 7, 3)
    np.testing.assert_array_equal(tf.io.decode_png(image.encoded_image_string).numpy(), pixels)


def test_the_reader_takes_tf_summary_logs_of_earlier_versions_and_a_cut_file(tmp_path):
    with tf.summary.create_file_writer(str(tmp_path / "logs")).as_default():
        for step, value in ((2, 20.0), (4, 22.5)):
            tf.summary.scalar("validation/psnr_y", value, step=step)
            tf.summary.scalar("loss/content", 0.1, step=step)
    ours = events.EventWriter(tmp_path / "logs")
    ours.scalar("validation/psnr_y", 23.0, 6)
    ours.scalar("validation/psnr_y", 24.0, 8)
    ours.close()
    # A run killed mid-record: the cut record is dropped, the whole ones read.
    ours.path.write_bytes(ours.path.read_bytes()[:-5])
    start, series = read_validation_curve(tmp_path)
    assert [(step, value) for step, _, value in series["psnr_y"]] == [(2, 20.0), (4, 22.5), (6, 23.0)]
    assert start <= series["psnr_y"][0][1]


@pytest.fixture(scope="module")
def plot_curve():
    return load_script("plot_curve")


def test_plot_curve_draws_a_run_or_a_csv_and_refuses_the_rest_in_one_line(plot_curve, tmp_path, capsys):
    run, empty = tmp_path / "run", tmp_path / "empty"
    writer = events.EventWriter(run / events.LOGS)
    for step, value in ((10, 27.0), (20, 28.5)):
        writer.scalar("validation/psnr_y", value, step)
        writer.scalar("validation/bicubic_psnr_y", 27.5, step)
    writer.close()
    events.EventWriter(empty / events.LOGS).close()
    header = "seconds,step,learning_rate,train_mse,held_out_psnr_y\n"
    csvs = {"one.csv": header + "0.0,0,0,nan,30.5\n", "header.csv": header,
            "columns.csv": "seconds,step\n1,2\n", "word.csv": header + "1.0,x,0,0,30\n",
            "flat.csv": header + "1.0,5,0,0,inf\n"}
    for name, text in csvs.items():
        (tmp_path / name).write_text(text)
    for source, bicubic in ((run, None), (tmp_path / "one.csv", "30")):
        args = [str(source), str(tmp_path / "out.png")] + (["--bicubic", bicubic] if bicubic else [])
        assert plot_curve.main(args) == 0
        assert Image.open(tmp_path / "out.png").size == (plot_curve.WIDTH, plot_curve.HEIGHT)
    capsys.readouterr()
    for source, line in ((tmp_path / "missing", "is not a run folder"),
                         (empty, "logged no validation scores"),
                         (tmp_path / "header.csv", "holds no scored row"),
                         (tmp_path / "columns.csv", "has no column held_out_psnr_y"),
                         (tmp_path / "word.csv", "line 2:"),
                         (tmp_path / "flat.csv", "holds a PSNR-Y of inf")):
        assert plot_curve.main([str(source), str(tmp_path / "x.png"), "--bicubic", "30"]
                               if source.suffix else [str(source), str(tmp_path / "x.png")]) == 1
        err = capsys.readouterr().err
        assert err.startswith("error: ") and line in err and err.count("\n") == 1, err
    assert not (tmp_path / "x.png").exists()
    with pytest.raises(SystemExit):
        plot_curve.main([str(tmp_path / "one.csv"), str(tmp_path / "x.png"), "--bicubic", "inf"])
