"""faq entries, the log of questions, the staff inbox

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 09:58:28.935231+00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import bot.db.types


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('faq_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('texts', sa.JSON(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', bot.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', bot.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('programme_id', 'key', name='uq_faq_entry_programme_key')
    )
    with op.batch_alter_table('faq_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_faq_entries_programme_id'), ['programme_id'], unique=False)

    op.create_table('staff_chats',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('has_topics', sa.Boolean(), nullable=False),
    sa.Column('linked_by', sa.BigInteger(), nullable=True),
    sa.Column('linked_at', bot.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('programme_id')
    )
    with op.batch_alter_table('staff_chats', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_chats_chat_id'), ['chat_id'], unique=False)

    op.create_table('staff_topics',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('thread_id', sa.Integer(), nullable=False),
    sa.Column('created_at', bot.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('programme_id', 'user_id', name='uq_staff_topic_programme_user')
    )
    with op.batch_alter_table('staff_topics', schema=None) as batch_op:
        batch_op.create_index('ix_staff_topics_chat_thread', ['chat_id', 'thread_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_staff_topics_programme_id'), ['programme_id'], unique=False)

    op.create_table('staff_questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=True),
    sa.Column('cohort_id', sa.Integer(), nullable=True),
    sa.Column('lang', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(length=4096), nullable=True),
    sa.Column('guesses', sa.JSON(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('claimed_by', sa.BigInteger(), nullable=True),
    sa.Column('staff_chat_id', sa.BigInteger(), nullable=True),
    sa.Column('staff_message_id', sa.Integer(), nullable=True),
    sa.Column('created_at', bot.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('answered_at', bot.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('raised_again_at', bot.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', bot.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('staff_questions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_questions_programme_id'), ['programme_id'], unique=False)
        batch_op.create_index('ix_staff_questions_staff_message', ['staff_chat_id', 'staff_message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_staff_questions_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_staff_questions_user_id'), ['user_id'], unique=False)

    op.create_table('faq_asks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=True),
    sa.Column('lang', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(length=4096), nullable=True),
    sa.Column('matched', sa.JSON(), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('escalated', sa.Boolean(), nullable=False),
    sa.Column('helped', sa.Boolean(), nullable=True),
    sa.Column('question_id', sa.Integer(), nullable=True),
    sa.Column('created_at', bot.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_id'], ['staff_questions.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('faq_asks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_faq_asks_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_faq_asks_programme_id'), ['programme_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_faq_asks_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('faq_asks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_faq_asks_user_id'))
        batch_op.drop_index(batch_op.f('ix_faq_asks_programme_id'))
        batch_op.drop_index(batch_op.f('ix_faq_asks_created_at'))

    op.drop_table('faq_asks')
    with op.batch_alter_table('staff_questions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_questions_user_id'))
        batch_op.drop_index(batch_op.f('ix_staff_questions_status'))
        batch_op.drop_index('ix_staff_questions_staff_message')
        batch_op.drop_index(batch_op.f('ix_staff_questions_programme_id'))

    op.drop_table('staff_questions')
    with op.batch_alter_table('staff_topics', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_topics_programme_id'))
        batch_op.drop_index('ix_staff_topics_chat_thread')

    op.drop_table('staff_topics')
    with op.batch_alter_table('staff_chats', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_chats_chat_id'))

    op.drop_table('staff_chats')
    with op.batch_alter_table('faq_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_faq_entries_programme_id'))

    op.drop_table('faq_entries')
