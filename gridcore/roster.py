"""The roster: a YAML text that declares the community, its grids, buildings, staff and categories.

parse_roster() turns the text into a Community or raises RosterError listing every problem found,
each with the line of the file it is on. The format is documented in examples/roster.yaml.
The caller reads the file; this module only takes text.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from typing import Any

import yaml
from yaml.nodes import Node, SequenceNode

from gridcore.community import Building, Category, Community, Grid, HandlingMode, Person, Role
from gridcore.intake import standard_aliases  # noqa: F401 (callers import it from here)
from gridcore.roster_announcements import parse_announcements
from gridcore.roster_checks import roster_warnings, too_big, too_many
from gridcore.roster_places import label, parse_buildings, parse_estates, unique_codes
from gridcore.roster_reader import Reader, RosterError, RosterProblem, line_of
from gridcore.roster_reminders import parse_priority, parse_reminders
from gridcore.roster_replies import parse_replies
from gridcore.workdays import parse_office_hours

GRID_ROLES = frozenset({Role.GRID_WORKER, Role.GRID_LEADER, Role.BUILDING_LEADER})
STAFF_ROLES = frozenset(Role) - {Role.RESIDENT}
_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{4,31}")
_TIMEZONE = re.compile(r"UTC|[A-Za-z_]+(?:/[A-Za-z0-9_+-]+)+")
_PHONE = re.compile(r"\+?[0-9][0-9 -]{4,19}")
_GROUP = (lambda v: v < 0), "negative (a group chat)"
_POSITIVE = (lambda v: v > 0), "positive"

_TOP = ({"community", "grids", "buildings", "staff", "categories"}, {"announcements", "estates", "replies"})
_COMMUNITY = ({"code", "name"}, {"timezone", "staff_chat_id", "public_chat_id", "rating_days", "accept_hours",
                                  "urgent_accept_hours", "reminder_hours", "staff_after_hours",
                                  "street", "street_chat_id", "street_after_hours",
                                  "office_hours", "priorities"})
_GRID = ({"code", "name"}, {"group_chat_id"})
_STAFF = ({"name", "role"}, {"grid", "building", "telegram_user_id", "username", "phone", "title", "away"})
_CATEGORY = (
    {"code", "name"},
    {"keywords", "feedback_days", "feedback_hours", "feedback_workdays", "mode", "co_handler", "emergency",
     "numbers", "dispute", "replies", "topic", "priority"},
)


def _community(r: Reader, node: Node) -> dict[str, Any]:
    f = r.fields(node, "community", _COMMUNITY) or {}
    tz = r.text(f.get("timezone"), "community timezone") or "Asia/Shanghai"
    if "timezone" in f and not _TIMEZONE.fullmatch(tz):
        r.problem(f["timezone"], f'community timezone "{tz}" is not an IANA name like Asia/Shanghai')
    code = r.text(f.get("code"), "community code")
    if code and not re.fullmatch(r"[A-Za-z0-9]{1,10}", code):
        r.problem(f["code"], f'community code "{code}" must be 1-10 letters or digits (ticket numbers)')
    chat = r.integer(f.get("staff_chat_id"), "community staff_chat_id", *_GROUP)
    rating_days = r.integer(f.get("rating_days"), "community rating_days", *_POSITIVE)
    public = r.integer(f.get("public_chat_id"), "community public_chat_id", *_GROUP)
    street = r.text(f.get("street"), "community street")
    street_chat = r.integer(f.get("street_chat_id"), "community street_chat_id", *_GROUP)
    if "street_chat_id" in f and "street" not in f:
        r.problem(f["street_chat_id"], 'community street_chat_id needs the "street" it is the group of')
    reminders = parse_reminders(r, f)
    office_text = r.text(f.get("office_hours"), "community office_hours")
    if office_text is not None:
        try:
            reminders = replace(reminders, office_hours=parse_office_hours(office_text, tz))
        except ValueError as exc:
            r.problem(f["office_hours"], f'community office_hours "{office_text}": {exc} '
                                         '(e.g. "08:30-17:30" or "08:30-12:00,14:00-17:30")')
    return {"code": code or "", "name": r.text(f.get("name"), "community name") or "",
            "timezone": tz, "staff_chat_id": chat, "rating_days": rating_days or 7, "public_chat_id": public,
            "reminders": reminders, "street": street, "street_chat_id": street_chat}



def _grids(r: Reader, node: Node | None) -> tuple[list[Grid], dict[str, Node]]:
    grids, nodes = [], []
    for i, item in enumerate(r.items(node, "grids")):
        what = label("grid", item, i)
        f = r.fields(item, what, _GRID)
        if f is None:
            continue
        code = r.code(f.get("code"), "grid code")
        name = r.text(f.get("name"), f"{what} name")
        chat = r.integer(f.get("group_chat_id"), f"{what} group_chat_id", *_GROUP)
        nodes.append((code, f.get("code")))
        if code and name:
            grids.append(Grid(code=code, name=name, group_chat_id=chat))
    unique_codes(r, "grid", nodes)
    return grids, {c: n for c, n in nodes if c and n}


def _person(r: Reader, item: Node, i: int, grid_codes: set[str],
            buildings: dict[str, Building]) -> Person | None:
    what = label("staff", item, i, key="name")
    f = r.fields(item, what, _STAFF)
    if f is None:
        return None
    name = r.text(f.get("name"), f"{what} name")
    role_text = r.text(f.get("role"), f"{what} role")
    role = None
    if role_text is not None:
        if role_text in {x.value for x in STAFF_ROLES}:
            role = Role(role_text)
        else:
            choices = ", ".join(sorted(x.value for x in STAFF_ROLES))
            r.problem(f["role"], f'{what}: role "{role_text}" is not one of {choices}')
    grid = r.code(f.get("grid"), f"{what} grid")
    if grid is not None and role is Role.STREET_STAFF:
        r.problem(f["grid"], f"{what}: a street_staff serves the whole street and has no grid")
    elif grid is not None and grid not in grid_codes:
        r.problem(f["grid"], f'{what} names unknown grid "{grid}"')
    elif grid is None and role in GRID_ROLES:
        r.problem(item, f'{what}: a {role} needs a "grid"')
    building = r.code(f.get("building"), f"{what} building")
    if building is not None:
        if role is not None and role is not Role.BUILDING_LEADER:
            r.problem(f["building"], f"{what}: only a building_leader has a building")
        elif building not in buildings:
            r.problem(f["building"], f'{what} names unknown building "{building}"')
        elif grid is not None and buildings[building].grid_code != grid:
            r.problem(f["building"], f'{what}: building "{building}" is not in grid "{grid}"')
    user_id = r.integer(f.get("telegram_user_id"), f"{what} telegram_user_id", *_POSITIVE)
    username = r.text(f.get("username"), f"{what} username")
    if username is not None:
        username = username.removeprefix("@")
        if not _USERNAME.fullmatch(username):
            r.problem(f["username"], f'{what}: "{username}" is not a Telegram username (5-32 of a-z, 0-9, _)')
    if user_id is None and username is None and not {"telegram_user_id", "username"} & f.keys():
        r.problem(item, f"{what} needs a telegram_user_id and/or a username")
    phone = None
    if "phone" in f:
        phone = r.text(f["phone"], f'{what} phone (quote it: "13800001111")')
        if phone is not None and not _PHONE.fullmatch(phone):
            r.problem(f["phone"], f'{what}: "{phone}" is not a phone number')
    title = r.text(f.get("title"), f"{what} title") or ""
    away = bool(r.boolean(f.get("away"), f"{what} away"))
    if name is None or role is None:
        return None
    return Person(name, role, grid, user_id, username, phone, building, title, away)


def _staff(r: Reader, node: Node | None, grid_codes: set[str], buildings: list[Building],
           street: str | None) -> list[Person]:
    by_code = {b.code: b for b in buildings}
    people, seen = [], {}
    for i, item in enumerate(r.items(node, "staff")):
        person = _person(r, item, i, grid_codes, by_code)
        if person is None:
            continue
        if person.role is Role.STREET_STAFF and street is None:
            r.problem(item, f'staff "{person.name}": a street_staff serves the community\'s street; give the '
                            'community its "street" (the 街道 office, e.g. 信江街道)')
        for ident in (("id", person.telegram_user_id), ("username", (person.username or "").lower())):
            if ident[1]:
                key = (person.role, ident)
                if key in seen:
                    r.problem(item, f'staff "{person.name}": {person.role} {ident[0]} "{ident[1]}" '
                                    f"is listed twice (first on line {seen[key]})")
                seen.setdefault(key, line_of(item))
        people.append(person)
    return people


def _category(r: Reader, item: Node, i: int) -> tuple[Category | None, str | None, Node | None]:
    what = label("category", item, i)
    f = r.fields(item, what, _CATEGORY)
    if f is None:
        return None, None, None
    code = r.code(f.get("code"), "category code")
    name = r.text(f.get("name"), f"{what} name")
    keywords = tuple(dict.fromkeys(k for k, _ in r.texts(f.get("keywords"), f"{what} keywords")))
    days = r.integer(f.get("feedback_days"), f"{what} feedback_days", *_POSITIVE)
    hours = r.integer(f.get("feedback_hours"), f"{what} feedback_hours", *_POSITIVE)
    if "feedback_days" in f or "feedback_hours" in f:
        deadline = timedelta(days=days or 0, hours=hours or 0)
    else:
        deadline = timedelta(days=3)
    workdays = r.integer(f.get("feedback_workdays"), f"{what} feedback_workdays", *_POSITIVE)
    if "feedback_workdays" in f and ("feedback_days" in f or "feedback_hours" in f):
        r.problem(f["feedback_workdays"], f"{what}: give feedback_workdays or feedback_days/feedback_hours, "
                                          "not both (which promise would the resident get?)")
    mode_text = r.text(f.get("mode"), f"{what} mode")
    mode = HandlingMode.SELF
    mode_ok = mode_text is None or mode_text in {m.value for m in HandlingMode}
    if not mode_ok:
        r.problem(f["mode"], f'{what}: mode "{mode_text}" is not one of 自办, 共办, 联办')
    elif mode_text is not None:
        mode = HandlingMode(mode_text)
    co_handler = r.text(f.get("co_handler"), f"{what} co_handler")
    if mode is HandlingMode.JOINT and co_handler is None:
        r.problem(f["mode"], f'{what}: mode 共办 needs a "co_handler" (e.g. 物业公司)')
    if co_handler is not None and mode_ok and mode is not HandlingMode.JOINT:
        r.problem(f["co_handler"], f"{what}: a co_handler only goes with mode 共办")
    emergency = r.boolean(f.get("emergency"), f"{what} emergency")
    numbers = r.texts(f.get("numbers"), f"{what} numbers", number_ok=True)
    for number, number_node in numbers:
        if not number.isdigit():
            r.problem(number_node, f'{what}: "{number}" is not a phone number to call')
    if emergency and not numbers:
        r.problem(f.get("numbers", item), f"{what}: an emergency category must list its numbers (119...)")
    if numbers and emergency is False:
        r.problem(f["numbers"], f"{what}: only an emergency category lists numbers")
    dispute = r.boolean(f.get("dispute"), f"{what} dispute")
    replies = parse_replies(r, f.get("replies"), what)
    priority = parse_priority(r, f.get("priority"), what, emergency=bool(emergency))
    topic = r.text(f.get("topic"), f"{what} topic")
    if code is None or name is None:
        return None, code, f.get("code")
    category = Category(code, name, keywords, deadline, bool(emergency), mode,
                        tuple(n for n, _ in numbers), co_handler, bool(dispute), replies, workdays, priority,
                        topic=topic)
    return category, code, f.get("code")


def _categories(r: Reader, node: Node | None) -> list[Category]:
    categories, codes, names = [], [], {}
    for i, item in enumerate(r.items(node, "categories")):
        category, code, code_node = _category(r, item, i)
        codes.append((code, code_node))
        if category is None:
            continue
        if category.name in names:
            first = names[category.name]
            r.problem(item, f'category name "{category.name}" is used twice (first on line {first})')
        names.setdefault(category.name, line_of(item))
        categories.append(category)
    unique_codes(r, "category", codes)
    return categories


def parse_roster(text: str, filename: str) -> Community:
    """Parse and validate a roster; raise RosterError listing every problem (file:line: message)."""
    return check_roster(text, filename)[0]


def check_roster(text: str, filename: str) -> tuple[Community, list[RosterProblem]]:
    """parse_roster(), and the warnings about what loads but will not work well (gridcore.roster_checks)."""
    r = Reader(filename)
    if (refused := too_big(len(text.encode("utf-8")))) is not None:
        raise RosterError([RosterProblem(filename, 1, refused)])
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise RosterError([RosterProblem(filename, line, f"not valid YAML: {exc.problem or exc}")]) from exc
    if root is None:
        raise RosterError([RosterProblem(filename, 1, "the roster is empty")])
    top = r.fields(root, "roster", _TOP)
    if top is None:
        raise RosterError(r.problems)
    if crowded := too_many(top):
        raise RosterError([RosterProblem(filename, line_of(node), message) for node, message in crowded])
    community = _community(r, top["community"]) if "community" in top else {}
    grids, grid_nodes = _grids(r, top.get("grids"))
    for section in ("grids", "buildings", "categories", "estates"):
        if section in top and isinstance(top[section], SequenceNode) and not top[section].value:
            r.problem(top[section], f"{section} must list at least one entry")
    grid_codes = set(grid_nodes)
    estates, estate_nodes = parse_estates(r, top.get("estates"), grid_codes)
    buildings = parse_buildings(r, top.get("buildings"), grid_codes, {e.code: e for e in estates},
                                estate_nodes)
    staff = _staff(r, top.get("staff"), grid_codes, buildings, community.get("street"))
    categories = _categories(r, top.get("categories"))
    announcements = parse_announcements(r, top.get("announcements"),
                                        public_chat=community.get("public_chat_id") is not None)
    replies = parse_replies(r, top.get("replies"), "community")
    if r.problems:
        raise RosterError(r.problems)
    parsed = Community(grids=tuple(grids), buildings=tuple(buildings), staff=tuple(staff),
                       categories=tuple(categories), announcements=tuple(announcements),
                       estates=tuple(estates), replies=replies, **community)
    lines = {("grid", code): line_of(node) for code, node in grid_nodes.items()}
    lines.update({("estate", code): line_of(node) for code, node in estate_nodes.items()})
    return parsed, [RosterProblem(filename, line, message, warning=True)
                    for line, message in roster_warnings(parsed, lines)]
