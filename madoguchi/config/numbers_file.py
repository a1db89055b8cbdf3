"""numbers.toml: the dialled numbers, each routed to an IVR flow or straight to a queue."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict

from configfile import ConfigProblem
from configfile.fields import name, text
from configfile.schema import validate_file
from madoguchi.config.model import NumberRoute
from madoguchi.config.names import FLOW_NAME, NUMBER, QUEUE_NAME, QUEUE_NAME_HINT

Number = Annotated[str, name(NUMBER, lambda n: f"'{n}' is not a dialable number (digits, *, #, +)")]


class _Number(BaseModel):
    model_config = ConfigDict(extra="forbid")

    flow: Annotated[str, text(pattern=FLOW_NAME, hint="letters, digits, _ and -")] = ""
    queue: Annotated[str, text(pattern=QUEUE_NAME, hint=QUEUE_NAME_HINT)] = ""
    transport: Annotated[str, text(pattern="fastagi|agi", hint="fastagi or agi")] = "fastagi"


class NumbersFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: dict[Number, _Number] = {}


def read_numbers(
    data: Mapping[str, Any], file: str, env: Mapping[str, str]
) -> tuple[dict[str, NumberRoute], list[ConfigProblem]]:
    parsed, problems = validate_file(NumbersFile, data, file=file, context={"env": env})
    raw_numbers = data.get("number")
    numbers: dict[str, NumberRoute] = {}
    for number, n in parsed.number.items():
        raw = raw_numbers.get(number) if isinstance(raw_numbers, dict) else None
        given = set(raw) if isinstance(raw, dict) else set()  # given, even when invalid

        def add(field: str, reason: str, number: str = number) -> None:
            problems.append(ConfigProblem(file, f"number.{number}.{field}", reason))

        if "transport" in given and not n.flow:
            add("transport", "only a flow (IVR) number has a transport")
        if "flow" in given and "queue" in given:
            add("queue", "set either flow or queue, not both")
        elif n.flow:
            transport: Literal["fastagi", "agi"] = "agi" if n.transport == "agi" else "fastagi"
            numbers[number] = NumberRoute(number, "flow", n.flow, transport)
        elif n.queue:
            numbers[number] = NumberRoute(number, "queue", n.queue)
        elif "flow" not in given and "queue" not in given:
            add("flow", "a number needs a flow (IVR) or a queue")
    return numbers, problems
