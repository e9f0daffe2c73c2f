"""The Textual front end of kubeflow-tui (the only package that imports textual)."""
