-- The reference service's first schema: an audit of the releases each service ran.
CREATE TABLE IF NOT EXISTS acgs_release_events (
    id bigserial PRIMARY KEY,
    service text NOT NULL,
    release text NOT NULL,
    event text NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
);
