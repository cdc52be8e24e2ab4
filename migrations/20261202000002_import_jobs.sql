-- Imports of a recognition collection from an archive (`POST /api/v1/recognition/import`).
--
-- An import runs in the background on the api-service process that received the archive; its
-- progress lives here so that any process answers `GET /api/v1/recognition/import/{id}`.
--
-- * The running process writes the counters and `heartbeat_at` every second or so. A job still
--   `running` whose heartbeat is older than the readers' timeout was left by a process that
--   stopped: the next reader marks it `failed` ("interrupted"), in the same statement that reads
--   it (crates/store/src/jobs.rs).
-- * `total` is the number of files in the archive, NULL until known.
-- * The entries that failed or were skipped are reported in import_job_entries, the first 1000
--   of each kind; `failed_unlisted` and `skipped_unlisted` count the rest.
-- * Jobs belong to their service and go with it. Finished jobs are deleted a week after they
--   end, when the service starts another import.

CREATE TABLE import_jobs (
    id               uuid        PRIMARY KEY,
    model_id         uuid        NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    status           text        NOT NULL
                                 CONSTRAINT import_jobs_status_check
                                 CHECK (status IN ('running', 'done', 'failed')),
    -- Why a job failed as a whole (an unreadable archive, interrupted); NULL otherwise.
    error            text,
    total            bigint,
    seen             bigint      NOT NULL DEFAULT 0,
    done             bigint      NOT NULL DEFAULT 0,
    failed           bigint      NOT NULL DEFAULT 0,
    skipped          bigint      NOT NULL DEFAULT 0,
    -- Subjects this import created; its faces stored are `done`.
    subjects_added   bigint      NOT NULL DEFAULT 0,
    failed_unlisted  bigint      NOT NULL DEFAULT 0,
    skipped_unlisted bigint      NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL DEFAULT now(),
    heartbeat_at     timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz
);
CREATE INDEX import_jobs_model_idx ON import_jobs (model_id, created_at);

-- One reported archive entry: `n` orders the report.
CREATE TABLE import_job_entries (
    job_id uuid    NOT NULL REFERENCES import_jobs (id) ON DELETE CASCADE,
    n      integer NOT NULL,
    kind   text    NOT NULL CONSTRAINT import_job_entries_kind_check CHECK (kind IN ('failed', 'skipped')),
    entry  text    NOT NULL,
    reason text    NOT NULL,
    PRIMARY KEY (job_id, n)
);
