"""The data contract: the tables cxbench reads, their columns, types and allowed values.

This module is the single written-down form of `shared/CONTRACT.md`. Validation, the docs and the demo
generator all read it; nothing else lists the columns a second time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ColumnType(StrEnum):
    """How a column's text is parsed."""

    STRING = "string"
    TIMESTAMP = "timestamp"  # ISO 8601, with or without offset; without one it is UTC
    DATE = "date"  # ISO 8601 date (a timestamp is accepted and its date taken)
    NUMBER = "number"
    BOOLEAN = "boolean"  # true/false, 1/0, yes/no, t/f, y/n (any case)


@dataclass(frozen=True)
class Column:
    """One column of a contract table."""

    name: str
    type: ColumnType = ColumnType.STRING
    required: bool = False
    description: str = ""
    allowed: tuple[str, ...] | None = None  # closed set of values (compared lower-cased)
    minimum: float | None = None  # inclusive bounds for numbers
    maximum: float | None = None
    words: tuple[tuple[str, float], ...] = ()  # words a number column also takes (any case), with their number
    #: a regular expression the text must match (any case; stored upper-cased), with what it is, for messages
    pattern: str | None = None
    pattern_hint: str = ""


@dataclass(frozen=True)
class TableSpec:
    """One table of the contract."""

    name: str
    description: str
    columns: tuple[Column, ...]
    key: str | None = None  # an id whose duplicates count once
    time_column: str | None = None  # the column that places a row in a period
    entity_column: str | None = None  # the customer id, joined to `customers` for segments
    range_columns: tuple[str, ...] = ()  # more timestamps that extend the periods reported (a subscription's end)
    extra_checks: tuple[str, ...] = field(default=())  # row rules beyond types, said in words (see validation)
    #: money columns, in the row's `currency`: converted to the reporting currency (--currency, --fx) at the rate
    #: of the day of `time_column` (core/reporting.py)
    money_columns: tuple[str, ...] = ()

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)


S, T, D, N, B = ColumnType.STRING, ColumnType.TIMESTAMP, ColumnType.DATE, ColumnType.NUMBER, ColumnType.BOOLEAN

SURVEY_TYPES = ("nps", "csat", "css", "ces", "cxi", "enps", "esat", "intent", "task_completion")
#: Survey types whose rows carry a numeric `score`.
SCORED_SURVEYS = ("nps", "csat", "css", "ces", "cxi", "enps", "esat")
CXI_ITEMS = ("effort", "empathy", "understanding", "efficiency")
#: ISO 4217 alphabetic codes are three letters (EUR, USD, JPY); the list itself is not checked.
CURRENCY_PATTERN = r"^[A-Za-z]{3}$"
CURRENCY_HINT = "an ISO 4217 currency code (three letters, e.g. EUR)"


def currency_column() -> Column:
    """The optional `currency` of a table with money columns (the same declaration on each)."""
    return Column("currency", S, description="ISO 4217 code of the row's money, e.g. EUR (any case); empty: the "
                  "reporting currency (`--currency`). Several currencies need `--currency` and `--fx`",
                  pattern=CURRENCY_PATTERN, pattern_hint=CURRENCY_HINT)


ORDER_KINDS = ("purchase", "recurring", "upsell", "cross_sell", "addon", "refund")
#: Ticket priorities, lowest first (Zendesk's four levels).
TICKET_PRIORITIES = ("low", "normal", "high", "urgent")

TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        "customers",
        "One row per customer.",
        (
            Column("customer_id", S, True, "the customer's id"),
            Column("signup_at", T, True, "when the customer signed up"),
            Column("segment", S, description="any segment label"),
            Column("plan", S, description="the customer's plan"),
            Column("region", S, description="the customer's region"),
            Column("acquisition_channel", S, description="where the customer came from"),
            Column("is_paying", B, description="whether the customer pays"),
        ),
        key="customer_id",
        time_column="signup_at",
        entity_column="customer_id",
    ),
    TableSpec(
        "events",
        "Product and website events.",
        (
            Column("user_id", S, True, "a customer id or an anonymous visitor id"),
            Column("ts", T, True, "when the event happened"),
            Column("event", S, True, "`pageview`, `pageleave` or any product event name"),
            Column("page", S, description="page path"),
            Column("feature", S, description="product feature used"),
            Column("session_id", S, description="session id, when the tracker sets one"),
            Column("scroll_pct", N, description="deepest scroll on that pageview, 0-100", minimum=0, maximum=100),
            Column("event_id", S, description="event id; duplicates of one id count once"),
        ),
        key="event_id",
        time_column="ts",
        entity_column="user_id",
    ),
    TableSpec(
        "surveys",
        "One row per survey answer.",
        (
            Column("response_id", S, True, "the answer's id; duplicates count once"),
            Column("respondent_id", S, True, "who answered: a customer id, or an employee id for `enps`/`esat`"),
            Column("ts", T, True, "when the answer was given"),
            Column("survey", S, True, "the question asked", allowed=SURVEY_TYPES),
            Column("score", N, description="the numeric answer (every survey but `intent` and `task_completion`)"),
            Column("scale_min", N, description="lowest point of the answer scale (defaults per survey)"),
            Column("scale_max", N, description="highest point of the answer scale (defaults per survey)"),
            Column("item", S, description="for `cxi`: effort, empathy, understanding, efficiency; for `ces`: `ease` "
                   "marks the agreement wording (\"it was easy...\"), reversed before averaging; for "
                   "`task_completion`: the visitor's intent, when known"),
            Column("answer", S, description="text answer: the intent chosen, or yes/no for `task_completion`"),
            Column("touchpoint", S, description="where in the journey (ordering, onboarding, support...)"),
            Column("channel", S, description="contact channel (phone, email, chat...)"),
            Column("comment", S, description="free-text comment"),
        ),
        key="response_id",
        time_column="ts",
        entity_column="respondent_id",
        extra_checks=(
            "a scored survey needs a score inside its scale",
            "nps and enps scales are 0-10 or 1-10",
            "scale_min is below scale_max",
            "cxi answers name their item",
            "intent answers carry the intent in `answer`",
            "task_completion answers are yes or no",
        ),
    ),
    TableSpec(
        "orders",
        "One row per order (or refund).",
        (
            Column("order_id", S, True, "the order's id"),
            Column("customer_id", S, True, "who ordered"),
            Column("ts", T, True, "when"),
            Column("amount", N, True, "order amount in the row's currency (major units: 12.50)"),
            Column("kind", S, description="purchase (default), recurring, upsell, cross_sell, addon, refund",
                   allowed=ORDER_KINDS),
            Column("channel", S, description="sales channel"),
            currency_column(),
        ),
        key="order_id",
        time_column="ts",
        entity_column="customer_id",
        extra_checks=("amount is not negative unless kind is refund",),
        money_columns=("amount",),
    ),
    TableSpec(
        "subscriptions",
        "One row per subscription; a plan change ends one row and starts another.",
        (
            Column("subscription_id", S, True, "the subscription's id"),
            Column("customer_id", S, True, "the subscriber"),
            Column("start_at", T, True, "start"),
            Column("end_at", T, description="end; empty while active"),
            Column("mrr", N, True, "monthly amount in the row's currency", minimum=0),
            Column("plan", S, description="plan name"),
            Column("is_trial", B, description="whether the subscription is a free trial (a row flagged true counts "
                   "no MRR, whatever its mrr); when empty or absent, a customer's first subscription with mrr 0 is "
                   "taken as their trial"),
            currency_column(),
        ),
        key="subscription_id",
        time_column="start_at",
        entity_column="customer_id",
        range_columns=("end_at",),
        extra_checks=("end_at is not before start_at",),
        money_columns=("mrr",),
    ),
    TableSpec(
        "tickets",
        "One row per support ticket.",
        (
            Column("ticket_id", S, True, "the ticket's id"),
            Column("customer_id", S, description="who asked"),
            Column("channel", S, True, "phone, email, chat, chatbot, social..."),
            Column("opened_at", T, True, "when it was opened"),
            Column("resolved_at", T, description="when it was resolved; empty while open"),
            Column("contacts", N, description="contacts until resolved; 1 = first-contact resolution", minimum=1),
            Column("first_response_at", T, description="first answer to the customer"),
            Column("priority", S, description="low, normal, high or urgent (any case); picks the SLA target",
                   allowed=TICKET_PRIORITIES),
            Column("group", S, description="the team or group the ticket is assigned to"),
            Column("agent", S, description="the agent (assignee) who owns the ticket"),
            Column("tags", S, description="the ticket's tags, separated by spaces as Zendesk exports them "
                   "(commas and semicolons also separate; a written list such as [\"vip\", \"bug\"] is read too); "
                   "a ticket counts once in each of its tags"),
            Column("reopens", N, description="times the ticket was reopened after being solved", minimum=0),
            Column("agent_replies", N, description="public replies by agents; 1 on a solved ticket = one-touch "
                   "resolution", minimum=0),
        ),
        key="ticket_id",
        time_column="opened_at",
        entity_column="customer_id",
        extra_checks=("resolved_at is not before opened_at",),
    ),
    TableSpec(
        "spend",
        "Marketing and sales spend.",
        (
            Column("date", D, True, "day of the spend"),
            Column("amount", N, True, "amount in the row's currency", minimum=0),
            Column("kind", S, description="marketing or sales", allowed=("marketing", "sales")),
            Column("channel", S, description="acquisition channel"),
            Column("segment", S, description="audience segment"),
            currency_column(),
        ),
        time_column="date",
        money_columns=("amount",),
    ),
    TableSpec(
        "capex",
        "Capital expenditure.",
        (Column("date", D, True, "day"), Column("amount", N, True, "amount", minimum=0), currency_column()),
        time_column="date",
        money_columns=("amount",),
    ),
    TableSpec(
        "campaigns",
        "Campaign delivery per day.",
        (
            Column("date", D, True, "day"),
            Column("campaign", S, True, "campaign name"),
            Column("channel", S, description="channel (email, social, search...)"),
            Column("impressions", N, True, "views or opens", minimum=0),
            Column("clicks", N, True, "clicks", minimum=0),
        ),
        time_column="date",
    ),
    TableSpec(
        "carts",
        "Shopping carts.",
        (
            Column("cart_id", S, True, "the cart's id"),
            Column("user_id", S, True, "whose cart"),
            Column("created_at", T, True, "when it was created"),
            Column("checked_out_at", T, description="when it was checked out; empty if abandoned"),
        ),
        key="cart_id",
        time_column="created_at",
        entity_column="user_id",
        extra_checks=("checked_out_at is not before created_at",),
    ),
    TableSpec(
        "social_posts",
        "The company's own social posts.",
        (
            Column("post_id", S, True, "the post's id"),
            Column("platform", S, True, "platform"),
            Column("ts", T, True, "when it was posted"),
            Column("impressions", N, True, "views of the post", minimum=0),
            Column("likes", N, minimum=0),
            Column("shares", N, minimum=0),
            Column("comments", N, minimum=0),
            Column("saves", N, minimum=0),
            Column("mentions", N, minimum=0),
        ),
        key="post_id",
        time_column="ts",
    ),
    TableSpec(
        "mentions",
        "Mentions of the company on social platforms.",
        (
            Column("mention_id", S, True, "the mention's id"),
            Column("platform", S, True, "platform"),
            Column("ts", T, True, "when"),
            Column("text", S, description="the mention's text"),
            Column("sentiment", N, description="-1 (negative) to 1 (positive), or the words positive, neutral and "
                   "negative (1, 0, -1), as listening tools export them", minimum=-1, maximum=1,
                   words=(("positive", 1.0), ("neutral", 0.0), ("negative", -1.0))),
        ),
        key="mention_id",
        time_column="ts",
    ),
    TableSpec(
        "referrals",
        "Referrals made by customers.",
        (
            Column("referrer_id", S, True, "the customer who referred"),
            Column("referred_id", S, description="the customer referred, when known"),
            Column("ts", T, True, "when"),
            Column("converted", B, description="whether the referred person became a customer"),
        ),
        time_column="ts",
        entity_column="referrer_id",
    ),
    TableSpec(
        "stock_prices",
        "Closing prices of the company's stock.",
        (Column("date", D, True, "trading day"), Column("close", N, True, "closing price", minimum=0)),
        time_column="date",
    ),
)

TABLES_BY_NAME: dict[str, TableSpec] = {t.name: t for t in TABLES}


def table_spec(name: str) -> TableSpec:
    """The contract's declaration of table `name`."""
    return TABLES_BY_NAME[name]
