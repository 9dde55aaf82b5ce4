"""An s3:// store location: what is accepted, what is refused (one line, nothing
changed), and that the catalog never holds credentials. No server needed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from regtui.catalog import bucket, store
from regtui.catalog.bucket import Bucket
from regtui.catalog.service import Catalog
from regtui.errors import UsageError

GOOD = {
    "s3://models": Bucket("models", ""),
    "s3://models/": Bucket("models", ""),
    "s3://models/team/kept": Bucket("models", "team/kept"),
    "s3://models/team/kept/": Bucket("models", "team/kept"),
    "S3://my.bucket-1/x": Bucket("my.bucket-1", "x"),
}
# (URL, words the refusal must say)
BAD = [
    ("s3://AKIAEXAMPLE:hunter2@models/p", "must not hold credentials"),
    ("s3://AKIAEXAMPLE@models", "must not hold credentials"),
    ("s3://:hunter2@models", "must not hold credentials"),
    ("s3://models/p?X-Amz-Credential=hunter2", "nothing more"),
    ("s3://models/p#frag", "nothing more"),
    ("s3://models/a\nb", "nothing more"),
    ("s3://", "bucket name"),
    ("s3://Models", "bucket name"),
    ("s3://ab", "bucket name"),
    ("s3://a..b", "bucket name"),
    ("s3://models/a//b", "empty, '.' or '..'"),
    ("s3://models/a/../b", "empty, '.' or '..'"),
    ("s3://models/./b", "empty, '.' or '..'"),
]


@pytest.mark.parametrize("url", list(GOOD))
def test_bucket_urls_parse(url: str) -> None:
    b = bucket.parse(url)
    assert b == GOOD[url]
    assert bucket.parse(str(b)) == b  # the setting holds this canonical form
    assert store.absolute_location(url) == b
    key = store.copy_key("ab" * 32, "m.onnx")
    assert b.uri(key).endswith("/" + key) and b.uri(key).startswith(f"s3://{b.bucket}/")


@pytest.mark.parametrize(("url", "said"), BAD)
def test_bad_bucket_urls_are_one_line_refusals(url: str, said: str) -> None:
    with pytest.raises(UsageError) as err:
        store.absolute_location(url)
    message = str(err.value)
    assert said in message and "\n" not in message
    assert "hunter2" not in message  # a secret is never repeated back


@pytest.mark.parametrize("url", ["gs://models/p", "https://s3.example/models", "file:///x"])
def test_other_schemes_are_refused_not_taken_as_folders(url: str) -> None:
    with pytest.raises(UsageError, match="a folder or an s3:// URL"):
        store.absolute_location(url)


@pytest.mark.parametrize(("url", "said"), BAD[:4])
def test_store_set_with_credentials_changes_nothing(tmp_path: Path, url: str, said: str) -> None:
    cat = Catalog(str(tmp_path / "catalog.sqlite"))
    before = cat.store_location()
    with pytest.raises(UsageError, match=said):
        cat.set_store_location(url)
    assert cat.store_location() == before
    assert not cat.audit_events(action="store_moved")
    assert b"hunter2" not in (tmp_path / "catalog.sqlite").read_bytes()


def test_a_bucket_store_without_boto3_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)  # import boto3 -> ImportError
    monkeypatch.setattr(bucket, "_clients", {})
    with pytest.raises(UsageError) as err:
        bucket.probe(Bucket("models", "p"))
    assert str(err.value) == "s3://models/p: an s3:// store needs boto3: pip install 'regtui[s3]'"


@pytest.mark.parametrize(("raw", "want"), [("", 64 << 20), ("4096", 4096), (" 0 ", 1)])
def test_part_size_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, raw: str, want: int
) -> None:
    monkeypatch.setenv("REGTUI_S3_PART_BYTES", raw)
    assert bucket.part_bytes() == want


def test_a_bucket_setting_reads_back_as_a_bucket() -> None:
    where = store.location_for("sqlite:///x.sqlite", {"location": "s3://models/team"})
    assert where.path == Bucket("models", "team") and where.source == "setting"
    assert where.to_json()["location"] == "s3://models/team"
    assert "credentials" in where.note and not where.host_local


def test_resolve_uri_of_a_folder_store_is_the_file_uri(tmp_path: Path) -> None:
    from regtui.catalog.artifacts import serve_path, serve_uri
    from tests.unit.helpers import artifact

    cat = Catalog(str(tmp_path / "catalog.sqlite"))
    v = cat.register(artifact(tmp_path / "out", "m 1.safetensors", "model 1"), "churn")
    cat.approve("churn:1", "ok")
    cat.promote("churn:1", "production")
    v = cat.get("churn:1")
    where = cat.store_location().path
    uri = serve_uri(v, where)
    assert uri == serve_path(v, where).as_uri() and uri.startswith("file://")
    assert "%20" in uri  # a URI, quoted, not a path


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://minio:hunter2@127.0.0.1:1",
        "http://AKIAEXAMPLE:hunter2@127.0.0.1:1/",
        "https://u:hunter2@localhost:1/path",
    ],
)
def test_an_endpoint_password_is_never_echoed(
    endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AWS_ENDPOINT_URL with credentials in it: the one-line error names the store
    and what failed, never the password (nothing listens on port 1)."""
    pytest.importorskip("boto3")
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-this-one")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with pytest.raises(Exception) as caught:
        bucket.probe(bucket.parse("s3://models/p"))
    message = str(caught.value)
    assert "s3://models/p" in message and "\n" not in message
    assert "hunter2" not in message and "not-this-one" not in message
