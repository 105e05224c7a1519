"""The shadow record file: whole lines, size rotation like logging's RotatingFileHandler."""
from __future__ import annotations

import asyncio

import orjson

from proxy.shadow.record_file import RecordFile


def test_lines_rotate_by_size_and_stay_whole(tmp_path):
    records = RecordFile(tmp_path / "shadow-records.jsonl", max_bytes=100, backups=2)
    for i in range(30):
        records.append(orjson.dumps({"i": i, "pad": "x" * 16}, option=orjson.OPT_APPEND_NEWLINE))
    records.close()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["shadow-records.jsonl", "shadow-records.jsonl.1", "shadow-records.jsonl.2"]
    newest = [orjson.loads(line)["i"] for line in (tmp_path / "shadow-records.jsonl").read_bytes().splitlines()]
    assert newest[-1] == 29 and all(len(p.read_bytes()) <= 100 for p in tmp_path.iterdir())


async def test_lines_of_one_loop_step_are_written_at_its_end(tmp_path):
    path = tmp_path / "shadow-records.jsonl"
    records = RecordFile(path)
    records.append(b'{"a": 1}\n')
    records.append(b'{"a": 2}\n')
    assert path.read_bytes() == b""
    await asyncio.sleep(0)
    assert path.read_bytes() == b'{"a": 1}\n{"a": 2}\n'
    records.close()
