"""Shared machinery for `powerdesk import <kind> FILE`: readers, rejected-row reports, registry.

Each domain owns its importer (a function taking rows); this package only knows how to read
CSV (UTF-8 or GBK) and Parquet as a stream of dicts with their row numbers, and how to report
rejected rows beside the input file.
"""
