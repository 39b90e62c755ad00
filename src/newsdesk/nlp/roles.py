"""Roles people are given in the text: titles before a name and appositions after it.

"Kremlin spokesman Dmitry Peskov"         -> Dmitry Peskov: Kremlin spokesman   (compound/amod)
"Dmitry Peskov, the Kremlin spokesman,"   -> Dmitry Peskov: Kremlin spokesman   (appos)
"U.S. envoys Steve Witkoff and Jared Kushner" -> both: U.S. envoy              (appos + conj)
"senior officials including Kyrylo Budanov"   -> Kyrylo Budanov: senior official
"""

from __future__ import annotations

from spacy.tokens import Doc, Span, Token

ROLE_WORDS = {
    "president", "vice", "minister", "secretary", "spokesman", "spokeswoman", "spokesperson",
    "aide", "adviser", "advisor", "chief", "envoy", "ambassador", "senator", "sen.", "governor",
    "gov.", "mayor", "chancellor", "king", "queen", "prince", "princess", "pope", "general",
    "gen.", "commander", "director", "ceo", "cfo", "chairman", "chairwoman", "chair", "official",
    "leader", "head", "negotiator", "judge", "justice", "prosecutor", "attorney", "lawyer",
    "representative", "rep.", "speaker", "premier", "diplomat", "analyst", "economist",
    "professor", "prof.", "coach", "manager", "founder", "executive", "officer", "deputy",
    "lieutenant", "lt.", "colonel", "col.", "captain", "capt.", "sergeant", "sgt.", "inspector",
    "commissioner", "candidate", "nominee", "lawmaker", "congressman", "congresswoman", "mp",
    "activist", "author", "reporter", "correspondent", "editor", "actor", "actress", "singer",
    "player", "striker", "admiral", "adm.", "emir", "sheikh", "prime", "foreign", "defense",
    "defence", "treasurer", "sheriff", "detective", "dr.", "doctor", "bishop", "cardinal",
    "rabbi", "imam", "mufti", "ayatollah", "delegate", "member", "spokespeople", "envoys",
    "officials", "leaders", "ministers", "advisers", "advisors", "aides", "chiefs", "vp",
}
# Words the model sometimes folds into a person's name: "VP Kamala Harris", "Mr. Lund".
HONORIFICS = {"mr", "mr.", "mrs", "mrs.", "ms", "ms.", "miss", "sir", "dame", "lord", "lady"}
_NOUN_TAGS = {"NN", "NNS", "NNP", "NNPS"}
_CUT_DEPS = {"relcl", "acl", "punct", "cc", "conj", "prep"}
_TRIM = {"DT", "PRP$", ",", ".", ":", "``", "''", "-LRB-", "-RRB-", "HYPH", "CC", "POS"}
_LISTING = {"including", "like", "namely"}
_MAX_TOKENS = 8


def _is_role_head(tok: Token) -> bool:
    low = tok.lower_
    if low in ROLE_WORDS:
        return True
    # A common noun right before a name is a descriptor ("striker", "suspect", "host").
    return tok.tag_ in ("NN", "NNS") and tok.is_alpha and tok.ent_type_ == ""


def _clean(tokens: list[Token]) -> str | None:
    while tokens and (tokens[0].tag_ in _TRIM or tokens[0].is_punct):
        tokens = tokens[1:]
    while tokens and (tokens[-1].tag_ in _TRIM or tokens[-1].is_punct):
        tokens = tokens[:-1]
    if not tokens or len(tokens) > _MAX_TOKENS:
        return None
    if not any(t.is_alpha for t in tokens):
        return None
    text = "".join(t.text_with_ws for t in tokens).strip()
    return text if len(text) >= 2 else None


def singular(role: str) -> str:
    """Returns the role with its last word made singular ("U.S. envoys" -> "U.S. envoy")."""
    head, _, last = role.rpartition(" ")
    low = last.lower()
    if low.endswith("ies") and len(low) > 4:
        last = last[:-3] + "y"
    elif low.endswith(("sses", "ches", "shes")):
        last = last[:-2]
    elif low.endswith("s") and not low.endswith(("ss", "us", "is")):
        last = last[:-1]
    return f"{head} {last}" if head else last


def _left_modifier_role(ent: Span) -> str | None:
    """Returns the title written before a name: compound/amod children left of it."""
    root = ent.root
    cands = [c for c in root.children if c.i < ent.start and c.dep_ in ("compound", "amod", "nmod")]
    if not cands:
        return None
    head = max(cands, key=lambda c: c.i)
    if head.i != ent.start - 1 or head.ent_type_ == "PERSON" or not _is_role_head(head):
        return None
    if head.tag_ not in _NOUN_TAGS and head.lower_ not in ROLE_WORDS:
        return None
    tokens = [t for t in head.subtree if t.i < ent.start]
    start = min(t.i for t in tokens)
    return _clean(list(ent.doc[start : ent.start]))


def _appos_role(ent: Span) -> str | None:
    """Returns the description set beside a name by apposition, either way round."""
    root = ent.root
    doc = ent.doc
    for child in root.children:
        if child.dep_ == "appos" and child.i > ent.end - 1 and child.ent_type_ != "PERSON":
            if child.tag_ not in _NOUN_TAGS or not _is_role_head(child):
                continue
            tokens = []
            for t in child.subtree:
                if t.i > child.i and t.dep_ in _CUT_DEPS and not (
                    t.dep_ == "prep" and t.lower_ == "of" and t.head.i == child.i
                ):
                    break
                tokens.append(t)
            tokens = [t for t in tokens if t.i <= child.i or t.head.i <= child.i]
            return _clean(tokens[: tokens.index(child) + 1] if child in tokens else tokens)
    head = root.head
    if root.dep_ == "appos" and head.i < ent.start and head.ent_type_ == "" and _is_role_head(head):
        left = [t for t in head.subtree if t.i <= head.i]
        start = min(t.i for t in left)
        return _clean(list(doc[start : head.i + 1]))
    if root.dep_ == "pobj" and head.lower_ in _LISTING:
        noun = head.head
        if noun.tag_ in ("NNS", "NN") and _is_role_head(noun):
            left = [t for t in noun.subtree if t.i <= noun.i]
            start = min(t.i for t in left)
            return _clean(list(doc[start : noun.i + 1]))
    return None


_WALK_TAGS = {"NNP", "NNPS", "NN", "NNS", "JJ", "POS", "HYPH"}


def _pattern_role(ent: Span) -> str | None:
    """Returns the title words right before a name when the parse missed them.

    The word before the name must be a known title ("envoys", "President"); the title runs
    left over nouns, adjectives and names, stopping at determiners, verbs and punctuation.
    """
    doc = ent.doc
    i = ent.start - 1
    if i < 0 or doc[i].lower_ not in ROLE_WORDS or doc[i].ent_type_ == "PERSON":
        return None
    start = i
    while start - 1 >= 0 and ent.start - (start - 1) <= _MAX_TOKENS:
        prev = doc[start - 1]
        if prev.is_sent_end or prev.ent_type_ in ("PERSON", "DATE", "CARDINAL"):
            break
        if prev.tag_ in _WALK_TAGS or prev.ent_type_ in ("GPE", "ORG", "NORP"):
            start -= 1
            continue
        break
    return _clean(list(doc[start : ent.start]))


def find_roles(doc: Doc, people: list[Span]) -> dict[int, str]:
    """Returns {entity start token: role} for the PERSON spans the text gives a role."""
    roles: dict[int, str] = {}
    plural_from: dict[int, str] = {}
    by_root = {ent.root.i: ent for ent in people}
    for ent in people:
        role = _left_modifier_role(ent) or _appos_role(ent) or _pattern_role(ent)
        if role:
            roles[ent.start] = role
            plural_from[ent.root.i] = role
    # Names listed after a plural title share it: "envoys A and B", "officials including A and B".
    for ent in people:
        if ent.start in roles:
            continue
        tok = ent.root
        seen = 0
        while tok.dep_ == "conj" and seen < 6:
            tok = tok.head
            seen += 1
            if tok.i in plural_from and tok.i in by_root:
                role = plural_from[tok.i]
                last = role.rsplit(" ", 1)[-1].lower()
                if last.endswith("s") and not last.endswith("ss"):
                    roles[ent.start] = singular(role)
                break
    # A plural title given to a single name reads singular ("U.S. envoys" -> "U.S. envoy").
    for start, role in list(roles.items()):
        last = role.rsplit(" ", 1)[-1].lower()
        if last.endswith("s") and not last.endswith(("ss", "us", "is")) and last in ROLE_WORDS | {
            w + "s" for w in ROLE_WORDS
        }:
            roles[start] = singular(role)
    return roles
