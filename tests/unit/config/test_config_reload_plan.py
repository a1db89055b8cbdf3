"""Which Asterisk modules a reload touches for the files it rewrote."""

from madoguchi.config.diff import asterisk_reload_plan


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
