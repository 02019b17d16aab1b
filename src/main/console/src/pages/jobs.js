import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../html.js';
import { get, post, query, segment } from '../api.js';
import { Pager, PAGE_SIZE, StateFilter, usePoll, useAction, Problem, Loading, Time, Status, Link } from '../common.js';

const STATES = ['', 'launching', 'running', 'completed', 'failed', 'cancelled'];
const MAX_SHOWN_LINES = 5000;

export function JobsPage() {
  const [status, setStatus] = useState('');
  const [offset, setOffset] = useState(0);
  const [jobs, error] = usePoll(() => get(`/jobs${query({ status, limit: PAGE_SIZE, offset })}`), [status, offset]);
  return html`
    <h1>Jobs</h1>
    <${StateFilter} label="State" states=${STATES} value=${status} onChange=${(value) => { setStatus(value); setOffset(0); }} />
    <${Problem} error=${error} />
    <${Loading} data=${jobs} error=${error} />
    ${jobs && html`
      <table>
        <thead><tr><th>Job</th><th>Agent</th><th>Provider</th><th>Command</th><th class="num">GPU-seconds</th><th class="num">Cost</th><th>Created</th><th>State</th></tr></thead>
        <tbody>
          ${jobs.map((job) => html`
            <tr key=${job.jobId} data-job=${job.jobId}>
              <td><${Link} to=${`/jobs/${segment(job.jobId)}`}>${job.jobId}<//></td>
              <td><${Link} to=${`/agents/${segment(job.agentId)}`}>${job.agentId}<//></td>
              <td>${job.provider}</td>
              <td><code class="command">${job.command.join(' ')}</code></td>
              <td class="num">${job.gpuSeconds}</td>
              <td class="num">${job.cost}</td>
              <td><${Time} at=${job.createdAt} /></td>
              <td><${Status} value=${job.status} /></td>
            </tr>`)}
        </tbody>
      </table>
      <${Pager} offset=${offset} shown=${jobs.length} onOffset=${setOffset} />`}`;
}

/**
 * The job's output, read page by page with the same cursor the agent's job_logs uses, and followed while the job
 * runs. What a job prints is hostile: it is shown as text only, and at most the last {@link MAX_SHOWN_LINES} lines.
 */
function Logs({ jobId }) {
  const [lines, setLines] = useState([]);
  const [error, setError] = useState(null);
  const [done, setDone] = useState(false);
  const cursor = useRef(null);
  useEffect(() => {
    let stopped = false;
    let timer = null;
    cursor.current = null;
    setLines([]);
    setDone(false);
    const readOn = async () => {
      try {
        const page = await get(`/jobs/${segment(jobId)}/logs${query({ cursor: cursor.current, limit: 1000 })}`);
        if (stopped) {
          return;
        }
        setError(null);
        if (page.lines.length) {
          setLines((shown) => shown.concat(page.lines).slice(-MAX_SHOWN_LINES));
        }
        if (page.nextCursor === null) {
          setDone(true);
          return;
        }
        cursor.current = page.nextCursor;
        timer = setTimeout(readOn, page.lines.length === 1000 ? 0 : 1500);
      } catch (refused) {
        if (!stopped) {
          setError(refused);
          timer = setTimeout(readOn, 3000);
        }
      }
    };
    readOn();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [jobId]);
  return html`
    <${Problem} error=${error} />
    <pre class="logs" data-testid="job-logs">${lines.length ? lines.join('\n') : (done ? '(no output)' : '…')}</pre>
    ${done && html`<p class="muted">End of output.</p>`}`;
}

export function JobPage({ jobId }) {
  const path = `/jobs/${segment(jobId)}`;
  const [job, error, reload] = usePoll(() => get(path), [jobId]);
  const [act, busy, refused] = useAction(reload);
  const ended = job ? ['completed', 'failed', 'cancelled'].includes(job.status) : false;
  const cancel = () => {
    if (window.confirm(`Stop ${jobId}? It is billed for what it used; the rest goes back to the agent.`)) {
      act(() => post(`${path}/cancel`));
    }
  };
  return html`
    <p><${Link} to="/jobs">← Jobs<//></p>
    <h1>Job <code>${jobId}</code></h1>
    <${Problem} error=${refused ?? error} />
    <${Loading} data=${job} error=${error} />
    ${job && html`
      <dl class="facts">
        <dt>State</dt><dd data-testid="job-status"><${Status} value=${job.status} />${job.exitCode !== null ? ` (exit code ${job.exitCode})` : ''}</dd>
        <dt>Agent</dt><dd><${Link} to=${`/agents/${segment(job.agentId)}`}>${job.agentId}<//></dd>
        <dt>Reservation</dt><dd><${Link} to=${`/reservations/${segment(job.reservationId)}`}>${job.reservationId}<//></dd>
        <dt>Provider</dt><dd>${job.provider}</dd>
        <dt>Command</dt><dd><code class="command">${job.command.join(' ')}</code></dd>
        <dt>Used</dt><dd>${job.gpuSeconds} GPU-seconds · cost ${job.cost} USDC · refund ${job.refund} USDC</dd>
        <dt>Settlement</dt><dd>${job.settlementTx ? html`<code class="tx">${job.settlementTx}</code>` : html`<span class="muted">not yet</span>`}</dd>
        <dt>Started / ended</dt><dd><${Time} at=${job.startedAt} /> / <${Time} at=${job.endedAt} /></dd>
      </dl>
      ${!ended && html`<button class="danger" disabled=${busy} onClick=${cancel}>Stop job</button>`}
      <h2>Events</h2>
      <table class="events">
        <thead><tr><th>When</th><th>Event</th><th>Detail</th></tr></thead>
        <tbody>
          ${job.events.map((event, index) => html`
            <tr key=${index}><td><${Time} at=${event.at} /></td><td>${event.kind}</td><td>${event.detail}</td></tr>`)}
        </tbody>
      </table>
      <h2>Output</h2>
      <${Logs} jobId=${jobId} />`}`;
}
