"""junit.xml: one testcase per check, so CI systems show each runbook step."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from harness.report.model import TIME_ORIGIN, RunReport


def render_junit(report: RunReport) -> str:
    failures, errors = len(report.failed_checks), len(report.unknown_checks)
    suite = ET.Element(
        "testsuite",
        name=f"redis-drill.{report.scenario}",
        tests=str(len(report.checks)),
        failures=str(failures),
        errors=str(errors),
        time=f"{report.wall_time_s:.3f}",
    )
    properties = ET.SubElement(suite, "properties")
    ET.SubElement(properties, "property", name="time_origin", value=TIME_ORIGIN)
    for fault in report.faults:
        ET.SubElement(properties, "property", name=f"fault {fault.index}", value=fault.text)
    for check in report.checks:
        case = ET.SubElement(
            suite, "testcase", classname=f"{report.scenario}.{check.source}", name=check.name, time="0"
        )
        detail = f"measured {check.measured} {check.unit}, bound {check.bound} {check.unit}: {check.evidence}"
        if check.passed:
            ET.SubElement(case, "system-out").text = detail
        elif check.unknown:  # the check could not judge: an error in JUnit's terms, not a failure
            ET.SubElement(
                case, "error", message=f"{check.name} could not judge", type="Unknown"
            ).text = detail
        else:
            ET.SubElement(case, "failure", message=f"{check.name} failed", type="CheckFailed").text = detail
    suites = ET.Element("testsuites")
    suites.append(suite)
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
