// One version number everywhere: the server's. core-service reports the workspace version in
// `GET /core/status` (`build_version`), the same number the API documents show (`info.version`
// of /api/v1/openapi.json and /admin/openapi.json), and the start-up checks keep it in the session.
import { session } from '../stores/session.svelte.ts';

/** The server's version, '' until the start-up checks have read it. Reactive in templates. */
export function buildVersion(): string {
  return session.coreVersion;
}
