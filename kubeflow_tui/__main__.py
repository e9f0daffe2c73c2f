"""``python -m kubeflow_tui`` runs the same entry point as the ``kubeflow-tui`` script."""

import sys

from kubeflow_tui.cli import main

if __name__ == "__main__":
    sys.exit(main())
