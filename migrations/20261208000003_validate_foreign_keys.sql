-- The foreign keys added NOT VALID by 20261208000002_background_deletions.sql, validated in a
-- transaction of their own: validating takes a lock that lets every read and write go on
-- (SHARE UPDATE EXCLUSIVE) while it scans the tables, and so do the deletions below.
--
-- Rows without their parent: the trigger cascades of 20261201000001_statement_cascades.sql could
-- leave a face without its subject, or an image without its face, when the deleting transaction
-- ran at REPEATABLE READ or SERIALIZABLE (hand-written SQL). No API call, export or search ever
-- saw such rows (every read reaches a face through its subject and an image through its face),
-- so they are deleted rather than kept: keeping them would mean refusing to upgrade until
-- someone deletes by hand what nobody can see. How many went is reported as a NOTICE (and in
-- the server's log). Since the previous migration the keys check every write, so no new ones
-- can appear meanwhile.

DO $$
DECLARE
    faces_gone bigint;
    images_gone bigint;
BEGIN
    DELETE FROM faces f
    WHERE NOT EXISTS (SELECT 1 FROM subjects s WHERE s.id = f.subject_id AND s.model_id = f.model_id);
    GET DIAGNOSTICS faces_gone = ROW_COUNT;
    DELETE FROM images i WHERE NOT EXISTS (SELECT 1 FROM faces f WHERE f.id = i.face_id);
    GET DIAGNOSTICS images_gone = ROW_COUNT;
    IF faces_gone > 0 OR images_gone > 0 THEN
        RAISE NOTICE 'deleted % faces without their subject and % images without their face', faces_gone, images_gone;
    END IF;
END;
$$;

ALTER TABLE faces VALIDATE CONSTRAINT faces_subject_fkey;
ALTER TABLE faces VALIDATE CONSTRAINT faces_model_fkey;
ALTER TABLE images VALIDATE CONSTRAINT images_face_id_fkey;
