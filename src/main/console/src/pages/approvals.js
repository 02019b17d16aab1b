import { useState } from 'preact/hooks';
import { html } from '../html.js';
import { get, post, query, segment } from '../api.js';
import { StateFilter, usePoll, useAction, Problem, Loading, Time, Status, Link } from '../common.js';

function Decision({ approval, onDone }) {
  const [act, busy, refused] = useAction(onDone);
  const [reason, setReason] = useState('');
  const base = `/approvals/${segment(approval.approvalId)}`;
  return html`
    <td class="actions">
      <button disabled=${busy} onClick=${() => act(() => post(`${base}/approve`))}>Approve</button>
      <input aria-label="Reason to deny" placeholder="reason (optional)" maxlength="400" value=${reason}
             onInput=${(event) => setReason(event.target.value)} />
      <button class="danger" disabled=${busy}
              onClick=${() => act(() => post(`${base}/deny`, reason.trim() ? { reason: reason.trim() } : {}))}>Deny</button>
      <${Problem} error=${refused} />
    </td>`;
}

export function ApprovalsPage() {
  const [status, setStatus] = useState('pending');
  const [approvals, error, reload] = usePoll(() => get(`/approvals${query({ status, limit: 100 })}`), [status]);
  return html`
    <h1>Approvals</h1>
    <p class="muted">A purchase above an agent's "ask me above" amount waits here; the agent's reserve call answers${' '}
      <code>approval_required</code> until you decide. Approved: the agent calls reserve again and goes on to pay.</p>
    <${StateFilter} label="Show" states=${['pending', 'approved', 'denied', 'expired', '']} value=${status} onChange=${setStatus} />
    <${Problem} error=${error} />
    <${Loading} data=${approvals} error=${error} />
    ${approvals && (approvals.length === 0
      ? html`<p class="muted" data-testid="no-approvals">Nothing ${status || 'here'}.</p>`
      : html`
      <table>
        <thead><tr><th>Approval</th><th>Agent</th><th>Reservation</th><th class="num">Amount</th><th>Asked</th><th>Expires</th><th>Status</th><th></th></tr></thead>
        <tbody>
          ${approvals.map((approval) => html`
            <tr key=${approval.approvalId} data-approval=${approval.approvalId} data-reservation=${approval.reservationId}>
              <td><code>${approval.approvalId}</code></td>
              <td><${Link} to=${`/agents/${segment(approval.agentId)}`}>${approval.agentId}<//></td>
              <td><${Link} to=${`/reservations/${segment(approval.reservationId)}`}>${approval.reservationId}<//></td>
              <td class="num">${approval.amount} USDC</td>
              <td><${Time} at=${approval.createdAt} /></td>
              <td><${Time} at=${approval.expiresAt} /></td>
              <td><${Status} value=${approval.status} />${approval.reason ? html` <span class="muted">${approval.reason}</span>` : ''}</td>
              ${approval.status === 'pending' ? html`<${Decision} approval=${approval} onDone=${reload} />` : html`<td class="muted">by ${approval.decidedBy ?? '—'}</td>`}
            </tr>`)}
        </tbody>
      </table>`)}`;
}
