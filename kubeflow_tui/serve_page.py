"""The page ``serve`` hands to browsers: textual-serve's, plus the class's student links.

A teacher hands each student a link with their name, ``http://ADDRESS:8000/?student=Ann``:
the page then types the name into the sign-in form itself and moves on to the passphrase,
which is all the student has to type.  The name goes to the app exactly as if typed (a
keystroke message on the page's own websocket, sent as it opens), so it meets the same
checks as a typed name; control characters are dropped first, so a link cannot type
anything but text.  Keys that reach the app before its form is drawn land in the form's
fields in order (see ``tui/screens/sign_in.py``), so typing it at once is safe.
"""

from __future__ import annotations

STUDENT_PARAMETER = "student"
NAME_MAX = 40  # as kubeflow_tui.classroom

# Runs before textual.js: the page's websocket (the one textual.js opens to /ws) sends
# the name and a Tab as the first keys once it is open.
STUDENT_LINK_SCRIPT = """<script>
(() => {
  const raw = new URLSearchParams(window.location.search).get("%(param)s");
  const name = (raw || "").replace(/\\p{C}+/gu, "").trim().slice(0, %(max)d);
  if (!name) return;
  const Native = window.WebSocket;
  class TypesTheName extends Native {
    constructor(...args) {
      super(...args);
      if (!String(args[0]).includes("/ws")) return;
      this.addEventListener("open", () => {
        this.send(JSON.stringify(["stdin", name + "\\t"]));
      }, {once: true});
    }
  }
  window.WebSocket = TypesTheName;
})();
</script>
""" % {"param": STUDENT_PARAMETER, "max": NAME_MAX}


def add_student_link(html: str) -> str:
    """``html`` (textual-serve's page) with the student-link script before its first script."""
    at = html.find("<script")
    if at == -1:
        at = html.find("</head>")
    if at == -1:
        return html
    return html[:at] + STUDENT_LINK_SCRIPT + "    " + html[at:]


def student_link(base_url: str, name: str) -> str:
    from urllib.parse import urlencode

    return f"{base_url.rstrip('/')}/?{urlencode({STUDENT_PARAMETER: name})}"
