"""regtui as an MLflow model registry: with regtui installed beside MLflow and
`MLFLOW_REGISTRY_URI=regtui:<catalog path or database URL>` (`regtui:` alone: the
catalog regtui itself would open), MLflow's client reads the catalog (`store`).
Only MLflow imports this package, through the `mlflow.model_registry_store` entry
point; regtui never does."""
