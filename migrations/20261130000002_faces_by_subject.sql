-- Deleting large collections whatever the planner's statistics say.
--
-- Deleting a subject cascades into its faces through the composite foreign key
-- (subject_id, model_id). With indexes on (subject_id) and on (model_id, seq) only, a plan made
-- while the statistics still describe a small table can pick the (model_id, seq) index and walk
-- every face of the service for each deleted subject: deleting 100 000 subjects of a million-face
-- service then runs for many minutes. An index on exactly the key's two columns is the cheapest
-- plan under any statistics, so each subject's cascade is one index probe. It also serves every
-- lookup by subject alone (its leading column), so it replaces the one-column index.
CREATE INDEX faces_subject_model_idx ON faces (subject_id, model_id);
DROP INDEX faces_subject_id_idx;
