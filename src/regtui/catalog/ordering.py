"""How a list of versions is ordered: ORDER BY terms as SQL text over `version`
joined with `model`, written once for the full path (queries.py, SQLite and
PostgreSQL) and the CLI's quick path (quickread.py, SQLite), so both order alike.

Without a field: by model name, then version number (`desc`: each model's newest
first). With one (any filter field with one value per version: `metrics.auc`,
`created`, `model`, `params.lr` …): by it, `desc` reversing it; versions that
lack the value come last either way; ties by model name, then version number.
`params.K`/`metadata.K` order their numbers first (by value), then their text
(true and false as text). Text orders by code point on both databases.

Kept free of SQLAlchemy: the quick path imports it.
"""

from __future__ import annotations

from regtui.catalog.filter_fields import order_field

PLAIN_COLUMNS = {
    "format": "version.format",
    "framework": "version.framework",
    "path": "version.path",
    "sha256": "version.sha256",
    "approval": "version.approval_status",
    "created_by": "version.created_by",
    "model": "model.name",
    "version": "version.number",
    "size": "version.size_bytes",
    "created": "version.created_at",
    "archived": "version.archived",
}
TEXT = {"format", "framework", "path", "sha256", "approval", "created_by", "model"}
NULLABLE = {"framework"}
JSON_COLUMN = {"params": "version.params", "metadata": "version.meta"}


def order_terms(
    order_by: str | None, desc: bool, dialect: str, *, across: bool, filtered: bool = False
) -> tuple[list[str], dict[str, str]]:
    """ORDER BY terms and the parameters they bind (`:order_key`, `:order_path`).
    `across`: the rows may come from several models. `filtered`: a filter picks
    the rows, so sorting its few matches beats walking the number index (`+ 0`
    keeps SQLite off it)."""
    pg = dialect == "postgresql"
    number = "version.number + 0" if filtered else "version.number"
    model = _text("model.name", pg)
    if order_by is None:
        head = [model] if across else []
        return [*head, f"{number} DESC" if desc else number], {}
    field, key = order_field(order_by)
    way = " DESC" if desc else ""
    params: dict[str, str] = {}
    if not key:
        column = PLAIN_COLUMNS[field]
        column = _text(column, pg) if field in TEXT else column
        last = " NULLS LAST" if field in NULLABLE else ""
        terms = [column + way + last]
        if field == "model":
            return [*terms, number], params
        if field == "version":
            return [*terms, model] if across else terms, params
    else:
        params["order_key"] = key
        terms = [t + way + " NULLS LAST" for t in _keyed(field, key, pg, params)]
    return [*terms, *([model] if across else []), number], params


def _text(column: str, pg: bool) -> str:
    # PostgreSQL orders text by the database's collation (en_US may ignore case
    # and punctuation); "C" orders by code point, as SQLite does.
    return f'{column} COLLATE "C"' if pg else column


def _keyed(field: str, key: str, pg: bool, params: dict[str, str]) -> list[str]:
    """The sort keys of `field.key`: one, or for params/metadata the number then the text."""
    if field == "metrics":
        return [
            "(SELECT vm.value FROM version_metric AS vm "
            "WHERE vm.version_id = version.id AND vm.name = :order_key)"
        ]
    if field == "tags":
        value = (
            "(SELECT vt.value FROM version_tag AS vt "
            "WHERE vt.version_id = version.id AND vt.key = :order_key)"
        )
        return [_text(value, pg)]
    col = JSON_COLUMN[field]
    if pg:
        # CAST: `->` also takes an integer (an array index); the key is text.
        value = f"{col} -> CAST(:order_key AS TEXT)"
        text = f"{col} ->> CAST(:order_key AS TEXT)"
        return [
            f"CASE WHEN jsonb_typeof({value}) = 'number' THEN CAST({text} AS DOUBLE PRECISION) END",
            _text(
                f"(CASE WHEN jsonb_typeof({value}) IN ('string', 'boolean') THEN {text} END)", pg
            ),
        ]
    params["order_path"] = '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'
    kind = f"json_type({col}, :order_path)"
    return [
        f"CASE WHEN {kind} IN ('integer', 'real') THEN json_extract({col}, :order_path) END",
        f"CASE {kind} WHEN 'text' THEN json_extract({col}, :order_path) "
        "WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' END",
    ]


INDEXED = {"metrics": ("version_metric", "name"), "tags": ("version_tag", "key")}


def top_by_index(order_by: str | None, desc: bool, mid: int | None) -> str | None:
    """SQLite: the ids of the first `:limit` versions holding the metric or tag
    `order_by` names, in order, read down its (name, value, version_id) index, so
    a first page needs no sort of every version (queries._walk is the same for
    the full path). None: `order_by` is no metric or tag."""
    if order_by is None:
        return None
    field, _ = order_field(order_by)
    if field not in INDEXED:
        return None
    table, name = INDEXED[field]
    return (
        f"SELECT t.version_id FROM {table} AS t JOIN version ON version.id = t.version_id "
        f"JOIN model ON model.id = version.model_id WHERE t.{name} = :order_key "
        + ("AND version.model_id = :mid " if mid is not None else "")
        + f"ORDER BY t.value{' DESC' if desc else ''}, model.name, version.number LIMIT :limit"
    )
