"""Which Asterisk modules a reload touches for the files it rewrote."""

import shutil
from collections.abc import Callable
from pathlib import Path

from madoguchi.config import diff_config, load_config
from madoguchi.config.diff import asterisk_reload_plan
from madoguchi.paths import default_paths


def test_reload_plan_maps_rewritten_files_to_modules_once() -> None:
    modules, restart = asterisk_reload_plan(
        ["pjsip_agents.conf", "extensions_numbers.conf", "pjsip.conf", "manager_users.conf"]
    )
    assert modules == ("res_pjsip.so", "pbx_config.so", "manager")
    assert restart == ()


def test_reload_plan_names_files_only_a_restart_applies() -> None:
    modules, restart = asterisk_reload_plan(["pjsip_transport.conf", "modules.conf"])
    assert modules == ("res_pjsip.so",)
    assert restart == ("pjsip_transport.conf", "modules.conf")


def test_flows_with_other_content_are_listed_as_changed(tmp_path: Path) -> None:
    config = tmp_path / "config"
    shutil.copytree(default_paths().config, config)
    cfg = load_config(config)
    old = {"main": ("node", "sales"), "other": ("node",)}
    new = {"main": ("node", "vip"), "other": ("node",), "added": ()}
    diff = diff_config(cfg, cfg, old_flows=old, new_flows=new)
    assert diff.flows_changed == ("main",)
    assert "IVR flows changed: main" in diff.summary()
    assert diff_config(cfg, cfg).flows_changed == ()


def test_restart_only_keys_keep_their_running_values_on_reload(
    config_dir: Path, edit: Callable[[str, str, str], None]
) -> None:
    from madoguchi.config.diff import keep_running_service

    running = load_config(config_dir, {})
    edit("madoguchi.toml", 'secret = "s3cret-for-tests"', 'secret = "an-0ther-s3cret"')
    edit("madoguchi.toml", "port = 8080", "port = 8081")
    edit("madoguchi.toml", "port = 5060", "port = 5060\nqualify_frequency = 60")
    wanted = load_config(config_dir, {})
    assert set(diff_config(running, wanted).restart_required) == {"cti.port"}

    applied = keep_running_service(running, wanted)
    # The AMI login is renewed live (the service logs in again); listeners wait for a restart.
    assert applied.service.ami.secret == "an-0ther-s3cret"
    assert applied.service.cti.port == 8080
    assert applied.service.sip.qualify_frequency == 60
    diff = diff_config(running, applied)
    assert diff.restart_required == ()
    assert set(diff.service_changed) == {"ami.secret", "sip.qualify_frequency"}
    assert set(diff.reload_modules) == {"manager", "res_pjsip.so"}
