-- Call recordings metadata (the audio files live on disk; retention purges both).
CREATE TABLE recordings (
    call_id         text NOT NULL CHECK (char_length(call_id) BETWEEN 1 AND 128),
    recording_id    text NOT NULL CHECK (char_length(recording_id) BETWEEN 1 AND 128),
    path            text NOT NULL CHECK (char_length(path) BETWEEN 1 AND 1024),
    started_at      timestamptz NOT NULL,
    ended_at        timestamptz CHECK (ended_at IS NULL OR ended_at >= started_at),
    size_bytes      bigint CHECK (size_bytes IS NULL OR size_bytes >= 0),
    PRIMARY KEY (call_id, recording_id)
);
CREATE INDEX recordings_started ON recordings (started_at);
