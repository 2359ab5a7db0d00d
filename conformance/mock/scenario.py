"""Scenario files: the inventory, organizations, users and credentials the mock serves.

A scenario is data (YAML), checked against `scenario.schema.yaml` and for consistency when
loaded, so a mistake in it is reported with its place before the server starts.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any, cast

import jsonschema_rs
import yaml

from conformance import contract as contracts
from conformance import numbers
from conformance.errors import ScenarioError as ScenarioError  # noqa: PLC0414 - still importable from here
from conformance.mock import choices as chosen
from conformance.mock import inventory

if TYPE_CHECKING:
    from pathlib import Path

DEFAULT_SCENARIO = "default.yaml"


@dataclass(frozen=True)
class Organization:
    """An organization that pays for its rentals from a telephony budget."""

    id: str
    budget_cents: int
    recharge_fails: bool = False


@dataclass(frozen=True)
class User:
    """A user of an organization.

    `can_manage_group_numbers` is Close's "Manage Team Phone Numbers" permission (formerly
    "Manage Group Phone Numbers"): group numbers and assigning numbers to others need it.
    Only active users allowed to make calls can be assigned a number.
    """

    id: str
    organization: Organization
    can_manage_group_numbers: bool = False
    active: bool = True
    can_call: bool = True


@dataclass(frozen=True)
class Block:
    """Numbers of one kind under one prefix, the unit of inventory."""

    id: str
    country: str
    prefix: str
    carrier_type: str
    sms: bool
    mms: bool
    count: int
    price_cents: int
    carrier: str
    length: int


@dataclass(frozen=True)
class Country:
    """A country's inventory and whether renting there needs a regulatory bundle."""

    code: str
    requires_bundle: bool
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class RateLimit:
    """A fixed-window request limit per credential."""

    limit: int
    window_seconds: float


@dataclass(frozen=True)
class Scenario:
    """Everything the mock knows about the world, loaded from one file."""

    name: str
    organizations: dict[str, Organization]
    users: dict[str, User]
    api_keys: dict[str, User] = field(repr=False)
    oauth_tokens: dict[str, User] = field(repr=False)
    bundles: dict[str, tuple[str, str]]  # bundle id -> (organization id, country)
    countries: dict[str, Country]
    rate_limit: RateLimit | None
    is_default: bool
    generation: str = "today"  # which generation of the endpoint the mock emulates: today | seed
    roles: dict[str, str] = field(default_factory=dict)  # role name (admin, member, ...) -> user id
    # The reading of each of the contract's choices (`x-choices`) the mock follows; a choice not
    # listed follows the contract's own reading.
    choices: dict[str, str] = field(default_factory=dict)

    def api_key_of(self, role: str) -> str:
        """The API key of a role's user (roles are named in the scenario file); KeyError if none."""
        user_id = self.roles.get(role, role)
        found = next((key for key, user in self.api_keys.items() if user.id == user_id), None)
        if found is None:
            raise KeyError(f"no API key for {role!r}; roles: {', '.join(self.roles) or 'none'}")
        return found

    def oauth_token_of(self, role: str) -> str:
        """The OAuth token of a role's user; KeyError if none."""
        user_id = self.roles.get(role, role)
        found = next((token for token, user in self.oauth_tokens.items() if user.id == user_id), None)
        if found is None:
            raise KeyError(f"no OAuth token for {role!r}")
        return found

    @property
    def contract(self) -> contracts.Contract:
        """The contract of the emulated generation: the mock validates requests with it."""
        return contracts.named(self.generation)

    def known_choices(self) -> dict[str, tuple[str, ...]]:
        """The choices the mock can be told to read otherwise: today's contract's, and the generation's."""
        return chosen.catalogue(contracts.today(), self.contract)

    def readings(self) -> chosen.Choices:
        """The readings the mock answers by (the contract's own, unless the scenario picked others)."""
        defaults = {choice_id: listed[0] for choice_id, listed in self.known_choices().items()}
        return chosen.Choices(picked={**defaults, **self.choices}, defaults=defaults)

    def with_choices(self, requested: dict[str, Any], *, given_as: str | None = None) -> Scenario:
        """The scenario with these readings picked (`{choice id: reading id}`); ScenarioError names the allowed ones.

        `given_as` (`--choice`): where the requested readings came from, named in their mistakes
        (not the scenario file's).
        """
        if given_as is not None:
            _, mistakes = chosen.pick(requested, self.known_choices())
            mine = [
                mistake.replace("at choices/", f"{given_as} ", 1)
                for mistake in mistakes
                if any(mistake.startswith(f"at choices/{choice_id}:") for choice_id in requested)
            ]
            if mine:
                raise ScenarioError("; ".join(mine))
        picked, problems = chosen.pick({**self.choices, **requested}, self.known_choices())
        if problems:
            raise ScenarioError(
                f"scenario {self.name}: choices are not valid:\n" + "\n".join(f"  {p}" for p in problems)
            )
        return dataclasses.replace(self, choices=picked)

    def blocks(self) -> list[Block]:
        """Return every inventory block, countries in file order."""
        return [block for country in self.countries.values() for block in country.blocks]

    def credential_names(self) -> list[str]:
        """Describe the accepted credentials; a user-supplied scenario's secrets are not shown."""
        if self.is_default:
            keys = [f"API key {key!r} (user {user.id})" for key, user in self.api_keys.items()]
            tokens = [f"OAuth token {tok!r} (user {user.id})" for tok, user in self.oauth_tokens.items()]
        else:
            keys = [f"an API key of user {user.id}" for user in self.api_keys.values()]
            tokens = [f"an OAuth token of user {user.id}" for user in self.oauth_tokens.values()]
        return keys + tokens


def _cents(dollars: float) -> int:
    return round(dollars * 100)


def _schema_validator() -> jsonschema_rs.Validator:
    text = resources.files("conformance.mock").joinpath("scenario.schema.yaml").read_text("utf-8")
    return jsonschema_rs.Draft202012Validator(yaml.safe_load(text))


def _check_shape(raw: Any, source: str) -> dict[str, Any]:
    problems = [
        f"  at {'/'.join(str(part) for part in error.instance_path) or '(top level)'}: {error.message}"
        for error in _schema_validator().iter_errors(raw)
    ]
    if problems:
        raise ScenarioError(f"scenario {source} is not valid:\n" + "\n".join(problems))
    return cast("dict[str, Any]", raw)


def _block(country: str, index: int, raw: dict[str, Any], problems: list[str]) -> Block | None:
    """One inventory block, or None with its problems added to `problems`."""
    carrier_type = raw["carrier_type"]
    where = f"countries/{country}/numbers/{index}"
    length = numbers.national_length(country, carrier_type)
    if length is None:
        problems.append(f"  at {where}: {country} has no {carrier_type!r} numbers (phonenumbers)")
        return None
    block = Block(
        id=f"{country}-{index}-{carrier_type}-{raw['prefix']}",
        country=country,
        prefix=raw["prefix"],
        carrier_type=carrier_type,
        sms=bool(raw.get("sms", False)),
        mms=bool(raw.get("mms", False)),
        count=raw["count"],
        price_cents=_cents(raw["price"]),
        carrier=raw.get("carrier", "twilio"),
        length=length,
    )
    if block.mms and not block.sms:
        problems.append(f"  at {where}: offers MMS without SMS (mms: true, sms: false)")
    if inventory.first_number(block, block.prefix) is None:
        problems.append(
            f"  at {where}: no valid {carrier_type} number of {country} starts with prefix {block.prefix!r}; "
            "fix the prefix or the carrier type"
        )
    return block


def _known(kind: str, name: str, value: str, known: dict[str, Any], problems: list[str]) -> bool:
    if value in known:
        return True
    problems.append(f"  at {kind}/{name}: names unknown {value!r}")
    return False


def parse(raw: Any, source: str, *, is_default: bool = False) -> Scenario:
    """Build a Scenario from parsed YAML, or raise ScenarioError listing everything that is wrong."""
    data = _check_shape(raw, source)
    problems: list[str] = []
    organizations = {
        org_id: Organization(org_id, _cents(org["budget"]), bool(org.get("recharge_fails", False)))
        for org_id, org in data["organizations"].items()
    }
    users: dict[str, User] = {
        user_id: User(
            user_id,
            organizations[user["organization"]],
            can_manage_group_numbers=bool(user.get("can_manage_group_numbers")),
            active=bool(user.get("active", True)),
            can_call=bool(user.get("can_call", True)),
        )
        for user_id, user in data["users"].items()
        if _known("users", user_id, user["organization"], organizations, problems)
    }

    def holders(kind: str) -> dict[str, User]:
        return {
            secret: users[user_id]
            for secret, user_id in data["credentials"].get(kind, {}).items()
            if _known(f"credentials/{kind}", "(a secret)", user_id, users, problems)
        }

    api_keys, oauth_tokens = holders("api_keys"), holders("oauth_tokens")
    if not data["credentials"].get("api_keys") and not data["credentials"].get("oauth_tokens"):
        problems.append("  at credentials: none, so every request would get 401")
    bundles = {
        bundle_id: (bundle["organization"], bundle["country"])
        for bundle_id, bundle in data.get("bundles", {}).items()
        if _known("bundles", bundle_id, bundle["organization"], organizations, problems)
    }
    countries = {}
    for code, country in data["countries"].items():
        blocks = [_block(code, index, block, problems) for index, block in enumerate(country["numbers"])]
        countries[code] = Country(
            code, bool(country.get("requires_bundle", False)), tuple(b for b in blocks if b is not None)
        )
    roles = dict(data.get("roles", {}))
    for role, user_id in roles.items():
        _known("roles", role, user_id, users, problems)
    generation = data.get("generation", "today")
    picked, wrong = chosen.pick(
        data.get("choices", {}), chosen.catalogue(contracts.today(), contracts.named(generation))
    )
    problems += [f"  {problem}" for problem in wrong]
    if problems:
        raise ScenarioError(f"scenario {source} is not consistent:\n" + "\n".join(problems))
    rate = data.get("rate_limit")
    return Scenario(
        name=source,
        organizations=organizations,
        users=users,
        api_keys=api_keys,
        oauth_tokens=oauth_tokens,
        bundles=bundles,
        countries=countries,
        rate_limit=RateLimit(rate["limit"], rate.get("window_seconds", 1.0)) if rate else None,
        is_default=is_default,
        generation=generation,
        roles=roles,
        choices=picked,
    )


def default_credentials() -> tuple[str, str]:
    """The default scenario's admin API key and OAuth token (published test values, not secrets)."""
    scenario = load()
    return scenario.api_key_of("admin"), scenario.oauth_token_of("admin")


def load(path: Path | None = None) -> Scenario:
    """Load a scenario file, or the default scenario shipped with the package."""
    if path is None:
        text = resources.files("conformance.mock.scenarios").joinpath(DEFAULT_SCENARIO).read_text("utf-8")
        return parse(yaml.safe_load(text), f"(default) {DEFAULT_SCENARIO}", is_default=True)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ScenarioError(f"cannot read scenario {path}: {error.strerror}") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ScenarioError(f"scenario {path} is not valid YAML: {error}") from None
    return parse(raw, str(path))
