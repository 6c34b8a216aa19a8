"""DLP and WAF sensors (NvDlpSecurityRule, NvWafSecurityRule) as the controller checks them.

Read from neuvector/neuvector at 1b8b707: ``parseCurCrdDlpContent``/``parseCurCrdWafContent``
(controller/rest/crdsecurityrule.go), ``validateDlpRuleConfig``/``wildCardToRegexp``
(controller/rest/dlp_rule.go), ``validateWafRuleConfig`` (controller/rest/waf_rule.go), the limits
in controller/api/apis.go and the sensors kv/create.go creates on every cluster.

Patterns are compiled with PCRE (the controller links libpcre through golang-pkg-pcre, flags 0).
Here the ``pcre2`` wheel stands in for it: PCRE2 and PCRE1 share their syntax but for a few
rarely used escapes, so a pattern is judged as NeuVector judges it in all but those corner cases.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class SensorKind:
    """What differs between the two sensor kinds."""

    label: str  # how the controller's messages name a rule: "dlp rule …", "waf rule …"
    reserved: str  # the default sensor, which no CR may name
    wildcards: bool  # DLP converts wildcards before compiling; WAF compiles as written
    min_pattern_bytes: int  # WAF refuses an empty pattern, DLP accepts it


DLP = SensorKind("dlp", "sensor.dlpdfltnv", True, 0)
WAF = SensorKind("waf", "sensor.wafdfltnv", False, 1)
KINDS = {"NvDlpSecurityRule": DLP, "NvWafSecurityRule": WAF}

# Created with Predefine: true on every cluster (kv/create.go); a CR of that name is refused.
PREDEFINED_DLP = frozenset({"sensor.ssn", "sensor.creditcard"})
# Created as ordinary user sensors (Predefine: false): a CR of that name replaces the built-in one.
BUILTIN_WAF = frozenset({"sensor.log4shell", "sensor.spring4shell"})

COMMENT_MAX_BYTES = 256  # api.DlpRuleCommentMaxLen
RULE_NAME_MAX_BYTES = 256  # api.DlpRuleNameMaxLen
PATTERNS_MAX = 16  # api.DlpRulePatternMaxNum
PATTERN_MAX_BYTES = 512  # api.DlpRulePatternMaxLen
PATTERNS_TOTAL_MAX_BYTES = 1024  # api.DlpRulePatternTotalMaxLen
REGEX_OPS = ("regex", "!regex")  # the only ops whose patterns are checked (and the CRD's only ops)

# isObjectNameValid: sensor and sensor-rule names.
OBJECT_NAME = re.compile(r"[a-zA-Z0-9]+[.:a-zA-Z0-9_-]*")
# regPattern/regWafPattern: a pattern made of dots then one star matches everything and is refused.
_MATCH_ALL = re.compile(r"\.*\*")
# Go's \s in RE2 is ASCII whitespace only (no \v).
_GO_SPACE = frozenset("\t\n\f\r ")


def name_valid(name: str) -> bool:
    return OBJECT_NAME.fullmatch(name) is not None


def _wildcard_anchor(char: str) -> bool:
    """Go's ``\\pL|\\pN|\\s``: what may precede a wildcard that is converted."""
    return char in _GO_SPACE or unicodedata.category(char)[0] in "LN"


def _replace(match: str) -> str:
    """The controller's replacement, byte for byte (it indexes the match as bytes)."""
    data = match.encode()
    if len(data) == 1:
        return {"*": ".*", "?": "."}.get(match, match)
    first, second = chr(data[0]), chr(data[1])
    if len(data) == 2:
        if second == "*":
            return first + ".*"
        if second == "?":
            return ".*" if first == "?" else first + "."
        return match
    if second == "?":
        return ".*" if first == "?" else first + ".*"
    return match


def wildcard_to_regexp(pattern: str) -> str:
    """``wildCardToRegexp``: ``(^|\\pL|\\pN|\\s)(\\?+|\\*)`` matches, leftmost first, replaced as NeuVector does.

    ``*``/``?`` at the start or after a letter, digit or space become ``.*``/``.``; a run of ``?``
    becomes ``.*``. Anything else (``\\d*``, ``)?``) is left as regex syntax.
    """
    out: list[str] = []
    index, size = 0, len(pattern)
    while index < size:
        start = index
        if index == 0 and pattern[0] in "?*":
            lead = 0
        elif _wildcard_anchor(pattern[index]) and index + 1 < size and pattern[index + 1] in "?*":
            lead = 1
        else:
            out.append(pattern[index])
            index += 1
            continue
        end = start + lead
        if pattern[end] == "*":
            end += 1
        else:
            while end < size and pattern[end] == "?":
                end += 1
        out.append(_replace(pattern[start:end]))
        index = end
    return "".join(out)


@lru_cache(maxsize=4096)  # bounded: patterns come from the files being validated
def pcre_error(pattern: str) -> str | None:
    """PCRE's message when ``pattern`` does not compile (as bytes, no UTF mode, like the controller), else None."""
    import pcre2  # type: ignore[import-untyped]  # on first use: its import costs every start tens of ms

    try:
        pcre2.compile(pattern.encode())
    except Exception as error:  # pcre2 raises its own LibraryError subclasses; any failure is a refusal
        return str(error)
    return None


def matches_everything(converted: str) -> bool:
    return _MATCH_ALL.fullmatch(converted) is not None
