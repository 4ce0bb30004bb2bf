"""DQ: data-quality checks (Great Expectations expectations, …) as consumers of columns.

Which changes they cover and how the analysis finds them: impact_check/dq.py.
"""

from __future__ import annotations

from impact_check.model import Severity as S
from impact_check.rules.base import Rule

RULES = [
    Rule(
        "DQ801",
        "expectation-column-missing",
        S.ERROR,
        "A column or table an expectation checks was dropped or renamed (or its query asset "
        "no longer runs).",
        "The checkpoint errors on that expectation and the suite fails. Move or remove the "
        "expectation in the same pull request (suites are read at head), or keep the column "
        "until the suite has moved.",
        breaking=True,
    ),
    Rule(
        "DQ802",
        "expectation-type-rejected",
        S.ERROR,
        "A column's new type is one an expectation no longer accepts (its type check, a "
        "numeric range on a column that became text, a value set of another family).",
        "Update the expectation's type_/type_list, bounds or value set with the change, or "
        "keep the column's type (cast in a view for the new consumers).",
        breaking=True,
    ),
    Rule(
        "DQ803",
        "expectation-schema-pinned",
        S.ERROR,
        "An expectation pins the table's columns (exact set, ordered list, column count) and "
        "they change: even an added column fails it.",
        "Update the pinned column set, list or count in the same pull request, or use "
        "`exact_match: false` if new columns are acceptable.",
        breaking=True,
    ),
    Rule(
        "DQ819",
        "consumer-definition-unreadable",
        S.WARNING,
        "A consumer definition the repository carries (an expectation suite, a DVC file, a "
        "TFX schema) could not be read.",
        "The file and line are named; its checks are not analysed. Fix the file (valid "
        "JSON/YAML/text proto, within the limits) or exclude it with `discover.exclude`. "
        "Error under --strict.",
    ),
]
