"""A run's logs, RUN_DIR/logs/events.out.tfevents.*: TensorBoard's event files, written
and read here without TensorFlow, so that every Keras backend logs the same files.

An event file is a sequence of records (a little-endian uint64 length, its masked CRC-32C,
the bytes, their masked CRC-32C), each an `Event` protocol buffer: a wall time, a step,
and a `Summary` of tagged values. Scalars are written as `simple_value`, images as PNG;
earlier versions logged through tf.summary, whose scalars are one-element float
`TensorProto`s, and both are read back. Only the few protocol-buffer fields named here
are encoded or decoded, by hand: the format is stable, and TensorBoard and TensorFlow's
own reader take these files (tests/unit/run/test_events.py reads them back with TensorFlow's).
"""

from __future__ import annotations

import io
import os
import socket
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

LOGS = "logs"
_FILE_VERSION = b"brain.Event:2"


def _crc32c_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
        table.append(crc)
    return table


_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), the checksum TFRecord files use."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _masked(crc: int) -> int:
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64s are ten bytes, as protocol buffers write them
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, wire_type: int, payload: bytes) -> bytes:
    key = _varint(number << 3 | wire_type)
    if wire_type == 2:
        return key + _varint(len(payload)) + payload
    return key + payload


def _event(step: int | None, wall_time: float, body: bytes) -> bytes:
    head = _field(1, 1, struct.pack("<d", wall_time))
    if step is not None:
        head += _field(2, 0, _varint(step))
    return head + body


class EventWriter:
    """Appends scalars and images to a new event file in `folder`; flushed at `flush()`,
    so that a run killed between flushes loses the records since, never the file."""

    def __init__(self, folder: Path):
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        name = f"events.out.tfevents.{time.time():.6f}.{socket.gethostname()}.{os.getpid()}.v2"
        self.path = folder / name
        self._file = open(self.path, "ab")
        self._write(_event(None, time.time(), _field(3, 2, _FILE_VERSION)))
        self.flush()

    def _write(self, event: bytes) -> None:
        length = struct.pack("<Q", len(event))
        self._file.write(length + struct.pack("<I", _masked(crc32c(length))) + event
                         + struct.pack("<I", _masked(crc32c(event))))

    def _summary(self, step: int, value: bytes) -> None:
        self._write(_event(step, time.time(), _field(5, 2, _field(1, 2, value))))

    def scalar(self, tag: str, value: float, step: int) -> None:
        self._summary(step, _field(1, 2, tag.encode()) + _field(2, 5, struct.pack("<f", value)))

    def image(self, tag: str, pixels: np.ndarray, step: int) -> None:
        """`pixels`: uint8 HxWx3."""
        png = io.BytesIO()
        Image.fromarray(pixels).save(png, format="PNG")
        height, width, channels = pixels.shape
        image = (_field(1, 0, _varint(height)) + _field(2, 0, _varint(width))
                 + _field(3, 0, _varint(channels)) + _field(4, 2, png.getvalue()))
        self._summary(step, _field(1, 2, tag.encode()) + _field(4, 2, image))

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def _fields(data: bytes) -> Iterator[tuple[int, int, object]]:
    """(field number, wire type, value: an int, or bytes for the other wire types)."""
    position = 0
    while position < len(data):
        key, position = _read_varint(data, position)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, position = _read_varint(data, position)
        elif wire_type == 1:
            value, position = data[position:position + 8], position + 8
        elif wire_type == 2:
            length, position = _read_varint(data, position)
            value, position = data[position:position + length], position + length
        elif wire_type == 5:
            value, position = data[position:position + 4], position + 4
        else:
            raise ValueError(f"protocol buffer wire type {wire_type} is not read here")
        yield number, wire_type, value


def _read_varint(data: bytes, position: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, position


def _tensor_scalar(tensor: bytes) -> float | None:
    """The first value of a float TensorProto (tf.summary's scalars), else None."""
    for number, wire_type, value in _fields(tensor):
        if number == 5 and wire_type == 2 and len(value) >= 4:  # packed float_val
            return struct.unpack_from("<f", value)[0]
        if number == 5 and wire_type == 5:
            return struct.unpack("<f", value)[0]
        if number == 4 and len(value) >= 4:  # tensor_content
            return struct.unpack_from("<f", value)[0]
    return None


def _scalars(summary: bytes) -> Iterator[tuple[str, float]]:
    for number, _, value in _fields(summary):
        if number != 1:
            continue
        tag, scalar = None, None
        for field, wire_type, item in _fields(value):
            if field == 1:
                tag = item.decode()
            elif field == 2 and wire_type == 5:
                scalar = struct.unpack("<f", item)[0]
            elif field == 8:
                scalar = _tensor_scalar(item)
        if tag is not None and scalar is not None:
            yield tag, scalar


def records(path: Path) -> Iterator[bytes]:
    """The records of one event file, up to its end or to where a killed run cut it."""
    data = Path(path).read_bytes()
    position = 0
    while position + 12 <= len(data):
        head = data[position:position + 8]
        (length,) = struct.unpack("<Q", head)
        (check,) = struct.unpack_from("<I", data, position + 8)
        end = position + 12 + length + 4
        if check != _masked(crc32c(head)) or end > len(data):
            return
        # The record's own checksum is left unchecked: in Python it would cost a second
        # a megabyte, and a cut file already ends at its last whole record.
        yield data[position + 12:position + 12 + length]
        position = end


def scalars(path: Path, needle: bytes = b"") -> Iterator[tuple[int, float, list[tuple[str, float]]]]:
    """(step, wall time, [(tag, value)]) of each event of one file whose bytes hold
    `needle`, and of its first event (which says when the file began), in file order."""
    for index, record in enumerate(records(path)):
        if index and needle not in record:
            continue
        step, wall_time, values = 0, 0.0, []
        for number, _, value in _fields(record):
            if number == 1:
                (wall_time,) = struct.unpack("<d", value)
            elif number == 2:
                step = value - (1 << 64) if value >= 1 << 63 else value
            elif number == 5:
                values = list(_scalars(value))
        yield step, wall_time, values


def event_files(run_dir: Path) -> list[Path]:
    return sorted((Path(run_dir) / LOGS).glob("events*"))
