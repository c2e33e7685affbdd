"""The schema as of revision 0001, for PostgreSQL (generated: do not edit by hand).

Made by ``python -m tests.fixtures.build_pg_snapshot`` (its docstring says when and why).
Revision 0001 runs :func:`create` on PostgreSQL instead of the SQLite steps it replays.
"""

# ruff: noqa: E501

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.storage.sql


def create() -> None:
    op.create_table('dead_letters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('what', sa.Text(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('received_at', bot.storage.sql.UtcDateTime(), nullable=False),
    sa.Column('dead_at', bot.storage.sql.UtcDateTime(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dead_letters')),
    sqlite_autoincrement=True
    )
    op.create_index('dead_letters_dead_at', 'dead_letters', ['dead_at'], unique=False)
    op.create_table('inbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('received_at', bot.storage.sql.UtcDateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbox')),
    sqlite_autoincrement=True
    )
    op.create_index('inbox_source', 'inbox', ['source', 'id'], unique=False)
    op.create_table('incident_sequence',
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_incident_sequence'))
    )
    op.create_table('incidents',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('drill', sa.Integer(), server_default='0', nullable=False),
    sa.Column('platform', sa.Text(), nullable=True),
    sa.Column('account', sa.Text(), nullable=True),
    sa.Column('symptoms', sa.Text(), server_default='[]', nullable=False),
    sa.Column('flags', sa.Text(), server_default='[]', nullable=False),
    sa.Column('has_access', sa.Integer(), nullable=True),
    sa.Column('harmful_live', sa.Integer(), nullable=True),
    sa.Column('severity', sa.Integer(), nullable=True),
    sa.Column('status', sa.Text(), server_default='triage', nullable=False),
    sa.Column('triage_step', sa.Text(), server_default='platform', nullable=False),
    sa.Column('reporter', sa.Text(), nullable=False),
    sa.Column('reporter_name', sa.Text(), server_default='', nullable=False),
    sa.Column('commander', sa.Text(), nullable=False),
    sa.Column('commander_name', sa.Text(), server_default='', nullable=False),
    sa.Column('department', sa.Text(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('origin', sa.Text(), nullable=False),
    sa.Column('card_id', sa.Text(), nullable=True),
    sa.Column('room', sa.Text(), nullable=True),
    sa.Column('checklist_id', sa.Text(), nullable=True),
    sa.Column('team', sa.Text(), nullable=True),
    sa.Column('acked_by', sa.Text(), nullable=True),
    sa.Column('acked_by_name', sa.Text(), nullable=True),
    sa.Column('created_at', bot.storage.sql.UtcDateTime(), nullable=False),
    sa.Column('triaged_at', bot.storage.sql.UtcDateTime(), nullable=True),
    sa.Column('acked_at', bot.storage.sql.UtcDateTime(), nullable=True),
    sa.Column('contained_at', bot.storage.sql.UtcDateTime(), nullable=True),
    sa.Column('closed_at', bot.storage.sql.UtcDateTime(), nullable=True),
    sa.Column('tenant', sa.Text(), nullable=True),
    sa.Column('delivery_key', sa.Text(), nullable=True),
    sa.Column('access', sa.Text(), nullable=True),
    sa.Column('harmful', sa.Text(), nullable=True),
    sa.Column('personal_data', sa.Text(), nullable=True),
    sa.Column('kind', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents'))
    )
    op.create_index('incidents_delivery', 'incidents', ['delivery_key'], unique=True, sqlite_where=sa.text('delivery_key IS NOT NULL'), postgresql_where=sa.text('delivery_key IS NOT NULL'))
    op.create_index('incidents_reporter', 'incidents', ['reporter', 'status', 'created_at'], unique=False)
    op.create_index('incidents_status', 'incidents', ['status'], unique=False)
    op.create_index('incidents_tenant', 'incidents', ['tenant', 'status'], unique=False)
    op.create_index('incidents_tenant_created', 'incidents', ['tenant', 'created_at'], unique=False)
    op.create_table('paging_incidents',
    sa.Column('incident_id', sa.Text(), nullable=False),
    sa.Column('info', sa.Text(), nullable=False),
    sa.Column('team', sa.Text(), nullable=False),
    sa.Column('chain', sa.Text(), nullable=False),
    sa.Column('drill', sa.Integer(), nullable=False),
    sa.Column('state', sa.Text(), nullable=False),
    sa.Column('started_at', sa.Text(), nullable=False),
    sa.Column('acknowledged_at', sa.Text(), nullable=True),
    sa.Column('acknowledged_by', sa.Text(), nullable=True),
    sa.Column('resolved_at', sa.Text(), nullable=True),
    sa.Column('exhausted_at', sa.Text(), nullable=True),
    sa.CheckConstraint("state IN ('active', 'acknowledged', 'resolved')", name=op.f('ck_paging_incidents_state')),
    sa.PrimaryKeyConstraint('incident_id', name=op.f('pk_paging_incidents'))
    )
    op.create_table('paused_workspaces',
    sa.Column('platform', sa.Text(), nullable=False),
    sa.Column('workspace', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('paused_at', bot.storage.sql.UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('platform', 'workspace', name=op.f('pk_paused_workspaces'))
    )
    op.create_table('processed_deliveries',
    sa.Column('key', sa.Text(), nullable=False),
    sa.Column('seen_at', bot.storage.sql.UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_processed_deliveries'))
    )
    op.create_index('processed_deliveries_seen', 'processed_deliveries', ['seen_at'], unique=False)
    op.create_table('quiz_cards',
    sa.Column('user_key', sa.Text(), nullable=False),
    sa.Column('item_id', sa.Text(), nullable=False),
    sa.Column('card', sa.Text(), nullable=False),
    sa.Column('due', bot.storage.sql.UtcDateTime(), nullable=False),
    sa.Column('reviews', sa.Integer(), server_default='0', nullable=False),
    sa.Column('lapses', sa.Integer(), server_default='0', nullable=False),
    sa.Column('updated_at', bot.storage.sql.UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('user_key', 'item_id', name=op.f('pk_quiz_cards'))
    )
    op.create_index('quiz_cards_due', 'quiz_cards', ['user_key', 'due'], unique=False)
    op.create_table('quiz_posts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Text(), nullable=False),
    sa.Column('option_order', sa.Text(), nullable=False),
    sa.Column('tag', sa.Text(), server_default='', nullable=False),
    sa.Column('platform', sa.Text(), nullable=False),
    sa.Column('workspace', sa.Text(), nullable=False),
    sa.Column('channel', sa.Text(), nullable=False),
    sa.Column('is_direct', sa.Integer(), server_default='0', nullable=False),
    sa.Column('thread', sa.Text(), nullable=True),
    sa.Column('message_id', sa.Text(), nullable=True),
    sa.Column('posted_by', sa.Text(), nullable=False),
    sa.Column('created_at', bot.storage.sql.UtcDateTime(), nullable=False),
    sa.Column('closes_at', bot.storage.sql.UtcDateTime(), nullable=False),
    sa.Column('closed_at', bot.storage.sql.UtcDateTime(), nullable=True),
    sa.Column('delivery_key', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quiz_posts'))
    )
    op.create_index('quiz_posts_delivery', 'quiz_posts', ['delivery_key'], unique=True, sqlite_where=sa.text('delivery_key IS NOT NULL'), postgresql_where=sa.text('delivery_key IS NOT NULL'))
    op.create_index('quiz_posts_due', 'quiz_posts', ['closes_at'], unique=False, sqlite_where=sa.text('closed_at IS NULL'), postgresql_where=sa.text('closed_at IS NULL'))
    op.create_index('quiz_posts_place', 'quiz_posts', ['platform', 'workspace', 'channel', 'created_at'], unique=False)
    op.create_index('quiz_posts_place_id', 'quiz_posts', ['platform', 'workspace', 'channel', 'id'], unique=False)
    op.create_table('quiz_prefs',
    sa.Column('user_key', sa.Text(), nullable=False),
    sa.Column('leaderboard_opt_out', sa.Integer(), server_default='0', nullable=False),
    sa.Column('updated_at', bot.storage.sql.UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('user_key', name=op.f('pk_quiz_prefs'))
    )
    op.create_table('quiz_prompts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('source_id', sa.Text(), server_default='', nullable=False),
    sa.Column('user_key', sa.Text(), nullable=False),
    sa.Column('item_id', sa.Text(), nullable=False),
    sa.Column('platform', sa.Text(), nullable=False),
    sa.Column('workspace', sa.Text(), nullable=False),
    sa.Column('channel', sa.Text(), nullable=False),
    sa.Column('shown_at', bot.storage.sql.UtcDateTime(), nullable=False),
    sa.CheckConstraint("source IN ('tip')", name=op.f('ck_quiz_prompts_source')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quiz_prompts'))
    )
    op.create_index('quiz_prompts_user_item', 'quiz_prompts', ['user_key', 'item_id', 'id'], unique=False)
    op.create_table('quiz_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('user_key', sa.Text(), nullable=False),
    sa.Column('user_name', sa.Text(), server_default='', nullable=False),
    sa.Column('questions', sa.Text(), nullable=False),
    sa.Column('answered', sa.Integer(), server_default='0', nullable=False),
    sa.Column('correct', sa.Integer(), server_default='0', nullable=False),
    sa.Column('shown', sa.Integer(), server_default='0', nullable=False),
    sa.Column('shown_at', bot.storage.sql.UtcDateTime(), nullable=False),
    sa.Column('status', sa.Text(), server_default='active', nullable=False),
    sa.Column('tag', sa.Text(), server_default='', nullable=False),
    sa.Column('content_version', sa.Text(), server_default='', nullable=False),
    sa.Column('platform', sa.Text(), nullable=False),
    sa.Column('workspace', sa.Text(), nullable=False),
    sa.Column('channel', sa.Text(), nullable=False),
    sa.Column('started_at', bot.storage.sql.UtcDateTime(), nullable=False),
    sa.Column('finished_at', bot.storage.sql.UtcDateTime(), nullable=True),
    sa.CheckConstraint("kind IN ('practice', 'exam')", name=op.f('ck_quiz_sessions_kind')),
    sa.CheckConstraint("status IN ('active', 'done', 'abandoned')", name=op.f('ck_quiz_sessions_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quiz_sessions'))
    )
    op.create_index('quiz_sessions_one_active', 'quiz_sessions', ['user_key', 'kind'], unique=True, sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))
    op.create_table('teams_conversations',
    sa.Column('conversation_id', sa.Text(), nullable=False),
    sa.Column('reference', sa.Text(), nullable=False),
    sa.Column('tenant_id', sa.Text(), nullable=True),
    sa.Column('is_personal', sa.Integer(), server_default='0', nullable=False),
    sa.Column('active', sa.Integer(), server_default='1', nullable=False),
    sa.Column('updated_at', bot.storage.sql.UtcDateTime(), nullable=False),
    sa.Column('trust', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('conversation_id', name=op.f('pk_teams_conversations'))
    )
    op.create_table('teams_users',
    sa.Column('user_id', sa.Text(), nullable=False),
    sa.Column('teams_id', sa.Text(), nullable=False),
    sa.Column('updated_at', bot.storage.sql.UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_teams_users'))
    )
    op.create_table('tip_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.Text(), nullable=False),
    sa.Column('workspace', sa.Text(), nullable=False),
    sa.Column('channel', sa.Text(), nullable=False),
    sa.Column('is_direct', sa.Integer(), server_default='0', nullable=False),
    sa.Column('thread', sa.Text(), nullable=True),
    sa.Column('local_time', sa.Text(), nullable=False),
    sa.Column('days', sa.Text(), nullable=False),
    sa.Column('nation', sa.Text(), nullable=False),
    sa.Column('active', sa.Integer(), server_default='1', nullable=False),
    sa.Column('inactive_reason', sa.Text(), nullable=True),
    sa.Column('cycle', sa.Integer(), server_default='1', nullable=False),
    sa.Column('next_local_date', sa.Text(), nullable=True),
    sa.Column('next_due', sa.Text(), nullable=True),
    sa.Column('created_by', sa.Text(), nullable=False),
    sa.Column('created_at', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.Text(), nullable=False),
    sa.Column('delivery_key', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tip_subscriptions')),
    sa.UniqueConstraint('platform', 'workspace', 'channel', name=op.f('uq_tip_subscriptions_platform_workspace_channel'))
    )
    op.create_index('tip_subscriptions_due', 'tip_subscriptions', ['active', 'next_due'], unique=False)
    op.create_table('tip_votes',
    sa.Column('tip_id', sa.Text(), nullable=False),
    sa.Column('place', sa.Text(), nullable=False),
    sa.Column('voter', sa.Text(), nullable=False),
    sa.Column('vote', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.Text(), nullable=False),
    sa.CheckConstraint("vote IN ('useful', 'not-useful')", name=op.f('ck_tip_votes_vote')),
    sa.PrimaryKeyConstraint('tip_id', 'place', 'voter', name=op.f('pk_tip_votes'))
    )
    op.create_table('webchat_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation', sa.Text(), nullable=False),
    sa.Column('visible_to', sa.Text(), nullable=True),
    sa.Column('sender', sa.Text(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', bot.storage.sql.UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webchat_messages'))
    )
    op.create_index('webchat_messages_conv', 'webchat_messages', ['conversation', 'version'], unique=False)
    op.create_index('webchat_messages_version', 'webchat_messages', ['version'], unique=False)
    op.create_table('incident_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Text(), nullable=False),
    sa.Column('at', bot.storage.sql.UtcDateTime(), nullable=False),
    sa.Column('actor', sa.Text(), nullable=False),
    sa.Column('actor_name', sa.Text(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_events_incident_id_incidents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_events'))
    )
    op.create_index('incident_events_incident', 'incident_events', ['incident_id', 'id'], unique=False)
    op.create_table('incident_people',
    sa.Column('incident_id', sa.Text(), nullable=False),
    sa.Column('person', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), server_default='', nullable=False),
    sa.Column('role', sa.Text(), nullable=False),
    sa.Column('added_by', sa.Text(), nullable=True),
    sa.Column('added_at', bot.storage.sql.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_people_incident_id_incidents')),
    sa.PrimaryKeyConstraint('incident_id', 'person', name=op.f('pk_incident_people'))
    )
    op.create_table('incident_steps',
    sa.Column('incident_id', sa.Text(), nullable=False),
    sa.Column('step_id', sa.Text(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('phase', sa.Text(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('link', sa.Text(), nullable=True),
    sa.Column('status', sa.Text(), server_default='open', nullable=False),
    sa.Column('by_key', sa.Text(), nullable=True),
    sa.Column('by_name', sa.Text(), nullable=True),
    sa.Column('at', bot.storage.sql.UtcDateTime(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('assignee', sa.Text(), nullable=True),
    sa.Column('assignee_name', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_steps_incident_id_incidents')),
    sa.PrimaryKeyConstraint('incident_id', 'step_id', name=op.f('pk_incident_steps'))
    )
    op.create_table('paging_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Text(), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('repeat_round', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('finished_at', sa.Text(), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'done', 'cancelled')", name=op.f('ck_paging_jobs_status')),
    sa.ForeignKeyConstraint(['incident_id'], ['paging_incidents.incident_id'], name=op.f('fk_paging_jobs_incident_id_paging_incidents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_paging_jobs')),
    sa.UniqueConstraint('incident_id', 'step', 'repeat_round', name=op.f('uq_paging_jobs_incident_id_step_repeat_round'))
    )
    op.create_index('paging_jobs_due', 'paging_jobs', ['status', 'due_at'], unique=False)
    op.create_table('paging_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Text(), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('repeat_round', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Text(), nullable=False),
    sa.Column('action', sa.Text(), nullable=False),
    sa.Column('provider', sa.Text(), nullable=False),
    sa.Column('target', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_attempt_at', sa.Text(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('ref', sa.Text(), nullable=True),
    sa.Column('fallback_for', sa.Text(), nullable=True),
    sa.Column('created_at', sa.Text(), nullable=False),
    sa.Column('sent_at', sa.Text(), nullable=True),
    sa.CheckConstraint("action IN ('trigger', 'acknowledge', 'resolve')", name=op.f('ck_paging_outbox_action')),
    sa.CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed', 'cancelled', 'skipped')", name=op.f('ck_paging_outbox_status')),
    sa.ForeignKeyConstraint(['incident_id'], ['paging_incidents.incident_id'], name=op.f('fk_paging_outbox_incident_id_paging_incidents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_paging_outbox')),
    sa.UniqueConstraint('incident_id', 'step', 'repeat_round', 'target_id', 'action', name=op.f('uq_paging_outbox_incident_id_step_repeat_round_target_id_action'))
    )
    op.create_index('paging_outbox_due', 'paging_outbox', ['status', 'next_attempt_at'], unique=False)
    op.create_table('quiz_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_key', sa.Text(), nullable=False),
    sa.Column('user_name', sa.Text(), server_default='', nullable=False),
    sa.Column('item_id', sa.Text(), nullable=False),
    sa.Column('module', sa.Text(), nullable=False),
    sa.Column('principle', sa.Text(), nullable=False),
    sa.Column('choice', sa.Integer(), nullable=False),
    sa.Column('correct', sa.Integer(), nullable=False),
    sa.Column('seconds', sa.REAL(), nullable=False),
    sa.Column('context', sa.Text(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=True),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=True),
    sa.Column('prompt_id', sa.Integer(), nullable=True),
    sa.Column('platform', sa.Text(), nullable=False),
    sa.Column('workspace', sa.Text(), nullable=False),
    sa.Column('channel', sa.Text(), nullable=False),
    sa.Column('answered_at', bot.storage.sql.UtcDateTime(), nullable=False),
    sa.Column('delivery_key', sa.Text(), nullable=True),
    sa.CheckConstraint("context IN ('channel', 'practice', 'exam', 'tip')", name=op.f('ck_quiz_answers_context')),
    sa.ForeignKeyConstraint(['post_id'], ['quiz_posts.id'], name=op.f('fk_quiz_answers_post_id_quiz_posts')),
    sa.ForeignKeyConstraint(['prompt_id'], ['quiz_prompts.id'], name=op.f('fk_quiz_answers_prompt_id_quiz_prompts')),
    sa.ForeignKeyConstraint(['session_id'], ['quiz_sessions.id'], name=op.f('fk_quiz_answers_session_id_quiz_sessions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quiz_answers')),
    sa.UniqueConstraint('post_id', 'user_key', name=op.f('uq_quiz_answers_post_id_user_key')),
    sa.UniqueConstraint('prompt_id', name=op.f('uq_quiz_answers_prompt_id')),
    sa.UniqueConstraint('session_id', 'position', name=op.f('uq_quiz_answers_session_id_position'))
    )
    op.create_index('quiz_answers_delivery', 'quiz_answers', ['delivery_key'], unique=True, sqlite_where=sa.text('delivery_key IS NOT NULL'), postgresql_where=sa.text('delivery_key IS NOT NULL'))
    op.create_index('quiz_answers_place', 'quiz_answers', ['platform', 'workspace', 'channel', 'answered_at'], unique=False)
    op.create_index('quiz_answers_user', 'quiz_answers', ['user_key', 'answered_at'], unique=False)
    op.create_table('quiz_exam_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('user_key', sa.Text(), nullable=False),
    sa.Column('user_name', sa.Text(), server_default='', nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('passed', sa.Integer(), nullable=False),
    sa.Column('started_at', bot.storage.sql.UtcDateTime(), nullable=False),
    sa.Column('completed_at', bot.storage.sql.UtcDateTime(), nullable=False),
    sa.Column('content_version', sa.Text(), nullable=False),
    sa.Column('refresher_due', bot.storage.sql.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['quiz_sessions.id'], name=op.f('fk_quiz_exam_results_session_id_quiz_sessions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quiz_exam_results')),
    sa.UniqueConstraint('session_id', name=op.f('uq_quiz_exam_results_session_id'))
    )
    op.create_index('quiz_exam_results_user', 'quiz_exam_results', ['user_key', 'completed_at'], unique=False)
    op.create_table('tip_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('local_date', sa.Text(), nullable=True),
    sa.Column('test_slot', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('tip_id', sa.Text(), nullable=False),
    sa.Column('cycle', sa.Integer(), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('due_at', sa.Text(), nullable=False),
    sa.Column('claimed_at', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.Text(), nullable=False),
    sa.Column('retry_at', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('message_id', sa.Text(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('request_key', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['subscription_id'], ['tip_subscriptions.id'], name=op.f('fk_tip_deliveries_subscription_id_tip_subscriptions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tip_deliveries')),
    sa.UniqueConstraint('subscription_id', 'local_date', name=op.f('uq_tip_deliveries_subscription_id_local_date')),
    sa.UniqueConstraint('subscription_id', 'test_slot', name=op.f('uq_tip_deliveries_subscription_id_test_slot'))
    )
    op.create_index('tip_deliveries_pending', 'tip_deliveries', ['status', 'due_at', 'id'], unique=False, sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))
    op.create_index('tip_deliveries_request', 'tip_deliveries', ['request_key'], unique=True, sqlite_where=sa.text('request_key IS NOT NULL'), postgresql_where=sa.text('request_key IS NOT NULL'))
    op.create_index('tip_deliveries_sending', 'tip_deliveries', ['status', 'id'], unique=False, sqlite_where=sa.text("status = 'sending'"), postgresql_where=sa.text("status = 'sending'"))
    op.create_table('tip_rotation',
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('cycle', sa.Integer(), nullable=False),
    sa.Column('tip_id', sa.Text(), nullable=False),
    sa.Column('served_at', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['subscription_id'], ['tip_subscriptions.id'], name=op.f('fk_tip_rotation_subscription_id_tip_subscriptions')),
    sa.PrimaryKeyConstraint('subscription_id', 'cycle', 'tip_id', name=op.f('pk_tip_rotation'))
    )
