"""Which data made a version: identities, sidecars that name data, the filter,
the diff and export/import."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regtui.catalog import datasets as data
from regtui.catalog.service import Catalog
from regtui.errors import ArtifactError, FilterError, UsageError
from regtui.hashing import hash_path
from tests.support.hypothesis_runs import examples
from tests.unit.helpers import artifact


def found(cat: Catalog, where: str) -> list[str]:
    return [v.ref for v in cat.versions(where=where)]


def test_local_datasets_are_hashed_like_artifacts(tmp_path: Path) -> None:
    f = artifact(tmp_path, "train.csv", "a,b\n1,2\n")
    folder = tmp_path / "images"
    artifact(folder, "x/1.png", "one")
    artifact(folder, "2.png", "two")
    ds = data.identify(str(f))
    assert ds == {
        "kind": "file",
        "ref": str(f),
        "sha256": hashlib.sha256(b"a,b\n1,2\n").hexdigest(),
        "size_bytes": 8,
    }
    dd = data.identify(str(folder))
    assert dd["kind"] == "folder" and dd["sha256"] == hash_path(folder).sha256
    assert dd["size_bytes"] == 6
    # Relative paths resolve against the working folder (or a sidecar's folder).
    assert data.identify("train.csv", base=tmp_path)["ref"] == str(f)
    with pytest.raises(ArtifactError, match="no such file or folder"):
        data.identify(str(tmp_path / "missing.csv"))
    with pytest.raises(UsageError):
        data.identify("  ")
    # Past the sidecar limit a dataset keeps its path and size, unhashed.
    big = data.identify(str(f), hash_limit=4)
    assert "sha256" not in big and big["size_bytes"] == 8 and "larger than" in big["unhashed"]


@pytest.mark.parametrize(
    ("uri", "ref", "version"),
    [
        ("s3://bucket/data/train.parquet", "s3://bucket/data/train.parquet", None),
        (
            "s3://bucket/k.csv?versionId=3HL4kqtJ",
            "s3://bucket/k.csv?versionId=3HL4kqtJ",
            "3HL4kqtJ",
        ),
        ("gs://b/o.csv?generation=1712345", "gs://b/o.csv?generation=1712345", "1712345"),
        (
            "hf://datasets/org/name@v1.2/train.jsonl",
            "hf://datasets/org/name@v1.2/train.jsonl",
            "v1.2",
        ),
        ("hf://datasets/imdb@8a0e1c", "hf://datasets/imdb@8a0e1c", "8a0e1c"),
        ("https://example.org/d.csv?etag=abc", "https://example.org/d.csv?etag=abc", "abc"),
        ("HTTPS://user:pw@example.org/d.csv", "https://example.org/d.csv", None),
        (
            "https://b.s3.amazonaws.com/k?versionId=7&X-Amz-Signature=s3cr3t&X-Amz-Credential=c",
            "https://b.s3.amazonaws.com/k?versionId=7",
            "7",
        ),
        (
            "https://acct.blob.core.windows.net/c/d?sv=2020&sig=s3cr3t&se=x",
            "https://acct.blob.core.windows.net/c/d",
            None,
        ),
        ("dvc://repo/data.xml?rev=v3", "dvc://repo/data.xml?rev=v3", "v3"),
    ],
)
def test_uris_keep_their_version_and_never_their_secrets(
    uri: str, ref: str, version: str | None
) -> None:
    ds = data.identify(uri)
    assert ds["kind"] == "uri" and ds["ref"] == ref
    assert ds.get("version") == version
    assert "s3cr3t" not in json.dumps(ds) and "pw@" not in json.dumps(ds)


SECRETS = st.sampled_from(["X-Amz-Signature", "sig", "token", "api_key", "X-Goog-Credential"])


@settings(max_examples=examples(60), deadline=None)
@given(
    scheme=st.sampled_from(["s3", "gs", "https", "az", "hf"]),
    host=st.from_regex(r"[a-z][a-z0-9\-]{0,12}", fullmatch=True),
    path=st.lists(st.from_regex(r"[a-z0-9_.\-]{1,10}", fullmatch=True), max_size=3),
    secret=SECRETS,
    # Upper case: it cannot occur by chance in the (lower-case) host, path or version.
    secret_value=st.from_regex(r"Z[A-Z0-9]{7,15}", fullmatch=True),
    user=st.booleans(),
    version=st.none() | st.from_regex(r"[a-z0-9]{1,12}", fullmatch=True),
)
def test_generated_uris_lose_credentials_and_keep_versions(
    scheme: str,
    host: str,
    path: list[str],
    secret: str,
    secret_value: str,
    user: bool,
    version: str | None,
) -> None:
    netloc = f"me:{secret_value}@{host}" if user else host
    query = f"{secret}={secret_value}" + (f"&versionId={version}" if version else "")
    uri = f"{scheme}://{netloc}/{'/'.join(path)}?{query}"
    ds = data.identify(uri)
    assert secret_value not in ds["ref"]
    assert urlsplit(ds["ref"]).netloc == host
    assert ds.get("version") == version
    assert data.idents(ds)[0] == ds["ref"]


def test_dataset_filter_finds_by_hash_path_and_uri(db_url: str, tmp_path: Path) -> None:
    train = artifact(tmp_path, "data/train.csv", "rows")
    images = tmp_path / "data" / "images"
    artifact(images, "a.png", "A")
    cat = Catalog(db_url)
    cat.register(
        artifact(tmp_path, "m1.bin", "1"),
        "churn",
        datasets=[str(train), "s3://b/eval.csv?versionId=9"],
    )
    cat.register(artifact(tmp_path, "m2.bin", "2"), "churn", datasets=[images])
    cat.register(artifact(tmp_path, "m3.bin", "3"), "churn")
    sha = hashlib.sha256(b"rows").hexdigest()
    assert found(cat, f"dataset = '{sha}'") == ["churn:1"]
    assert found(cat, f"dataset = '{train}'") == ["churn:1"]
    assert found(cat, "dataset = 's3://b/eval.csv?versionId=9'") == ["churn:1"]
    assert found(cat, f"dataset = '{hash_path(images).sha256}'") == ["churn:2"]
    assert found(cat, "dataset like '%/images'") == ["churn:2"]
    assert found(cat, f"dataset != '{sha}'") == ["churn:2", "churn:3"]
    assert found(cat, f"dataset in ('{sha}', '{images}')") == ["churn:1", "churn:2"]
    # Combined with the other index-backed conditions.
    assert found(cat, f"dataset = '{sha}' and version = 1") == ["churn:1"]
    assert found(cat, f"dataset = '{sha}' and dataset like 's3:%'") == ["churn:1"]
    assert found(cat, "dataset = 'nothing'") == []
    with pytest.raises(FilterError, match="dataset takes"):
        cat.versions(where="dataset > 'x'")
    v = cat.get("churn:1")
    assert [d["ref"] for d in v.datasets] == [str(train), "s3://b/eval.csv?versionId=9"]
    assert v.to_json()["datasets"] == v.datasets
    # The registration's audit event names the data, under the hash chain.
    registered = [e for e in cat.audit_events(action="registered") if e.target == "churn:1"]
    assert registered[0].after["datasets"] == v.datasets
    assert "datasets" not in cat.audit_events(action="registered")[-1].after  # churn:3: none


def test_a_missing_dataset_refuses_the_registration(db_url: str, tmp_path: Path) -> None:
    cat = Catalog(db_url)
    with pytest.raises(ArtifactError, match=r"dataset .*no such file"):
        cat.register(artifact(tmp_path, "m.bin", "M"), "churn", datasets=[tmp_path / "nope"])
    assert cat.models() == [] and cat.verify_audit().events == 0


def test_sidecars_name_the_data(tmp_path: Path) -> None:
    run = tmp_path / "run"
    artifact(run, "data/train.csv", "train rows")
    artifact(
        run,
        "datasets.json",
        json.dumps(
            [
                "data/train.csv",
                {"uri": "s3://b/eval.csv?versionId=4", "context": "evaluation", "name": "eval"},
                {"path": "/elsewhere/not-here.csv"},
                {"name": "internal-warehouse-snapshot"},
                42,
            ]
        ),
    )
    model = artifact(run, "model.bin", "weights")
    warnings: list[str] = []
    got = data.from_sidecars(model, {}, warnings)
    by_ref = {d.get("ref", d.get("name")): d for d in got}
    train = by_ref[str(run / "data" / "train.csv")]
    assert train["sha256"] == hashlib.sha256(b"train rows").hexdigest()
    assert train["source"] == "datasets.json"
    assert by_ref["s3://b/eval.csv?versionId=4"]["version"] == "4"
    assert by_ref["s3://b/eval.csv?versionId=4"]["context"] == "evaluation"
    assert by_ref["/elsewhere/not-here.csv"]["kind"] == "path"  # named, not on this machine
    assert by_ref["internal-warehouse-snapshot"]["kind"] == "named"
    assert warnings == []


def test_data_yaml_and_model_card_and_broken_sidecars(tmp_path: Path) -> None:
    run = tmp_path / "run"
    artifact(run, "ds/images/train/a.jpg", "a")
    artifact(run, "data.yaml", "path: ds\ntrain: images/train\nval: gs://b/val?generation=5\n")
    model = artifact(run, "best.pt", "w")
    card = {"model_card": {"datasets": ["imdb", "org/reviews", "x" * 500]}}
    got = data.from_sidecars(model, card, [])
    refs = {d["ref"]: d for d in got}
    train = refs[str(run / "ds" / "images" / "train")]
    assert train["context"] == "training" and train["kind"] == "folder" and "sha256" in train
    assert refs["gs://b/val?generation=5"]["context"] == "validation"
    assert refs["hf://datasets/imdb"]["source"] == "model card"
    assert refs["hf://datasets/org/reviews"]["name"] == "org/reviews"
    assert not any("xxxx" in r for r in refs)  # over-long names are not taken
    # A broken sidecar is a warning, never a failure.
    (run / "data.yaml").write_text("train: [unclosed\n")
    warnings: list[str] = []
    assert data.from_sidecars(model, {}, warnings) == []
    assert warnings and "data.yaml" in warnings[0]


def mlflow_run(tmp_path: Path, source: str, *, context: str = "training") -> Path:
    """The local mlruns layout MLflow's file store writes for a run with a logged input."""
    exp = tmp_path / "mlruns" / "1"
    run = exp / "0123abcd"
    artifact(run, "meta.yaml", "run_id: 0123abcd\nexperiment_id: '1'\n")
    artifact(
        run,
        "inputs/5f1e/meta.yaml",
        "source_type: DATASET\nsource_id: d41d8cd9\ndestination_type: RUN\n"
        f"destination_id: d41d8cd9\ntags:\n  mlflow.data.context: {context}\n",
    )
    artifact(
        exp,
        "datasets/d41d8cd9/meta.yaml",
        f"name: churn-train\ndigest: 7be3a1f0\nsource_type: s3\nsource: '{source}'\n",
    )
    model = run / "artifacts" / "model"
    artifact(model, "MLmodel", "flavors:\n  python_function: {}\n")
    artifact(model, "model.pkl", "not really")
    return model


def test_mlflow_logged_inputs_beside_the_model(db_url: str, tmp_path: Path) -> None:
    model = mlflow_run(tmp_path, '{"uri": "s3://b/churn/train.parquet?versionId=11"}')
    cat = Catalog(db_url)
    v = cat.register(model, "churn")
    (ds,) = v.datasets
    assert ds["ref"] == "s3://b/churn/train.parquet?versionId=11" and ds["version"] == "11"
    assert (ds["name"], ds["digest"], ds["context"]) == ("churn-train", "7be3a1f0", "training")
    assert ds["source"] == "mlflow"
    assert found(cat, "dataset = '7be3a1f0'") == ["churn:1"]  # MLflow's own digest
    assert found(cat, "dataset = 'churn-train'") == ["churn:1"]


def test_mlflow_input_cannot_point_outside_its_experiment(tmp_path: Path) -> None:
    model = mlflow_run(tmp_path, '{"uri": "s3://b/x"}')
    meta = model.parent.parent / "inputs" / "5f1e" / "meta.yaml"
    meta.write_text("source_type: DATASET\nsource_id: ../../../../etc\ntags: {}\n")
    assert data.from_sidecars(model, {}, []) == []


def test_same_bytes_again_adds_datasets_it_lacks(db_url: str, tmp_path: Path) -> None:
    train = artifact(tmp_path, "train.csv", "rows")
    model = artifact(tmp_path, "m.bin", "M")
    cat = Catalog(db_url)
    cat.register(model, "churn")
    v = cat.register(model, "churn", datasets=[train, "s3://b/k"])
    assert [d["ref"] for d in v.datasets] == [str(train), "s3://b/k"]
    assert found(cat, "dataset = 's3://b/k'") == ["churn:1"]
    event = cat.audit_events(action="logged")[-1]
    assert [d["ref"] for d in event.after["datasets"]] == [str(train), "s3://b/k"]
    assert event.before["datasets"] == []
    assert cat.verify_audit().ok


def test_diff_says_when_two_versions_were_trained_on_different_data(
    db_url: str, tmp_path: Path
) -> None:
    train = artifact(tmp_path, "train.csv", "v1 rows")
    cat = Catalog(db_url)
    cat.register(artifact(tmp_path, "m1.bin", "1"), "churn", datasets=[train])
    cat.register(artifact(tmp_path, "m2.bin", "2"), "churn", datasets=[train])
    train.write_text("v2 rows")  # same path, new content
    cat.register(artifact(tmp_path, "m3.bin", "3"), "churn", datasets=[train])
    cat.register(artifact(tmp_path, "m4.bin", "4"), "churn")
    same = cat.diff("churn:1", "churn:2")
    assert same.same_data is True and same.data_note() is None
    changed = cat.diff("churn:2", "churn:3")
    assert changed.same_data is False
    (row,) = changed.section("datasets")
    assert row.status == "changed" and row.key == str(train)
    assert changed.data_note() == "different data: 1 dataset differs"
    assert changed.to_json()["same_data"] is False
    assert "none on the right" in (cat.diff("churn:3", "churn:4").data_note() or "")
    assert cat.diff("churn:4", "churn:4").same_data is None


def test_diff_marks_values_logged_later(db_url: str, tmp_path: Path) -> None:
    cat = Catalog(db_url)
    cat.register(artifact(tmp_path, "m1.bin", "1"), "churn", metrics={"auc": 0.8})
    cat.register(artifact(tmp_path, "m2.bin", "2"), "churn", metrics={"auc": 0.8})
    cat.log("churn:2", metrics={"auc": 0.85}, params={"eval": "q4"})
    d = cat.diff("churn:1", "churn:2")
    (auc,) = [r for r in d.section("metrics") if r.key == "auc"]
    assert auc.left_logged is None and auc.right_logged == cat.get("churn:2").logged["metrics.auc"]
    assert auc.to_json()["logged"] == {"left": None, "right": auc.right_logged}
    (p,) = d.section("params")
    assert p.right_logged and p.status == "added"


def test_export_import_carries_datasets_and_logged_and_rebuilds_the_index(
    db_url: str, tmp_path: Path
) -> None:
    train = artifact(tmp_path, "train.csv", "rows")
    src = Catalog(tmp_path / "src.sqlite")
    src.register(artifact(tmp_path, "m1.bin", "1"), "churn", datasets=[train, "hf://datasets/x@r1"])
    src.log("churn:1", metrics={"auc": 0.9})
    exported = src.export_data()
    dst = Catalog(db_url)
    assert dst.import_data(exported) == 1
    assert dst.export_data() == exported
    v = dst.get("churn:1")
    assert v.datasets == src.get("churn:1").datasets and v.logged == src.get("churn:1").logged
    sha = hashlib.sha256(b"rows").hexdigest()
    assert found(dst, f"dataset = '{sha}'") == ["churn:1"]
    assert found(dst, "dataset = 'hf://datasets/x@r1'") == ["churn:1"]
    # An export from before datasets existed (no such keys) still imports.
    old = json.loads(json.dumps(exported))
    for row in old["versions"]:
        row.pop("datasets"), row.pop("logged")
    fresh = Catalog(tmp_path / "old.sqlite")
    fresh.import_data(old)
    assert fresh.get("churn:1").datasets == [] and fresh.get("churn:1").logged == {}


def test_sidecars_never_open_what_is_not_a_regular_file(tmp_path: Path) -> None:
    import os

    run = tmp_path / "run"
    run.mkdir()
    os.mkfifo(run / "pipe")  # opening it for reading would block for ever
    artifact(run, "datasets.json", json.dumps(["pipe", "/dev/zero"]))
    got = data.from_sidecars(artifact(run, "m.bin", "w"), {}, [])
    assert [(d["kind"], d["ref"]) for d in got] == [
        ("path", str(run / "pipe")),
        ("path", "/dev/zero"),
    ]


def test_large_hashes_report_progress_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    from regtui.cli.output import hash_progress

    small = hash_progress("dataset")
    small(10, 100)
    assert capsys.readouterr().err == ""
    step = hash_progress("dataset", threshold=100)
    for done in (0, 50, 55, 100):
        step(done, 1000)
    step(1000, 1000)
    err = capsys.readouterr().err
    assert err.count("hashing dataset:") == 3  # 0 %, 10 %, 100 %: one line per tenth
    assert err.endswith("100% of 1.0 kB\n")
