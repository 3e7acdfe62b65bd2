"""Duplicate contacts: two contacts of the same type whose names are alike.

Names are normalised (case, punctuation, "the", and company suffixes such as Ltd, Limited,
LLP, plc dropped) and compared with rapidfuzz's `token_sort_ratio` (0–100). The levels are
score floors: Strict 95, Close 88 (the default), Similar 80, Rough 70. "Same type" means
both customers or both suppliers (or neither flag set on both).

Comparing every pair of 10,000 contacts is 50 million comparisons, so names are compared
only within a block sharing the first two letters of their normalised name (a typo in the
first two letters is missed; that is the price of staying fast). Within a block rapidfuzz
scores each name against the later ones in C (`process.extract`). The contacts are read
with one query of (id, name, flags); this check uses no trigram index, so it runs alike on
SQLite and PostgreSQL. One finding per pair: "contacts:4,17".
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections import defaultdict

from rapidfuzz import fuzz, process

from checks.models import Finding, LedgerContact
from checks.rules.base import MAX_FINDINGS, Check, FindingData, Rules, ledger

LEVELS = {"strict": 95, "close": 88, "similar": 80, "rough": 70}
_SUFFIXES = {"ltd", "limited", "llp", "plc", "inc", "co", "company", "uk", "the", "and"}
_PUNCTUATION = re.compile(r"[^\w\s]+")


@dataclasses.dataclass(frozen=True)
class DuplicateContactRules(Rules):
    level: str = "close"

    def errors(self) -> dict[str, list[str]]:
        if self.level not in LEVELS:
            return {"level": ["Choose strict, close, similar or rough."]}
        return {}


def normalise(name: str) -> str:
    """Return the name as compared: lower case, no punctuation, no company suffixes."""
    words = _PUNCTUATION.sub(" ", name.replace("&", " and ").lower()).split()
    kept = [w for w in words if w not in _SUFFIXES]
    return " ".join(kept or words)


def _kind(is_customer: bool, is_supplier: bool) -> set[str]:
    kinds = {k for k, on in (("customer", is_customer), ("supplier", is_supplier)) if on}
    return kinds or {"none"}


def run(client, rules: DuplicateContactRules, today: dt.date) -> list[FindingData]:
    floor = LEVELS[rules.level]
    contacts = list(
        ledger(LedgerContact, client)
        .filter(archived=False)
        .order_by("id")
        .values_list("id", "name", "is_customer", "is_supplier")
    )
    blocks: dict[str, list[tuple[int, str, str, set[str]]]] = defaultdict(list)
    for pk, name, customer, supplier in contacts:
        norm = normalise(name)
        key = norm.replace(" ", "")[:2]
        if key:
            blocks[key].append((pk, name, norm, _kind(customer, supplier)))
    findings = []
    for members in blocks.values():
        if len(members) < 2:
            continue
        norms = [m[2] for m in members]
        for i, a in enumerate(members[:-1]):
            later = norms[i + 1 :]
            hits = process.extract(
                a[2], later, scorer=fuzz.token_sort_ratio, score_cutoff=floor, limit=None
            )
            for _, score, offset in hits:
                b = members[i + 1 + offset]
                if not (a[3] & b[3]):
                    continue
                findings.append(
                    FindingData(
                        fingerprint=f"contacts:{a[0]},{b[0]}",
                        severity=Finding.Severity.AMBER,
                        title=f"“{a[1]}” and “{b[1]}” may be the same contact",
                        detail=f"Names {round(score)} % alike ({rules.level} or closer).",
                        rows={"checks.ledgercontact": [a[0], b[0]]},
                    )
                )
            if len(findings) > MAX_FINDINGS:
                return findings
    return sorted(findings, key=lambda f: f.fingerprint)


CHECK = Check(
    key="duplicate_contacts",
    name="Duplicate contacts",
    description=(
        "Pairs of contacts of the same type whose names are alike (Strict, Close — the "
        "default —, Similar or Rough), ignoring case, punctuation and Ltd / Limited."
    ),
    weight=6,
    rules_class=DuplicateContactRules,
    run=run,
)
