"""Inbound dedupe key: a message sent again after a lost 250 is recorded once per project.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 17:21:40.812463
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('inbound', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dedupe_key', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_inbound_project_id'), ['project_id', 'dedupe_key'])



def downgrade() -> None:
    with op.batch_alter_table('inbound', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_inbound_project_id'), type_='unique')
        batch_op.drop_column('dedupe_key')

