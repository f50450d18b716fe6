"""What limits each target when it is missed: the analysis behind the profiles, by figure.

The report prints the profile a run took (its numbers change from run to run) and, under
it, the matching text here: what the profiles show, what was tried, and what to change.
"""

from __future__ import annotations

from typing import Final

__all__ = ["LIMITS"]

_IMPORT_SPEED: Final = """
**What limits it.** The floor only parses text and appends it to an untyped table. The
import's first pass (`ingest/fast.py`, `stage_fast`) reads the file in blocks of whole
lines (hashed, counted, checked for NUL bytes, lone carriage returns and long lines),
splits each block with polars (every column as text, quoting off when the block holds no
quote character; the csv module otherwise), and checks the plain shapes as column
expressions (the time's shape and a strict calendar parse, amount and fee shapes, places
against the currency's scale, digits before the point, our own words, fee <= amount on the
canonical text), then inserts the canonical rows into `temp.staged` with executemany.
Then it does what the floor does not: every row is written once more (`records`), and the
unique reference index and the secondary indexes are built; in a profile those statements
(the merge in `store/imports.py`) cost about twice the floor on their own.

**What was tried.** Row-by-row validation in Python (the careful reader, still used for
unusual and bad files) costs about 13× the floor. A set-wise SQL validation (csv.reader
and executemany into a raw TEMP table, then one `INSERT INTO staged SELECT …` of some
forty string functions per row) cost 5.6–5.8× the floor: the statement alone took 7–9 s
per million rows, more than the whole floor, and no single condition in it more than a
tenth of that. Column expressions in polars replaced it: staging the 1,000,000-record file
took 6.7–6.9 s against 21–28 s for the SQL path in the same run on a busy machine (load
average above 5 on 2 cores). Blocks of 4 MiB peaked at 174 MB; blocks of 1 MiB at 133 MB,
and were faster. The polars library itself accounts for about 60 MB of the peak (its code,
mapped from disk) and its import for about 0.3 s of a fresh process.

**Still open** (`store/imports.py`), the larger part of what remains:
1. When `records` is empty (a database's first import), insert straight from the staged
   rows and build the unique reference index after the load, as the secondary indexes
   already are after a bulk insert.
2. Insert the canonical rows with fewer Python objects per row (`iter_rows` and
   executemany are about a third of the fast path's own time).
"""

_IMPORT_MEMORY: Final = """
**What limits it.** The import streams: blocks of 1 MiB of lines on the fast path,
batches of 5,000 rows on the careful one, and TEMP tables in SQLite's page cache; the
polars library's code, mapped from disk, is about 60 MB of the peak. A growing peak would
mean a batch, a problem list or a query result held whole in Python; the profile of the
import shows where.
"""

_RECONCILE: Final = """
**What limits it.** The command's fixed cost: starting Python and importing
`reconcile_tui.cli` (timed above) is a third to a half of the command's time at 100,000
records, while the baseline's process imports only `sqlite3`. The work itself hardly
grows with the records: the per-wallet sums add the day sums each import keeps
(`store/record_sums.py`, `store/ledger.py` `group_totals`) and read only the records of
the day each history starts on, so the ratio falls as the records grow (see the table).

**What was done**: the `sandbox` command group (Starlette, uvicorn, the scenario
generator) loads only when it is the command run, the version is read only when asked for,
and opening a database loads nothing beyond `sqlite3`. What remains of the start is
pydantic (the settings and the response models) and the core itself, which every command
uses: at 100,000 records the ratio stays around the target (2.9–3.4× across runs), and it
falls with size.
"""

_API: Final = """
**What limits it.** Round trips: the balances first, then the histories in waves of
`api.concurrency` (default 20, which fetches every history of a 20-currency account in one
wave; the rate limit in the gateway's notes, 100 requests a minute, allows the 21
requests of a snapshot at once). Going further, the histories of the currencies known from
the previous snapshot could start together with the balances request: one round trip for
an unchanged account.
"""

_LISTING: Final = """
**What limits it.** Round trips, then the client's CPU. The first page says how many pages
there are, so the rest follow in waves of `api.concurrency` (default 20, at most 32): 1 + 5
round trips of 100 ms at the default, 1 + 4 at 32, against one plus the client's start,
a floor of about 4× before any CPU; within 3× needs 50 or more pages in flight. Then the
client's CPU on the event loop's one core, about 4.6 ms a page (validating 100 items,
about 1 ms, most of it the money module's exact parsing and bounds of the amounts; httpx
and httpcore most of the rest, more with more connections open): with every page in
flight at once the listing still took 6.5× one page. The server runs in a process of its
own (`benchmarks.listing_server`), so none of its CPU is counted as the client's.
"""

_TUI_LAUNCH: Final = """
**What limits it.** Two parts (phases above): the imports before the first frame, and the
overview's data arriving after it. The bare app imports Textual; `reconcile_tui.tui.app`
adds the settings (pydantic-settings) and its screens. The overview's table fills only
after a worker has imported the core and run `load_overview` (timed above), sharing the
interpreter with the UI thread that renders the first frame meanwhile.

**What was done**: the core loads in the overview's worker, not before the first frame
(`tui/access.py` imports `Workspace` when a worker opens one; the screens import only the
plain figures of `reconcile/figures.py`); opening a database loads only `sqlite3`; the overview
reads the latest snapshot's id instead of parsing the snapshot, takes its counts from one
grouped query, and counts records only when there is no run yet. What remains is the
settings (pydantic) and the core's import in the worker, which shares the interpreter with
the UI thread drawing the first frame: the ratio stays around the target (2.0–2.4× across
runs on a shared machine).
"""

_TUI_KEYS: Final = """
**What limits it.** Frames rendered on the UI thread, not the database: a page of
discrepancies is fetched in a few milliseconds (the fetch column above) and arranging the
widgets takes a few more (the layout column), but every key costs at least one frame of
20–50 ms, and page and filter keys two or three. Three patterns:
- A cursor move within the page: one frame, most of it the DataTable rendering the rows
  that came into view for the first time. Textual's DataTable renders each cell through
  Rich and caches rendered rows; `clear()` empties that cache, so every new page starts
  cold. In an isolated DataTable with the same 100 discrepancies, the first render of
  about 35 newly visible rows took 20–40 ms and a re-render of rows seen before 4–8 ms;
  plain `str` cells instead of Rich `Text` were about a quarter faster; dropping the
  Message column changed nothing.
- A page fetch (PageDown past the page, End, Home): two frames. `PagedTable._request`
  sets the "loading…" subtitle, which is drawn while the worker runs (both threads share
  the interpreter); then `_show_rows` clears and refills the table, which changes its
  virtual size: a layout, and a frame that renders every visible row from a cold cache.
- A filter keystroke: two frames, each after a layout: `DiscrepanciesScreen._filter_changed`
  → `PagedTable.show_source` removes the columns and adds them again
  (`clear(columns=True)`) before the new page arrives, so the table is drawn empty, then
  full.
Besides, every `RowFocused` calls `refresh_bindings()`, and the Footer recomposes (mounts
its key widgets anew) after the frame: it does not delay that key's frame, but its UI time
is what the next key waits for when keys come fast.

**What was tried** (each alone, patched into the probe process, 1,000,000-record books):
no `refresh_bindings` per row, `Static.update(layout=False)` for the detail and counts
lines, `_show_rows` inside `app.batch_update()`, no "loading…" subtitle for a loaded
table. Each moved the median by less than the run-to-run noise of this shared machine
(about ±10 ms): no single one of them is the cost.

**Suggested** (`tui/widgets/paged_table.py`, `tui/screens/discrepancies.py`):
1. `show_source`: keep the columns when they are unchanged (only `wide` changes them) and
   the old rows on screen until the new page arrives: one frame and no empty layout.
2. `_request`: show "loading…" only when the page has not arrived after about 150 ms.
3. `_show_rows`: when the page has as many rows as before, update the cells in place
   (`update_cell`), which keeps the table's size and its layout; otherwise refill inside
   `app.batch_update()`.
4. Cells: plain `str` where no style is needed (Kind, About, the message), fewer Rich
   `Text` objects per row.
5. Debounce the search box (about 100 ms), so that typing a word runs one query and one
   repaint.
"""

#: Figure key -> markdown shown under "What limits the targets not met" when it is missed.
LIMITS: Final[dict[str, str]] = {
    "import.speed": _IMPORT_SPEED,
    "import.memory": _IMPORT_MEMORY,
    "reconcile.check": _RECONCILE,
    "api.snapshot": _API,
    "api.listing": _LISTING,
    "tui.launch": _TUI_LAUNCH,
    "tui.keys": _TUI_KEYS,
}
