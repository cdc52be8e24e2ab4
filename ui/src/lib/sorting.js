// Orders of lists as the upstream UI shows them.

const ROLE_ORDER = { OWNER: 0, ADMINISTRATOR: 1, USER: 2 };
const TYPE_ORDER = { RECOGNITION: 0, DETECTION: 1, VERIFY: 2 };

/** @param {{firstName?: string | null, lastName?: string | null}} u */
export function fullName(u) {
  return [u.firstName, u.lastName].filter(Boolean).join(' ');
}

/** @param {string} a @param {string} b */
function cmpText(a, b) {
  return a.localeCompare(b, 'en', { sensitivity: 'base' });
}

/**
 * Members and users: the owner, then administrators A–Z, then users A–Z (by full name).
 * @template {{role: string, firstName?: string | null, lastName?: string | null}} T
 * @param {readonly T[]} users
 * @returns {T[]}
 */
export function sortMembers(users) {
  return [...users].sort((a, b) => {
    const ra = ROLE_ORDER[/** @type {keyof typeof ROLE_ORDER} */ (a.role)] ?? 3;
    const rb = ROLE_ORDER[/** @type {keyof typeof ROLE_ORDER} */ (b.role)] ?? 3;
    return ra - rb || cmpText(fullName(a), fullName(b));
  });
}

/**
 * Services: RECOGNITION, DETECTION, VERIFY groups, each A–Z by name.
 * @template {{type: string, name: string}} T
 * @param {readonly T[]} models
 * @returns {T[]}
 */
export function sortServices(models) {
  return [...models].sort((a, b) => {
    const ta = TYPE_ORDER[/** @type {keyof typeof TYPE_ORDER} */ (a.type)] ?? 3;
    const tb = TYPE_ORDER[/** @type {keyof typeof TYPE_ORDER} */ (b.type)] ?? 3;
    return ta - tb || cmpText(a.name, b.name);
  });
}

/**
 * Case-insensitive "contains" filter.
 * @template T
 * @param {readonly T[]} items
 * @param {string} query
 * @param {(item: T) => string} text
 * @returns {T[]}
 */
export function filterContains(items, query, text) {
  const q = query.trim().toLowerCase();
  if (!q) return [...items];
  return items.filter((i) => text(i).toLowerCase().includes(q));
}

/** @param {string} s @param {number} n */
export function truncate(s, n) {
  return s.length > n ? s.slice(0, n) + '…' : s;
}
