"""What a served session needs beyond the app's own modules, for the fork server of
``serve`` (kubeflow_tui/fork_server.py) to import once, ahead of every session: the
driver textual-serve's sessions run with (``TEXTUAL_DRIVER``), which textual imports
only when an app starts."""

import textual.drivers.web_driver  # noqa: F401
