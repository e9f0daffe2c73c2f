"""Run the app on the fake engine (until the real engine lands): python tests/tui/dev_app.py [path]."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from fake_trace import FakeEngine  # noqa: E402

from kubeflow_tui.tui.app import KubeflowApp  # noqa: E402

if __name__ == "__main__":
    KubeflowApp(sys.argv[1] if len(sys.argv) > 1 else None, engine=FakeEngine()).run()
