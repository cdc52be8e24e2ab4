-- The demo a first run comes with, as in CompreFace: a demo user (id ...0001) owning a demo
-- application with one service of each type and the well-known API keys ...0002 (recognition),
-- ...0003 (detection) and ...0004 (verification). The recognition service's id is ...0001, the
-- others' ids equal their keys, as CompreFace's guids. The first sign-up takes the demo user over
-- (admin-service). Its password hash is no valid argon2 string, so nobody can sign in as the demo
-- user before that.

INSERT INTO users (id, email, password_hash, first_name, last_name, enabled, global_role, allow_statistics)
VALUES ('00000000-0000-0000-0000-000000000001', 'demo@example.com', '!', 'Demo', 'User', true, 'OWNER', false);

INSERT INTO apps (id, name)
VALUES ('00000000-0000-0000-0000-000000000001', 'Demo Application');

INSERT INTO app_roles (user_id, app_id, role)
VALUES ('00000000-0000-0000-0000-000000000001', '00000000-0000-0000-0000-000000000001', 'OWNER');

INSERT INTO models (id, app_id, name, type, api_key) VALUES
    ('00000000-0000-0000-0000-000000000001', '00000000-0000-0000-0000-000000000001', 'Recognition_Demo', 'R', '00000000-0000-0000-0000-000000000002'),
    ('00000000-0000-0000-0000-000000000003', '00000000-0000-0000-0000-000000000001', 'Detection_Demo', 'D', '00000000-0000-0000-0000-000000000003'),
    ('00000000-0000-0000-0000-000000000004', '00000000-0000-0000-0000-000000000001', 'Verification_Demo', 'V', '00000000-0000-0000-0000-000000000004');
