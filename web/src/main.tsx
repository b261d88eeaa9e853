import { render } from 'preact';
import { App } from './App.js';
import { installFocusRescue } from './focus.js';
import { WebSession } from './session.js';
import { endpointUrl } from './ws-client.js';
import './styles.css';

const session = new WebSession(endpointUrl(window.location));
const root = document.getElementById('app')!;
render(<App session={session} />, root);
installFocusRescue(
  root,
  () =>
    document.getElementById('message') ??
    // The login form: the password when the nickname is already filled in (see LoginView).
    document.getElementById(session.state.nick ? 'password' : 'nick'),
);
void session.start();
