"""Build hook: ship the repo's top-level ``lessons/`` and ``scenarios/`` inside the wheel.

They land in ``kubeflow_tui/_data/<name>/`` (see ``kubeflow_tui/resources.py``).  A folder
that does not exist (a fresh tree before any lesson is written) is skipped rather than
failing the build, which a plain ``force-include`` table would do.
"""

from __future__ import annotations

from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

DATA_FOLDERS = ("lessons", "scenarios", "cases")


class CustomBuildHook(BuildHookInterface):
    def initialize(self, version: str, build_data: dict) -> None:
        # An editable install reads the checkout's folders directly (resources.py).
        if self.target_name != "wheel" or version == "editable":
            return
        root = Path(self.root)
        for name in DATA_FOLDERS:
            src = root / name
            if src.is_dir():
                build_data["force_include"][str(src)] = f"kubeflow_tui/_data/{name}"
