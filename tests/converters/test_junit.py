"""The JUnit XML converter on the project's own pytest, Surefire, Google Test and CTest style files."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from converter_support import CONTEXT, FIXTURES, convert

from pywats_client.converters import ConversionError, SourceFile, load_converter_class

JUNIT = FIXTURES / "junit"


def _steps(step) -> dict:
    return {child.name: child for child in step.steps}


def _convert_text(text: str, **arguments):
    source = SourceFile(Path("results.xml"), text.encode())
    return load_converter_class("junit")(arguments).convert(source, CONTEXT)


def test_pytest_file_header_from_properties() -> None:
    (report,) = convert("junit", JUNIT / "pytest_firmware_fail.xml")
    assert (report.sn, report.pn, report.rev, report.process_code) == ("FW-BOARD-0042", "CTRL-200", "B", 110)
    assert report.start == datetime(2024, 6, 1, 14, 3, 12, 512345, tzinfo=timezone(timedelta(hours=2)))
    assert report.machine_name == "ci-runner-3"
    assert report.uut.exec_time == pytest.approx(2.412)
    assert report.result == "E"  # an <error> (setup failure) outranks a <failure>
    assert report.misc_infos == []


def test_pytest_file_step_tree() -> None:
    (report,) = convert("junit", JUNIT / "pytest_firmware_fail.xml")
    assert report.root.name == "pytest tests"
    (suite,) = report.root.steps
    assert (suite.name, suite.status, suite.tot_time) == ("pytest", "E", pytest.approx(2.412))
    groups = _steps(suite)  # classnames differ from the suite's name: one sequence each
    assert list(groups) == ["tests.test_boot.TestBoot", "tests.test_uart"]
    boot = _steps(groups["tests.test_boot.TestBoot"])
    assert boot["test_boot_banner"].status == "P" and boot["test_boot_banner"].tot_time == pytest.approx(0.12)
    watchdog = boot["test_watchdog"]
    assert watchdog.step_type == "ET_PFT" and watchdog.status == "F"
    assert watchdog.boolean_meas[0].status == "F"
    assert watchdog.error_message == "AssertionError: watchdog fired after 1.2 s, expected 2.0 s"
    assert "tests/test_boot.py:31: AssertionError" in watchdog.report_text
    assert "--- system-out ---\nkicking watchdog" in watchdog.report_text
    uart = _steps(groups["tests.test_uart"])
    assert uart["test_echo[115200]"].report_text == "bytes = 4096"
    setup = uart["test_echo[921600]"]
    assert setup.status == "E" and setup.error_message.startswith("failed on setup with")
    skipped = uart["test_flow_control"]
    assert skipped.status == "S" and skipped.boolean_meas[0].status == "S"
    assert skipped.report_text.startswith("pytest.skip: RTS/CTS not wired")


def test_legacy_pytest_root_testsuite_and_default_serial() -> None:
    (report,) = convert("junit", JUNIT / "pytest_legacy_pass.xml")
    assert (report.sn, report.pn, report.rev, report.result) == ("pytest-20240602T091500", "pytest", "1", "P")
    assert report.start.replace(tzinfo=None) == datetime(2024, 6, 2, 9, 15, 0, 1)  # local time, localized
    (suite,) = report.root.steps
    (module,) = suite.steps
    assert module.name == "test_sensor" and [step.name for step in module.steps] == [
        "test_i2c_probe", "test_temperature_range", "test_calibration_crc"]  # fmt: skip


def test_surefire_files() -> None:
    (passed,) = convert("junit", JUNIT / "surefire_pass.xml")
    assert (passed.sn, passed.pn, passed.result) == ("GW-7731", "com.example.gateway.ProtocolTest", "P")
    (suite,) = passed.root.steps
    steps = _steps(suite)  # classname equals the suite's name: no extra level
    assert list(steps) == ["parsesHeader", "rejectsBadCrc", "roundTrip"]
    assert steps["roundTrip"].status == "P"
    flaky = "flaky failure: java.util.concurrent.TimeoutException: timeout after 100 ms"
    assert steps["roundTrip"].report_text == flaky
    (failed,) = convert("junit", JUNIT / "surefire_fail.xml")
    assert (failed.sn, failed.result) == ("GW-7732", "F")
    assert failed.uut.exec_time == pytest.approx(1204.5)  # "1,204.5": Surefire's thousands separator
    signs = _steps(failed.root.steps[0])["signsPayload"]
    assert signs.status == "F" and signs.tot_time == pytest.approx(1200.25)
    assert signs.error_message == "org.opentest4j.AssertionFailedError: expected: <0x1F> but was: <0x00>"
    assert "key slot 3 loaded" in signs.report_text


def test_gtest_file() -> None:
    (report,) = convert("junit", JUNIT / "gtest_fail.xml")
    assert (report.sn, report.pn, report.result) == ("AllTests-20240603T080000", "AllTests", "F")
    suites = _steps(report.root)
    assert list(suites) == ["RingBufferTest", "CrcTest"]
    ring = _steps(suites["RingBufferTest"])
    assert ring["PushPop"].status == "P"
    assert ring["Overflow"].status == "F"
    assert ring["Overflow"].error_message.startswith("ring_test.cc:31 Expected equality of these values:")
    assert ring["DISABLED_Resize"].status == "S"  # status="notrun": a disabled test
    assert ring["PushPop"].start.replace(tzinfo=None) == datetime(2024, 6, 3, 8, 0, 0, 1000)
    assert suites["CrcTest"].status == "P"


def test_ctest_file() -> None:
    (report,) = convert("junit", JUNIT / "ctest_pass.xml")
    assert (report.sn, report.result) == ("build-host-Linux-c++-20240604T102030", "P")
    assert report.machine_name == "build-host"
    steps = _steps(report.root.steps[0])  # classname equals the test's name: no extra level
    assert list(steps) == ["unit_math", "unit_parser", "hw_loopback"]
    assert steps["hw_loopback"].status == "S"
    assert steps["unit_math"].tot_time == pytest.approx(0.0123)


def test_arguments_with_placeholders_and_misc_infos() -> None:
    (report,) = convert("junit", JUNIT / "pytest_firmware_fail.xml", serial_number="{serial_number}/{date}",
                        part_number="FW-{part_number}", revision="{firmware}", misc_info_properties=["firmware"],
                        process_code=10)  # fmt: skip
    assert (report.sn, report.pn, report.rev, report.process_code) == (
        "FW-BOARD-0042/2024-06-01", "FW-CTRL-200", "4.1.0-rc2", 10)  # fmt: skip
    assert [(item.description, item.text) for item in report.misc_infos] == [("firmware", "4.1.0-rc2")]
    (report,) = convert("junit", JUNIT / "surefire_pass.xml", misc_info_properties=["*"], serial_number="{file}")
    assert report.sn == "surefire_pass" and len(report.misc_infos) == 4


def test_one_report_per_testsuite() -> None:
    reports = convert("junit", JUNIT / "gtest_fail.xml", report_per="testsuite")
    assert [(r.sn, r.pn, r.result) for r in reports] == [
        ("RingBufferTest-20240603T080000", "RingBufferTest", "F"),
        ("CrcTest-20240603T080000", "CrcTest", "P"),
    ]
    assert [step.name for step in reports[0].root.steps] == ["PushPop", "Overflow", "DISABLED_Resize"]
    assert reports[0].id != reports[1].id


def test_nested_testsuites_and_options() -> None:
    text = """<testsuites name="all"><testsuite name="outer" time="2">
      <testsuite name="inner" time="1"><testcase name="a" classname="x.Y"/></testsuite>
      <testcase name="b"><system-out>noise</system-out></testcase></testsuite></testsuites>"""
    (report,) = _convert_text(text, group_by_classname=False, include_output=False, serial_number="S1")
    (outer,) = report.root.steps
    assert [step.name for step in outer.steps] == ["inner", "b"]
    assert [step.name for step in outer.steps[0].steps] == ["a"]
    assert outer.steps[1].report_text is None


# -- validate ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(JUNIT.glob("*.xml")), ids=lambda path: path.name)
def test_validate_claims_junit_files(path: Path) -> None:
    assert load_converter_class("junit")().validate(SourceFile.read(path)) >= 0.8


def test_validate_refuses_other_files() -> None:
    converter = load_converter_class("junit")()
    wsxf = b'<?xml version="1.0"?><Reports xmlns="http://wats.virinco.com/schemas/WATS/Report/wsxf"><Report/></Reports>'
    assert converter.validate(SourceFile(Path("r.xml"), wsxf)) <= 0.2
    assert converter.validate(SourceFile.read(FIXTURES / "openhtf" / "power_board_pass.json")) <= 0.2
    assert converter.validate(SourceFile(Path("c.xml"), b"<!-- <testsuite> --><UnitReport/>")) <= 0.2


# -- errors --------------------------------------------------------------------------------------------


def test_serial_placeholder_without_value_is_refused_naming_it() -> None:
    with pytest.raises(ConversionError, match=r"\{board_sn\}") as caught:
        convert("junit", JUNIT / "surefire_pass.xml", serial_number="{board_sn}")
    assert caught.value.field == "serial_number"


def test_empty_serial_is_refused() -> None:
    with pytest.raises(ConversionError, match="no serial number"):
        _convert_text('<testsuite name="s"><properties><property name="p" value=" "/></properties>'
                      '<testcase name="a"/></testsuite>', serial_number="{p}")  # fmt: skip


@pytest.mark.parametrize(("text", "message", "where"), [
    ("<testsuites><testsuite name='s'><testcase name='a'>", "not well-formed", None),
    ("<testsuites/>", "no <testsuite>", "testsuites"),
    ("<testrun><testcase name='a'/></testrun>", "root element is <testrun>", None),
    ("<testsuite name='s'><testcase time='1'/></testsuite>", "testcase has no name", "testsuite[1]/testcase[1]"),
    ("<testsuite name='s'><testcase name='a' time='fast'/></testsuite>", "not a number", "testsuite[1]/testcase[1]"),
    ("<testsuite name='s' timestamp='monday'><testcase name='a'/></testsuite>", "ISO 8601", "testsuite"),
])  # fmt: skip
def test_malformed_files(text: str, message: str, where: str | None) -> None:
    with pytest.raises(ConversionError, match=message) as caught:
        _convert_text(text)
    assert caught.value.element == where


def test_broken_xml_names_the_line() -> None:
    with pytest.raises(ConversionError) as caught:
        _convert_text("<testsuite name='s'>\n<testcase name='a'>\n</testsuite>")
    assert caught.value.line == 3
