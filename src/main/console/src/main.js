import 'uplot/dist/uPlot.min.css';
import './style.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { html } from './html.js';
import { get, session, ApiError } from './api.js';
import { Problem } from './common.js';
import { AgentsPage } from './pages/agents.js';
import { AgentPage } from './pages/agent.js';
import { ApprovalsPage } from './pages/approvals.js';
import { ReservationsPage, ReservationPage } from './pages/reservations.js';
import { JobsPage, JobPage } from './pages/jobs.js';
import { AuditPage } from './pages/audit.js';
import { ReconciliationPage } from './pages/reconciliation.js';
import { KillSwitchPage } from './pages/killswitch.js';

const NAVIGATION = [
  ['/agents', 'Agents'],
  ['/approvals', 'Approvals'],
  ['/reservations', 'Reservations'],
  ['/jobs', 'Jobs'],
  ['/audit', 'Audit log'],
  ['/reconciliation', 'Reconciliation'],
  ['/kill-switch', 'Kill switch'],
];

/** Pages are addressed by the fragment (#/jobs/job_…), so the server serves one page and never sees the route. */
function useRoute() {
  const read = () => (window.location.hash.replace(/^#/, '') || '/agents');
  const [route, setRoute] = useState(read());
  useEffect(() => {
    const changed = () => setRoute(read());
    window.addEventListener('hashchange', changed);
    return () => window.removeEventListener('hashchange', changed);
  }, []);
  return route;
}

function page(route) {
  const [path, search] = route.split('?');
  const [, section, id] = path.split('/').map((part) => decodeURIComponent(part ?? ''));
  const agentFilter = new URLSearchParams(search ?? '').get('agent') ?? undefined;
  switch (section) {
    case 'agents': return id ? html`<${AgentPage} agentId=${id} />` : html`<${AgentsPage} />`;
    case 'approvals': return html`<${ApprovalsPage} />`;
    case 'reservations': return id ? html`<${ReservationPage} reservationId=${id} />` : html`<${ReservationsPage} agentId=${agentFilter} />`;
    case 'jobs': return id ? html`<${JobPage} jobId=${id} />` : html`<${JobsPage} />`;
    case 'audit': return html`<${AuditPage} />`;
    case 'reconciliation': return html`<${ReconciliationPage} />`;
    case 'kill-switch': return html`<${KillSwitchPage} />`;
    default: return html`<p>No such page. <a href="#/agents">Agents</a></p>`;
  }
}

function Login({ onLogin }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event) => {
    event.preventDefault();
    const token = new FormData(event.target).get('token').trim();
    setBusy(true);
    session.start(token);
    try {
      await get('/kill-switch'); // any admin read: it checks the token
      event.target.reset();
      onLogin();
    } catch (refused) {
      session.end();
      setError(refused instanceof ApiError && refused.status === 401
        ? new Error('That is not the admin token.') : refused);
    } finally {
      setBusy(false);
    }
  };
  return html`
    <main class="login">
      <h1>GPU Broker console</h1>
      <form onSubmit=${submit} autocomplete="off">
        <label for="token">Admin token</label>
        <input id="token" name="token" type="password" required autofocus spellcheck="false"
               placeholder="GPUBROKER_ADMIN_TOKEN or <data>/admin.token" />
        <button type="submit" disabled=${busy}>Log in</button>
        <${Problem} error=${error} />
        <p class="muted">The token stays in this tab only and is sent to this broker as a header, nowhere else.</p>
      </form>
    </main>`;
}

function Console() {
  const [loggedIn, setLoggedIn] = useState(Boolean(session.token()));
  const route = useRoute();
  useEffect(() => {
    const out = () => setLoggedIn(false);
    window.addEventListener('gpubroker:logged-out', out);
    return () => window.removeEventListener('gpubroker:logged-out', out);
  }, []);
  if (!loggedIn) {
    return html`<${Login} onLogin=${() => setLoggedIn(true)} />`;
  }
  const logout = () => {
    session.end();
    setLoggedIn(false);
  };
  return html`
    <header>
      <span class="brand">GPU Broker</span>
      <nav>
        ${NAVIGATION.map(([to, label]) => html`
          <a href=${`#${to}`} class=${route.startsWith(to) ? 'active' : ''}>${label}</a>`)}
      </nav>
      <button class="secondary" onClick=${logout}>Log out</button>
    </header>
    <main>${page(route)}</main>`;
}

render(html`<${Console} />`, document.getElementById('app'));
