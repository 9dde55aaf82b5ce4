"""Compressed pickles are read as streams: the zlib reader gives exactly what zlib
inflates, however it is read, and a scan of a stream that inflates slowly still meets
the inspection's deadline (a 6 KB zlib pickle once cost 90 s: every one-byte read
copied the whole inflated buffer)."""

from __future__ import annotations

import io
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regtui.inspect.bounds import Refused, deadline
from regtui.inspect.decompress import ZlibReader
from regtui.inspect.pickle_scan import scan_pickle
from tests.support.hypothesis_runs import examples


@settings(max_examples=examples(60), deadline=None)
@given(
    data=st.binary(min_size=0, max_size=3 << 20).map(lambda b: b * 3),
    sizes=st.lists(st.integers(min_value=0, max_value=70_000), min_size=1, max_size=40),
)
def test_the_zlib_reader_gives_what_zlib_inflates_in_any_read_sizes(
    data: bytes, sizes: list[int]
) -> None:
    reader = ZlibReader(io.BytesIO(zlib.compress(data)))
    got = bytearray()
    for n in sizes:
        got += reader.read(n)
    got += reader.read()
    assert bytes(got) == data


def test_reading_byte_by_byte_keeps_the_buffer_small() -> None:
    reader = ZlibReader(io.BytesIO(zlib.compress(bytes(8 << 20))))
    biggest = 0
    for _ in range(3 << 20):
        reader.read(1)
        biggest = max(biggest, len(reader.buf))
    # Inflated a megabyte at a time and dropped as read: never the whole stream.
    assert biggest <= 3 << 20


def test_a_scan_of_a_stream_stops_at_the_deadline() -> None:
    # Read from memory, so no file read checks the deadline: only the scan loop can.
    body = b"\x80\x04]\x94(" + b"K\x01" * 900_000 + b"e."
    with deadline(0.05), pytest.raises(Refused, match="MAX_INSPECT_SECONDS"):
        scan_pickle(ZlibReader(io.BytesIO(zlib.compress(body, 9))), seekable=False)
