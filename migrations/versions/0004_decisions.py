"""Decisions and replies: what a client must answer, their reply address, staff-only lines.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 17:33:25.832344
"""

import secrets

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('answered_via', sa.String(length=16), nullable=False),
    sa.Column('asked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['answered_by_id'], ['member.id'], name=op.f('fk_decision_answered_by_id_member')),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_decision_entry_id_entry')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decision')),
    sa.UniqueConstraint('entry_id', name=op.f('uq_decision_entry_id'))
    )
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decision_state'), ['state'], unique=False)

    with op.batch_alter_table('entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('internal', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('reply_to_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_entry_reply_to_id_entry'), 'entry', ['reply_to_id'], ['id'])

    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reply_key', sa.String(length=32), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_member_reply_key'), ['reply_key'])

    # People added before replies existed get their reply key now.
    member = sa.table('member', sa.column('id', sa.Integer), sa.column('reply_key', sa.String))
    connection = op.get_bind()
    for (member_id,) in connection.execute(sa.select(member.c.id).where(member.c.reply_key.is_(None))).all():
        connection.execute(
            member.update().where(member.c.id == member_id).values(reply_key=secrets.token_urlsafe(18))
        )



def downgrade() -> None:
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_member_reply_key'), type_='unique')
        batch_op.drop_column('reply_key')

    with op.batch_alter_table('entry', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_entry_reply_to_id_entry'), type_='foreignkey')
        batch_op.drop_column('reply_to_id')
        batch_op.drop_column('internal')

    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decision_state'))

    op.drop_table('decision')
