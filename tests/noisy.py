"""A generated noisy report, shaped like the real ones of issue 14: hundreds of warnings (one
per dropped column of a migration), 100+ analysis limits in dozens of files, a message of
14,664 characters, hundreds of files not analysed, and a few findings that fail the build
among them, one of which is itself long and reaches many consumers."""

from __future__ import annotations

from impact_check.model import Change, Finding, Impact, Location, Report, Severity, Unanalyzed

LONG = 14_664


def _impact(node: str, breaks: bool, hops: int = 2, preexisting: bool = False) -> Impact:
    path = ["raw.orders#amount", *[f"staging.hop_{i}#amount" for i in range(hops)], node]
    return Impact(
        node,
        "view",
        breaks,
        path,
        reason=f"reads {path[-2]}, which does not exist" if breaks else "reads the column",
        file=f"models/{node.replace('.', '/')}.sql",
        preexisting=preexisting,
    )


def noisy_report(failed: bool = True) -> Report:
    """About 800 findings; the failing ones are CO201 on raw.orders and raw.payments (the
    second with a 14,664-character message, 40 breaking consumers with long paths and 60
    affected) and one TB108."""
    changes: list[Change] = []
    findings: list[Finding] = []
    drop = Change(
        "C0",
        "column_dropped",
        "raw.orders",
        "amount",
        "INT",
        None,
        Location("migrations/V40__big.sql", 3),
    )
    changes.append(drop)
    findings.append(
        Finding(
            "CO201",
            "column-dropped",
            Severity.ERROR,
            "column raw.orders.amount dropped; 2 consumers break",
            drop,
            drop.location,
            [
                _impact("mart.revenue", True),
                _impact("mart.margin", True, 1),
                _impact("mart.legacy", True, 1, preexisting=True),
                _impact("mart.audit", False),
            ],
            help="Deprecate first.",
        )
    )
    wide = Change(
        "C1",
        "column_dropped",
        "raw.payments",
        "method",
        "TEXT",
        None,
        Location("migrations/V40__big.sql", 9),
    )
    changes.append(wide)
    words = " ".join(f"mart.consumer_{i}.method" for i in range(2000))
    message = ("column raw.payments.method dropped; read by " + words)[:LONG]
    breaking = [_impact(f"mart.wide_{i:03d}", True, hops=12) for i in range(40)]
    affected = [_impact(f"mart.aff_{i:03d}", False) for i in range(60)]
    findings.append(
        Finding(
            "CO201",
            "column-dropped",
            Severity.ERROR,
            message,
            wide,
            wide.location,
            breaking + affected,
            help="Deprecate first.",
        )
    )
    findings.append(
        Finding(
            "TB108",
            "consumer-unbound",
            Severity.ERROR,
            "mart.fresh reads raw.orders.amount, which does not exist",
            None,
            Location("models/mart/fresh.sql", 1),
        )
    )
    for i in range(430):  # one per column of the tables a migration drops
        table = f"raw.table_{i % 12:02d}"
        change = Change(
            f"D{i}",
            "column_dropped",
            table,
            f"col_{i}",
            "INT",
            None,
            Location("migrations/V41__drop_legacy.sql", i + 1),
        )
        changes.append(change)
        findings.append(
            Finding(
                "CO201",
                "column-dropped",
                Severity.WARNING,
                f"column {table}.col_{i} dropped; no known consumer",
                change,
                change.location,
                help="Deprecate first.",
            )
        )
    for i in range(104):
        text = f"cannot parse SQL near 'FUNCTION' (statement {i})"
        if i == 7:
            text = "unsupported statement: " + "x" * LONG
        findings.append(
            Finding(
                "AN901",
                "sql-unparseable",
                Severity.WARNING,
                text,
                None,
                Location(f"migrations/functions/f{i % 40:02d}.sql", i + 1),
            )
        )
    # A break the project chose not to block on (rule demoted to warning) and a suppressed
    # error: consumers that break under them must not read "BREAKS".
    demoted = Change(
        "C2",
        "column_renamed",
        "raw.refunds",
        "reason",
        "reason",
        "cause",
        Location("migrations/V42__rename.sql", 1),
    )
    changes.append(demoted)
    findings.append(
        Finding(
            "CO202",
            "column-renamed",
            Severity.WARNING,
            "column raw.refunds.reason renamed to cause; 1 consumer breaks",
            demoted,
            demoted.location,
            [_impact("mart.refund_reasons", True)],
        )
    )
    findings.append(
        Finding(
            "TB101",
            "table-dropped",
            Severity.ERROR,
            "table raw.old dropped; 1 consumer breaks",
            None,
            Location("migrations/V43__drop_old.sql", 1),
            [_impact("mart.old_report", True)],
            suppressed="ignored by config: retired",
        )
    )
    for i in range(200):
        findings.append(
            Finding(
                "TY303",
                "type-widened",
                Severity.INFO,
                f"column raw.t.c{i} INT -> BIGINT",
                None,
                Location("migrations/V44__widen.sql", i + 1),
            )
        )
    unanalyzed = [
        Unanalyzed(f"macros/m{i:03d}.sql", "Jinja outside a dbt project") for i in range(250)
    ]
    unanalyzed += [
        Unanalyzed(f"big/f{i}.sql", "file is 9,000,000 bytes, over limits.max_file_bytes")
        for i in range(3)
    ]
    unanalyzed.append(Unanalyzed("odd.sql", "y" * 5000, 3))
    unanalyzed += [Unanalyzed(f"r{i}.sql", f"reason number {i}") for i in range(15)]
    return Report(
        "a" * 40, "b" * 40, changes, findings, unanalyzed, failed=failed, files_changed=61
    )
