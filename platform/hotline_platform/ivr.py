"""The declarative IVR of an entry point (kind "ivr"): a flow of nodes, business hours, and the
rules a flow must keep (`problems`).

Pure and standard library only at run time, so a service's pure domain may use it (ingress-sip's
interpreter, hotline_ingress_sip.domain.ivr). The YAML form is read by hotline_platform.tenancy
and the directory form (proto hotline.directory.v1.IvrFlow) is mapped by
hotline_platform.directory.

A flow starts at `start` (or at `hours.closed` when closed). Node kinds: `Menu` (prompt, one
key), `Collect` (prompt, digits: the account number), `Route` (to a queue: the IVR is done),
`Message` (prompt, then `next`) and `Hangup`. A `next` / `on_failure` names a node or HANGUP.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, TypeAlias
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:  # for annotations only: at run time this module needs no other
    from hotline_platform.tenancy import SkillLevel as SkillLevel

#: A reference to this name hangs up (outcome contained); no node may be called so.
HANGUP = "hangup"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
KEYS = frozenset("0123456789*#")
TERMINATORS = ("", "#", "*")
TIMEOUT_MS = (1_000, 60_000)  # inclusive range of every time-out
MAX_RETRIES = 9
MAX_DIGITS = 32
_NODE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
_TIME = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Option:
    """A menu key: where it goes, and the language it chooses (empty: unchanged)."""

    next: str
    language: str = ""


@dataclass(frozen=True)
class Menu:
    prompt: str
    options: Mapping[str, Option]  # key ("0"-"9", "*", "#") -> option
    timeout_ms: int = 5_000  # wait for a key after the prompt
    retries: int = 2  # repeats after an invalid key or none, then on_failure
    on_failure: str = HANGUP
    # Play the prompt in each of these languages in turn (a language menu, each saying its own
    # key); empty: in the current language.
    prompt_languages: tuple[str, ...] = ()


@dataclass(frozen=True)
class Collect:
    """Collect digits (an account number) ended by the terminator, max_digits or a time-out."""

    prompt: str
    next: str
    min_digits: int = 1
    max_digits: int = 16
    terminator: str = "#"
    timeout_ms: int = 5_000  # for the first digit after the prompt, and between digits
    retries: int = 2
    on_failure: str = HANGUP


@dataclass(frozen=True)
class Route:
    queue_id: str
    required_skills: tuple[SkillLevel, ...] = ()
    priority: int = 0  # 0: the queue's
    intent: str = ""
    language: str = ""  # wins over the language chosen in the IVR


@dataclass(frozen=True)
class Message:
    prompt: str
    next: str = HANGUP


@dataclass(frozen=True)
class Hangup:
    pass


Node: TypeAlias = Menu | Collect | Route | Message | Hangup


@dataclass(frozen=True)
class Window:
    """Open on `days` from `opens` to `closes` (local "HH:MM"; closes may be "24:00")."""

    days: tuple[str, ...]
    opens: str
    closes: str


@dataclass(frozen=True)
class BusinessHours:
    time_zone: str  # IANA, e.g. "Europe/Berlin"
    open: tuple[Window, ...]
    holidays: tuple[str, ...] = ()  # ISO dates, closed all day
    closed: str = HANGUP  # the node entered instead of start when closed

    def local_time(self, at_ms: int) -> datetime:
        return datetime.fromtimestamp(at_ms / 1000, ZoneInfo(self.time_zone))

    def is_open(self, local: datetime) -> bool:
        """Whether a local wall-clock time is within the hours (and not on a holiday)."""
        if local.date().isoformat() in self.holidays:
            return False
        day, hhmm = DAYS[local.weekday()], local.strftime("%H:%M")
        # Zero-padded "HH:MM" strings order like the times ("24:00" after every minute).
        return any(day in w.days and w.opens <= hhmm < w.closes for w in self.open)


@dataclass(frozen=True)
class IvrFlow:
    start: str
    nodes: Mapping[str, Node]
    language: str  # of the prompts until an option chooses another
    hours: BusinessHours | None = None  # None: always open


def _references(node: Node) -> Iterator[tuple[str, str]]:
    """(what, node id) of every node reference of a node."""
    if isinstance(node, Menu):
        for key, option in sorted(node.options.items()):
            yield f"option {key!r} next", option.next
        yield "on_failure", node.on_failure
    elif isinstance(node, Collect):
        yield "next", node.next
        yield "on_failure", node.on_failure
    elif isinstance(node, Message):
        yield "next", node.next


def _input_rules(what: str, timeout_ms: int, retries: int, prompt: str) -> list[str]:
    errors = []
    if not prompt:
        errors.append(f"{what}: missing prompt")
    if not TIMEOUT_MS[0] <= timeout_ms <= TIMEOUT_MS[1]:
        errors.append(f"{what}: timeout_ms {timeout_ms} must be in {TIMEOUT_MS[0]}-{TIMEOUT_MS[1]}")
    if not 0 <= retries <= MAX_RETRIES:
        errors.append(f"{what}: retries {retries} must be in 0-{MAX_RETRIES}")
    return errors


def _language_rule(what: str, language: str) -> list[str]:
    if language and not _LANGUAGE.match(language):
        return [f"{what}: language {language!r} is not a language tag (e.g. en, de, pt-BR)"]
    return []


def _node_rules(node_id: str, node: Node, queues: Collection[str] | None) -> list[str]:
    what = f"node {node_id}"
    errors: list[str] = []
    if isinstance(node, Menu):
        errors += _input_rules(what, node.timeout_ms, node.retries, node.prompt)
        if not node.options:
            errors.append(f"{what}: a menu needs at least one option")
        for key, option in sorted(node.options.items()):
            if key not in KEYS:
                errors.append(f"{what}: option key {key!r} must be one of 0-9, * or #")
            errors += _language_rule(f"{what} option {key!r}", option.language)
        for language in node.prompt_languages:
            errors += _language_rule(f"{what} prompt_languages", language)
    elif isinstance(node, Collect):
        errors += _input_rules(what, node.timeout_ms, node.retries, node.prompt)
        if not 1 <= node.min_digits <= node.max_digits <= MAX_DIGITS:
            errors.append(
                f"{what}: needs 1 <= min_digits ({node.min_digits}) <= max_digits "
                f"({node.max_digits}) <= {MAX_DIGITS}"
            )
        if node.terminator not in TERMINATORS:
            errors.append(f"{what}: terminator {node.terminator!r} must be '#', '*' or empty")
    elif isinstance(node, Route):
        if not node.queue_id:
            errors.append(f"{what}: a route needs a queue")
        elif queues is not None and node.queue_id not in queues:
            errors.append(f"{what}: queue {node.queue_id!r} does not exist")
        errors += _language_rule(what, node.language)
    elif isinstance(node, Message) and not node.prompt:
        errors.append(f"{what}: missing prompt")
    return errors


def hours_problems(hours: BusinessHours) -> list[str]:
    errors = []
    try:
        ZoneInfo(hours.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        errors.append(f"hours: unknown time_zone {hours.time_zone!r} (IANA, e.g. Europe/Berlin)")
    if not hours.open:
        errors.append("hours: no opening window (leave hours out for always open)")
    for n, w in enumerate(hours.open):
        bad_days = [d for d in w.days if d not in DAYS]
        if not w.days or bad_days:
            errors.append(f"hours.open[{n}]: days must be some of {', '.join(DAYS)}")
        if not (_TIME.match(w.opens) and _TIME.match(w.closes)):
            errors.append(f"hours.open[{n}]: from/to must be HH:MM (to may be 24:00)")
        elif w.opens >= w.closes:
            errors.append(f"hours.open[{n}]: from {w.opens} must be before to {w.closes}")
    for day in hours.holidays:
        try:
            ok = bool(_DATE.match(day)) and date.fromisoformat(day) is not None
        except ValueError:
            ok = False
        if not ok:
            errors.append(f"hours: holiday {day!r} is not a date YYYY-MM-DD")
    return errors


def _message_loops(flow: IvrFlow) -> list[list[str]]:
    """Cycles through message nodes only: the caller would hear prompts forever, never asked
    for input (a loop through a menu or collect is fine: it waits, and gives up by retries)."""
    loops: list[list[str]] = []
    done: set[str] = set()
    for first in sorted(flow.nodes):
        path: list[str] = []
        node_id = first
        while node_id not in done:
            node = flow.nodes.get(node_id)
            if not isinstance(node, Message):
                break
            if node_id in path:
                loops.append(path[path.index(node_id):])
                break
            path.append(node_id)
            node_id = node.next
        done.update(path)
    return loops


def problems(flow: IvrFlow, queues: Collection[str] | None = None) -> list[str]:
    """Every rule the flow breaks, each naming its node (empty: valid). With `queues` (the
    tenant's queue ids), a route to another queue is one."""
    errors: list[str] = []
    if not flow.language:
        errors.append("missing language (of the prompts)")
    errors += _language_rule("flow", flow.language)
    if flow.hours is not None:
        errors += hours_problems(flow.hours)
    roots = {"start": flow.start}
    if flow.hours is not None:
        roots["hours.closed"] = flow.hours.closed
    for what, target in roots.items():
        if target != HANGUP and target not in flow.nodes:
            errors.append(f"{what}: node {target!r} does not exist")
    for node_id, node in sorted(flow.nodes.items()):
        if node_id == HANGUP or not _NODE_ID.match(node_id):
            errors.append(
                f"node {node_id!r}: an id is 1-64 letters, digits, '-' or '_' and not {HANGUP!r}"
            )
        errors += _node_rules(node_id, node, queues)
        for what, target in _references(node):
            if target != HANGUP and target not in flow.nodes:
                errors.append(f"node {node_id}: {what} {target!r} does not exist")
    reached: set[str] = set()
    todo = [t for t in roots.values() if t in flow.nodes]
    while todo:
        node_id = todo.pop()
        if node_id not in reached:
            reached.add(node_id)
            todo += [t for _, t in _references(flow.nodes[node_id]) if t in flow.nodes]
    unreached = sorted(set(flow.nodes) - reached)
    if unreached:
        errors.append(f"node(s) {', '.join(unreached)} cannot be reached from start")
    for loop in _message_loops(flow):
        errors.append(
            f"nodes {' -> '.join([*loop, loop[0]])} loop through messages without input"
        )
    return errors
