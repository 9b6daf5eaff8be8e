"""A tournament's result folder: the lock, the run's settings record, and ``matches.csv`` (validated on load).

``OUT/`` holds

- ``.lock`` — an exclusive ``flock`` held for the whole run (pid, host and start time written inside), so a
  second run into the same folder refuses with a message naming the holder. The kernel drops the lock when
  its process dies, even by ``kill -9``: a lock left by a dead process never blocks.
- ``run.json`` — the settings every row depends on (steps, code version, each game's parameters, noise, radius
  and feedback, each rule's fingerprint). ``--resume`` with settings that differ is refused, naming the
  difference; games, rules and seeds may be added (rows are keyed by ``(game, leader, follower, seed)``).
- ``matches.csv`` — one row per match, appended and fsync'ed as matches finish, rewritten sorted at the end.
  On load every row is checked (columns, types, canonical numbers, finiteness, one row per key, agreement
  with ``run.json``); bad rows go to ``matches.quarantine.csv`` with the problem and are recomputed.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import socket
import time
from pathlib import Path
from typing import Any

import numpy as np

#: Columns of ``matches.csv``, in order.
COLUMNS = [
    "game",
    "leader",
    "follower",
    "seed",
    "steps",
    "final_action",
    "leader_cost",
    "follower_cost",
    "dist_stackelberg",
    "dist_nash",
    "steps_to_neighbourhood",
    "diverged",
    "reason",
]
KEY = ("game", "leader", "follower", "seed")
QUARANTINE = "matches.quarantine.csv"


def format_value(v: Any) -> str:
    """Exact, platform-independent text for a CSV cell (``repr`` of floats round-trips)."""
    if isinstance(v, bool | np.bool_):
        return "1" if v else "0"
    if isinstance(v, float | np.floating):
        v = float(v)
        return repr(v) if math.isfinite(v) else ("nan" if math.isnan(v) else ("inf" if v > 0 else "-inf"))
    if isinstance(v, list | tuple | np.ndarray):
        return "[" + " ".join(format_value(u) for u in np.asarray(v, float).ravel()) + "]"
    return str(v)


def parse_action(text: str) -> np.ndarray:
    """The floats of a ``final_action`` cell (``"[46.0 26.0]"``)."""
    return np.array(text.strip("[]").split(), float)


# ---------------------------------------------------------------------- lock
class FolderLock:
    """An exclusive lock on ``OUT`` for one run (``flock`` on ``OUT/.lock``; released when the process ends)."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / ".lock"
        self.fh: Any = None

    def __enter__(self) -> FolderLock:
        import fcntl

        fh = open(self.path, "a+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            fh.close()
            raise ValueError(
                f"{self.path.parent} is in use by {holder}: wait for that run to finish or choose another --out"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()} on {socket.gethostname()} since {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        fh.flush()
        self.fh = fh
        return self

    def __exit__(self, *exc: Any) -> None:
        self.fh.close()  # closing the descriptor releases the flock


# ---------------------------------------------------------------------- settings record
def settings_differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What differs between two ``run.json`` records where both define it (added games/rules are fine)."""
    out = [f"{k}: {old.get(k)!r} in run.json, {new.get(k)!r} now" for k in ("steps", "code") if old.get(k) != new[k]]
    for group in ("games", "rules"):
        for name in sorted(set(old.get(group, {})) & set(new[group])):
            a, b = old[group][name], new[group][name]
            for field in sorted(set(a) | set(b)):
                if a.get(field) != b.get(field):
                    out.append(f"{name} {field}: {a.get(field)!r} in run.json, {b.get(field)!r} now")
    return out


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temp file of this process, fsync'ed, then renamed over ``path``."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", newline="") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


# ---------------------------------------------------------------------- row validation
def _canonical_float(text: str, finite: bool) -> float:
    value = float(text)
    if format_value(value) != text:
        raise ValueError(f"{text!r} is not a number as this code writes it")
    if finite and not math.isfinite(value):
        raise ValueError(f"{text!r} is not finite")
    return value


def _canonical_int(text: str) -> int:
    value = int(text)
    if str(value) != text:
        raise ValueError(f"{text!r} is not an integer as this code writes it")
    return value


def row_problem(row: dict[str, str], record: dict[str, Any]) -> str | None:
    """Why a loaded row cannot be trusted (``None`` if it is sound): types, canonical numbers, finiteness and
    agreement with the run's settings record."""
    game = record["games"].get(row["game"])
    if game is None:
        return f"game {row['game']!r} is not in run.json"
    for role in ("leader", "follower"):
        if row[role] not in record["rules"]:
            return f"{role} rule {row[role]!r} is not in run.json"
    try:
        if _canonical_int(row["seed"]) < 0:
            return "negative seed"
        if _canonical_int(row["steps"]) != record["steps"]:
            return f"steps {row['steps']} differ from run.json's {record['steps']}"
        if row["diverged"] not in ("0", "1"):
            return f"diverged must be 0 or 1, got {row['diverged']!r}"
        diverged = row["diverged"] == "1"
        action = parse_action(row["final_action"])
        if action.shape != (game["d"],) or format_value(action) != row["final_action"]:
            return f"final_action {row['final_action']!r} is not {game['d']} numbers as this code writes them"
        if not np.all(np.isfinite(action)):
            return "final_action is not finite"
        for col in ("leader_cost", "follower_cost"):
            _canonical_float(row[col], finite=not diverged)
        for col in ("dist_stackelberg", "dist_nash"):
            if not _canonical_float(row[col], finite=False) >= 0:  # inf: the game has no such equilibrium
                return f"{col} {row[col]!r} is not a distance"
        reached = _canonical_int(row["steps_to_neighbourhood"])
        if not (reached == -1 or 1 <= reached <= record["steps"]) or (diverged and reached != -1):
            return f"steps_to_neighbourhood {reached} is impossible"
    except ValueError as exc:
        return str(exc)
    return None


# ---------------------------------------------------------------------- the table
class MatchStore:
    """``DIR/matches.csv``: validated on load, appended row by row (durable after each write), resumable.

    Use it inside a :class:`FolderLock` on ``DIR``: the table is rewritten at :meth:`finalize` (and on load, to
    drop a torn last line and quarantined rows), and only a run that holds the lock read every row it rewrites.

    Args:
        out: the folder.
        resume: continue the run recorded in ``out``; without it, a folder that already holds a run is refused.
        record: this run's settings (see :func:`settings_differences`); ``None`` skips the record and the
            row checks that need it (a bare table).
    """

    def __init__(self, out: str | os.PathLike, resume: bool = False, record: dict[str, Any] | None = None):
        self.dir = Path(out)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path = self.dir / "matches.csv"
        self.record_path = self.dir / "run.json"
        self.rows: dict[tuple, dict[str, str]] = {}
        self.quarantined: list[tuple[str, str]] = []
        held = [p.name for p in (self.path, self.record_path) if p.exists()]
        if held and not resume:
            raise FileExistsError(
                f"{self.dir} already holds a run ({', '.join(held)}): pass --resume to continue it, "
                "or choose another --out"
            )
        self.record = self._merge_record(record)
        if self.path.exists():
            self._load()
        self._rewrite()

    @staticmethod
    def key_of(row: dict[str, Any]) -> tuple:
        return (str(row["game"]), str(row["leader"]), str(row["follower"]), int(row["seed"]))

    def _merge_record(self, record: dict[str, Any] | None) -> dict[str, Any] | None:
        if record is None:
            return None
        if self.record_path.exists():
            old = json.loads(self.record_path.read_text())
            diffs = settings_differences(old, record)
            if diffs:
                raise ValueError(
                    f"--resume into {self.dir} with other settings ({'; '.join(diffs)}): use a fresh --out"
                )
            record = {**old, **record, "games": {**old["games"], **record["games"]}}
            record["rules"] = {**old["rules"], **record["rules"]}
        elif self.path.exists():
            raise ValueError(f"{self.path} has no run.json recording its settings: use a fresh --out")
        write_atomic(self.record_path, json.dumps(record, indent=2, sort_keys=True) + "\n")
        return record

    def _load(self) -> None:
        text = self.path.read_text()
        # a kill mid-write can leave a partial last line: keep only newline-terminated lines
        lines = list(csv.reader(io.StringIO(text[: text.rfind("\n") + 1])))
        if lines and lines[0] != COLUMNS:
            raise ValueError(f"{self.path}: unexpected columns {lines[0]}; expected {COLUMNS}: use a fresh --out")
        by_key: dict[tuple, list[dict[str, str]]] = {}
        for fields in lines[1:]:
            if len(fields) != len(COLUMNS):
                self.quarantined.append((",".join(fields), f"{len(fields)} fields, expected {len(COLUMNS)}"))
                continue
            row = dict(zip(COLUMNS, fields))
            problem = row_problem(row, self.record) if self.record is not None else None
            if problem is not None:
                self.quarantined.append((",".join(fields), problem))
                continue
            by_key.setdefault(self.key_of(row), []).append(row)
        for key, rows in by_key.items():
            if all(r == rows[0] for r in rows):
                self.rows[key] = rows[0]
            else:  # which copy is right cannot be told: recompute the match
                self.quarantined += [(",".join(r.values()), f"{len(rows)} different rows for one match") for r in rows]
        if self.quarantined:
            self._quarantine()

    def _quarantine(self) -> None:
        path = self.dir / QUARANTINE
        new = not path.exists()
        with open(path, "a", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            if new:
                w.writerow(["problem", "row"])
            w.writerows((problem, raw) for raw, problem in self.quarantined)
            fh.flush()
            os.fsync(fh.fileno())

    def _rewrite(self) -> None:
        buf = io.StringIO()
        w = csv.DictWriter(buf, COLUMNS, lineterminator="\n")
        w.writeheader()
        for key in sorted(self.rows):
            w.writerow(self.rows[key])
        if self.path.exists() and getattr(self, "_size", None) not in (None, self.path.stat().st_size):
            raise RuntimeError(f"{self.path} changed under this run (another writer?): not rewriting it")
        write_atomic(self.path, buf.getvalue())
        self._size = self.path.stat().st_size

    def done(self, key: tuple) -> bool:
        return key in self.rows

    def append(self, rows: list[dict[str, Any]]) -> None:
        """Append finished matches and fsync, so a ``kill -9`` right after loses nothing."""
        formatted = [{c: format_value(r[c]) for c in COLUMNS} for r in rows]
        with open(self.path, "a", newline="") as fh:
            w = csv.DictWriter(fh, COLUMNS, lineterminator="\n")
            w.writerows(formatted)
            fh.flush()
            os.fsync(fh.fileno())
            self._size = fh.tell()
        for row in formatted:
            self.rows[self.key_of(row)] = row

    def finalize(self) -> None:
        """Rewrite the table sorted by (game, leader, follower, seed)."""
        self._rewrite()

    def table(self) -> list[dict[str, str]]:
        return [self.rows[k] for k in sorted(self.rows)]
