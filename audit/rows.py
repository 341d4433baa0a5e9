"""The chain's rows streamed by seq: what the export and the verifier both read."""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing

import orjson
import psycopg
from django.db import connection
from django.db.models import QuerySet
from psycopg.types.string import ByteaBinaryLoader

_AFTER = -7_919_113  # stands for "seq greater than" while the chunk query is compiled


def body_chunks(
    queryset: QuerySet, after_seq: int, chunk_size: int, fields=("seq", "body", "hash")
) -> Iterator[list[tuple]]:
    """`fields` of the queryset's entries by seq (text as bytes), a chunk at a time.

    Keyset pagination on seq, so memory holds at most two chunks. On PostgreSQL the rows come
    in binary with text loaded as bytes (no decoding: the body is hashed as stored), and the
    next chunk is fetched, on the same connection and so inside the same transaction, while
    the caller works on this one.
    """
    rows = queryset.order_by("seq").values_list(*fields)
    if connection.vendor != "postgresql":
        while True:
            chunk = [
                (seq, *(v.encode() if isinstance(v, str) else v for v in values))
                for seq, *values in rows.filter(seq__gt=after_seq)[:chunk_size]
            ]
            if not chunk:
                return
            yield chunk
            if len(chunk) < chunk_size:
                return
            after_seq = chunk[-1][0]

    sql, params = rows.filter(seq__gt=_AFTER)[:chunk_size].query.sql_with_params()
    params, slot = list(params), params.index(_AFTER)
    connection.ensure_connection()
    raw = connection.connection  # a psycopg connection is thread-safe; cursors are not shared

    def fetch(after):
        params[slot] = after
        # Django's cursors bind on the client, which rules out binary results: use psycopg's.
        with psycopg.Cursor(raw) as cursor:
            for oid_name in ("text", "varchar"):
                cursor.adapters.register_loader(oid_name, ByteaBinaryLoader)
            cursor.execute(sql, params, binary=True)
            return cursor.fetchall()

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-chain-read") as reader:
        pending = reader.submit(fetch, after_seq)
        while True:
            chunk = pending.result()
            if not chunk:
                return
            full = len(chunk) == chunk_size
            if full:  # the database works on the next chunk while the caller works on this
                pending = reader.submit(fetch, chunk[-1][0])
            yield chunk
            if not full:
                return


def export_lines(queryset: QuerySet, *, chunk_size: int = 1000, keep=None) -> Iterator[bytes]:
    """JSON Lines of exactly the chain's objects (the hashed body's fields plus "hash"), by seq;
    with `keep(occurred_at) -> bool`, only the entries it keeps (a time window tested on the
    rows read: audit.selectors.entries_in_chunks)."""
    dumps, loads, sort_keys = orjson.dumps, orjson.loads, orjson.OPT_SORT_KEYS
    fields = ("seq", "body", "hash") + (("occurred_at",) if keep else ())
    with closing(body_chunks(queryset, 0, chunk_size, fields)) as chunks:
        for chunk in chunks:
            lines = []
            for _seq, body, digest, *occurred_at in chunk:
                if keep and not keep(occurred_at[0]):
                    continue
                entry = loads(body)
                entry["hash"] = digest.decode()
                lines.append(dumps(entry, option=sort_keys))
            if lines:
                yield b"\n".join(lines) + b"\n"
