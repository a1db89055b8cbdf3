-- Outbound: the do-not-call list and each campaign's contacts (issue 16).
-- Numbers are national digits only (outbound.contacts.normalise_number): nothing else can
-- reach a dial string.

CREATE TABLE dnc (
    number      text PRIMARY KEY CHECK (number ~ '^[0-9]{2,15}$'),
    source      text NOT NULL DEFAULT 'company'
                CHECK (source IN ('company', 'customer', 'import')),  -- customer: 特定商取引法 §17
    reason      text NOT NULL DEFAULT '' CHECK (char_length(reason) <= 256),
    added_by    text NOT NULL DEFAULT '' CHECK (char_length(added_by) <= 64),
    added_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE campaign_contacts (
    id              bigserial PRIMARY KEY,
    campaign        text NOT NULL CHECK (char_length(campaign) BETWEEN 1 AND 64),
    phone           text NOT NULL CHECK (phone ~ '^[0-9]{2,15}$'),
    name            text NOT NULL DEFAULT '' CHECK (char_length(name) <= 256),
    data            jsonb NOT NULL DEFAULT '{}',  -- the list's other columns, for the screen pop
    status          text NOT NULL DEFAULT 'new'
                    CHECK (status IN ('new', 'scheduled', 'done', 'closed')),
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz,
    imported_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (campaign, phone)  -- importing the same list twice adds nothing
);
CREATE INDEX campaign_contacts_due ON campaign_contacts (campaign, status, next_attempt_at);
