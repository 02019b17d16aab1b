import { useState } from 'preact/hooks';
import { html } from '../html.js';
import { get, query } from '../api.js';
import { usePoll, Problem, Loading, Time } from '../common.js';

/** The audit log, newest first, one page at a time ("older" reads on before the last entry shown). */
export function AuditPage() {
  const [actor, setActor] = useState('');
  const [before, setBefore] = useState([]);
  const [entries, error] = usePoll(() => get(`/audit${query({ actor, limit: 100, before: before[before.length - 1] })}`),
    [actor, before.length]);
  return html`
    <h1>Audit log</h1>
    <form class="inline" onSubmit=${(event) => { event.preventDefault(); setActor(new FormData(event.target).get('actor').trim()); setBefore([]); }}>
      <label>Actor <input name="actor" placeholder="agent id or admin" /></label>
      <button type="submit" class="secondary">Filter</button>
    </form>
    <${Problem} error=${error} />
    <${Loading} data=${entries} error=${error} />
    ${entries && html`
      <table class="audit">
        <thead><tr><th>#</th><th>When</th><th>Actor</th><th>Action</th><th>Outcome</th><th>Detail</th></tr></thead>
        <tbody>
          ${entries.map((entry) => html`
            <tr key=${entry.auditId} data-action=${entry.action}>
              <td>${entry.auditId}</td>
              <td><${Time} at=${entry.at} /></td>
              <td>${entry.actorType}${entry.actorId ? html` <code>${entry.actorId}</code>` : ''}</td>
              <td>${entry.action}${entry.calls > 1 ? html` <span class="calls" title="identical reads written as one line">×${entry.calls}</span>` : ''}</td>
              <td>${entry.outcome}</td>
              <td class="detail">${entry.detail}</td>
            </tr>`)}
        </tbody>
      </table>
      <div class="pager">
        <button class="secondary" disabled=${before.length === 0} onClick=${() => setBefore(before.slice(0, -1))}>Newer</button>
        <button class="secondary" disabled=${entries.length < 100}
                onClick=${() => setBefore(before.concat(entries[entries.length - 1].auditId))}>Older</button>
      </div>`}`;
}
