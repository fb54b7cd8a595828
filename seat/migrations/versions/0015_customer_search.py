"""customer search: a trigram index of names, addresses and phone numbers; shared numbers

Revision ID: 0015
Revises: 0019
Create Date: 2026-12-06 11:00:00.000000

SQLite: an FTS5 table with the trigram tokenizer (`customer_search`, rowid = customer id),
kept in step with `customer` and `phone_number` by triggers and filled from the rows already
on file. PostgreSQL: the pg_trgm extension and GIN trigram indexes on the same columns.
Both: plain indexes for a name's prefix and an order number (seat.search).

A number may be several customers' (a family's landline): `phone_number.e164` is no longer
unique, a customer's own numbers are (customer_id, e164).
"""

from alembic import op

revision = '0015'
down_revision = '0019'
branch_labels = None
depends_on = None

# A customer's numbers as the search reads them: each E.164 without its "+", space-separated.
_NUMBERS = (
    "(SELECT coalesce(group_concat(substr(p.e164, 2), ' '), '') FROM phone_number AS p "
    "WHERE p.customer_id = {id})"
)
_ADDRESS = "trim(coalesce({row}.address, '') || ' ' || coalesce({row}.second_address, ''))"

SQLITE_UP = (
    "CREATE VIRTUAL TABLE customer_search USING fts5(name, address, numbers, "
    "tokenize = 'trigram')",
    "INSERT INTO customer_search (rowid, name, address, numbers) "
    f"SELECT c.id, c.name, {_ADDRESS.format(row='c')}, {_NUMBERS.format(id='c.id')} "
    "FROM customer AS c",
    # A new customer has no numbers yet (a number's row needs its customer's first); each
    # new number is added to the row as it comes. No query of phone_number on the way: a
    # bulk load (the demo desk, an import) may have set its indexes aside.
    "CREATE TRIGGER customer_search_insert AFTER INSERT ON customer BEGIN "
    "INSERT INTO customer_search (rowid, name, address, numbers) "
    f"VALUES (new.id, new.name, {_ADDRESS.format(row='new')}, ''); "
    "END",
    "CREATE TRIGGER customer_search_update AFTER UPDATE OF name, address, second_address "
    "ON customer BEGIN "
    f"UPDATE customer_search SET name = new.name, address = {_ADDRESS.format(row='new')} "
    "WHERE rowid = new.id; END",
    "CREATE TRIGGER customer_search_delete AFTER DELETE ON customer BEGIN "
    "DELETE FROM customer_search WHERE rowid = old.id; END",
    "CREATE TRIGGER customer_search_phone_insert AFTER INSERT ON phone_number BEGIN "
    "UPDATE customer_search SET numbers = ltrim(numbers || ' ' || substr(new.e164, 2)) "
    "WHERE rowid = new.customer_id; END",
    "CREATE TRIGGER customer_search_phone_update AFTER UPDATE OF e164, customer_id "
    "ON phone_number BEGIN "
    f"UPDATE customer_search SET numbers = {_NUMBERS.format(id='old.customer_id')} "
    "WHERE rowid = old.customer_id; "
    f"UPDATE customer_search SET numbers = {_NUMBERS.format(id='new.customer_id')} "
    "WHERE rowid = new.customer_id; END",
    "CREATE TRIGGER customer_search_phone_delete AFTER DELETE ON phone_number BEGIN "
    f"UPDATE customer_search SET numbers = {_NUMBERS.format(id='old.customer_id')} "
    "WHERE rowid = old.customer_id; END",
)
SQLITE_DOWN = (
    "DROP TRIGGER customer_search_phone_delete",
    "DROP TRIGGER customer_search_phone_update",
    "DROP TRIGGER customer_search_phone_insert",
    "DROP TRIGGER customer_search_delete",
    "DROP TRIGGER customer_search_update",
    "DROP TRIGGER customer_search_insert",
    "DROP TABLE customer_search",
)

# (index, table, column): GIN trigram indexes for substring search (ILIKE '%...%').
PG_TRIGRAM = (
    ('ix_search_customer_name', 'customer', 'name'),
    ('ix_search_customer_address', 'customer', 'address'),
    ('ix_search_customer_second_address', 'customer', 'second_address'),
    ('ix_search_phone_number_e164', 'phone_number', 'e164'),
)


def upgrade() -> None:
    # Indexes only (no table rebuilt in batch mode: the triggers below stay attached).
    op.drop_index('ix_phone_number_e164', table_name='phone_number')
    op.create_index('ix_phone_number_e164', 'phone_number', ['e164'], unique=False)
    op.create_index(
        'ix_phone_number_customer_e164', 'phone_number', ['customer_id', 'e164'], unique=True
    )
    op.create_index('ix_customer_name', 'customer', ['name'], unique=False)
    op.create_index('ix_purchase_order_no', 'purchase', ['order_no'], unique=False)
    if op.get_bind().dialect.name == 'sqlite':
        for statement in SQLITE_UP:
            op.execute(statement)
    else:
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        for name, table, column in PG_TRIGRAM:
            op.execute(f'CREATE INDEX {name} ON {table} USING gin ({column} gin_trgm_ops)')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        for statement in SQLITE_DOWN:
            op.execute(statement)
    else:
        for name, __, __ in reversed(PG_TRIGRAM):
            op.execute(f'DROP INDEX {name}')
    op.drop_index('ix_purchase_order_no', table_name='purchase')
    op.drop_index('ix_customer_name', table_name='customer')
    op.drop_index('ix_phone_number_customer_e164', table_name='phone_number')
    op.drop_index('ix_phone_number_e164', table_name='phone_number')
    # Fails while a number is shared: who keeps it is not for a migration to guess.
    op.create_index('ix_phone_number_e164', 'phone_number', ['e164'], unique=True)
