"""storage.memo: a read kept for the rest of its transaction, read afresh in the next one.
On SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import text as sql_text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from handlers.dialog import product_name
from storage import directory
from storage.memo import memo
from storage.models import Product


def test_a_read_is_kept_through_savepoints_until_the_transaction_ends(engine: Engine) -> None:
    loads: list[int] = []

    with Session(engine) as s:
        def load() -> int:
            s.exec(sql_text("SELECT 1"))  # type: ignore[call-overload]
            loads.append(1)
            return len(loads)

        assert memo(s, "k", load) == 1 and memo(s, "k", load) == 1
        with s.begin_nested():
            assert memo(s, "k", load) == 1  # a SAVEPOINT keeps it
        assert memo(s, "other", load) == 2
        s.commit()
        assert memo(s, "k", load) == 3  # a new transaction reads again
        s.rollback()
        assert memo(s, "k", load) == 4


def test_a_renamed_product_shows_its_new_name_in_the_next_transaction(engine: Engine) -> None:
    with Session(engine) as s:
        product = directory.add_product(s, "Voice Bot", "conversational-ai", ("conversational-ai",))
        s.commit()
        pid = product.id
        assert product_name(s, pid) == "Voice Bot"
        s.commit()
        row = s.get(Product, pid)
        assert row is not None
        row.name = "Voice Bot Pro"
        s.add(row)
        s.commit()
        assert product_name(s, pid) == "Voice Bot Pro"
        assert product_name(s, 999_999) is None
