import { render } from 'preact';
import { App } from './App.js';
import { WebSession } from './session.js';
import { endpointUrl } from './ws-client.js';
import './styles.css';

const session = new WebSession(endpointUrl(window.location));
render(<App session={session} />, document.getElementById('app')!);
void session.start();
