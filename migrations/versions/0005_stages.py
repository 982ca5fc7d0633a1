"""Stages, key dates and what a variation changes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 17:56:51.958558
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('key_date',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('previous_day', sa.Date(), nullable=True),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_key_date_entry_id_entry')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_key_date_project_id_project')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_key_date')),
    sa.UniqueConstraint('project_id', 'name', name=op.f('uq_key_date_project_id'))
    )
    with op.batch_alter_table('key_date', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_key_date_project_id'), ['project_id'], unique=False)

    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cost', sa.Numeric(precision=12, scale=2), nullable=True))
        batch_op.add_column(sa.Column('currency', sa.String(length=3), server_default='', nullable=False))
        batch_op.add_column(sa.Column('days', sa.Integer(), nullable=True))

    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trade', sa.String(length=32), server_default='renovation', nullable=False))
        batch_op.add_column(sa.Column('stage_list', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('current_stage', sa.String(length=100), nullable=True))

    # Projects made before stages existed start with the renovation template (kept here as it was then).
    renovation = "\n".join(
        ["Survey", "Design", "Demolition", "First fix", "Plastering", "Second fix", "Installation", "Decoration",
         "Snagging", "Handover"]
    )
    project = sa.table("project", sa.column("stage_list", sa.Text))
    op.get_bind().execute(project.update().where(project.c.stage_list == "").values(stage_list=renovation))



def downgrade() -> None:
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.drop_column('current_stage')
        batch_op.drop_column('stage_list')
        batch_op.drop_column('trade')

    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.drop_column('days')
        batch_op.drop_column('currency')
        batch_op.drop_column('cost')

    with op.batch_alter_table('key_date', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_key_date_project_id'))

    op.drop_table('key_date')
