"""Chromium's own sandbox: renderers in namespaces and under seccomp, so that a page that
breaks into one still cannot reach the machine.

Chromium will not sandbox itself as root (it demands --no-sandbox). So when the worker
runs as root, the browser is started through `run_browser_as_user.sh`, which drops to an
unprivileged user (BROWSER_USER, "nobody" by default) with setpriv; the sandbox then uses
unprivileged user namespaces. Where even that fails (no such user, no setpriv, user
namespaces disabled, Playwright's own browser, which cannot be wrapped), the browser runs
with --no-sandbox and the worker says so once in its log (README.md, Security).

The browser also gets a small environment of its own rather than the worker's, which holds
SECRET_KEY and the database's address.
"""

from __future__ import annotations

import logging
import os
import pwd
import shutil
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

WRAPPER = Path(__file__).with_name("run_browser_as_user.sh")
# What the browser inherits from the worker's environment; nothing else.
PASSED_ENVIRONMENT = ("PATH", "LANG", "LC_ALL", "TZ", "TMPDIR", "DISPLAY", "WAYLAND_DISPLAY", "XAUTHORITY",
                      "FONTCONFIG_PATH", "FONTCONFIG_FILE", "XDG_RUNTIME_DIR")


@dataclass(frozen=True)
class LaunchPlan:
    """How to start Chromium: the executable Playwright runs, its environment, and whether
    Chromium's sandbox is asked for (`why_not` says why not)."""

    executable: str  # "" lets Playwright pick its own browser
    env: dict[str, str] = field(default_factory=dict)
    sandboxed: bool = True
    as_user: str = ""
    why_not: str = ""

    @property
    def args(self) -> list[str]:
        return [] if self.sandboxed else ["--no-sandbox"]

    def without_sandbox(self, why: str) -> "LaunchPlan":
        return LaunchPlan(self.executable, self.env, False, self.as_user, why)


def browser_environment(home: str = "") -> dict[str, str]:
    env = {name: os.environ[name] for name in PASSED_ENVIRONMENT if name in os.environ}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    if home:
        env["HOME"] = home
    elif "HOME" in os.environ:
        env["HOME"] = os.environ["HOME"]
    return env


def launch_plans(executable: str, user: str = "nobody") -> list[LaunchPlan]:
    """The ways to start Chromium, best first: sandboxed (as `user` when we are root),
    then without the sandbox. The caller tries them in turn and keeps the first that starts."""
    env = browser_environment()
    if os.geteuid() != 0:
        plain = LaunchPlan(executable, env)
        return [plain, plain.without_sandbox("Chromium could not start its sandbox on this machine")]
    plain = LaunchPlan(executable, env, sandboxed=False, why_not="the worker runs as root")
    if not executable:
        return [plain.without_sandbox("the worker runs as root with Playwright's own browser, which cannot be "
                                      "started as another user (set BROWSER_EXECUTABLE)")]
    try:
        account = pwd.getpwnam(user or "nobody")
    except KeyError:
        return [plain.without_sandbox(f"the worker runs as root and there is no user {user!r} to run it as")]
    if account.pw_uid == 0:
        return [plain.without_sandbox(f"BROWSER_USER {user!r} is root")]
    if not shutil.which("setpriv", path=env["PATH"]):
        return [plain.without_sandbox("the worker runs as root and setpriv (util-linux) is missing")]
    wrapped = LaunchPlan(
        str(WRAPPER),
        {**env, "DC_BROWSER_EXECUTABLE": executable, "DC_BROWSER_UID": str(account.pw_uid),
         "DC_BROWSER_GID": str(account.pw_gid)},
        as_user=account.pw_name,
    )
    return [
        wrapped,
        wrapped.without_sandbox(f"Chromium could not start its sandbox as {account.pw_name} (are unprivileged "
                                "user namespaces disabled?)"),
        plain.without_sandbox(f"Chromium could not be started as {account.pw_name}"),
    ]


_warned = False


def note_unsandboxed(plan: LaunchPlan, failure: str = "") -> None:
    """Say once per process that the browser runs without Chromium's sandbox, and why."""
    global _warned
    if plan.sandboxed or _warned:
        return
    _warned = True
    detail = f" ({failure})" if failure else ""
    log.warning(
        "The browser runs WITHOUT Chromium's sandbox: %s%s. Pages still reach only the public internet "
        "through the egress proxy, but a renderer exploit would run with the worker's rights. See README.md, Security.",
        plan.why_not, detail,
    )
