// The names the current screen shows (application, service), for the document title. The
// breadcrumbs publish them; App.svelte writes document.title.

export const titleNames = $state({ app: '', service: '' });
