"""Streaming readers: rows come out one at a time with their 1-based line number in the file."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from powerdesk.core.exceptions import ApplicationError

_SNIFF_BYTES = 1 << 20


@dataclass
class SourceRow:
    number: int  # line in a CSV (header is line 1), row index + 1 in Parquet
    values: dict[str, str]


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) or GB18030 (a superset of GBK, what Excel on Chinese Windows
    writes). Decided on the first MiB; a later bad byte is still reported with its row."""
    head = path.read_bytes()[:_SNIFF_BYTES] if path.stat().st_size <= _SNIFF_BYTES else _read_head(path)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 4:  # cut in the middle of a character at the sniff boundary
            return "utf-8"
    try:
        head.decode("gb18030")
    except UnicodeDecodeError:
        raise ApplicationError(
            "unknown_encoding", f"{path.name}: 无法识别文件编码（既不是 UTF-8 也不是 GBK）。"
        ) from None
    return "gb18030"


def _read_head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(_SNIFF_BYTES)


def read_rows(
    path: Path, *, required: list[str], encoding: str | None = None
) -> tuple[list[str], Iterator[SourceRow]]:
    """Open ``path`` (CSV or Parquet); check the header; return (columns, row iterator)."""
    if not path.exists():
        raise ApplicationError("file_not_found", f"文件不存在：{path}")
    if path.suffix.lower() == ".parquet":
        columns, rows = _parquet_rows(path)
    else:
        columns, rows = _csv_rows(path, encoding or detect_encoding(path))
    missing = [name for name in required if name not in columns]
    if missing:
        raise ApplicationError(
            "missing_columns", f"{path.name}: 缺少必需的列：{', '.join(missing)}", extra={"missing": missing}
        )
    return columns, rows


def _csv_rows(path: Path, encoding: str) -> tuple[list[str], Iterator[SourceRow]]:
    handle = io.TextIOWrapper(path.open("rb"), encoding=encoding, errors="strict", newline="")
    reader = csv.reader(handle)
    try:
        header = next(reader)
    except StopIteration:
        handle.close()
        raise ApplicationError("empty_file", f"{path.name}: 文件为空。") from None
    except UnicodeDecodeError:
        handle.close()
        raise ApplicationError("bad_encoding", f"{path.name}: 表头不是 {encoding} 编码。") from None
    columns = [name.strip() for name in header]
    if len(set(columns)) != len(columns):
        handle.close()
        raise ApplicationError("duplicate_columns", f"{path.name}: 表头有重复的列名。")

    def rows() -> Iterator[SourceRow]:
        with handle:
            while True:
                try:
                    record = next(reader)
                except StopIteration:
                    return
                except UnicodeDecodeError:
                    # The stream cannot be resynchronised reliably after a bad byte.
                    raise ApplicationError(
                        "bad_encoding",
                        f"{path.name}: 第 {reader.line_num + 1} 行附近含有无法按 {encoding} 解码的字节。",
                    ) from None
                except csv.Error as exc:
                    raise ApplicationError(
                        "malformed_csv", f"{path.name}: 第 {reader.line_num} 行 CSV 格式错误：{exc}"
                    ) from None
                if not record or all(not cell.strip() for cell in record):
                    continue
                if len(record) != len(columns):
                    yield SourceRow(
                        reader.line_num, {"__error__": f"列数为 {len(record)}，表头为 {len(columns)} 列"}
                    )
                    continue
                yield SourceRow(
                    reader.line_num, {col: cell.strip() for col, cell in zip(columns, record, strict=True)}
                )

    return columns, rows()


def _parquet_rows(path: Path) -> tuple[list[str], Iterator[SourceRow]]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a corrupt file
        raise ApplicationError(
            "malformed_parquet", f"{path.name}: 不是有效的 Parquet 文件（{exc}）。"
        ) from None
    columns = list(parquet.schema_arrow.names)

    def rows() -> Iterator[SourceRow]:
        number = 0
        for batch in parquet.iter_batches(batch_size=10_000):
            for record in batch.to_pylist():
                number += 1
                yield SourceRow(number, {k: "" if v is None else str(v).strip() for k, v in record.items()})

    return columns, rows()
