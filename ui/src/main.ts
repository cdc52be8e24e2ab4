import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { startRouter } from './stores/router.svelte.ts';

startRouter();
mount(App, { target: document.getElementById('app')! });
