"""Copying a whole program from one database to another (SQLite to PostgreSQL, say).

Both schemas are brought to the newest migration first; the destination must be
empty. Rows are copied table by table in an order that respects foreign keys,
with their ids, in batches; then the destination's id sequences are moved past
the copied ids, and every table's rows are counted on both sides.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, text, update

from storage.db import Database
from storage.models import Person, metadata

BATCH = 2000


class CopyRefused(Exception):
    """The copy cannot start; the message says why."""


@dataclass(frozen=True)
class Count:
    table: str
    source: int
    copied: int

    @property
    def ok(self) -> bool:
        return self.source == self.copied


async def copy_database(source_url: str, target_url: str, progress=None) -> list[Count]:
    if source_url == target_url:
        raise CopyRefused("the source and the destination are the same database")
    source, target = Database(source_url), Database(target_url)
    try:
        await source.upgrade()
        await target.upgrade()
        tables = list(metadata.sorted_tables)  # parents before children
        async with target.engine.connect() as conn:
            for table in tables:
                if (await conn.execute(select(func.count()).select_from(table))).scalar_one():
                    raise CopyRefused(f"the destination already has data (table {table.name}); "
                                      "copy into an empty database")
        lowered: dict[int, int] = {}
        async with source.engine.connect() as src, target.engine.begin() as dst:
            if source.is_sqlite:
                await src.exec_driver_sql("BEGIN")  # one snapshot of the source for the whole copy
            else:
                await src.execution_options(isolation_level="REPEATABLE READ")
            # A mentor may keep more mentees than their capacity (it was lowered later), which the
            # destination's capacity check would refuse while copying: copy the capacity raised to
            # the load, and put it back at the end.
            for table in tables:
                result = await src.stream(select(table).order_by(*table.primary_key.columns))
                async for rows in result.partitions(BATCH):
                    batch = [dict(row._mapping) for row in rows]
                    if not target.is_sqlite:  # PostgreSQL stores no NUL character in text
                        for row in batch:
                            for key, value in row.items():
                                if isinstance(value, str) and "\x00" in value:
                                    row[key] = value.replace("\x00", "")
                    if table.name == Person.__tablename__:
                        for row in batch:
                            # The destination's triggers count each mentor's mentees as the
                            # mentorships are copied in: start them from zero.
                            load, row["active_mentees"] = row["active_mentees"], 0
                            if load > row["capacity"]:
                                lowered[row["id"]] = row["capacity"]
                                row["capacity"] = load
                    await dst.execute(table.insert(), batch)
                if progress:
                    progress(table.name)
            for person_id, capacity in lowered.items():
                await dst.execute(update(Person.__table__).where(Person.__table__.c.id == person_id)
                                  .values(capacity=capacity))
            if not target.is_sqlite:
                await _move_sequences(dst, tables)
        counts = []
        async with source.engine.connect() as src, target.engine.connect() as dst:
            for table in tables:
                counted = select(func.count()).select_from(table)
                counts.append(Count(table.name, (await src.execute(counted)).scalar_one(),
                                    (await dst.execute(counted)).scalar_one()))
        return counts
    finally:
        await source.close()
        await target.close()


async def _move_sequences(conn, tables) -> None:
    """PostgreSQL hands out ids from a sequence, which copied rows did not use: move it past them."""
    for table in tables:
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or not pk[0].autoincrement or pk[0].type.python_type is not int:
            continue
        await conn.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', '{pk[0].name}'), "
            f"COALESCE((SELECT MAX({pk[0].name}) FROM {table.name}), 0) + 1, false)"))
