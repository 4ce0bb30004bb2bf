"""``junit``: one test case per finding; blocking findings fail, suppressed ones are skipped."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from impact_check.model import Report
from impact_check.report.common import consumer_text, location_text, xml_safe


def render(report: Report) -> str:
    threshold = {"error": 3, "warning": 2, "never": 99}[report.fail_on]
    suite = ET.Element("testsuite", name="impact-check", tests=str(len(report.findings)))
    failures = skipped = 0
    for finding in report.findings:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"{finding.rule}.{finding.name}",
            name=f"{location_text(finding) or '-'}: {finding.message}"[:300],
            file=finding.location.file if finding.location else "",
        )
        consumers = "\n".join(
            f"{'BREAKS' if i.breaks else 'affected'} {consumer_text(i)}: {' -> '.join(i.path)}"
            for i in finding.impacted
        )
        if finding.suppressed:
            ET.SubElement(case, "skipped", message=finding.suppressed)
            skipped += 1
        elif finding.severity.rank >= threshold:
            failure = ET.SubElement(
                case, "failure", message=finding.message, type=finding.severity.value
            )
            failure.text = consumers or finding.help
            failures += 1
        elif consumers:
            ET.SubElement(case, "system-out").text = consumers
    suite.set("failures", str(failures))
    suite.set("skipped", str(skipped))
    for element in suite.iter():  # repository text may hold characters XML 1.0 forbids
        element.attrib = {k: xml_safe(v) for k, v in element.attrib.items()}
        if element.text:
            element.text = xml_safe(element.text)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"
