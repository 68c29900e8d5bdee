"""users and app state

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 18:38:48.315224+00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import bot.db.types

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('app_state',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('value', sqlmodel.sql.sqltypes.AutoString(length=4096), nullable=False),
    sa.Column('updated_at', bot.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('users',
    sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('first_name', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
    sa.Column('last_name', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=True),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('language_code', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('locale', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
    sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('is_reachable', sa.Boolean(), nullable=False),
    sa.Column('created_at', bot.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', bot.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )



def downgrade() -> None:

    op.drop_table('users')
    op.drop_table('app_state')

