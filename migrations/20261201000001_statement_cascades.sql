-- Deleting a collection of a million faces in seconds, whatever the planner's statistics say.
--
-- Until now three foreign keys with ON DELETE CASCADE tied images to faces, faces to subjects and
-- faces to services. Postgres runs a foreign key's action once per row, as a query of its own:
-- emptying a service of 100 000 subjects and 1 000 000 faces probed the images' key a million
-- times (about 10 s), the faces' subject key 100 000 times (about 2.5 s), and the notification
-- trigger's transition table held every deleted 2 KB face (5 s and more to write out and read
-- back): 17 s in all (docs/benchmarks.md). Measured with EXPLAIN (ANALYZE, BUFFERS) on the data
-- of crates/store/examples/delete_faces.rs.
--
-- Now:
-- * Statement-level triggers do what the three foreign keys did, one query per statement instead
--   of one per row. Deleting subjects deletes their faces; deleting faces deletes their images;
--   inserting or updating faces checks that their subject exists in their service, inserting or
--   updating images that their face exists, locking the rows found FOR KEY SHARE as a foreign
--   key does, and failing with SQLSTATE 23503 under the old constraint's name. A changed subject
--   key carries over to its faces (as ON UPDATE CASCADE did), a changed face key to its images
--   (the foreign key refused it), and TRUNCATE carries over too. A face needs no key of its own
--   to its service: its subject has one (subjects_model_id_fkey, kept), and the check keeps the
--   face in its subject's service.
-- * An image records its face's `seq` (images.face_seq; the trigger fills it in when a writer
--   leaves it out). Faces are deleted a few hundred subjects at a time in storage order, so their
--   images are found through face_seq, in ranges of consecutive seqs: the images of a million
--   faces go in about 1 s, against about 5 s through the random face ids.
-- * Deleting subjects deletes their faces 200 to 399 subjects per statement
--   (visage_subjects_deleted), so the faces' transition tables stay small, whoever deletes: the
--   store, `DELETE FROM models …`, hand-written SQL. visage_delete_collection(service) empties a
--   collection that way and can count the faces it deletes (the store's "delete all").
-- * These functions run with enable_seqscan, jit and parallel query off: with statistics that
--   say the tables are empty (right after a bulk load, before autovacuum) the planner expects
--   millions of rows from `subject_id = ANY (…)`, and chose a sequential scan of every face,
--   spent about 70 ms per statement compiling expressions with JIT, or planned parallel workers
--   for a few thousand rows. The batched deletions run with work_mem = 32MB so that a batch's
--   transition tables stay in memory instead of going through temporary files (with the default
--   4MB and parallel query on, a million faces took 9.3 s instead of 6.2 s).
-- * The notification triggers count first and build arrays of ids only for what they send: at
--   most 150 faces, or the subjects of a change that touches at most 150 subjects.
--
-- The notifications themselves are unchanged (migrations/20261128150000_collection_notify.sql):
-- the same payloads for the same changes; deleting a large collection sends `reload` (once: a
-- transaction sends identical payloads once), then `drop` when the service goes.

ALTER TABLE images DROP CONSTRAINT images_face_id_fkey;
ALTER TABLE faces DROP CONSTRAINT faces_subject_fkey;
ALTER TABLE faces DROP CONSTRAINT faces_model_fkey;

ALTER TABLE images ADD COLUMN face_seq bigint;
UPDATE images i SET face_seq = f.seq FROM faces f WHERE f.id = i.face_id;
CREATE UNIQUE INDEX images_face_seq_key ON images (face_seq);

-- Faces written: their subjects must exist, in the faces' service.
CREATE FUNCTION visage_faces_check_subjects() RETURNS trigger
LANGUAGE plpgsql SET enable_seqscan = off SET jit = off SET max_parallel_workers_per_gather = 0 AS $$
DECLARE
    missing record;
BEGIN
    -- As a foreign key does: the subjects cannot go before this transaction ends.
    PERFORM 1 FROM subjects WHERE id = ANY (ARRAY(SELECT DISTINCT subject_id FROM new_rows)) FOR KEY SHARE;
    SELECT n.subject_id, n.model_id INTO missing
    FROM (SELECT DISTINCT subject_id, model_id FROM new_rows) n
    WHERE NOT EXISTS (SELECT 1 FROM subjects s WHERE s.id = n.subject_id AND s.model_id = n.model_id)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'insert or update on table "faces" violates foreign key constraint "faces_subject_fkey"'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'faces_subject_fkey', TABLE = 'faces',
                  DETAIL = format('Key (subject_id, model_id)=(%s, %s) is not present in table "subjects".',
                                  missing.subject_id, missing.model_id);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER faces_check_subjects_insert AFTER INSERT ON faces
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION visage_faces_check_subjects();
CREATE TRIGGER faces_check_subjects_update AFTER UPDATE ON faces
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION visage_faces_check_subjects();

-- Faces deleted: their images go with them. The deleted faces' seqs are taken as runs of
-- consecutive values (faces written together, as a subject's faces often are, have consecutive
-- seqs) and each run's images are one range of images_face_seq_key: a run holds every seq
-- between its ends, and only those faces' images have them.
CREATE FUNCTION visage_faces_deleted() RETURNS trigger
LANGUAGE plpgsql SET enable_seqscan = off SET jit = off SET max_parallel_workers_per_gather = 0 AS $$
BEGIN
    DELETE FROM images i
    USING (SELECT min(seq) AS first, max(seq) AS last
           FROM (SELECT seq, seq - row_number() OVER (ORDER BY seq) AS run FROM old_rows) o
           GROUP BY run) r
    WHERE i.face_seq BETWEEN r.first AND r.last;
    RETURN NULL;
END;
$$;

CREATE TRIGGER faces_delete_images AFTER DELETE ON faces
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION visage_faces_deleted();

-- A face's key changed (nothing in Visage does that): its image follows.
CREATE FUNCTION visage_face_rekeyed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE images SET face_id = NEW.id, face_seq = NEW.seq WHERE face_seq = OLD.seq;
    RETURN NULL;
END;
$$;

CREATE TRIGGER faces_rekey_images AFTER UPDATE OF id, seq ON faces FOR EACH ROW
    WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.seq IS DISTINCT FROM NEW.seq)
    EXECUTE FUNCTION visage_face_rekeyed();

CREATE FUNCTION visage_faces_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE images;
    RETURN NULL;
END;
$$;

CREATE TRIGGER faces_truncate_images AFTER TRUNCATE ON faces
    FOR EACH STATEMENT EXECUTE FUNCTION visage_faces_truncated();

-- Subjects deleted: their faces go with them, a few hundred subjects per statement.
CREATE FUNCTION visage_subjects_deleted() RETURNS trigger
LANGUAGE plpgsql
-- work_mem: the faces' transition tables of a batch (about 4 KB of memory per 512-d face) stay
-- in memory instead of going through a temporary file.
SET enable_seqscan = off SET jit = off SET max_parallel_workers_per_gather = 0 SET work_mem = '32MB'
AS $$
DECLARE
    ids uuid[];
    n bigint;
    batches bigint;
BEGIN
    ids := ARRAY(SELECT id FROM old_rows);
    n := cardinality(ids);
    -- Batches of 200 to 399 subjects: more than 150, so that the notifications of a large
    -- deletion are all the same `reload` (see visage_delete_collection).
    batches := greatest(1, n / 200);
    FOR b IN 0 .. batches - 1 LOOP
        DELETE FROM faces WHERE subject_id = ANY (ids[b * n / batches + 1 : (b + 1) * n / batches]);
    END LOOP;
    RETURN NULL;
END;
$$;

CREATE TRIGGER subjects_delete_faces AFTER DELETE ON subjects
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION visage_subjects_deleted();

-- A subject's key changed (nothing in Visage does that): its faces follow.
CREATE FUNCTION visage_subject_rekeyed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE faces SET subject_id = NEW.id, model_id = NEW.model_id
    WHERE subject_id = OLD.id AND model_id = OLD.model_id;
    RETURN NULL;
END;
$$;

CREATE TRIGGER subjects_rekey_faces AFTER UPDATE OF id, model_id ON subjects FOR EACH ROW
    WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.model_id IS DISTINCT FROM NEW.model_id)
    EXECUTE FUNCTION visage_subject_rekeyed();

CREATE FUNCTION visage_subjects_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE faces;
    RETURN NULL;
END;
$$;

CREATE TRIGGER subjects_truncate_faces AFTER TRUNCATE ON subjects
    FOR EACH STATEMENT EXECUTE FUNCTION visage_subjects_truncated();

-- Images written: their faces must exist; each image gets its face's seq.
CREATE FUNCTION visage_images_check_faces() RETURNS trigger
LANGUAGE plpgsql SET enable_seqscan = off SET jit = off SET max_parallel_workers_per_gather = 0 AS $$
DECLARE
    missing uuid;
    unsequenced bigint;
BEGIN
    -- As a foreign key does: the faces cannot go before this transaction ends.
    WITH locked AS (
        SELECT id, seq FROM faces WHERE id = ANY (ARRAY(SELECT face_id FROM new_rows)) FOR KEY SHARE
    )
    SELECT (min(n.face_id::text) FILTER (WHERE l.id IS NULL))::uuid,
           count(*) FILTER (WHERE l.id IS NOT NULL AND n.face_seq IS DISTINCT FROM l.seq)
    INTO missing, unsequenced
    FROM new_rows n LEFT JOIN locked l ON l.id = n.face_id;
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'insert or update on table "images" violates foreign key constraint "images_face_id_fkey"'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'images_face_id_fkey', TABLE = 'images',
                  DETAIL = format('Key (face_id)=(%s) is not present in table "faces".', missing);
    END IF;
    IF unsequenced > 0 THEN
        UPDATE images i SET face_seq = f.seq FROM faces f
        WHERE i.face_id = ANY (ARRAY(SELECT face_id FROM new_rows)) AND f.id = i.face_id
          AND i.face_seq IS DISTINCT FROM f.seq;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER images_check_faces_insert AFTER INSERT ON images
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION visage_images_check_faces();
CREATE TRIGGER images_check_faces_update AFTER UPDATE ON images
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION visage_images_check_faces();

-- Empties a recognition collection a few hundred subjects at a time, and says how many subjects
-- it deleted and, when asked (it costs a read of every face before its deletion: about 15 % more
-- time), how many faces. Faces added meanwhile to a subject it deletes go too, uncounted, as they
-- did when the store deleted a service's faces in one statement.
CREATE FUNCTION visage_delete_collection(service uuid, count_faces boolean DEFAULT false,
                                         OUT deleted_subjects bigint, OUT deleted_faces bigint)
LANGUAGE plpgsql
SET enable_seqscan = off SET jit = off SET max_parallel_workers_per_gather = 0 SET work_mem = '32MB'
AS $$
DECLARE
    ids uuid[];
    batch uuid[];
    total bigint;
    batches bigint;
    n bigint;
BEGIN
    deleted_subjects := 0;
    deleted_faces := CASE WHEN count_faces THEN 0 END;
    -- In storage order: the faces of subjects stored together tend to lie together too.
    ids := ARRAY(SELECT s.id FROM subjects s WHERE s.model_id = service ORDER BY s.ctid);
    total := cardinality(ids);
    -- Batches of 200 to 399 subjects. Each batch's statements notify by id only when it has at
    -- most 150 subjects, so a large collection's batches all send the same `reload` (and a
    -- transaction sends identical notifications once); a small collection is one batch, by id.
    batches := greatest(1, total / 200);
    FOR b IN 0 .. batches - 1 LOOP
        EXIT WHEN total = 0;
        batch := ids[b * total / batches + 1 : (b + 1) * total / batches];
        IF count_faces THEN
            SELECT count(*) INTO n FROM faces f WHERE f.subject_id = ANY (batch);
            deleted_faces := deleted_faces + n;
        END IF;
        DELETE FROM subjects s WHERE s.id = ANY (batch);
        GET DIAGNOSTICS n = ROW_COUNT;
        deleted_subjects := deleted_subjects + n;
    END LOOP;
    -- Subjects added meanwhile.
    DELETE FROM subjects s WHERE s.model_id = service;
    GET DIAGNOSTICS n = ROW_COUNT;
    deleted_subjects := deleted_subjects + n;
END;
$$;

-- Notifications: count first, arrays of ids only for what is sent.

CREATE OR REPLACE FUNCTION visage_faces_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    -- The changed faces: for an update, a face moved to another subject (a merge) or given a new
    -- embedding (/migrate) counts once, and both its old and its new subject are affected.
    changed constant text := CASE TG_OP
        WHEN 'INSERT' THEN 'new_rows'
        WHEN 'DELETE' THEN 'old_rows'
        ELSE '(SELECT model_id, id, subject_id FROM old_rows UNION SELECT model_id, id, subject_id FROM new_rows) c'
    END;
    counted constant text := CASE TG_OP WHEN 'UPDATE' THEN 'count(DISTINCT id)' ELSE 'count(*)' END;
    r record;
    ids uuid[];
BEGIN
    -- Per service: the faces by id when few, by subject when the subjects are few, else reload.
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

DROP FUNCTION visage_notify_faces(uuid, uuid[], uuid[]);

CREATE OR REPLACE FUNCTION visage_subjects_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    -- Renamed or deleted subjects (adding a face to a subject "updates" it to its own name).
    changed constant text := CASE TG_OP
        WHEN 'UPDATE' THEN '(SELECT n.model_id, n.id FROM new_rows n JOIN old_rows o ON o.id = n.id '
                           'WHERE o.name IS DISTINCT FROM n.name) c'
        ELSE 'old_rows'
    END;
    r record;
    ids uuid[];
BEGIN
    FOR r IN EXECUTE format('SELECT model_id, count(*) AS subjects FROM %s GROUP BY model_id', changed) LOOP
        IF r.subjects <= 150 THEN
            EXECUTE format('SELECT ARRAY(SELECT id FROM %s WHERE model_id = $1)', changed) INTO ids USING r.model_id;
            PERFORM visage_notify_collection(r.model_id, 'subjects', ids);
        ELSE
            PERFORM visage_notify_collection(r.model_id, 'reload', '{}');
        END IF;
    END LOOP;
    RETURN NULL;
END;
$$;
