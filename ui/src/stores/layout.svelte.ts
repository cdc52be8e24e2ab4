// The service menu as a drawer on narrow screens: the toolbar's menu button opens it.

export const DRAWER_ID = 'service-menu';
export const drawer = $state({ open: false });
