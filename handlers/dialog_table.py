"""A dialog declared as a table, and the small engine that runs it.

The shape is python-telegram-bot's ConversationHandler: entry points start the dialog, each state asks
one question and names the inputs it takes, fallbacks catch every other input. One difference: an
answer rarely names the state that comes next. It leads to NEXT, the first thing the draft still lacks
(`Dialog.gaps`, walked in order), so only what is missing is asked and an answer given early (a
building named in the first message) skips its question. The engine knows no state by name: every
step name lives in the table (handlers.report).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from handlers.context import Context
from handlers.draft import ReportDraft
from handlers.inputs import InputKind

NEXT = "<next>"  # leads to the first gap of the draft (or `Dialog.complete` when there is none)
SAME = "<same>"  # the state stays and its question stands (a page turned, one more photo)
END = "<end>"  # the take ends the dialog (filed, joined); when it could not, the first gap
CANCEL = "cancel"  # the value of a question's 取消 button, taken by every state

Ask = Callable[[Context, ReportDraft], Awaitable[None]]
# Reads one input into the draft: True when it is an answer (the dialog moves to `leads_to`), False when
# not (the take said why, or asked again; the draft is kept and the state stays).
Take = Callable[[Context, ReportDraft, str], Awaitable[bool]]
Check = Callable[[Context, ReportDraft], Awaitable[bool]]
Act = Callable[[Context, ReportDraft], Awaitable[object]]
Handle = Callable[[Context], Awaitable[object]]
Enter = Callable[[Context], Awaitable[bool]]


@dataclass(frozen=True)
class Answer:
    """An input a state takes, and where it leads: NEXT, SAME, END or a state's name."""

    take: Take | None = None  # None: nothing to read, the press alone is the answer
    leads_to: str = NEXT


@dataclass(frozen=True)
class State:
    """One question. The value an Answer's take gets: the text; the button's value; a photo's or a voice
    note's caption (the file id is on ctx.incoming); a shared contact's phone number."""

    ask: Ask
    text: Answer | None = None
    # Keyed by a button's value, or by a prefix ending in ":" for a family of values ("b:<building>").
    buttons: Mapping[str, Answer] = field(default_factory=dict)
    photo: Answer | None = None
    voice: Answer | None = None
    contact: Answer | None = None
    hint: str = "use_buttons"  # the wrong_input fallback's hint for an input of a kind not taken here
    # A state without a draft that handles every input itself, buttons included (no answers then).
    every_input: Handle | None = None

    def answer_to(self, kind: InputKind) -> Answer | None:
        return {InputKind.TEXT: self.text, InputKind.PHOTO: self.photo, InputKind.VOICE: self.voice,
                InputKind.CONTACT: self.contact}.get(kind)

    def answer_to_button(self, value: str) -> Answer | None:
        """The answer for this value: its own entry, else the longest prefix entry it starts with."""
        if value in self.buttons:
            return self.buttons[value]
        prefixes = [key for key in self.buttons if key.endswith(":") and value.startswith(key)]
        return self.buttons[max(prefixes, key=len)] if prefixes else None

    def leads(self) -> list[str]:
        """Where this state's answers lead (for the table's own test)."""
        answers = [self.text, self.photo, self.voice, self.contact, *self.buttons.values()]
        return [answer.leads_to for answer in answers if answer is not None]


@dataclass(frozen=True)
class Gap:
    """Something the draft may still lack. `missing` says whether it does; it may tidy the draft first
    (a category the roster dropped) or look something up once (an open duplicate). `state` asks for it;
    with `act`, what is due is done instead and the act moves the dialog to `state` itself."""

    state: str
    missing: Check
    act: Act | None = None


@dataclass(frozen=True)
class Fallbacks:
    cancel: Handle  # the 取消 button of any question
    refused_button: Handle  # a button no answer of the state takes (an older question's: see dialog_press)
    wrong_input: Callable[[Context, State, ReportDraft], Awaitable[None]]  # an input of a kind not taken
    unknown_step: Callable[[Context, ReportDraft], Awaitable[None]]  # a step no state has (an upgrade)


@dataclass(frozen=True)
class Dialog:
    name: str  # Conversation.dialog while this dialog is under way
    entry_points: Mapping[InputKind, Enter]  # an input with no dialog under way; True: it started one
    states: Mapping[str, State]
    fallbacks: Fallbacks
    gaps: tuple[Gap, ...]  # in the order they are asked
    complete: str  # the state asked when the draft lacks nothing


async def enter(ctx: Context, dialog: Dialog) -> bool:
    """Read the input as the start of the dialog; False when no entry point takes it."""
    entry = dialog.entry_points.get(ctx.incoming.kind)
    return entry is not None and await entry(ctx)


async def advance(ctx: Context, dialog: Dialog, draft: ReportDraft) -> None:
    """Ask the first thing the draft lacks, as a new turn (the buttons of earlier questions go stale);
    or do what its gap's act does."""
    gap = await first_gap(ctx, dialog, draft)
    if gap is not None and gap.act is not None:
        await gap.act(ctx, draft)
        return
    await go_to(ctx, dialog, gap.state if gap is not None else dialog.complete, draft)


async def first_gap(ctx: Context, dialog: Dialog, draft: ReportDraft) -> Gap | None:
    for gap in dialog.gaps:
        if await gap.missing(ctx, draft):
            return gap
    return None


async def go_to(ctx: Context, dialog: Dialog, state: str, draft: ReportDraft) -> None:
    conversation = ctx.conversation
    conversation.dialog, conversation.step = dialog.name, state
    conversation.turn += 1
    conversation.data = draft.dump()
    await dialog.states[state].ask(ctx, draft)


async def resume(ctx: Context, dialog: Dialog) -> None:
    """Ask the current question again (after /start, /report, or a task that interrupted the dialog)."""
    draft = ReportDraft.load(ctx.conversation.data)
    state = dialog.states.get(ctx.conversation.step or "")
    if state is None:
        await dialog.fallbacks.unknown_step(ctx, draft)
    else:
        await state.ask(ctx, draft)


async def on_input(ctx: Context, dialog: Dialog) -> None:
    """An input while the dialog is under way: the state's answer for it, else a fallback."""
    state = dialog.states.get(ctx.conversation.step or "")
    if state is not None and state.every_input is not None:
        await state.every_input(ctx)
        return
    draft = ReportDraft.load(ctx.conversation.data)
    if state is None:
        await dialog.fallbacks.unknown_step(ctx, draft)
        return
    incoming = ctx.incoming
    if incoming.kind is InputKind.BUTTON:
        value = ctx.dialog_press()
        if value is None:  # an older question's button or a forged one: answered as stale
            return
        if value == CANCEL:
            await dialog.fallbacks.cancel(ctx)
            return
        answer = state.answer_to_button(value)
        if answer is None:
            await dialog.fallbacks.refused_button(ctx)
            return
    else:
        answer = state.answer_to(incoming.kind)
        if answer is None:
            await dialog.fallbacks.wrong_input(ctx, state, draft)
            return
        value = incoming.phone if incoming.kind is InputKind.CONTACT else incoming.text
    turn = ctx.conversation.turn
    taken = await answer.take(ctx, draft, value) if answer.take is not None else True
    if ctx.callback_alert:  # the take refused the button: nothing changes
        return
    if ctx.conversation.dialog != dialog.name or ctx.conversation.turn != turn:
        return  # the take ended the dialog (filed, joined) or moved it on itself (an offer after filing)
    if not taken or answer.leads_to == SAME:
        ctx.conversation.data = draft.dump()
    elif answer.leads_to in dialog.states:
        await go_to(ctx, dialog, answer.leads_to, draft)
    else:  # NEXT, or END when the dialog could not end
        await advance(ctx, dialog, draft)
