-- Foreign keys again, and deletions that answer at once and finish in the background.
--
-- migrations/20261201000001_statement_cascades.sql replaced the foreign keys between images,
-- faces and subjects by statement-level triggers, so that deleting a million faces inside one
-- request took seconds instead of minutes. A trigger's cascade reads its transaction's snapshot:
-- in a REPEATABLE READ or SERIALIZABLE transaction it missed rows committed after the snapshot
-- and left them without their parent. A foreign key's checks and cascades read the latest
-- committed rows whatever the isolation level (or fail the transaction with a serialization
-- error). So:
--
-- * The foreign keys are back, as in the first schema: images → faces, faces → subjects (in the
--   face's service), faces → services, all ON DELETE CASCADE. The trigger cascades, images'
--   `face_seq` and the functions with pinned planner settings go.
-- * Large deletions no longer run in the request. Deleting an application, a service, every
--   subject of a collection, or a subject with many faces marks what goes (`deleted_at`, one short
--   transaction: no API call, export or search sees it from then on, and api-service replicas
--   drop it from memory) and records a row in `deletions`. Any api-service or admin-service
--   process takes a deletion (a session advisory lock on its own connection, so a process that
--   dies lets it go at once) and purges its rows a few thousand at a time, each batch a short
--   transaction; its progress is in the row. Small deletions (a thousand faces or fewer) still
--   happen at once, in the request.
-- * A marked row frees its name at once: the unique indexes on names leave marked rows out, so a
--   subject, service or application created again under that name is a new one.
--
-- Lock times on a large existing installation: this migration changes definitions only, apart
-- from the indexes on `subjects` (built here, during which subjects cannot be written; subjects
-- are far fewer than faces). The foreign keys are added NOT VALID, which checks every row
-- written from now on without scanning the existing ones; the next migration
-- (20261208000003_validate_foreign_keys.sql, a transaction of its own) deletes what the triggers
-- may have let through and validates the keys while the tables stay readable and writable.

-- The trigger cascades.
DROP TRIGGER faces_check_subjects_insert ON faces;
DROP TRIGGER faces_check_subjects_update ON faces;
DROP TRIGGER faces_delete_images ON faces;
DROP TRIGGER faces_rekey_images ON faces;
DROP TRIGGER faces_truncate_images ON faces;
DROP TRIGGER subjects_delete_faces ON subjects;
DROP TRIGGER subjects_rekey_faces ON subjects;
DROP TRIGGER subjects_truncate_faces ON subjects;
DROP TRIGGER images_check_faces_insert ON images;
DROP TRIGGER images_check_faces_update ON images;
DROP FUNCTION visage_faces_check_subjects();
DROP FUNCTION visage_faces_deleted();
DROP FUNCTION visage_face_rekeyed();
DROP FUNCTION visage_faces_truncated();
DROP FUNCTION visage_subjects_deleted();
DROP FUNCTION visage_subject_rekeyed();
DROP FUNCTION visage_subjects_truncated();
DROP FUNCTION visage_images_check_faces();
DROP FUNCTION visage_delete_collection(uuid, boolean);
DROP INDEX images_face_seq_key;
ALTER TABLE images DROP COLUMN face_seq;

-- The foreign keys, checked for every row written from now on.
ALTER TABLE images ADD CONSTRAINT images_face_id_fkey
    FOREIGN KEY (face_id) REFERENCES faces (id) ON DELETE CASCADE NOT VALID;
ALTER TABLE faces ADD CONSTRAINT faces_subject_fkey
    FOREIGN KEY (subject_id, model_id) REFERENCES subjects (id, model_id) ON DELETE CASCADE ON UPDATE CASCADE
    NOT VALID;
ALTER TABLE faces ADD CONSTRAINT faces_model_fkey
    FOREIGN KEY (model_id) REFERENCES models (id) ON DELETE CASCADE NOT VALID;

-- Marks. A marked row is gone for every reader; the purge deletes it.
ALTER TABLE apps ADD COLUMN deleted_at timestamptz;
ALTER TABLE models ADD COLUMN deleted_at timestamptz;
ALTER TABLE subjects ADD COLUMN deleted_at timestamptz;

-- Names are unique among the rows that are not marked (same index names: the store maps
-- violations to errors by them).
DROP INDEX apps_name_key;
CREATE UNIQUE INDEX apps_name_key ON apps (name) WHERE deleted_at IS NULL;
ALTER TABLE models DROP CONSTRAINT models_app_name_key;
CREATE UNIQUE INDEX models_app_name_key ON models (app_id, name) WHERE deleted_at IS NULL;
CREATE INDEX models_app_id_idx ON models (app_id);
-- Every subject of a service, marked or not: the foreign key's cascade from services and the
-- purge of a service find them here.
CREATE INDEX subjects_model_id_idx ON subjects (model_id);
DROP INDEX subjects_model_name_key;
CREATE UNIQUE INDEX subjects_model_name_key ON subjects (model_id, lower(name)) WHERE deleted_at IS NULL;
-- The marked subjects of a service, for the purge (few at any time).
CREATE INDEX subjects_deleted_idx ON subjects (model_id) WHERE deleted_at IS NOT NULL;

-- What is being deleted in the background, and how far it has come.
CREATE TABLE deletions (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    -- `app`: an application with its services; `service`: a service with its collection;
    -- `subjects`: the marked subjects of a service (at most one such row per service).
    kind          text        NOT NULL CONSTRAINT deletions_kind_check CHECK (kind IN ('app', 'service', 'subjects')),
    -- The application (of the service); the row goes with it.
    app_id        uuid        NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    -- The service (`service`, `subjects`); the row goes with it.
    model_id      uuid        REFERENCES models (id) ON DELETE CASCADE,
    -- The name of what goes (the application or the service), for people.
    name          text        NOT NULL,
    -- Rows to delete in all, counted when a process takes the deletion (NULL before), and rows
    -- deleted so far.
    subjects      bigint,
    faces         bigint,
    subjects_done bigint      NOT NULL DEFAULT 0,
    faces_done    bigint      NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now(),
    started_at    timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT deletions_model_check CHECK ((kind = 'app') = (model_id IS NULL))
);
CREATE UNIQUE INDEX deletions_subjects_key ON deletions (model_id) WHERE kind = 'subjects';
CREATE INDEX deletions_app_id_idx ON deletions (app_id);

-- Notifications (migrations/20261128150000_collection_notify.sql, 20261201000001): the same
-- payloads, and
-- * nothing while a purge deletes marked rows (`SET LOCAL visage.purging = 'on'`): what it
--   deletes left the collections when it was marked;
-- * marked subjects notify as deleted ones do, by id up to 150; beyond that `clear` when the
--   service has no unmarked subject left (the replicas empty the collection without reading
--   it), else `reload`;
-- * a marked recognition service notifies `drop`, as a deleted one does.

CREATE OR REPLACE FUNCTION visage_faces_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    changed constant text := CASE TG_OP
        WHEN 'INSERT' THEN 'new_rows'
        WHEN 'DELETE' THEN 'old_rows'
        ELSE '(SELECT model_id, id, subject_id FROM old_rows UNION SELECT model_id, id, subject_id FROM new_rows) c'
    END;
    counted constant text := CASE TG_OP WHEN 'UPDATE' THEN 'count(DISTINCT id)' ELSE 'count(*)' END;
    r record;
    ids uuid[];
BEGIN
    IF current_setting('visage.purging', true) = 'on' THEN
        RETURN NULL;
    END IF;
    FOR r IN EXECUTE format('SELECT model_id, %s AS faces, count(DISTINCT subject_id) AS subjects '
                            'FROM %s GROUP BY model_id', counted, changed) LOOP
        IF r.faces <= 150 THEN
            EXECUTE format('SELECT ARRAY(SELECT DISTINCT id FROM %s WHERE model_id = $1)', changed)
                INTO ids USING r.model_id;
            PERFORM visage_notify_collection(r.model_id, 'faces', ids);
        ELSIF r.subjects <= 150 THEN
            EXECUTE format('SELECT ARRAY(SELECT DISTINCT subject_id FROM %s WHERE model_id = $1)', changed)
                INTO ids USING r.model_id;
            PERFORM visage_notify_collection(r.model_id, 'subject_faces', ids);
        ELSE
            PERFORM visage_notify_collection(r.model_id, 'reload', '{}');
        END IF;
    END LOOP;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION visage_subjects_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    -- Renamed, marked or deleted subjects (adding a face to a subject "updates" it to its own
    -- name and mark).
    changed constant text := CASE TG_OP
        WHEN 'UPDATE' THEN '(SELECT n.model_id, n.id FROM new_rows n JOIN old_rows o ON o.id = n.id '
                           'WHERE o.name IS DISTINCT FROM n.name OR o.deleted_at IS DISTINCT FROM n.deleted_at) c'
        ELSE 'old_rows'
    END;
    r record;
    ids uuid[];
BEGIN
    IF current_setting('visage.purging', true) = 'on' THEN
        RETURN NULL;
    END IF;
    FOR r IN EXECUTE format('SELECT model_id, count(*) AS subjects FROM %s GROUP BY model_id', changed) LOOP
        IF r.subjects <= 150 THEN
            EXECUTE format('SELECT ARRAY(SELECT id FROM %s WHERE model_id = $1)', changed) INTO ids USING r.model_id;
            PERFORM visage_notify_collection(r.model_id, 'subjects', ids);
        ELSIF NOT EXISTS (SELECT 1 FROM subjects s WHERE s.model_id = r.model_id AND s.deleted_at IS NULL) THEN
            PERFORM visage_notify_collection(r.model_id, 'clear', '{}');
        ELSE
            PERFORM visage_notify_collection(r.model_id, 'reload', '{}');
        END IF;
    END LOOP;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION visage_models_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    IF current_setting('visage.purging', true) = 'on' THEN
        RETURN NULL;
    END IF;
    FOR r IN SELECT id FROM old_rows WHERE type = 'R' LOOP
        PERFORM visage_notify_collection(r.id, 'drop', '{}');
    END LOOP;
    RETURN NULL;
END;
$$;

CREATE FUNCTION visage_models_marked() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
             WHERE n.type = 'R' AND o.deleted_at IS NULL AND n.deleted_at IS NOT NULL LOOP
        PERFORM visage_notify_collection(r.id, 'drop', '{}');
    END LOOP;
    RETURN NULL;
END;
$$;

CREATE TRIGGER models_notify_update AFTER UPDATE ON models
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION visage_models_marked();
