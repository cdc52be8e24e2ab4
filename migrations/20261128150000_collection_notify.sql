-- Change notifications for the in-memory face collections of api-service.
--
-- Every api-service process keeps the faces of the recognition services it serves in memory and
-- LISTENs on channel `visage_collections`. These statement-level triggers send what changed from
-- inside the writing transaction, so a notification is delivered exactly when (and only if) the
-- write commits, and every writer is covered: api-service instances, admin-service (cloning or
-- deleting a service), hand-written SQL.
--
-- A payload is JSON `{"model": <service id>, "op": <op>, "ids": [<uuid>, ...]}`:
--
-- | op | ids | the receiver ... |
-- |---|---|---|
-- | `faces` | face ids | re-reads these faces: present ones are (re)inserted, absent ones removed |
-- | `subjects` | subject ids | re-reads their names: renamed ones take the new name, absent ones go with their faces |
-- | `subject_faces` | subject ids | re-reads these subjects with all their faces |
-- | `reload` | none | reloads the whole collection |
-- | `drop` | none | forgets the collection (the service was deleted) |
--
-- Receivers re-read the current rows rather than trusting the payload, so applying a
-- notification twice, late, or on top of a load that already saw the change is harmless.
-- Payloads stay far below Postgres' 8000-byte limit: at most 150 ids (about 6 KB); larger
-- changes fall back to whole subjects, then to a reload.

CREATE FUNCTION visage_notify_collection(model uuid, op text, ids uuid[]) RETURNS void
LANGUAGE sql AS $$
    SELECT pg_notify('visage_collections', json_build_object('model', model, 'op', op, 'ids', ids)::text);
$$;

-- Faces of one service changed: by id when few, by subject when the subjects are few, else reload.
CREATE FUNCTION visage_notify_faces(model uuid, faces uuid[], subjects uuid[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF cardinality(faces) = 0 THEN
        RETURN;
    ELSIF cardinality(faces) <= 150 THEN
        PERFORM visage_notify_collection(model, 'faces', faces);
    ELSIF cardinality(subjects) <= 150 THEN
        PERFORM visage_notify_collection(model, 'subject_faces', subjects);
    ELSE
        PERFORM visage_notify_collection(model, 'reload', '{}');
    END IF;
END;
$$;

CREATE FUNCTION visage_faces_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    IF TG_OP = 'INSERT' THEN
        FOR r IN SELECT model_id, array_agg(id) AS ids, array_agg(DISTINCT subject_id) AS subjects
                 FROM new_rows GROUP BY model_id LOOP
            PERFORM visage_notify_faces(r.model_id, r.ids, r.subjects);
        END LOOP;
    ELSIF TG_OP = 'DELETE' THEN
        FOR r IN SELECT model_id, array_agg(id) AS ids, array_agg(DISTINCT subject_id) AS subjects
                 FROM old_rows GROUP BY model_id LOOP
            PERFORM visage_notify_faces(r.model_id, r.ids, r.subjects);
        END LOOP;
    ELSE
        -- A face moved to another subject (a merge) or got a new embedding (/migrate): both the
        -- old and the new subject are affected.
        FOR r IN SELECT model_id, array_agg(DISTINCT id) AS ids, array_agg(DISTINCT subject_id) AS subjects
                 FROM (SELECT model_id, id, subject_id FROM old_rows
                       UNION ALL SELECT model_id, id, subject_id FROM new_rows) AS changed
                 GROUP BY model_id LOOP
            PERFORM visage_notify_faces(r.model_id, r.ids, r.subjects);
        END LOOP;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER faces_notify_insert AFTER INSERT ON faces
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION visage_faces_changed();
CREATE TRIGGER faces_notify_update AFTER UPDATE ON faces
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION visage_faces_changed();
CREATE TRIGGER faces_notify_delete AFTER DELETE ON faces
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION visage_faces_changed();

-- Subjects renamed or deleted. New subjects need no notification: they have no faces yet, and a
-- face names its subject when it is read. (Adding a face to an existing subject "updates" it
-- to its own name, which is filtered out here.)
CREATE FUNCTION visage_subjects_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        FOR r IN SELECT n.model_id, array_agg(n.id) AS ids
                 FROM new_rows n JOIN old_rows o ON o.id = n.id
                 WHERE o.name IS DISTINCT FROM n.name GROUP BY n.model_id LOOP
            PERFORM visage_notify_collection(r.model_id,
                CASE WHEN cardinality(r.ids) <= 150 THEN 'subjects' ELSE 'reload' END,
                CASE WHEN cardinality(r.ids) <= 150 THEN r.ids ELSE '{}' END);
        END LOOP;
    ELSE
        FOR r IN SELECT model_id, array_agg(id) AS ids FROM old_rows GROUP BY model_id LOOP
            PERFORM visage_notify_collection(r.model_id,
                CASE WHEN cardinality(r.ids) <= 150 THEN 'subjects' ELSE 'reload' END,
                CASE WHEN cardinality(r.ids) <= 150 THEN r.ids ELSE '{}' END);
        END LOOP;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER subjects_notify_update AFTER UPDATE ON subjects
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION visage_subjects_changed();
CREATE TRIGGER subjects_notify_delete AFTER DELETE ON subjects
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION visage_subjects_changed();

-- A deleted recognition service: its collection can be dropped from memory.
CREATE FUNCTION visage_models_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT id FROM old_rows WHERE type = 'R' LOOP
        PERFORM visage_notify_collection(r.id, 'drop', '{}');
    END LOOP;
    RETURN NULL;
END;
$$;

CREATE TRIGGER models_notify_delete AFTER DELETE ON models
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION visage_models_deleted();
