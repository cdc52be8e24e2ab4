-- A log of the collection changes that the triggers notify, so that an api-service replica whose
-- listening connection was lost catches up on what it missed instead of reloading every
-- collection (at ten million faces a reload takes about a minute and holds two copies in memory).
--
-- visage_notify_collection (migrations/20261128150000_collection_notify.sql) is the one function
-- every trigger sends through; it now also writes its change here, in the same transaction. Each
-- row carries the writing transaction's id: api-service regularly learns, through a `mark`
-- notification, an xmin (every transaction below it had finished, and so had notified, before
-- the mark was sent); after a lost connection it re-applies the rows from that xmin on. Rows
-- older than a day are purged by api-service; a replica cut off longer than that reloads.

CREATE TABLE collection_changes (
    seq        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    xid        xid8        NOT NULL DEFAULT pg_current_xact_id(),
    model_id   uuid        NOT NULL,
    op         text        NOT NULL,
    ids        uuid[]      NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX collection_changes_xid_idx ON collection_changes (xid);
CREATE INDEX collection_changes_created_at_idx ON collection_changes (created_at);

CREATE OR REPLACE FUNCTION visage_notify_collection(model uuid, op text, ids uuid[]) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO collection_changes (model_id, op, ids) VALUES (model, op, ids);
    SELECT pg_notify('visage_collections', json_build_object('model', model, 'op', op, 'ids', ids)::text);
$$;
