"""AMI dicts -> typed facts, with recorded-shape events from Asterisk 22."""

from __future__ import annotations

import base64
import json

import pytest

from acd.ami import convert as cv
from acd.core.events import CallArrived


def b64(obj: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj, ensure_ascii=False).encode()).decode()


def user_event(**overrides: object) -> dict[str, object]:
    # panoramisk turns the repeated Context/Priority headers into lists: the channel's own
    # dialplan position first, the dialplan's UserEvent values last.
    event: dict[str, object] = {
        "Event": "UserEvent",
        "Privilege": "user,all",
        "Timestamp": "1763800000.123456",
        "Channel": "PJSIP/caller-00000003",
        "ChannelState": "6",
        "ChannelStateDesc": "Up",
        "CallerIDNum": "0312345678",
        "CallerIDName": "山田 太郎",
        "ConnectedLineNum": "<unknown>",
        "ConnectedLineName": "<unknown>",
        "Language": "en",
        "AccountCode": "",
        "Context": ["madoguchi-wait", b64({"flow": "main", "customer": {"name": "山田"}})],
        "Exten": "s",
        "Priority": ["2", "5"],
        "Uniqueid": ["1763800000.7", "1763800000.7"],
        "Linkedid": "1763800000.7",
        "UserEvent": "AcdEnqueue",
        "Queue": "support",
        "Skills": "lang_ja>=3",
    }
    event.update(overrides)
    return event


def test_enqueue_becomes_call_arrived_with_decoded_context() -> None:
    fact = cv.convert(user_event())
    assert isinstance(fact, cv.Enqueue)
    assert fact.problems == ()
    event = fact.to_event()
    assert event == CallArrived(
        call_id="1763800000.7",
        queue="support",
        priority=5,
        requirements="lang_ja>=3",
        caller_number="0312345678",
        caller_name="山田 太郎",
        context={"flow": "main", "customer": {"name": "山田"}},
    )
    assert fact.channel == "PJSIP/caller-00000003"


def test_enqueue_with_empty_context_and_single_headers() -> None:
    # ACD_CONTEXT empty (number 200): only the channel's Context header is left.
    fact = cv.convert(user_event(Context="madoguchi-wait", Priority="2", Skills=""))
    assert isinstance(fact, cv.Enqueue)
    assert fact.context == {}
    assert fact.requirements == ""
    assert fact.problems == ()


def test_caller_id_is_cleaned_and_bounded() -> None:
    fact = cv.convert(
        user_event(
            CallerIDName='Evil\r\nAction: Originate\x00"' + "x" * 200,
            CallerIDNum="+81 (3) 1234;rm -rf\n" + "9" * 80,
        )
    )
    assert isinstance(fact, cv.Enqueue)
    assert "\n" not in fact.caller_name and "\r" not in fact.caller_name
    assert "\x00" not in fact.caller_name
    assert len(fact.caller_name) == cv.NAME_LIMIT
    assert fact.caller_number.startswith("+813")
    assert set(fact.caller_number) <= set("+0123456789rmf-")
    assert len(fact.caller_number) == cv.NUMBER_LIMIT


@pytest.mark.parametrize(
    ("on_the_wire", "name"),
    [
        ("O\\'Brien 山田", "O'Brien 山田"),  # Asterisk 22 escapes ' " \ (ast_escape_c)
        ('\\"Big\\" Co\\?', '"Big" Co?'),
        ("C:\\\\dir", "C:\\dir"),  # a real backslash arrives doubled
        ("a\\\\'b", "a\\'b"),  # undone once, left to right: \\ then '
        ("a\\\\\\'b", "a\\'b"),  # \\ \' -> \ '
        ("tab\\there\\nnext", "tab here next"),  # control characters still dropped
        ("odd\\x end\\", "odd\\x end\\"),  # never written by Asterisk: kept as it is
        ("O'Brien", "O'Brien"),  # nothing escaped: unchanged
    ],
)
def test_caller_name_escaping_of_the_ami_is_undone_once(on_the_wire: str, name: str) -> None:
    fact = cv.convert(user_event(CallerIDName=on_the_wire))
    assert isinstance(fact, cv.Enqueue) and fact.caller_name == name
    row = cv.convert(
        {"Event": "CoreShowChannel", "Uniqueid": "1763800000.7", "CallerIDName": on_the_wire}
    )
    assert isinstance(row, cv.ChannelListed) and row.caller_name == name


def test_unescape_ami_is_the_inverse_of_asterisks_escaping() -> None:
    def escape_c(text: str) -> str:  # main/utils.c ast_escape_c, as Asterisk 22 applies it
        table = {"\a": "a", "\b": "b", "\f": "f", "\n": "n", "\r": "r", "\t": "t", "\v": "v"}
        table.update({"\\": "\\", "'": "'", '"': '"', "?": "?"})
        return "".join("\\" + table[ch] if ch in table else ch for ch in text)

    for original in ["O'Brien", 'say "hi"?', "\\'", "\\\\''\"\"", "a\\nb", "山田\\", "x\ty"]:
        assert cv.unescape_ami(escape_c(original)) == original


@pytest.mark.parametrize(
    ("context", "problem"),
    [
        ("%%%not-base64", "context is not base64url"),
        (base64.urlsafe_b64encode(b"\xff\xfe").decode(), "context is not base64url JSON"),
        (b64([1, 2, 3]), "context is not a JSON object"),
        ("A" * (cv.CONTEXT_B64_LIMIT + 4), "context longer than"),
    ],
)
def test_bad_context_is_dropped_with_a_problem(context: str, problem: str) -> None:
    fact = cv.convert(user_event(Context=["madoguchi-wait", context]))
    assert isinstance(fact, cv.Enqueue)
    assert fact.context == {}
    assert any(p.startswith(problem) for p in fact.problems)
    assert fact.queue == "support"  # the call itself is kept


def test_context_strings_are_cleaned_and_depth_bounded() -> None:
    deep: dict[str, object] = {"v": "end"}
    for _ in range(10):
        deep = {"d": deep}
    fact = cv.convert(user_event(Context=["x", b64({"note": "a\u202eb\nc", "deep": deep})]))
    assert isinstance(fact, cv.Enqueue)
    assert fact.context["note"] == "ab c"
    level: object = fact.context["deep"]
    depth = 0
    while isinstance(level, dict):
        level = level["d"]
        depth += 1
    assert depth < 10 and level is None


def test_bad_queue_and_skills_are_reported() -> None:
    fact = cv.convert(user_event(Queue="sup port;x", Skills="lang_ja>>3"))
    assert isinstance(fact, cv.Enqueue)
    assert fact.queue == ""
    assert fact.requirements == ""
    assert len(fact.problems) == 2


def test_priority_is_clamped() -> None:
    fact = cv.convert(user_event(Priority=["2", "99999999"]))
    assert isinstance(fact, cv.Enqueue) and fact.priority == cv.PRIORITY_LIMIT


def test_other_user_events_are_not_ours() -> None:
    assert cv.convert(user_event(UserEvent="Something")) is None


def _ivr_ended(**overrides: object) -> dict[str, object]:
    event = user_event(UserEvent="IvrEnded", Left="hangup", Flow="main", Result="", Dnid="101")
    for key in ("Queue", "Skills"):
        event.pop(key)
    event.update({"Context": "madoguchi-ivr-agi", "Exten": "h", "Priority": "1"})
    event["Started"] = "1763800000.250"
    event.update(overrides)
    return event


def test_a_hang_up_in_the_classic_agi_ivr_is_reported() -> None:
    fact = cv.convert(_ivr_ended())
    assert fact == cv.ClassicIvrEnded(
        uniqueid="1763800000.7",
        flow="main",
        result="",
        started=1763800000.25,
        to_queue=False,
        dialled_number="101",
        caller_number="0312345678",
        caller_name="山田 太郎",
    )


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"Started": ""}, {"started": None}),
        ({"Started": "not a time"}, {"started": None}),
        ({"Started": "-5"}, {"started": None}),
        ({"Result": "hangup"}, {"result": "hangup"}),
        ({"Left": "queue", "Result": "queue"}, {"to_queue": True, "result": "queue"}),
        ({"Result": "hang up; rm -rf"}, {"result": ""}),
        ({"Flow": "../etc"}, {"flow": ""}),
        ({"Dnid": "1\n01"}, {"dialled_number": "101"}),
    ],
)
def test_the_classic_ivr_report_is_validated(
    overrides: dict[str, object], expected: dict[str, object]
) -> None:
    fact = cv.convert(_ivr_ended(**overrides))
    assert isinstance(fact, cv.ClassicIvrEnded)
    for key, value in expected.items():
        assert getattr(fact, key) == value


def test_hangup() -> None:
    fact = cv.convert(
        {
            "Event": "Hangup",
            "Channel": "PJSIP/1001-00000004",
            "Uniqueid": "acd-1a2b-1",
            "Linkedid": "acd-1a2b-1",
            "Cause": "17",
            "Cause-txt": "User busy",
        }
    )
    assert fact == cv.ChannelHangup("acd-1a2b-1", "PJSIP/1001-00000004", 17)


def test_originate_response_success_and_failure() -> None:
    ok = cv.convert(
        {
            "Event": "OriginateResponse",
            "ActionID": "acd-1a2b-1/ring",
            "Response": "Success",
            "Channel": "PJSIP/1001-00000004",
            "Context": "",
            "Exten": "",
            "Application": "Bridge",
            "Data": "1763800000.7,xT",
            "Reason": "4",
            "Uniqueid": "acd-1a2b-1",
            "CallerIDNum": "0312345678",
            "CallerIDName": "Test",
        }
    )
    assert ok == cv.OriginateResult("acd-1a2b-1/ring", "acd-1a2b-1", "PJSIP/1001-00000004", True, 4)
    failed = cv.convert(
        {
            "Event": "OriginateResponse",
            "ActionID": "acd-1a2b-2/ring",
            "Response": "Failure",
            "Channel": "PJSIP/1002",
            "Reason": "3",
            "Uniqueid": "<null>",
        }
    )
    assert isinstance(failed, cv.OriginateResult)
    assert not failed.success and cv.ring_failure_cause(failed.reason) == "no_answer"


@pytest.mark.parametrize(
    ("reason", "cause"),
    [(1, "rejected"), (3, "no_answer"), (5, "busy"), (8, "unavailable"), (0, "failed")],
)
def test_originate_reason_codes(reason: int, cause: str) -> None:
    assert cv.ring_failure_cause(reason) == cause


def test_bridge_enter_and_leave() -> None:
    base = {
        "BridgeUniqueid": "b5e1",
        "BridgeType": "basic",
        "Channel": "PJSIP/1001-00000004",
        "Uniqueid": "acd-1a2b-1",
    }
    assert cv.convert({"Event": "BridgeEnter", **base}) == cv.BridgeEntered(
        "acd-1a2b-1", "PJSIP/1001-00000004", "b5e1"
    )
    assert cv.convert({"Event": "BridgeLeave", **base}) == cv.BridgeLeft(
        "acd-1a2b-1", "PJSIP/1001-00000004", "b5e1"
    )


@pytest.mark.parametrize(
    ("status", "reachable"),
    [
        ("Reachable", True),
        ("Created", True),
        ("Unreachable", False),
        ("Removed", False),
        ("Updated", None),
        ("Unknown", None),
    ],
)
def test_contact_status(status: str, reachable: bool | None) -> None:
    fact = cv.convert(
        {
            "Event": "ContactStatus",
            "URI": "sip:1001@127.0.0.1:6001",
            "ContactStatus": status,
            "AOR": "1001",
            "EndpointName": "1001",
            "RoundtripUsec": "0",
        }
    )
    assert fact == cv.ContactChanged("1001", status, reachable, "sip:1001@127.0.0.1:6001")


@pytest.mark.parametrize(
    "uri",
    [
        "sip:1001@127.0.0.1:6001,30,U(evil)",  # would end Dial()'s first argument
        "sip:1001@host&PJSIP/1002",  # would add a second destination
        "sip:a(b)@127.0.0.1",
        "sip:1001@127.0.0.1;transport=tcp",  # parameters: dialled through the AOR instead
        "tel:+81312345678",
        "",
    ],
)
def test_a_contact_that_is_not_a_plain_sip_uri_is_not_offered_for_direct_dialling(
    uri: str,
) -> None:
    assert cv.contact_uri(uri) == ""
    assert cv.contact_uri(" sip:1001@pbx-1.example.jp:5060 ") == "sip:1001@pbx-1.example.jp:5060"


def test_contact_status_with_bad_aor_is_dropped() -> None:
    assert (
        cv.convert({"Event": "ContactStatus", "AOR": "a b\n", "ContactStatus": "Reachable"}) is None
    )


def test_fully_booted_device_state_newchannel() -> None:
    assert cv.convert({"Event": "FullyBooted", "Status": "Fully Booted", "Uptime": "12"}) == (
        cv.FullyBooted(12.0)
    )
    assert cv.convert({"Event": "DeviceStateChange", "Device": "PJSIP/1001", "State": "INUSE"}) == (
        cv.DeviceState("PJSIP/1001", "INUSE")
    )
    assert cv.convert(
        {
            "Event": "Newchannel",
            "Channel": "PJSIP/1001-00000004",
            "Uniqueid": "acd-1a2b-1",
            "Context": "agents",
            "Exten": "s",
        }
    ) == cv.ChannelCreated("acd-1a2b-1", "PJSIP/1001-00000004", "agents", "s")


def test_core_show_channel_row() -> None:
    row = cv.convert(
        {
            "Event": "CoreShowChannel",
            "ActionID": "x",
            "Channel": "PJSIP/1001-00000004",
            "Uniqueid": "acd-1a2b-1",
            "Context": "agents",
            "Extension": "s",
            "Priority": "1",
            "ChannelState": "6",
            "ChannelStateDesc": "Up",
            "Application": "Bridge",
            "ApplicationData": "1763800000.7,xT",
            "CallerIDNum": "0312345678",
            "CallerIDName": "Test",
            "Duration": "01:02:03",
            "BridgeId": "b5e1",
        }
    )
    assert isinstance(row, cv.ChannelListed)
    assert row.duration == 3723.0
    assert row.application_data == "1763800000.7,xT"
    assert row.bridge_id == "b5e1"


def test_a_surrogate_channel_row_is_nobody() -> None:
    row = {
        "Event": "CoreShowChannel",
        "Channel": "Surrogate/PJSIP/bench-0000009c",
        "Uniqueid": "1795386848.248",
        "Context": "madoguchi-wait",
        "Extension": "s",
        "ChannelStateDesc": "Down",
    }
    assert cv.convert(row) is None
    assert isinstance(cv.convert({**row, "Channel": "PJSIP/bench-0000009c"}), cv.ChannelListed)


def test_contact_list_row_of_asterisk_22_names_the_aor_in_object_name() -> None:
    row = cv.convert(
        {
            "Event": "ContactList",
            "ObjectType": "contact",
            "ObjectName": "1003;@8bef1f2b7ab4e2cc492ab6c1423e5029",
            "Endpoint": "1003",
            "Uri": "sip:1003@127.0.0.1:26103",
            "Status": "NonQualified",
            "RoundtripUsec": "N/A",
        }
    )
    assert row == cv.ContactListed("1003", "sip:1003@127.0.0.1:26103", "NonQualified", True)


def test_contact_list_row() -> None:
    row = cv.convert(
        {
            "Event": "ContactList",
            "ObjectType": "contact",
            "ObjectName": "1001@@abc",
            "Aor": "1001",
            "Uri": "sip:1001@127.0.0.1:6001",
            "Status": "Reachable",
            "Endpoint": "1001",
        }
    )
    assert row == cv.ContactListed("1001", "sip:1001@127.0.0.1:6001", "Reachable", True)


def test_transfers() -> None:
    fact = cv.convert(
        {
            "Event": "AttendedTransfer",
            "Result": "Success",
            "OrigTransfererUniqueid": "acd-1a2b-1",
            "TransfereeUniqueid": "1763800000.7",
            "DestType": "Bridge",
            "DestExten": "1002",
        }
    )
    assert fact == cv.TransferDone("attended", True, "acd-1a2b-1", "1763800000.7", "1002")


def test_endpoint_of_agent_channel() -> None:
    assert cv.endpoint_of("PJSIP/1001-0000000a") == "1001"
    assert cv.endpoint_of("PJSIP/1001") is None
    assert cv.endpoint_of("Local/1001@agents-00000001;1") is None


@pytest.mark.parametrize(
    ("name", "number", "expected"),
    [
        ("山田 花子", "0312345678", '"山田 花子" <0312345678>'),
        ('a"b\\c<d>', "03;12", '"abcd" <0312>'),
        ("", "0312", "<0312>"),
        ("x\r\nAction: Hangup", "1", '"x Action: Hangup" <1>'),
    ],
)
def test_caller_id_header_is_safe(name: str, number: str, expected: str) -> None:
    assert cv.caller_id(name, number) == expected


@pytest.mark.parametrize(
    ("status", "reachable"), [("Unknown", True), ("NonQualified", True), ("Unreachable", False)]
)
def test_listed_contact_counts_unless_known_bad(status: str, reachable: bool) -> None:
    row = cv.convert({"Event": "ContactList", "Aor": "1003", "Uri": "sip:x", "Status": status})
    assert isinstance(row, cv.ContactListed) and row.reachable is reachable


def test_soft_hangup_for_shutdown() -> None:
    fact = cv.convert({"Event": "SoftHangupRequest", "Uniqueid": "1.2", "Cause": "4"})
    assert isinstance(fact, cv.SoftHangup) and fact.shutdown
    other = cv.convert({"Event": "SoftHangupRequest", "Uniqueid": "1.2", "Cause": "16"})
    assert isinstance(other, cv.SoftHangup) and not other.shutdown


def test_reconnect_backoff_doubles_up_to_its_bound() -> None:
    from acd.ami.connection import Backoff

    backoff = Backoff(first=0.5, limit=10.0)
    assert [backoff.after(n) for n in range(1, 8)] == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
