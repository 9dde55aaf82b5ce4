"""Minimal reproducers of the bugs the fuzzers found, kept as regression tests.

All but the strict xfails are fixed. A newly found bug goes here as a strict xfail
with its reason (and, if it crashes a parser, a pattern in support.KNOWN_CRASHES)
until it is fixed.
"""

from __future__ import annotations

import io
import json
import signal
import struct
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from regtui.inspect import inspect_path
from tests.unit.fuzz.support import check_facts, inspect_checked, sparse, write


class _TooSlow(BaseException):
    """Raised by the alarm; a BaseException so inspect_path's last-resort handler
    (which catches Exception) cannot swallow it."""


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """Abort the block after `seconds` (SIGALRM; tests run in the main thread)."""

    def fire(_sig: int, _frame: object) -> None:
        raise _TooSlow(f"still running after {seconds}s")

    old = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def inspect_fast(path: Path, seconds: float = 1.0) -> None:
    start = time.perf_counter()
    try:
        with within(seconds):
            facts = inspect_path(path)
    except _TooSlow:
        pytest.fail(f"inspecting {path.name} took more than {seconds}s", pytrace=False)
    check_facts(facts)
    assert time.perf_counter() - start < seconds


# ------------------------------------------------------------------ hangs


def test_ubj_zero_width_typed_array_claiming_2_pow_28_items(tmp_path: Path) -> None:
    size = 256 << 20
    head = b"{U\x07learner[$Z#L" + struct.pack(">q", size - 64)
    inspect_fast(sparse(tmp_path / "model.ubj", head, size))


def test_gguf_string_array_over_a_sparse_hole(tmp_path: Path) -> None:
    size = 256 << 20
    kv = (
        struct.pack("<Q", 1) + b"k" + struct.pack("<II", 9, 8) + struct.pack("<Q", (size - 64) // 8)
    )
    head = b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + kv
    inspect_fast(sparse(tmp_path / "model.gguf", head, size))


def test_lightgbm_parameters_regex_is_not_quadratic(tmp_path: Path) -> None:
    text = b"tree\nversion=v4\ntree_sizes=1\n\n" + b"\nparameters:\n" * 20_000
    inspect_fast(write(tmp_path, "model.txt", text))


# ---------------------------------------------------------------- crashes


def _zip(entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytearray:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return bytearray(buf.getvalue())


def test_torch_zip_with_a_bad_crc(tmp_path: Path) -> None:
    raw = _zip({"archive/data.pkl": b"\x80\x02N."}, zipfile.ZIP_STORED)
    raw[30 + len("archive/data.pkl") + 2] = ord("X")  # payload byte: CRC no longer matches
    check_facts(inspect_path(write(tmp_path, "model.pt", bytes(raw))), allow_known=False)


def test_keras_with_a_damaged_deflate_stream(tmp_path: Path) -> None:
    config = json.dumps(
        {"class_name": "Sequential", "config": {"layers": [{"i": i} for i in range(50)]}}
    )
    raw = _zip({"config.json": config.encode(), "metadata.json": b"{}"})
    start = 30 + len("config.json")
    raw[start + 2] ^= 0xFF
    raw[start + 3] ^= 0xFF
    check_facts(inspect_path(write(tmp_path, "model.keras", bytes(raw))), allow_known=False)


def test_safetensors_giant_shape_keeps_facts_serialisable(tmp_path: Path) -> None:
    header = json.dumps({"w": {"dtype": "F32", "shape": [10**4000] * 50, "data_offsets": [0, 4]}})
    raw = header.encode()
    check_facts(
        inspect_path(write(tmp_path, "model.safetensors", struct.pack("<Q", len(raw)) + raw))
    )


def test_pickle_tensor_of_giant_size_keeps_facts_serialisable(tmp_path: Path) -> None:
    big = b"\x8b" + struct.pack("<i", 3000) + b"\x01" * 3000  # LONG4
    body = b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n(NK\x00" + big + b"\x85tR."
    check_facts(inspect_path(write(tmp_path, "model.pt", body)))


# ----------------------------------------------------------------- memory


def test_pickle_scanner_stack_is_bounded(tmp_path: Path) -> None:
    path = write(tmp_path, "model.pkl", b"\x80\x04" + b"}" * 80_000 + b".")
    inspect_checked(path, peak=2 << 20)


def test_lightgbm_feature_names_line_is_bounded(tmp_path: Path) -> None:
    text = b"tree\nversion=v4\nfeature_names=" + b"ab " * 400_000 + b"\n"
    inspect_checked(write(tmp_path, "model.txt", text), peak=16 << 20)


def test_safetensors_header_claim_is_read_whole(tmp_path: Path) -> None:
    path = sparse(tmp_path / "model.safetensors", struct.pack("<Q", 64 << 20), 1 << 30)
    inspect_checked(path)


def test_safetensors_header_parse_memory_is_bounded(tmp_path: Path) -> None:
    header = b'{"a":[' + b"{}," * 500_000 + b"{}]}"
    path = write(tmp_path, "model.safetensors", struct.pack("<Q", len(header)) + header)
    inspect_checked(path)


# ------------------------------------------- fixed here (one-line fixes)


def test_sidecar_metric_beyond_float_range(tmp_path: Path) -> None:
    """bounds.is_finite_number used math.isfinite, which raises OverflowError for an
    int beyond float range (a 400-digit metric in metrics.json): fixed."""
    write(tmp_path, "metrics.json", '{"auc": 1' + "0" * 400 + ', "loss": 0.5}')
    facts = inspect_checked(write(tmp_path, "model.safetensors", struct.pack("<Q", 2) + b"{}"))
    assert facts.metrics == {"loss": 0.5}


def test_mlflow_signature_nested_too_deep(tmp_path: Path) -> None:
    """bundles._signature_part let json.loads' RecursionError escape: fixed."""
    write(
        tmp_path / "m",
        "MLmodel",
        "flavors: {sklearn: {}}\nsignature:\n  inputs: '" + "[" * 30_000 + "'\n",
    )
    write(tmp_path / "m", "model.pkl", b"\x80\x04N.")
    facts = inspect_checked(tmp_path / "m")
    assert facts.format == "mlflow"


def test_model_card_metrics_not_a_list(tmp_path: Path) -> None:
    """bundles.model_card iterated `metrics: 5` (TypeError): fixed."""
    folder = tmp_path / "hf"
    write(folder, "config.json", "{}")
    write(folder, "model.safetensors", struct.pack("<Q", 2) + b"{}")
    write(folder, "README.md", "---\nmodel-index:\n- results:\n  - metrics: 5\n---\n")
    assert inspect_checked(folder).format == "huggingface"


def test_zip_claiming_a_future_extract_version(tmp_path: Path) -> None:
    """Found by test_zip_formats once its examples stopped depending on test order."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("archive/data.pkl", b"\x80\x02N.")
    raw = bytearray(buf.getvalue())
    raw[raw.rfind(b"PK\x01\x02") + 6] = 0xEB  # version needed to extract: 23.5
    facts = inspect_checked(write(tmp_path, "model.pt", bytes(raw)))
    check_facts(facts, allow_known=False)
    assert facts.damage and "newer zip reader: zip file version 23.5" in facts.damage
