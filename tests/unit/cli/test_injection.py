"""Terminal injection: text an artifact sets is printed as text, never acted on.

Every artifact-settable field of each format (safetensors __metadata__, GGUF
general.*, ONNX producer/metadata_props, Hugging Face config and model card, MLflow
MLmodel and requirements, sidecar metric/param names, file and folder names, tags)
is filled with Rich/Textual markup, ANSI/OSC sequences, C1 controls, bidi overrides
and a 100 kB string. The CLI's text output must hold none of those characters raw
(they show as visible escapes), long strings are cut, and `--json` output is valid
ASCII JSON that decodes back to the original (bounded) text.
"""

from __future__ import annotations

import json
import re
import struct
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from regtui.cli.main import main
from regtui.inspect.bounds import MAX_STR, clip
from regtui.text import printable
from tests.support.hypothesis_runs import examples
from tests.unit.inspect.helpers import gguf_string, pb_field, safetensors_bytes

MARKUP = "[@click=app.quit]Q [red]x [bold]b[/] [unclosed"
ESCAPES = (
    "\x1b[31mred\x1b[0m \x1b]0;pwned\x07 \x1b[2J \x9b31m \x85 \u202eevil\u202c \u2066iso\u2069"
)
PAYLOAD = f"{MARKUP} {ESCAPES}"
LONG = "L" * 100_000 + ESCAPES
KEY = PAYLOAD.replace("=", ":")  # a KEY=VALUE argument splits at the first '='

# Characters that must never reach a terminal raw: C0 (tab/newline aside, and in one
# line not even those), DEL, C1, and every Bidi_Control character of Unicode.
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
FORBIDDEN = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029{BIDI_CONTROLS}]")
LINE_LIMIT = 12_000  # the CLI cuts any one value at 10,000 characters


def assert_terminal_safe(text: str) -> None:
    bad = FORBIDDEN.search(text)
    assert bad is None, (
        f"raw {bad.group()!r} in output near {text[max(0, bad.start() - 60) : bad.end() + 20]!r}"
    )
    longest = max((len(line) for line in text.splitlines()), default=0)
    assert longest < LINE_LIMIT, f"a {longest}-character line: long strings are not cut"
    assert "L" * 20_000 not in text


def assert_json_safe(raw: str) -> Any:
    assert raw.isascii(), "JSON output must escape every non-ASCII character"
    assert "\x1b" not in raw and "\x07" not in raw
    return json.loads(raw)


# ------------------------------------------------------------------ artifacts


def _gguf() -> bytes:
    kvs = [("general.name", PAYLOAD), ("general.architecture", PAYLOAD),
           (PAYLOAD, PAYLOAD), ("general.description", LONG)]  # fmt: skip
    body = b"".join(gguf_string(k) + struct.pack("<I", 8) + gguf_string(v) for k, v in kvs)
    return b"GGUF" + struct.pack("<IQQ", 3, 0, len(kvs)) + body


def _onnx() -> bytes:
    prop = pb_field(14, pb_field(1, PAYLOAD.encode()) + pb_field(2, PAYLOAD.encode()))
    long_prop = pb_field(14, pb_field(1, b"long") + pb_field(2, LONG.encode()))
    graph = pb_field(2, PAYLOAD.encode())
    return (
        pb_field(1, 8) + pb_field(2, PAYLOAD.encode()) + pb_field(3, PAYLOAD.encode())
        + pb_field(6, LONG.encode()) + pb_field(7, graph) + pb_field(8, pb_field(2, 17))
        + prop + long_prop
    )  # fmt: skip


def _card() -> str:
    front = {
        "license": PAYLOAD,
        "tags": [PAYLOAD, LONG],
        "base_model": PAYLOAD,
        "model-index": [{"results": [{"dataset": {"name": PAYLOAD},
                                      "metrics": [{"type": PAYLOAD, "value": 0.9}]}]}],
    }  # fmt: skip
    return f"---\n{yaml.safe_dump(front, allow_unicode=True)}---\n# {PAYLOAD}\n"


# A folder and a file name holding escapes (Linux allows any byte but / and NUL).
ODD_DIR = "run \x1b[31m\x9b\u202e[red]x["
ODD_FILE = "m\x1b]0;t\x07\u2066.safetensors"


def build(root: Path) -> list[str]:
    """Hostile artifacts under root/inj/...; returns their paths as registered."""
    base = root / "inj"
    made: list[Path] = []

    def put(rel: str, data: bytes | str) -> Path:
        path = base / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        return path

    meta = {PAYLOAD: PAYLOAD, "format": PAYLOAD, "long": LONG}
    made.append(put("st/model.safetensors", safetensors_bytes({"w": ("F32", [2])}, meta)))
    put("st/metrics.json", json.dumps({PAYLOAD: 0.5, "auc": 0.7}))
    put("st/params.json", json.dumps({PAYLOAD: PAYLOAD, "long": LONG}))
    made.append(put("gguf/model.gguf", _gguf()))
    put("gguf/hparams.yaml", yaml.safe_dump({PAYLOAD: {PAYLOAD: PAYLOAD}}, allow_unicode=True))
    made.append(put("onnx/model.onnx", _onnx()))
    hf = base / "hf"
    put("hf/config.json", json.dumps({"architectures": [PAYLOAD], "model_type": PAYLOAD,
                                      "id2label": {"0": PAYLOAD, "1": LONG}}))  # fmt: skip
    put("hf/model.safetensors", safetensors_bytes({"w": ("F32", [1])}))
    put("hf/README.md", _card())
    made.append(hf)
    ml = base / "mlflow" / "model"
    put("mlflow/model/MLmodel", yaml.safe_dump({
        "run_id": PAYLOAD, "artifact_path": LONG, "mlflow_version": PAYLOAD,
        "flavors": {PAYLOAD: {"loader_module": PAYLOAD},
                    "python_function": {"env": "conda.yaml", "predict_fn": PAYLOAD}},
        "signature": {"inputs": json.dumps([{"name": PAYLOAD, "type": "double"}])},
    }, allow_unicode=True))  # fmt: skip
    put("mlflow/model/model.pkl", b"\x80\x04N.")
    put("mlflow/model/conda.yaml", f"name: {json.dumps(PAYLOAD)}\n")
    put("mlflow/model/requirements.txt", f"{PAYLOAD}\n{LONG}\n")
    made.append(ml)
    made.append(put(f"{ODD_DIR}/{ODD_FILE}", safetensors_bytes({"w": ("F32", [3])})))
    return [str(p) for p in made]


@pytest.fixture
def hostile_catalog(
    tmp_path: Path, sqlite_path: str, capsys: pytest.CaptureFixture[str]
) -> tuple[str, list[str], str]:
    """A catalog with model `inj` holding the hostile versions; returns (db, paths,
    the text output of the scan)."""
    root = tmp_path / "runs"
    paths = build(root)
    assert main(["--db", sqlite_path, "scan", str(root)]) == 0
    extra = tmp_path / "tagged.safetensors"
    extra.write_bytes(safetensors_bytes({"w": ("F32", [4])}))
    argv = ["--db", sqlite_path, "register", str(extra), "--model", "inj",
            "--tag", f"owner={PAYLOAD}", "--tag", f"{KEY}=x", "--tag", f"long={LONG}",
            "--metric", f"{KEY}=1.5", "--param", f"{KEY}={PAYLOAD}"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr()
    return sqlite_path, [*paths, str(extra)], out.out + out.err


def run(db: str, capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = main(["--db", db, *argv])
    out = capsys.readouterr()
    assert code == 0, (argv, out.err)
    return out.out + out.err


def test_text_output_has_no_raw_controls(
    hostile_catalog: tuple[str, list[str], str], capsys: pytest.CaptureFixture[str]
) -> None:
    db, paths, scanned = hostile_catalog
    assert_terminal_safe(scanned)
    n = len(paths)
    outputs = {
        "models": run(db, capsys, "models"),
        "versions": run(db, capsys, "versions", "inj"),
        "audit": run(db, capsys, "audit"),
        "verify": run(db, capsys, "verify"),
    }
    for i in range(1, n + 1):
        outputs[f"show {i}"] = run(db, capsys, "show", f"inj:{i}")
        outputs[f"diff {i}"] = run(db, capsys, "diff", f"inj:{i}", f"inj:{i % n + 1}", "--all")
    for name, text in outputs.items():
        try:
            assert_terminal_safe(text)
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}") from None
    shown = "\n".join(v for k, v in outputs.items() if k.startswith("show"))
    # shown, as visible escapes and literal markup
    for literal in ("\\x1b[31mred", "\\x1b]0;pwned\\x07", "\\x9b31m", "\\x85", "\\u202eevil",
                    "\\u2066iso", "[@click=app.quit]Q", "[unclosed"):  # fmt: skip
        assert literal in shown, literal
    assert "…" in shown  # the long strings were cut, with a mark saying so


def test_error_messages_are_safe(
    hostile_catalog: tuple[str, list[str], str], capsys: pytest.CaptureFixture[str]
) -> None:
    db, _, _ = hostile_catalog
    assert main(["--db", db, "show", f"inj:{ESCAPES}"]) != 0
    assert_terminal_safe(capsys.readouterr().err)


def test_json_output_escapes_and_round_trips(
    hostile_catalog: tuple[str, list[str], str], capsys: pytest.CaptureFixture[str]
) -> None:
    db, paths, _ = hostile_catalog
    versions = assert_json_safe(run(db, capsys, "versions", "inj", "--json"))
    assert sorted(v["path"] for v in versions) == sorted(paths)  # names exact, not mangled
    by_file = {Path(v["path"]).name: v for v in versions}

    st_meta = by_file["model.safetensors"]["metadata"]["metadata"]
    assert st_meta[PAYLOAD] == PAYLOAD  # decodes back to the very characters
    assert st_meta["long"] == clip(LONG, MAX_STR)  # bounded, with the cut said
    st_v = by_file["model.safetensors"]
    assert st_v["metrics"][PAYLOAD] == 0.5 and st_v["params"][PAYLOAD] == PAYLOAD

    gguf = by_file["model.gguf"]["metadata"]
    assert gguf["name"] == PAYLOAD and gguf["kv"][PAYLOAD] == PAYLOAD

    onnx = by_file["model.onnx"]["metadata"]
    assert onnx["producer_name"] == PAYLOAD and onnx["metadata_props"][PAYLOAD] == PAYLOAD

    assert by_file["hf"]["metadata"]["model_type"] == PAYLOAD
    assert by_file["hf"]["metadata"]["model_card"]["license"] == PAYLOAD
    assert by_file["hf"]["metrics"][PAYLOAD] == 0.9
    assert by_file["model"]["metadata"]["run_id"] == PAYLOAD
    assert by_file[ODD_FILE]["path"].endswith(f"{ODD_DIR}/{ODD_FILE}")
    tagged = by_file["tagged.safetensors"]
    assert tagged["tags"]["owner"] == PAYLOAD and tagged["tags"][KEY] == "x"
    assert len(tagged["tags"]["long"]) < len(LONG) + 100

    for argv in (["show", "inj:1", "--json"], ["diff", "inj:1", "inj:2", "--json"],
                 ["models", "--json"], ["audit", "--json"], ["verify", "--json"]):  # fmt: skip
        assert_json_safe(run(db, capsys, *argv))


def test_scan_json_is_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "runs"
    build(root)
    items = assert_json_safe(run(str(tmp_path / "c.sqlite"), capsys, "scan", str(root), "--json"))
    assert {i["outcome"] for i in items} == {"registered"}


# -------------------------------------------------------- regtui.text.printable

UNSAFE_CHARS = st.one_of(
    st.integers(0, 0x1F).filter(lambda c: c not in (9, 10)),
    st.integers(0x7F, 0x9F),
    st.sampled_from([ord(c) for c in BIDI_CONTROLS + "\u2028\u2029"]),
).map(chr)
ANY_CHAR = st.characters(min_codepoint=0, max_codepoint=0x10FFFF)


@settings(max_examples=examples(150))
@given(st.text(alphabet=st.one_of(ANY_CHAR, UNSAFE_CHARS), max_size=200), st.booleans())
def test_printable_lets_no_control_through(text: str, one_line: bool) -> None:
    out = printable(text, one_line=one_line)
    assert not FORBIDDEN.search(out)
    if one_line:
        assert "\n" not in out and "\t" not in out


def test_printable_escapes_every_bidi_control() -> None:
    for c in BIDI_CONTROLS:
        assert c not in printable(f"a{c}b"), f"U+{ord(c):04X}"


@settings(max_examples=examples(200))
@given(st.text(alphabet=ANY_CHAR, max_size=200))
def test_printable_passes_printable_text_unchanged(text: str) -> None:
    # Printable characters, as Python sees them, plus space: none needs escaping.
    safe = "".join(c for c in text if c.isprintable() and not FORBIDDEN.match(c))
    assert printable(safe) == safe
    assert printable(safe, one_line=True) == safe


@settings(max_examples=examples(100))
@given(st.text(max_size=50), st.integers(1, 60))
def test_printable_cuts_at_the_limit(text: str, limit: int) -> None:
    out = printable(text, limit)
    if len(text) > limit:
        assert out.endswith("…")
        assert len(out) <= 4 * limit + 1  # each kept character is at most a 6-char escape
    else:
        assert not out.endswith("…") or text.endswith("…")


def test_every_c0_c1_char_is_shown_as_an_escape() -> None:
    for code in [*range(0x20), *range(0x7F, 0xA0)]:
        c = chr(code)
        out = printable(c, one_line=True)
        assert out == f"\\x{code:02x}", (hex(code), out)
        assert unicodedata.category(c) == "Cc"
