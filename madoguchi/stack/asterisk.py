"""Asterisk as a container without Docker.

Asterisk runs from the cached Debian sid root filesystem in a private mount and PID
namespace (util-linux `unshare`), with the assembled etc dir and a var dir bind-mounted
at /madoguchi and the project's prompts at /usr/share/asterisk/sounds/madoguchi.
The network namespace is the host's: SIP, RTP and AMI bind to loopback addresses.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

from madoguchi.paths import Paths
from madoguchi.stack.spawn import spawn_logged

INNER_VAR = "/madoguchi"
INNER_SOUNDS = "/usr/share/asterisk/sounds/madoguchi"


class StackError(Exception):
    """A one-line, actionable reason why part of the stack cannot run."""


def static_files(paths: Paths) -> dict[str, str]:
    return {
        p.name: p.read_text(encoding="utf-8")
        for p in sorted(paths.asterisk_static_etc.iterdir())
        if p.is_file() and p.suffix == ".conf"
    }


def assemble_etc(paths: Paths, generated: Mapping[str, str]) -> list[str]:
    """Write the etc dir Asterisk reads: static files plus generated ones.

    Returns the names of the files whose content changed, so a reload can touch only
    the modules concerned. Each file is replaced atomically.
    """
    etc = paths.asterisk_var / "etc"
    etc.mkdir(parents=True, exist_ok=True)
    wanted = dict(static_files(paths))
    wanted.update(generated)
    changed: list[str] = []
    for name, text in wanted.items():
        target = etc / name
        if target.exists() and target.read_text(encoding="utf-8") == text:
            continue
        tmp = target.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(target)
        changed.append(name)
    for stale in etc.glob("*.conf"):
        if stale.name not in wanted:
            stale.unlink()
            changed.append(stale.name)
    return changed


def check_rootfs(paths: Paths) -> None:
    binary = paths.rootfs / "usr/sbin/asterisk"
    if not binary.exists():
        raise StackError(
            f"the Asterisk root filesystem is missing at {paths.rootfs}; "
            "fix: run `make setup` (builds it with debootstrap)"
        )
    for tool in ("unshare", "chroot", "mount"):
        if shutil.which(tool) is None:
            raise StackError(
                f"`{tool}` is missing; fix: apt-get install util-linux coreutils mount"
            )


def _prepare_dirs(paths: Paths) -> None:
    for sub in ("lib", "spool", "run", "log", "spool/voicemail", "spool/monitor"):
        (paths.asterisk_var / sub).mkdir(parents=True, exist_ok=True)
    (paths.rootfs / INNER_VAR.lstrip("/")).mkdir(exist_ok=True)
    (paths.rootfs / INNER_SOUNDS.lstrip("/")).mkdir(parents=True, exist_ok=True)
    (paths.rootfs / str(paths.project).lstrip("/")).mkdir(parents=True, exist_ok=True)
    paths.asterisk_sounds.mkdir(parents=True, exist_ok=True)
    # A stale control socket from a killed run makes `asterisk -r` talk to nothing.
    for stale in ("asterisk.ctl", "asterisk.pid"):
        (paths.asterisk_var / "run" / stale).unlink(missing_ok=True)


def launch_command(paths: Paths) -> list[str]:
    root = str(paths.rootfs)
    project = str(paths.project)
    inner = (
        f"mount --bind {shlex.quote(str(paths.asterisk_var))} {shlex.quote(root + INNER_VAR)}"
        f" && mount --bind -o ro {shlex.quote(str(paths.asterisk_sounds))}"
        f" {shlex.quote(root + INNER_SOUNDS)}"
        # The project at the same path inside, for the classic AGI script (ivr.agi_script).
        f" && mount --bind -o ro {shlex.quote(project)} {shlex.quote(root + project)}"
        f" && exec chroot {shlex.quote(root)} /usr/sbin/asterisk -f -n -q"
        f" -C {INNER_VAR}/etc/asterisk.conf"
    )
    return [
        "unshare",
        "--mount",
        "--pid",
        "--fork",
        "--kill-child=SIGTERM",
        f"--mount-proc={root}/proc",
        "/bin/sh",
        "-c",
        inner,
    ]


def start(paths: Paths, log_file: Path) -> subprocess.Popen[bytes]:
    check_rootfs(paths)
    _prepare_dirs(paths)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    return spawn_logged(launch_command(paths), agi_script_environment(paths), log_file)


AGI_PYTHON = "/usr/bin/python3"  # the root filesystem's own Python, for classic AGI scripts


def agi_script_environment(paths: Paths) -> dict[str, str]:
    """Asterisk's environment, inherited by classic AGI scripts: the project's pure-Python
    packages (ivr, madoguchi.config) and pyst2 from the virtualenv, importable by the root
    filesystem's Python."""
    import site
    import sys

    pure = [str(paths.project)]
    pure += [p for p in site.getsitepackages() if p.startswith(sys.prefix)]
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "TZ")}
    env["PYTHONPATH"] = ":".join(pure)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def cli(paths: Paths, pid: int, command: str, timeout: float = 20.0) -> str:
    """Run an Asterisk CLI command inside the running container's namespaces."""
    child = _namespace_child(pid)
    result = subprocess.run(
        [
            "nsenter",
            "-t",
            str(child),
            "-m",
            "-p",
            "chroot",
            str(paths.rootfs),
            "/usr/sbin/asterisk",
            "-C",
            f"{INNER_VAR}/etc/asterisk.conf",
            "-rx",
            command,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise StackError(f"asterisk -rx {command!r} failed: {result.stderr.strip()}")
    return result.stdout


def _namespace_child(pid: int) -> int:
    """The unshare process's child lives in the new namespaces; nsenter needs it."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            kids = children.read_text().split()
        except FileNotFoundError as exc:
            raise StackError(f"Asterisk (pid {pid}) is not running") from exc
        if kids:
            return int(kids[0])
        time.sleep(0.05)
    raise StackError(f"Asterisk container (pid {pid}) has no child process")


def process_gone(pid: int) -> bool:
    """Exited: reaped, or a zombie (reaped here when it is our child)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state == "Z"


def stop(pid: int, timeout: float = 10.0) -> None:
    """SIGTERM the process group, SIGKILL it after `timeout` seconds."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process_gone(pid):
            return
        time.sleep(0.05)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    process_gone(pid)
