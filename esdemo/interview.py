"""Interview prep as data and pure functions: a self-check quiz, its scoring, and a decision guide.

Notebook 17 shows these; the tests check them like any other code.

* :data:`QUIZ` holds multiple-choice :class:`Question` objects on the seed's six
  interview questions (:data:`INTERVIEW_QUESTIONS`). Every option carries the
  reason it is right or wrong, because in an interview the reason *is* the
  answer. :func:`explain` says it for one choice; :func:`score` marks a whole
  set of answers and names the notebooks to revisit::

      score([1, 2, None]).summary()   # "2 of 14 correct (2 answered). Review: 02_event_sourcing.ipynb (Q3); ..."

* :func:`advise` turns the seed's "when to use" lists into a function: describe
  a system with a :class:`SystemProfile` and get a :class:`Verdict` for CQRS
  and for event sourcing, with every reason that led to it::

      advise(SystemProfile(complex_domain=True, audit_required=True, team_familiar=True)).describe()
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields

INTERVIEW_QUESTIONS = {
    1: "What is CQRS? Why would you use it?",
    2: "What is event sourcing?",
    3: "How do projections work in event sourcing?",
    4: "How do you handle event schema changes?",
    5: "Design an event-sourced order management system.",
    6: "How would you handle the eventual consistency in CQRS?",
}
"""The seed's six interview questions, by number (the numbers every notebook's metadata uses)."""

_NOTEBOOK = re.compile(r"^\d{2}_[a-z0-9_]+\.ipynb$")
LETTERS = "abcdefgh"
"""How options are labelled: option 0 is (a), option 1 is (b), ..."""


# -- the quiz ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Option:
    """One answer to a :class:`Question`: its text, whether it is right, and why."""

    text: str
    correct: bool
    why: str


@dataclass(frozen=True)
class Question:
    """A multiple-choice question with exactly one right option.

    ``topic`` is the seed's interview question it trains (1-6), ``notebook``
    the file where the idea runs (``"03_event_store.ipynb"``).
    """

    prompt: str
    options: tuple[Option, ...]
    topic: int
    notebook: str

    def __post_init__(self) -> None:
        if not isinstance(self.options, tuple) or not 2 <= len(self.options) <= len(LETTERS):
            raise ValueError(f"a question needs a tuple of 2-{len(LETTERS)} options: {self.prompt!r}")
        right = sum(1 for option in self.options if option.correct)
        if right != 1:
            raise ValueError(f"a question needs exactly one correct option, found {right}: {self.prompt!r}")
        if self.topic not in INTERVIEW_QUESTIONS:
            raise ValueError(f"topic must be one of the interview questions 1-6, got {self.topic!r}")
        if not _NOTEBOOK.match(self.notebook):
            raise ValueError(f"notebook must be a file name such as '03_event_store.ipynb', got {self.notebook!r}")

    @property
    def answer(self) -> int:
        """The index of the right option."""
        return next(i for i, option in enumerate(self.options) if option.correct)

    def option_index(self, starts_with: str) -> int:
        """The index of the one option whose text starts with ``starts_with`` (to fill in an answer sheet)."""
        found = [i for i, option in enumerate(self.options) if option.text.startswith(starts_with)]
        if len(found) != 1:
            texts = "; ".join(f"({LETTERS[i]}) {option.text}" for i, option in enumerate(self.options))
            raise ValueError(f"{len(found)} options start with {starts_with!r}; the options are: {texts}")
        return found[0]


def _q(topic: int, notebook: str, prompt: str, *options: tuple[str, bool, str], at: int) -> Question:
    """A question written with its right option first, shown with the right option at index ``at``."""
    right, *wrong = (Option(*option) for option in options)
    return Question(prompt, (*wrong[:at], right, *wrong[at:]), topic, notebook)


QUIZ: tuple[Question, ...] = (
    _q(1, "01_cqrs.ipynb",
       "What does CQRS separate?",
       ("The model that changes state (commands) from the models that answer queries.", True,
        "Yes. Commands go to a write model that enforces the rules; queries go to read models shaped for "
        "each screen. Separate databases are an option, not the definition."),
       ("Reads and writes into two databases, always.", False,
        "Two stores are common, but CQRS is about separate models. One database holding a normalised write "
        "schema and a few views is still CQRS."),
       ("A monolith into one microservice per entity.", False,
        "That is service decomposition. CQRS applies inside one service, even inside one module."),
       ("Synchronous API calls from asynchronous messages.", False,
        "Commands and queries can both be synchronous calls. CQRS separates responsibilities, not transports."), at=1),
    _q(1, "01_cqrs.ipynb",
       "A product is read 10,000 times for every price change. What does CQRS let you do about that?",
       ("Precompute the product page as a view in a store built for reads, and scale it apart from the write "
        "model.", True,
        "That is the seed's catalog: ProductDetailView, ProductSearchView and AdminProductView, each shaped and "
        "stored for its readers, fed by ProductPriceUpdated."),
       ("Skip the business rules on price changes, since writes are rare.", False,
        "Rare writes still need their rules; the write model is exactly where they live."),
       ("Guarantee that every page view shows the new price at once.", False,
        "The opposite: views updated asynchronously lag a little behind. That is CQRS's main cost."),
       ("Drop the write database: the views are enough.", False,
        "Views are derived and can be rebuilt; something must hold the truth they are derived from."), at=2),
    _q(2, "02_event_sourcing.ipynb",
       "Account 123: AccountOpened($0), MoneyDeposited($200), MoneyWithdrawn($50). What does an event-sourced "
       "system store?",
       ("The three events; the balance of $150 is derived by replaying them.", True,
        "The events are the source of truth; state is a left fold over them. A cached balance, if any, is a "
        "projection or a snapshot that can be thrown away and rebuilt."),
       ("The balance, plus an audit-log table written next to it.", False,
        "That is state plus a log. The two can drift apart, and nothing proves the log is complete. In event "
        "sourcing the log is the only truth."),
       ("The balance and the events, both updated in the same transaction as equals.", False,
        "Two truths again. If they disagree, which one wins? Only the events are authoritative."),
       ("Only the latest event, since it implies the state.", False,
        "MoneyWithdrawn($50) alone says nothing about the balance: every event is needed."), at=0),
    _q(2, "03_event_store.ipynb",
       "Two agents load Order-12347 at version 5, and each appends a discount with expected_version=5. What "
       "happens?",
       ("The first append wins (version 6); the second gets a ConflictError and must reload, decide again and "
        "retry.", True,
        "Optimistic concurrency: the store compares the expected version with the stream's version at append "
        "time. On the new history the rule sees the discount already given."),
       ("Both succeed, as versions 6 and 7.", False,
        "That is what expected_version=ANY does, and how a customer gets refunded twice."),
       ("The second discount overwrites the first.", False,
        "Nothing is ever overwritten in an event store; it only appends."),
       ("The store merges the two discounts into one event.", False,
        "The store does not understand the events' meaning, so it cannot merge them. Deciding is the "
        "aggregate's job, on a fresh read."), at=3),
    _q(2, "03_event_store.ipynb",
       "A client's append of OrderPaid times out: it does not know whether the append landed. What is the safe "
       "retry?",
       ("Send the same events again, with the same event ids and the same expected version.", True,
        "If the first append landed, the store recognises the retry by the ids and writes nothing twice; if it "
        "did not, the retry appends. Either way the payment is recorded once."),
       ("Retry with expected_version=ANY, so the retry cannot conflict.", False,
        "ANY switches the check off: if the first append landed, the payment is now recorded twice."),
       ("Read the stream; if OrderPaid is not there, append a new OrderPaid with a new id.", False,
        "A timeout is not a failure: the first append may still commit after your read, and the new id makes "
        "the copy look like a second payment."),
       ("Never retry; tell the customer the payment failed.", False,
        "It may well have been recorded. Now the customer and the system disagree."), at=1),
    _q(3, "06_projections.ipynb",
       "A projection updates its view, then crashes before saving its checkpoint. On restart the event is "
       "delivered again. How do you stop it from being counted twice?",
       ("Commit the view change and the checkpoint in the same transaction, or make the handler idempotent.", True,
        "Then the view and the checkpoint cannot disagree: after a crash both are before the event or both "
        "after it. Delivery stays at-least-once; the effect is exactly-once."),
       ("Save the checkpoint first, then update the view.", False,
        "Then a crash between the two loses the event for good: at-most-once instead of at-least-once."),
       ("Turn on exactly-once delivery in the message broker.", False,
        "A broker cannot make your database write and its own acknowledgement one atomic step. Exactly-once "
        "effects come from idempotence or an atomic checkpoint."),
       ("Nothing: applying an event twice is harmless for any projection.", False,
        "Only for idempotent handlers. Counters and sums (orders paid, revenue) double."), at=2),
    _q(3, "08_rebuilding_projections.ipynb",
       "Product wants a new report over three years of orders. With event sourcing you:",
       ("Write a new projection, replay the log from position 0 into a new table, and switch readers to it "
        "when it has caught up (blue/green).", True,
        "History is in the log, so a new view gets all of it. Readers keep the old view until the new one is "
        "complete; events appended during the rebuild are applied before the switch."),
       ("Can only report on orders from today onward.", False,
        "That is the state-based system's problem. The log has every order since the first event."),
       ("Add the fields the report needs to the stored events.", False,
        "Stored events are never rewritten. A projection derives what the report needs."),
       ("Query the events table directly for every report request.", False,
        "Fine for a one-off investigation, but events are not indexed for queries: scanning three years per "
        "request is what projections exist to avoid."), at=0),
    _q(4, "10_schema_evolution.ipynb",
       "OrderPaid V1 {orderId, amount} is in the log; V2 adds currency. Where does an upcaster run?",
       ("When events are read, before any aggregate or projection sees them; the stored events stay V1.", True,
        "One function per version step, chained, in one place (the registry): the domain only ever sees V2."),
       ("Once, as a migration that updates the stored V1 events to V2.", False,
        "That rewrites history. The store refuses it, and consumers, backups and audits would disagree with it."),
       ("When events are written.", False,
        "New code already writes V2. Upcasting exists for the old events that are already stored."),
       ("Inside every projection handler.", False,
        "That is the versioned-handler strategy: it works, but every reader must then know every version."), at=3),
    _q(4, "10_schema_evolution.ipynb",
       "Which change can corrupt every report without a single error?",
       ("Storing amount in cents instead of dollars, under the same field name and schema version.", True,
        "The event looks like any valid V2, so every reader accepts it. A change of meaning needs a new "
        "version (or a new event type)."),
       ("Adding an optional field that old readers do not know.", False,
        "Tolerant readers ignore it, and a strict registry gets a new version with a trivial upcaster."),
       ("Renaming amount to total, with a new schema version and an upcaster.", False,
        "The upcaster maps the old name; readers only see the new one."),
       ("Shipping V3 while some servers still run V2 code.", False,
        "The old code meets a version newer than it knows and fails loudly. Annoying, but not silent: deploy "
        "readers before writers."), at=2),
    _q(4, "09_snapshots.ipynb",
       "Your Order aggregate gains a currency attribute, and old snapshots of orders exist. What do you do?",
       ("Bump the aggregate's snapshot version, so old snapshots are ignored and state is rebuilt by a full "
        "replay through the upcasters.", True,
        "Snapshots hold state, not events: upcasters never touch them. An old snapshot restored as-is leaves "
        "the new attribute at its default."),
       ("Nothing: the upcaster fixes snapshots too.", False,
        "Upcasters transform events on read. A snapshot is the aggregate's state in the old shape."),
       ("Delete the events covered by the snapshots.", False,
        "The events are the truth; a snapshot is a cache of them and can always be rebuilt from them."),
       ("Keep the old snapshots but never take new ones.", False,
        "The old snapshots would still be loaded, in the wrong shape."), at=1),
    _q(5, "05_aggregates.ipynb",
       "In an event-sourced order system, 'an order can be paid only once' is enforced by:",
       ("One stream per order (Order-12345): the aggregate checks the rule on that stream's history, and "
        "concurrent payments conflict on the expected version.", True,
        "The aggregate is the consistency boundary; a small stream means little contention and a short replay."),
       ("One stream for all orders, so every rule sees every order.", False,
        "Every write in the shop would then conflict with every other: the system serialises on one stream."),
       ("One stream per customer.", False,
        "Bigger than the rule needs: a customer's unrelated orders would block each other."),
       ("A projection of paid orders that the command handler queries before appending.", False,
        "A projection lags; two payments can both check it before either shows up. Rules must be checked on "
        "the stream you append to."), at=0),
    _q(5, "01_cqrs.ipynb",
       "The order service must tell shipping about OrderPaid. How do you avoid a dual write?",
       ("Append to the event store only; a relay follows the log by position and publishes, and consumers "
        "deduplicate by event id.", True,
        "The log is the single write. Publishing is at-least-once, which idempotent consumers make harmless. "
        "Without an event store, an outbox table written in the same transaction plays the same role."),
       ("Append, then publish to the broker in the same function.", False,
        "A crash between the two loses the message; a retry after a broker timeout may send it twice."),
       ("Publish first, then append.", False,
        "If the append then fails (a conflict, say), shipping acts on a payment that never happened."),
       ("Wrap the append and the publish in a distributed transaction (two-phase commit).", False,
        "Most brokers do not take part in 2PC, and it couples the availability of both systems. The outbox or "
        "the log-following relay gives the same guarantee without it."), at=3),
    _q(6, "11_eventual_consistency.ipynb",
       "A user places an order and is redirected to 'My orders', which reads a projection. How do you make "
       "sure they see their order?",
       ("Return the position of the append with the command's response, and let the query wait until the "
        "view's checkpoint reaches it (with a timeout), or serve that one order from the write side.", True,
        "Read-your-writes: the position is the token. Most of the time the view is already there and the wait "
        "costs nothing."),
       ("Sleep 500 ms before redirecting.", False,
        "Too long when the view is fast, too short when it lags. A guess, not a guarantee."),
       ("Update every projection synchronously in the command's transaction.", False,
        "It works for one critical view, but every write then waits for every view and fails when any view "
        "fails: the coupling CQRS set out to remove."),
       ("Nothing can be done; the user must refresh.", False,
        "There are standard techniques: read-your-writes tokens, polling with a spinner, optimistic UI."), at=1),
    _q(6, "12_throughput_and_gaps.ipynb",
       "A reader follows the log with 'position > checkpoint', and the store numbers events from a sequence "
       "when a transaction begins. What can go wrong?",
       ("A transaction that took a lower number commits after a higher one was read; the reader has moved "
        "past it and skips it forever.", True,
        "Numbers from a sequence are handed out in begin order, but become visible in commit order. Read only "
        "up to the high-water mark (below the first gap), give up on a gap after a timeout, or assign "
        "positions at commit, as esdemo does."),
       ("The reader processes some events twice.", False,
        "Duplicates come from redelivery. This failure is the opposite: an event is never delivered."),
       ("Nothing, as long as the sequence is strictly increasing.", False,
        "Increasing in begin order is not increasing in commit order; that difference is the bug."),
       ("The writers deadlock.", False,
        "The writers are fine. The reader is the one that loses an event."), at=2),
)
"""The self-check quiz: 14 questions across the seed's six interview questions."""


def explain(question: Question, choice: int) -> str:
    """Say whether ``choice`` (an option index) is right, then why each option is right or wrong.

    >>> print(explain(QUIZ[0], 1).splitlines()[0])
    ✅ Right: (b).
    """
    _check_choice(question, choice)
    right = question.answer
    head = f"✅ Right: ({LETTERS[choice]})." if choice == right else (
        f"❌ Not quite: you chose ({LETTERS[choice]}); the answer is ({LETTERS[right]}).")
    lines = [head]
    for i, option in enumerate(question.options):
        mark = "✓" if option.correct else "✗"
        chosen = "  ← your choice" if i == choice else ""
        lines.append(f"({LETTERS[i]}) {mark} {option.text}{chosen}\n    {option.why}")
    lines.append(f"Runs in {question.notebook}.")
    return "\n".join(lines)


@dataclass(frozen=True)
class Mark:
    """One question's result: its number (1-based), the option chosen (``None``: skipped), right or not."""

    number: int
    chosen: int | None
    correct: bool


@dataclass(frozen=True)
class QuizScore:
    """The marks of a whole quiz, and what to review."""

    marks: tuple[Mark, ...]
    quiz: tuple[Question, ...]

    @property
    def total(self) -> int:
        """How many questions the quiz has."""
        return len(self.marks)

    @property
    def answered(self) -> int:
        """How many were answered (not skipped)."""
        return sum(1 for mark in self.marks if mark.chosen is not None)

    @property
    def correct(self) -> int:
        """How many were answered right."""
        return sum(1 for mark in self.marks if mark.correct)

    def to_review(self) -> dict[str, list[int]]:
        """Notebook -> the numbers of the questions missed or skipped there, in course order."""
        review: dict[str, list[int]] = {}
        for mark in self.marks:
            if not mark.correct:
                review.setdefault(self.quiz[mark.number - 1].notebook, []).append(mark.number)
        return dict(sorted(review.items()))

    def summary(self) -> str:
        """One line: the score, and the notebooks to revisit."""
        line = f"{self.correct} of {self.total} correct ({self.answered} answered)."
        review = self.to_review()
        if not review:
            return line + " Nothing to review: you are ready."
        return line + " Review: " + "; ".join(
            f"{notebook} ({', '.join(f'Q{n}' for n in numbers)})" for notebook, numbers in review.items())


def score(answers: Sequence[int | None] | Mapping[int, int | None], quiz: Sequence[Question] = QUIZ) -> QuizScore:
    """Mark ``answers`` against ``quiz``.

    ``answers`` is either a sequence with one entry per question (an option
    index, or ``None`` for a skipped question; a shorter sequence skips the
    rest) or a mapping from question number (1-based) to option index.

    >>> score({1: 1, 2: 0}).correct      # question 1 right, question 2 wrong, the rest skipped
    1
    """
    quiz = tuple(quiz)
    if not quiz:
        raise ValueError("the quiz has no questions")
    if isinstance(answers, Mapping):
        unknown = sorted(n for n in answers if not (isinstance(n, int) and 1 <= n <= len(quiz)))
        if unknown:
            raise ValueError(f"question numbers run from 1 to {len(quiz)}; there is no question {unknown}")
        chosen = [answers.get(n) for n in range(1, len(quiz) + 1)]
    elif isinstance(answers, Sequence) and not isinstance(answers, (str, bytes)):
        if len(answers) > len(quiz):
            raise ValueError(f"{len(answers)} answers for a quiz of {len(quiz)} questions")
        chosen = list(answers) + [None] * (len(quiz) - len(answers))
    else:
        raise TypeError(f"answers must be a list of option indexes or a dict {{question number: index}}, "
                        f"got {type(answers).__name__}")
    marks = []
    for number, (question, choice) in enumerate(zip(quiz, chosen), start=1):
        if choice is not None:
            _check_choice(question, choice, number)
        marks.append(Mark(number, choice, choice is not None and choice == question.answer))
    return QuizScore(tuple(marks), quiz)


def _check_choice(question: Question, choice: object, number: int | None = None) -> None:
    where = f"question {number}" if number is not None else "this question"
    if isinstance(choice, bool) or not isinstance(choice, int) or not 0 <= choice < len(question.options):
        raise ValueError(f"{where} has options 0-{len(question.options) - 1} "
                         f"({', '.join(LETTERS[:len(question.options)])}); got {choice!r}")


# -- the decision guide ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class SystemProfile:
    """Answers about a system, the seed's "when to use" lists as yes/no questions.

    Good-fit signals: ``complex_domain``, ``audit_required``,
    ``read_write_differ``, ``event_driven_integration``. Warning signs:
    ``simple_crud``, ``strong_consistency``, and a team that is not
    ``team_familiar`` with the patterns.
    """

    complex_domain: bool = False
    audit_required: bool = False
    read_write_differ: bool = False
    event_driven_integration: bool = False
    simple_crud: bool = False
    strong_consistency: bool = False
    team_familiar: bool = False

    def __post_init__(self) -> None:
        wrong = [f.name for f in fields(self) if not isinstance(getattr(self, f.name), bool)]
        if wrong:
            raise TypeError(f"every answer is True or False; check {wrong}")


QUESTIONS_ABOUT_A_SYSTEM = {
    "complex_domain": "Is the domain complex, with rich business rules and invariants?",
    "audit_required": "Must you show who changed what and when, or answer 'what was it on 15 January'?",
    "read_write_differ": "Do reads and writes differ a lot in shape or volume?",
    "event_driven_integration": "Do other services need to react to what happens here?",
    "simple_crud": "Is it mostly forms over tables (simple CRUD)?",
    "strong_consistency": "Must every read, everywhere, reflect the latest write?",
    "team_familiar": "Has the team built CQRS or event-sourced systems before?",
}
"""The question behind each :class:`SystemProfile` field, for the widget and for printing."""


class Fit(enum.Enum):
    """How well a pattern fits, from the reasons for and against it."""

    GOOD = "good fit"
    CAREFUL = "possible, with care"
    POOR = "not a good fit"


_RANK = {Fit.POOR: 0, Fit.CAREFUL: 1, Fit.GOOD: 2}


@dataclass(frozen=True)
class Verdict:
    """One pattern's fit and the reasons behind it."""

    pattern: str
    fit: Fit
    reasons_for: tuple[str, ...]
    reasons_against: tuple[str, ...]

    def describe(self) -> str:
        """The verdict, then each reason for (+) and against (-)."""
        lines = [f"{self.pattern}: {self.fit.value}"]
        lines += [f"  + {reason}" for reason in self.reasons_for]
        lines += [f"  - {reason}" for reason in self.reasons_against]
        return "\n".join(lines)


@dataclass(frozen=True)
class Advice:
    """The decision guide's answer: a verdict for CQRS, one for event sourcing, and general notes."""

    profile: SystemProfile
    cqrs: Verdict
    event_sourcing: Verdict
    notes: tuple[str, ...]

    def describe(self) -> str:
        """Both verdicts with their reasons, then the notes."""
        parts = [self.cqrs.describe(), self.event_sourcing.describe()]
        if self.notes:
            parts.append("\n".join(f"Note: {note}" for note in self.notes))
        return "\n\n".join(parts)


def _fit(reasons_for: list[str], profile: SystemProfile) -> Fit:
    if not reasons_for:
        return Fit.POOR
    if profile.simple_crud:
        return Fit.CAREFUL if len(reasons_for) >= 2 else Fit.POOR
    if profile.strong_consistency or not profile.team_familiar:
        return Fit.CAREFUL
    return Fit.GOOD


def advise(profile: SystemProfile) -> Advice:
    """Does CQRS fit this system? Does event sourcing? Say why, reason by reason.

    The rules, from the seed's lists: no reason for a pattern means it does
    not fit; "simple CRUD" outweighs a single reason for it; a need for
    strong consistency everywhere, or a team new to the patterns, turns a fit
    into "possible, with care". Event sourcing needs CQRS for its queries, so
    CQRS is never rated below event sourcing.
    """
    if not isinstance(profile, SystemProfile):
        raise TypeError(f"pass a SystemProfile(...), got {type(profile).__name__}")
    p = profile
    against_both = []
    if p.simple_crud:
        against_both.append("simple CRUD: one model that stores the current state serves its reads and writes; "
                            "anything more is cost without benefit")
    if not p.team_familiar:
        against_both.append("the team is new to the patterns: expect a learning curve (projections, idempotent "
                            "handlers, upcasting); start in one bounded context, with someone who has done it")

    cqrs_for, cqrs_against = [], []
    if p.read_write_differ:
        cqrs_for.append("reads and writes differ in shape and volume: each side gets a model, and a store, built "
                        "for its job, and scales on its own (01, 06)")
    if p.complex_domain:
        cqrs_for.append("a rich write model keeps its invariants clear when no screen shapes it (01, 05)")
    if p.strong_consistency:
        cqrs_against.append("every read must see the latest write, but read models updated asynchronously lag "
                            "(09); updating them in the write transaction gives back part of the benefit")

    es_for, es_against = [], []
    if p.audit_required:
        es_for.append("the log is the audit trail, complete by construction, and answers 'what was the balance "
                      "on 15 January?' by replay (02)")
    if p.complex_domain:
        es_for.append("domain events are the language of a complex domain, and replaying them reproduces a "
                      "bug exactly (02, 05)")
    if p.event_driven_integration:
        es_for.append("the events other services need already exist, and are published from the log without "
                      "a dual write (02)")
    if p.strong_consistency:
        es_against.append("each stream is strongly consistent, but every query across streams goes through a "
                          "projection that lags (11)")

    es_fit = _fit(es_for, p)
    cqrs_fit = _fit(cqrs_for, p)
    if _RANK[cqrs_fit] < _RANK[es_fit]:
        cqrs_fit = es_fit
        cqrs_for.append("event sourcing is on the table, and its queries across streams ('all unpaid orders') "
                        "need projections: that is CQRS (06)")

    notes = []
    if cqrs_fit is Fit.POOR and es_fit is Fit.POOR:
        notes.append("keep one model and a relational database; revisit if audit, integration or read-scaling "
                     "needs appear.")
    if p.audit_required and es_fit is Fit.POOR:
        notes.append("for audit alone, an audit table written in the same transaction, or temporal tables, is "
                     "often enough.")
    if p.strong_consistency and es_fit is not Fit.POOR:
        notes.append("strong consistency is rarely needed everywhere: find the reads that need it "
                     "(read-your-writes) and serve those from the write side or wait for the view's checkpoint.")
    return Advice(p, Verdict("CQRS", cqrs_fit, tuple(cqrs_for), tuple(cqrs_against + against_both)),
                  Verdict("Event sourcing", es_fit, tuple(es_for), tuple(es_against + against_both)), tuple(notes))
