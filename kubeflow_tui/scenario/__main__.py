"""``python -m kubeflow_tui.scenario``: regenerate ``scenario.schema.json``."""

from .schema import write_schema_file

print(write_schema_file())
