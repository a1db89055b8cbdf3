"""docker-compose.yml: users with Docker get the same Asterisk, PostgreSQL and service."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]


def _compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_services_volumes_and_build_contexts_are_consistent() -> None:
    compose = _compose()
    services = compose["services"]
    assert {"postgres", "asterisk", "asterisk-config", "madoguchi"} <= set(services)
    declared = set(compose.get("volumes") or {})
    for name, service in services.items():
        # Loopback addresses of the demo config only work on the host's network.
        assert service.get("network_mode") == "host", name
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (ROOT / source).exists(), f"{name}: {source} does not exist"
            else:
                assert source in declared, f"{name}: volume {source} is not declared"
        build = service.get("build")
        if build is not None:
            context = ROOT / (build if isinstance(build, str) else build["context"])
            file = "Containerfile" if isinstance(build, str) else build.get("dockerfile", "")
            assert (context / file).is_file(), f"{name}: no {file} in {context}"
    # The same config files as `make run`, mounted read-only.
    assert "./config:/app/config:ro" in services["madoguchi"]["volumes"]
    assert services["asterisk"]["depends_on"]["asterisk-config"]["condition"] == (
        "service_completed_successfully"
    )


def test_asterisk_image_installs_the_same_packages_as_the_rootfs() -> None:
    rootfs = (ROOT / "scripts" / "build-rootfs.sh").read_text(encoding="utf-8")
    containerfile = (ROOT / "asterisk" / "Containerfile").read_text(encoding="utf-8")
    line = next(x for x in rootfs.splitlines() if x.startswith("PACKAGES="))
    for package in line.split('"')[1].split(","):
        if package != "python3":  # only the namespace runner's classic AGI needs it
            assert package in containerfile, package


@pytest.mark.skipif(
    shutil.which("docker-compose") is None
    and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode != 0
    if shutil.which("docker")
    else shutil.which("docker-compose") is None,
    reason="neither docker-compose nor the docker compose plugin is installed",
)
def test_docker_compose_config_validates() -> None:
    cmd = ["docker-compose"] if shutil.which("docker-compose") else ["docker", "compose"]
    result = subprocess.run(
        [*cmd, "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
