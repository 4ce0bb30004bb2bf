"""ML: features and models as typed consumers (Feast feature views, MLflow model versions).

Which changes they cover and how the analysis finds them: impact_check/ml.py.
"""

from __future__ import annotations

from impact_check.model import Severity as S
from impact_check.rules.base import Rule

RULES = [
    Rule(
        "ML701",
        "feature-source-column-broken",
        S.ERROR,
        "A column that a feature or a model signature reads was dropped, renamed or broken.",
        "The feature (and every feature service and model version that uses it) fails to "
        "materialise or to score. Keep the column (or a compatibility view) until the feature "
        "views and models listed moved, then retrain and re-register.",
        breaking=True,
    ),
    Rule(
        "ML702",
        "feature-dtype-mismatch",
        S.WARNING,
        "A column's new type no longer matches the declared Feast dtype or MLflow signature.",
        "An incompatible type breaks the feature or model (schema enforcement rejects it); a "
        "wider or narrower one changes what it is fed. Update the Feast Field dtype or "
        "retrain with the new type and log a new signature, or cast back in the SQL.",
        breaking=True,
    ),
    Rule(
        "ML703",
        "entity-key-or-timestamp-changed",
        S.ERROR,
        "A column a feature view uses as entity join key or event timestamp changed.",
        "Every feature of the view is joined or point-in-time filtered through it: online "
        "lookups and training sets silently change or fail. Keep the key column as it was "
        "and add a new one; migrate the feature view explicitly.",
    ),
]
