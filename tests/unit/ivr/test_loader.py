from __future__ import annotations

from pathlib import Path

import pytest
from ivr_fakes import QUEUES, FlowsFactory

from configfile import ConfigError
from ivr.flow import Collect, Menu
from ivr.loader import load_flows

OK = """
[flow]
start = "menu"
default_queue = "support"
[node.menu]
type = "menu"
prompt = "hello"
choices = { "1" = "q" }
fallback = "q"
[node.q]
type = "queue"
"""


def problems(make_flows: FlowsFactory, **kw: object) -> dict[str, str]:
    with pytest.raises(ConfigError) as info:
        make_flows(**kw)
    for p in info.value.problems:
        assert p.file.endswith(".toml"), p
    return {f"{Path(p.file).stem}:{p.key}": p.reason for p in info.value.problems}


def test_valid_flow_loads(make_flows: FlowsFactory) -> None:
    flows = make_flows(main=OK)
    menu = flows["main"].nodes["menu"]
    assert isinstance(menu, Menu) and menu.choices == {"1": "q"} and menu.attempts == 3
    assert flows["main"].language == "ja" and flows["main"].languages == ("ja",)


def test_unknown_node(make_flows: FlowsFactory) -> None:
    found = problems(make_flows, main=OK.replace('"1" = "q"', '"1" = "nowhere"'))
    assert found == {"main:node.menu.choices.1": "unknown node 'nowhere'"}


def test_unknown_start(make_flows: FlowsFactory) -> None:
    found = problems(make_flows, main=OK.replace('start = "menu"', 'start = "begin"'))
    assert found["main:flow.start"] == "unknown node 'begin'"


def test_unreachable_node(make_flows: FlowsFactory) -> None:
    text = OK + '[node.orphan]\ntype = "hangup"\n'
    found = problems(make_flows, main=text)
    assert found == {"main:node.orphan": "unreachable from the start node 'menu'"}


def test_missing_prompts(make_flows: FlowsFactory) -> None:
    text = OK.replace('prompt = "hello"', 'prompt = ["hello", "no-such-sound", "custom/welcome"]')
    text = text.replace("[flow]", '[flow]\nlanguages = ["ja", "en"]')
    with pytest.raises(ConfigError) as info:
        make_flows(main=text, sounds={"ja/welcome.wav": b"RIFF"})
    assert [(p.key, p.reason.split(" (")[0]) for p in info.value.problems] == [
        ("node.menu.prompt", "'no-such-sound' is not an Asterisk core sound"),
        ("node.menu.prompt", "sound file 'welcome' not found for language(s) en"),
    ]


def test_custom_prompt_found_per_language_or_shared(make_flows: FlowsFactory) -> None:
    text = OK.replace('prompt = "hello"', 'prompt = "custom/welcome"')
    text = text.replace("[flow]", '[flow]\nlanguages = ["ja", "en"]')
    make_flows(main=text, sounds={"ja/welcome.wav": b"RIFF", "en/welcome.gsm": b"x"})


def test_shared_custom_prompt(make_flows: FlowsFactory) -> None:
    text = OK.replace('prompt = "hello"', 'prompt = "custom/chime"')
    make_flows(main=text, sounds={"chime.wav": b"RIFF"})


def test_prompt_names_cannot_escape(make_flows: FlowsFactory) -> None:
    found = problems(make_flows, main=OK.replace('"hello"', '"custom/../../etc/passwd"'))
    assert "main:node.menu.prompt" in found
    found = problems(make_flows, main=OK.replace('"hello"', '"hello\\" EXEC Dial"'))
    assert "main:node.menu.prompt" in found


def test_loop_without_input(make_flows: FlowsFactory) -> None:
    text = """
[flow]
start = "a"
[node.a]
type = "play"
prompt = "hello"
next = "b"
[node.b]
type = "branch"
cases = [{ field = "language", equals = "en", next = "c" }]
default = "a"
[node.c]
type = "hangup"
"""
    found = problems(make_flows, main=text)
    assert found == {"main:node.a": "loop without input (no menu or collect on it): a -> b -> a"}


def test_loop_without_input_across_flows(make_flows: FlowsFactory) -> None:
    one = '[flow]\nstart = "g"\n[node.g]\ntype = "goto"\nflow = "two"\n'
    two = '[flow]\nstart = "p"\n[node.p]\ntype = "play"\nprompt = "beep"\nnext = "g"\n' + (
        '[node.g]\ntype = "goto"\nflow = "one"\n'
    )
    found = problems(make_flows, one=one, two=two)
    assert list(found) == ["one:node.g"]
    assert "g -> two:p -> two:g -> g" in found["one:node.g"]


def test_loop_through_a_menu_is_fine(make_flows: FlowsFactory) -> None:
    text = OK.replace('"1" = "q"', '"1" = "again", "2" = "q"') + (
        '[node.again]\ntype = "play"\nprompt = "beep"\nnext = "menu"\n'
    )
    make_flows(main=text)


def test_unknown_queue_schedule_flow_and_store(make_flows: FlowsFactory) -> None:
    text = """
[flow]
start = "h"
default_queue = "nosuch"
[node.h]
type = "hours"
schedule = "weekend"
open = "s"
closed = "g"
[node.s]
type = "set"
queue = "vip"
next = "l"
[node.l]
type = "lookup"
by = "account"
input = "acct"
found = "b"
not_found = "b"
[node.b]
type = "branch"
cases = [{ field = "entered.pin", exists = true, next = "q" }]
default = "q"
[node.q]
type = "queue"
queue = "gold"
[node.g]
type = "goto"
flow = "elsewhere"
"""
    found = problems(make_flows, main=text)
    assert found["main:flow.default_queue"].startswith("unknown queue 'nosuch'")
    assert "billing, sales, support" in found["main:flow.default_queue"]
    assert found["main:node.s.queue"].startswith("unknown queue 'vip'")
    assert found["main:node.q.queue"].startswith("unknown queue 'gold'")
    assert found["main:node.h.schedule"] == "no [hours.weekend] in calendar.toml (known: main)"
    assert found["main:node.g.flow"] == "no flow 'elsewhere' in the IVR flow directory"
    assert found["main:node.l.input"] == "no collect node stores 'acct'"
    assert found["main:node.b.cases[0].field"] == "no collect node stores 'pin'"


def test_queue_node_needs_a_queue(make_flows: FlowsFactory) -> None:
    found = problems(make_flows, main=OK.replace('default_queue = "support"\n', ""))
    assert found == {"main:node.q.queue": "missing, and the flow has no [flow] default_queue"}


def test_typed_fields_and_unknown_keys(make_flows: FlowsFactory) -> None:
    text = """
[flow]
start = "c"
default_queue = "sales"
colour = "blue"
[node.c]
type = "collect"
prompt = "hello"
min_length = 9
max_length = 4
terminator = "x"
timout = 3
pattern = "("
check = "mod97"
next = "say"
fallback = "q"
[node.say]
type = "say"
value = "entered.c"
next = "m"
[node.m]
type = "menu"
prompt = "hello"
choices = { "12" = "q", "#" = 5 }
attempts = 0
fallback = "q"
[node.q]
type = "queue"
priority = 1000
[node.x]
type = "teleport"
"""
    found = problems(make_flows, main=text.replace("[node.c]", "[node.c]\nsensitive = true"))
    assert found["main:flow.colour"] == "unknown key"
    assert found["main:node.c.min_length"] == "must not be greater than max_length"
    assert found["main:node.c.terminator"] == 'must be "#", "*" or "" (none)'
    assert found["main:node.c.timout"] == "unknown key"
    assert found["main:node.c.pattern"].startswith("not a regular expression")
    assert found["main:node.c.check"] == "'mod97' is not one of: luhn"
    assert found["main:node.say.value"] == "a sensitive entry is never read back"
    assert found["main:node.m.choices.12"] == "a choice is one key: 0-9, * or #"
    assert found["main:node.m.choices.#"] == "must name a node"
    assert found["main:node.m.attempts"] == "must be an integer 1..10"
    assert found["main:node.q.priority"] == "must be an integer 0..100"
    assert found["main:node.x.type"].startswith("unknown node type 'teleport'")


def test_bad_toml_and_missing_dir(tmp_path: Path) -> None:
    (tmp_path / "broken.toml").write_text("[flow\nstart=", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_flows(tmp_path, known_queues=QUEUES)
    assert info.value.problems[0].reason.startswith("not valid TOML")
    with pytest.raises(ConfigError):
        load_flows(tmp_path / "missing", known_queues=QUEUES)


def test_collect_defaults(make_flows: FlowsFactory) -> None:
    text = OK.replace('"1" = "q"', '"1" = "c"') + (
        '[node.c]\ntype = "collect"\nprompt = "hello"\nnext = "q"\nfallback = "q"\n'
    )
    node = make_flows(main=text)["main"].nodes["c"]
    assert isinstance(node, Collect)
    assert (node.store, node.terminator, node.min_length, node.max_length) == ("c", "#", 1, 16)
    assert node.sensitive is False and node.next_on_empty is None
