-- A recognition service's match threshold: recognitions leave out stored faces whose similarity
-- is below it, so an empty answer means "unknown". NULL means no threshold (CompreFace's answers:
-- the nearest faces whatever their similarity); services that existed before keep NULL, so an
-- upgrade changes no answer. The admin API gives new recognition services the calibrated default
-- (docs/similarity.md).
ALTER TABLE models
    ADD COLUMN match_threshold double precision
        CONSTRAINT models_match_threshold_check
            CHECK (match_threshold IS NULL OR (match_threshold >= 0 AND match_threshold <= 1));
