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

RULES += [
    Rule(
        "ML704",
        "schema-feature-column-missing",
        S.ERROR,
        "A column a required feature of a TFX/TFDV schema reads was dropped or renamed.",
        "TFDV reports the column missing and the pipeline's validation fails. Update "
        "schema.pbtxt with the change (remove the feature, or lower its presence), or keep "
        "the column until the pipeline moved.",
        breaking=True,
    ),
    Rule(
        "ML705",
        "schema-feature-type-changed",
        S.ERROR,
        "A column's new type no longer matches its feature's type in a TFX/TFDV schema "
        "(INT, FLOAT, BYTES).",
        "TFDV reports an unexpected type. Keep the column's type family (cast in a view), or "
        "update the feature's type in schema.pbtxt and retrain.",
        breaking=True,
    ),
]
