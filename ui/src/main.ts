import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { startRouter } from './stores/router.svelte.ts';
import { startTheme } from './stores/theme.svelte.ts';

// data-theme on <html> before anything is drawn: no flash of the other theme.
startTheme();
startRouter();
mount(App, { target: document.getElementById('app')! });
