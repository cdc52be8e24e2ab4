// One page of subjects, whichever answer the server gives: the paged form
// `{subjects, page_number, page_size, total_pages, total_elements}` when it knows search/page/size,
// or CompreFace's plain `{subjects}` (then the filter and the page are computed here). The
// gallery's answer lists `{subject, faces, image_id}` objects instead of names: their counts and
// avatars go to `info`.

/**
 * @typedef {{faces: number, imageId: string | null}} SubjectInfo
 * @typedef {{subjects: string[], info: Record<string, SubjectInfo>, page: number, size: number, totalPages: number, total: number, serverPaged: boolean}} SubjectPage
 */

/**
 * Names and, for gallery entries, their counts and avatar faces.
 * @param {unknown[]} list
 */
function entries(list) {
  /** @type {string[]} */
  const names = [];
  /** @type {Record<string, SubjectInfo>} */
  const info = {};
  for (const item of list) {
    if (typeof item === 'string') names.push(item);
    else if (item && typeof item === 'object') {
      const o = /** @type {Record<string, unknown>} */ (item);
      if (typeof o.subject !== 'string') continue;
      names.push(o.subject);
      info[o.subject] = {
        faces: typeof o.faces === 'number' ? o.faces : 0,
        imageId: typeof o.image_id === 'string' ? o.image_id : null,
      };
    }
  }
  return { names, info };
}

/**
 * @param {unknown} body
 * @param {{search: string, page: number, size: number}} q
 * @returns {SubjectPage}
 */
export function subjectPage(body, q) {
  const b = body && typeof body === 'object' ? /** @type {Record<string, unknown>} */ (body) : {};
  const { names: all, info } = entries(Array.isArray(b.subjects) ? b.subjects : []);
  if (typeof b.total_elements === 'number') {
    const size = typeof b.page_size === 'number' && b.page_size > 0 ? b.page_size : q.size;
    const total = b.total_elements;
    return {
      subjects: all,
      info,
      page: typeof b.page_number === 'number' ? b.page_number : q.page,
      size,
      total,
      totalPages: typeof b.total_pages === 'number' ? b.total_pages : Math.ceil(total / size),
      serverPaged: true,
    };
  }
  const needle = q.search.trim().toLowerCase();
  const filtered = needle ? all.filter((s) => s.toLowerCase().includes(needle)) : all;
  const totalPages = Math.ceil(filtered.length / q.size);
  const page = Math.min(q.page, Math.max(0, totalPages - 1));
  return {
    subjects: filtered.slice(page * q.size, page * q.size + q.size),
    info,
    page,
    size: q.size,
    total: filtered.length,
    totalPages,
    serverPaged: false,
  };
}

/** Query string of a subjects page request. @param {{search: string, page: number, size: number}} q */
export function subjectQuery(q) {
  const p = new URLSearchParams();
  if (q.search.trim()) p.set('search', q.search.trim());
  p.set('page', String(q.page));
  p.set('size', String(q.size));
  return p.toString();
}
