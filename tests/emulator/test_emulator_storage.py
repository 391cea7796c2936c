"""The SQLite storage on its own: overwrite rule, processing order, threads, temporary files."""

from __future__ import annotations

import threading

from pywats_emulator.storage import Storage

HEADER = {
    "type": "T", "sn": "SN", "pn": "PN", "rev": "A", "process_code": 10, "result": "P",
    "start": "2024-01-01T00:00:00+00:00", "start_utc": "2024-01-01T00:00:00.000000Z",
}  # fmt: skip


def test_same_id_replaces_in_place(tmp_path) -> None:
    storage = Storage(tmp_path / "s.db")
    first = storage.store_report("a", HEADER, "{}", "WSJF", "t1")
    storage.store_report("b", HEADER, "{}", "WSJF", "t1")
    again = storage.store_report("a", dict(HEADER, result="F"), '{"x": 1}', "WSXF", "t2")
    assert again.report_no == first.report_no and again.receive_count == 2
    assert again.timestamp > first.timestamp
    assert storage.store_report("B", HEADER, "{}", "WSJF", "t3").receive_count == 2  # GUIDs ignore case
    row = storage.get_report("A")
    assert (row["result"], row["body"], row["format"], row["first_received"], row["received"]) == (
        "F", '{"x": 1}', "WSXF", "t1", "t2"
    )
    assert storage.count_reports() == 2
    storage.close()


def test_processing_order_keeps_growing_after_a_clear(tmp_path) -> None:
    storage = Storage(tmp_path / "s.db")
    before = storage.store_report("a", HEADER, "{}", "WSJF", "t").timestamp
    assert storage.clear_reports() == 1
    assert storage.store_report("a", HEADER, "{}", "WSJF", "t").timestamp > before
    storage.close()


def test_threads_each_get_a_connection_and_writes_serialise(tmp_path) -> None:
    storage = Storage(tmp_path / "s.db")
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for index in range(25):
                storage.store_report(f"{worker}-{index % 5}", HEADER, "{}", "WSJF", "t")
                storage.recent_reports(5)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert storage.count_reports() == 8 * 5
    counts = {row["receive_count"] for row in storage.read("SELECT receive_count FROM reports")}
    assert counts == {5}
    timestamps = [row[0] for row in storage.read("SELECT timestamp FROM reports")]
    assert len(set(timestamps)) == len(timestamps)
    storage.close()


def test_temporary_database_is_deleted_on_close() -> None:
    storage = Storage(":memory:")
    assert storage.is_temporary and storage.path.exists()
    storage.store_report("a", HEADER, "{}", "WSJF", "t")
    storage.close()
    assert not storage.path.exists()


def test_other_domains_add_their_tables(tmp_path) -> None:
    storage = Storage(tmp_path / "s.db")
    storage.ensure_schema("CREATE TABLE IF NOT EXISTS assets (sn TEXT PRIMARY KEY, count INTEGER NOT NULL)")
    with storage.write() as connection:
        connection.execute("INSERT INTO assets VALUES (?, ?)", ("FX-1", 3))
    assert storage.read("SELECT count FROM assets WHERE sn = ?", ("FX-1",))[0][0] == 3
    assert storage.read("PRAGMA journal_mode")[0][0] == "wal"
    storage.close()
