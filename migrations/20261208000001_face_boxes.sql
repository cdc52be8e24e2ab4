-- The box of each stored face, where core-service found it in the stored photo: the UI crops its
-- thumbnails to the face instead of showing a whole photo (a full-body shot shows a face of a few
-- pixels), and draws the box over the photo.
--
-- Pixels of the upright photo (its EXIF orientation applied, as core-service decodes it), the
-- upper bounds exclusive, as core-service's detection answers give them. NULL for faces stored
-- before this migration and for faces stored without a detection (the embedding endpoints take
-- no photo): the four columns are all set or all NULL.
--
-- Adding nullable columns rewrites nothing. The check is added NOT VALID: Postgres then skips the
-- scan of every existing face under the table's exclusive lock (minutes at ten million faces),
-- and the check holds for the existing rows anyway (their boxes are all NULL); every row written
-- from now on is checked as usual.
ALTER TABLE faces
    ADD COLUMN box_x_min integer,
    ADD COLUMN box_y_min integer,
    ADD COLUMN box_x_max integer,
    ADD COLUMN box_y_max integer,
    ADD CONSTRAINT faces_box_check CHECK (
        num_nulls(box_x_min, box_y_min, box_x_max, box_y_max) = 4
        OR (num_nonnulls(box_x_min, box_y_min, box_x_max, box_y_max) = 4
            AND box_x_min >= 0 AND box_y_min >= 0 AND box_x_min < box_x_max AND box_y_min < box_y_max)
    ) NOT VALID;
