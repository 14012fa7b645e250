/** The viewer's entry: sign in with an API key, then a hash router over Subjects, Identify and Verify. */
import './style.css';
import { Api, describeError } from './api.js';
import type { AppContext, View } from './context.js';
import { announce, h } from './dom.js';
import { IdentifyView } from './identify.js';
import { PhotoFeed } from './live.js';
import { SERVER_INFO, type ServerInfo } from './queries.js';
import { thresholdText } from './results.js';
import { forgetKey, storedKey, storeKey } from './session.js';
import { SubjectsView } from './subjects.js';
import { VerifyView } from './verify.js';

const main = document.getElementById('main')!;
const nav = document.getElementById('nav')!;
const serverInfo = document.getElementById('server-info')!;
const signOutButton = document.getElementById('sign-out')!;

type Route = { page: 'subjects'; subjectId: string | null } | { page: 'identify' } | { page: 'verify' };

function parseRoute(hash: string): Route {
  const [page, id] = hash.replace(/^#\/?/, '').split('/');
  if (page === 'identify' || page === 'verify') return { page };
  return { page: 'subjects', subjectId: id ? decodeURIComponent(id) : null };
}

class App {
  private view: View | null = null;
  private page: Route['page'] | null = null;
  private readonly context: AppContext;
  private readonly onHashChange = () => this.route();

  constructor(api: Api, info: ServerInfo) {
    this.context = { api, info, feed: new PhotoFeed(api.key), verifySides: [null, null], navigate: (hash) => (window.location.hash = hash) };
    serverInfo.textContent = `Bundle ${info.bundle} · threshold ${thresholdText({ ...info, threshold: info.defaultThreshold })}`;
    nav.hidden = false;
    signOutButton.hidden = false;
    window.addEventListener('hashchange', this.onHashChange);
    this.route();
  }

  close(): void {
    window.removeEventListener('hashchange', this.onHashChange);
    this.view?.dispose();
    this.context.feed.close();
    nav.hidden = true;
    signOutButton.hidden = true;
    serverInfo.textContent = '';
  }

  private route(): void {
    const route = parseRoute(window.location.hash);
    for (const link of nav.querySelectorAll('a')) {
      if (link.getAttribute('href') === `#/${route.page}`) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    if (route.page === 'subjects' && this.view instanceof SubjectsView) {
      this.view.select(route.subjectId);
      return;
    }
    this.view?.dispose();
    this.view = route.page === 'identify' ? new IdentifyView(this.context) : route.page === 'verify' ? new VerifyView(this.context) : new SubjectsView(this.context, route.subjectId);
    main.replaceChildren(this.view.element);
    // Keyboard and screen-reader users land on the new page rather than on the link they left.
    if (this.page !== null) main.focus();
    this.page = route.page;
  }
}

let app: App | null = null;

async function signIn(key: string): Promise<void> {
  const api = new Api(key);
  const { serverInfo: info } = await api.query<{ serverInfo: ServerInfo }>(SERVER_INFO);
  storeKey(key);
  app = new App(api, info);
}

function showSignIn(problem?: string): void {
  const input = h('input', { id: 'api-key', type: 'password', required: true, autocomplete: 'off', spellcheck: 'false' });
  const error = h('p', { class: 'error', role: 'alert' }, problem ?? '');
  const form = h(
    'form',
    { class: 'sign-in' },
    h('h2', {}, 'Sign in'),
    h('p', {}, 'Enter a face3d API key. It is kept in this tab only (session storage) and sent as “Authorization: Bearer …”.'),
    h('div', { class: 'field' }, h('label', { for: 'api-key' }, 'API key'), input),
    h('button', { type: 'submit' }, 'Sign in'),
    error,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    error.textContent = 'Checking the key…';
    signIn(input.value.trim()).catch((failure: unknown) => (error.textContent = describeError(failure)));
  });
  main.replaceChildren(form);
  input.focus();
}

signOutButton.addEventListener('click', () => {
  forgetKey();
  app?.close();
  app = null;
  announce('Signed out.');
  showSignIn();
});

const key = storedKey();
if (key) {
  signIn(key).catch((failure: unknown) => {
    forgetKey();
    showSignIn(describeError(failure));
  });
} else {
  showSignIn();
}
