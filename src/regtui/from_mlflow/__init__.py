"""Moving in from MLflow: `regtui import-mlflow` reads an MLflow registry through
MLflow's own client (`reader`, the one module that imports MLflow, only when asked)
and brings it into a catalog (`importer`)."""
