"""kieumau: the monthly batch of the ward's kiểu mẫu campaign (see ../shared/SPEC.md).

The package reads as the clerk's month, in layers; a module imports only from its own layer and
the ones above it in this list (tests/test_layers.py holds it to that):

- ``domain``: what the campaign is made of: the criteria catalogue, sheet and column
  definitions, the form's layout, periods, issues (problems as data), Vietnamese text rules and
  the lenient reading of a cell's value.
- ``intake``: one file in, a typed Submission out: the inbox, the safety checks before parsing,
  the form reader.
- ``store``: the history (SQLite) and the archive of every file received, by SHA-256.
- ``scoring``: many submissions into one table per level, conditions that come from history,
  the scoring itself (pure), progress.
- ``outputs``: forms, the summary and feedback workbooks, the Word drafts; the low-level
  workbook writing sits in the private ``outputs._xlsx``.
- ``mail``: the forms mailed in (`kieumau thu`) and the feedback mailed back (`kieumau gui`).
- at the top: ``batch`` (``kieumau run`` as a function), ``demo`` and ``cli`` (thin commands).
"""
