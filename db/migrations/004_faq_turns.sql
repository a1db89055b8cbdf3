-- FAQ bot turns (selfservice/faq): every question a customer asked the bot, what the bot did
-- with it (entry answered or hand-off, the confidence, why), and whether the answer helped.
CREATE TABLE faq_turns (
    id          text PRIMARY KEY CHECK (char_length(id) BETWEEN 1 AND 64),
    at          timestamptz NOT NULL,
    lang        text NOT NULL CHECK (lang IN ('ja', 'en')),
    question    text NOT NULL CHECK (char_length(question) <= 2000),
    entry       text CHECK (char_length(entry) <= 64),
    score       double precision NOT NULL CHECK (score >= 0 AND score <= 1),
    handoff     boolean NOT NULL,
    reason      text NOT NULL CHECK (char_length(reason) <= 32),
    helped      boolean,            -- NULL until the customer answers "did this help?"
    feedback_at timestamptz,
    CHECK (handoff = (entry IS NULL))
);

CREATE INDEX faq_turns_at ON faq_turns (at);
-- "Which entries do not help": per entry over a period.
CREATE INDEX faq_turns_entry_at ON faq_turns (entry, at) WHERE entry IS NOT NULL;
