"""The examples each command's `--help` ends with, in one place so they read alike.

Every command has some (tests/unit/cli/test_help_text.py fails on one without):
a first-time user learns a command from its examples more than from its options.
"""

from __future__ import annotations

EXAMPLES: dict[str, tuple[str, ...]] = {
    "demo": ("regtui demo",),
    "watch": (
        "regtui watch runs/                      # in the TUI",
        "regtui watch runs/ --headless --settle 5  # one line per event",
        "regtui watch /mnt/nfs/runs --poll --model churn",
        "regtui watch runs/ --headless --no-hooks  # leave hooks to `regtui hooks run`",
    ),
    "scan": (
        "regtui scan runs/",
        "regtui scan runs/ exports/ --model churn --json",
    ),
    "register": (
        "regtui register out/model.onnx --model churn --metric auc=0.91 --param lr=0.01",
        "regtui register out/hf-run/ --model bert --tag team=nlp --dataset data/train.csv",
    ),
    "log": (
        'regtui log churn:3 --metric test_auc=0.89 --reason "holdout finished"',
        'regtui log churn@staging --param threshold=0.4 --reason "tuned on q4"',
    ),
    "import-mlflow": (
        "regtui import-mlflow sqlite:///mlflow.db --dry-run",
        "regtui import-mlflow ./mlruns --model churn --copy-artifacts",
    ),
    "models": ("regtui models", "regtui models --json"),
    "versions": (
        "regtui versions churn",
        "regtui versions churn --filter \"metrics.auc > 0.9 and approval = 'pending'\"",
    ),
    "show": ("regtui show churn:3", "regtui show churn@production --json"),
    "diff": ("regtui diff churn:3 churn@production", "regtui diff churn:2 churn:3 --all"),
    "approve": (
        'regtui approve churn:3 --reason "beats v2 on the holdout set"',
        'regtui approve churn:3 churn:4 --reason "reviewed together"   # all or none',
    ),
    "reject": ('regtui reject churn:5 --reason "leaks the label"',),
    "promote": (
        'regtui promote churn:3 --to production --reason "weekly release"',
        'regtui promote churn:4 --to staging --to canary --demote qa --reason "trial"',
        'regtui promote churn:4 --to production --expect 3 --reason "only over v3"',
    ),
    "rollback": (
        'regtui rollback churn --reason "latency regression"',
        'regtui rollback churn --stage staging --to 2 --reason "back to v2"',
    ),
    "demote": ('regtui demote churn --stage canary --reason "trial over"',),
    "stages": (
        "regtui stages churn",
        "regtui stages churn --stage production --at 2026-03-03   # at the end of that day",
        "regtui stages churn --stage production --at 2026-03-03T12:00Z",
    ),
    "archive": (
        'regtui archive churn:1 churn:2 --reason "superseded"',
        'regtui archive churn:1 --undo --reason "needed for the audit"',
    ),
    "edit": (
        'regtui edit churn --description "Predicts churn" --tag owner=ml --reason "handover"',
        'regtui edit churn:3 --untag scratch --reason "kept"',
    ),
    "resolve": (
        "regtui resolve churn@production",
        "regtui resolve churn@production -0 | xargs -0 ls -l",
        "regtui resolve churn@production --uri   # s3://… when the store is a bucket",
    ),
    "backup": ("regtui backup /backups/catalog-$(date +%F).sqlite",),
    "audit": (
        "regtui audit churn",
        "regtui audit --verify",
        "regtui audit --verify --head 3f1c…   # against a head kept elsewhere",
        "regtui audit --follow --json --since 41  # a live tail from after event 41",
        "regtui audit churn -f --since 2026-12-01 --action promoted",
    ),
    "hook": (
        "regtui hook add deploy --on promoted --on rolled_back --model churn "
        "--stage production --run ./deploy.sh",
        "regtui hook add ci --on approved --post https://ci.example/regtui --secret - < ci.key",
        "regtui hook list",
        "regtui hook test deploy",
        'regtui hook remove ci --reason "moved to the new CI"',
    ),
    "hooks": (
        "regtui hooks run                        # deliver until stopped (a service)",
        "regtui hooks run --once --attempts 3 --backoff 2",
    ),
    "verify": ("regtui verify", "regtui verify churn --json"),
    "policy": (
        "regtui policy",
        "regtui policy --protect production,staging --distinct-approver on",
    ),
    "export": ("regtui export catalog.json", "regtui export - | gzip > catalog.json.gz"),
    "import": ("regtui --db new.sqlite import catalog.json",),
    "locate": ("regtui locate", "regtui locate --json"),
    "store": (
        "regtui store",
        'regtui store --set /mnt/models/kept --reason "shared disk"',
        'AWS_PROFILE=ml regtui store --set s3://models/regtui --reason "team bucket"',
    ),
    "completion": (
        'eval "$(regtui completion bash)"          # in ~/.bashrc',
        'eval "$(regtui completion zsh)"           # in ~/.zshrc',
        "regtui completion fish | source          # in ~/.config/fish/config.fish",
    ),
    "serve": (
        "regtui serve                              # prints http://127.0.0.1:8000/?token=…",
        "regtui serve --add-user ann               # ann's token, shown once",
        "regtui serve --read-only --port 8080",
        "regtui serve --user-header X-Forwarded-User   # behind a proxy on this host",
    ),
}

TOP_EXAMPLES = (
    "regtui register out/model.onnx --model churn --metric auc=0.91",
    'regtui approve churn:3 --reason "beats v2"',
    "regtui COMMAND --help                   # each command's options and examples",
)


def epilog(name: str | None) -> str | None:
    """The 'examples:' block for command `name` (None: the top-level help)."""
    lines = TOP_EXAMPLES if name is None else EXAMPLES.get(name)
    if not lines:
        return None
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)
