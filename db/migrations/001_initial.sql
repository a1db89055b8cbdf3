-- madoguchi schema, version 1.
-- Length limits match db/sanitize.py LIMITS (the writer truncates to them before writing).
-- Columns that the writer fills from the call path carry no foreign keys on purpose: a record
-- must never be refused because a referenced row is missing or was purged.

CREATE TABLE customers (
    id              bigserial PRIMARY KEY,
    account_number  text UNIQUE CHECK (char_length(account_number) BETWEEN 1 AND 64),
    name            text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 256),
    name_kana       text CHECK (char_length(name_kana) <= 256),
    tier            text NOT NULL DEFAULT 'standard'
                    CHECK (tier IN ('gold', 'silver', 'standard')),
    notes           text NOT NULL DEFAULT '' CHECK (char_length(notes) <= 16384),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Phone numbers in canonical form (db.sanitize.normalise_phone): digits, national 0 prefix.
CREATE TABLE customer_phones (
    customer_id     bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    number          text NOT NULL CHECK (char_length(number) BETWEEN 1 AND 32),
    position        smallint NOT NULL DEFAULT 0,
    PRIMARY KEY (customer_id, number)
);
CREATE INDEX customer_phones_number ON customer_phones (number);

CREATE TABLE agents (
    id              text PRIMARY KEY CHECK (char_length(id) BETWEEN 1 AND 64),
    name            text NOT NULL DEFAULT '' CHECK (char_length(name) <= 256),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- One row per call. call_id is Asterisk's linkedid/uniqueid of the caller's channel.
CREATE TABLE calls (
    call_id          text PRIMARY KEY CHECK (char_length(call_id) BETWEEN 1 AND 128),
    caller_number    text CHECK (char_length(caller_number) <= 64),
    caller_name      text CHECK (char_length(caller_name) <= 256),
    dialled_number   text CHECK (char_length(dialled_number) <= 64),
    ivr_path         jsonb,
    customer_id      bigint,
    queue            text CHECK (char_length(queue) <= 64),
    priority         integer,
    entered_ivr_at   timestamptz,
    entered_queue_at timestamptz,
    offered_at       timestamptz,   -- first time an agent's phone rang for it
    answered_at      timestamptz,
    ended_at         timestamptz,   -- caller side hung up / call finished
    wrapup_ended_at  timestamptz,   -- the answering agent left wrap-up
    agent_id         text CHECK (char_length(agent_id) <= 64),
    outcome          text CHECK (char_length(outcome) <= 32),
    disposition      text CHECK (char_length(disposition) <= 64),
    notes            text CHECK (char_length(notes) <= 16384),
    transferred      boolean NOT NULL DEFAULT false,
    callback         boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX calls_entered_queue_at ON calls (entered_queue_at);
CREATE INDEX calls_entered_ivr_at ON calls (entered_ivr_at);
CREATE INDEX calls_customer ON calls (customer_id, entered_ivr_at DESC);
CREATE INDEX calls_agent ON calls (agent_id, answered_at);

-- Append-only timeline; (call_id, event_uid) makes every write idempotent.
CREATE TABLE call_events (
    seq             bigserial UNIQUE,
    call_id         text NOT NULL CHECK (char_length(call_id) BETWEEN 1 AND 128),
    event_uid       text NOT NULL CHECK (char_length(event_uid) BETWEEN 1 AND 128),
    ts              timestamptz NOT NULL,
    kind            text NOT NULL CHECK (char_length(kind) BETWEEN 1 AND 64),
    data            jsonb NOT NULL DEFAULT '{}'::jsonb,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (call_id, event_uid)
);
CREATE INDEX call_events_ts ON call_events (ts);

-- What each agent was doing when; ended_at NULL while the state lasts.
CREATE TABLE agent_state_intervals (
    agent_id        text NOT NULL CHECK (char_length(agent_id) BETWEEN 1 AND 64),
    started_at      timestamptz NOT NULL,
    state           text NOT NULL CHECK (char_length(state) BETWEEN 1 AND 32),
    reason          text CHECK (char_length(reason) <= 64),
    ended_at        timestamptz CHECK (ended_at IS NULL OR ended_at >= started_at),
    PRIMARY KEY (agent_id, started_at)
);
CREATE INDEX agent_state_intervals_started ON agent_state_intervals (started_at);

-- Every disposition an agent saved (the latest is also copied onto calls).
CREATE TABLE dispositions (
    id              bigserial PRIMARY KEY,
    call_id         text NOT NULL CHECK (char_length(call_id) BETWEEN 1 AND 128),
    agent_id        text CHECK (char_length(agent_id) <= 64),
    code            text NOT NULL CHECK (char_length(code) BETWEEN 1 AND 64),
    notes           text NOT NULL DEFAULT '' CHECK (char_length(notes) <= 16384),
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dispositions_call ON dispositions (call_id);
