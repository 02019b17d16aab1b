import { useState } from 'preact/hooks';
import { html } from '../html.js';
import { get, post, query, segment } from '../api.js';
import { Pager, PAGE_SIZE, StateFilter, usePoll, useAction, Problem, Loading, Time, Status, Link } from '../common.js';

const STATES = ['', 'held', 'approval_required', 'paid', 'refunding', 'running', 'settled', 'refunded', 'expired', 'cancelled'];

export function ReservationsPage({ agentId }) {
  const [status, setStatus] = useState('');
  const [offset, setOffset] = useState(0);
  const [reservations, error] = usePoll(
    () => get(`/reservations${query({ agentId, status, limit: PAGE_SIZE, offset })}`), [agentId, status, offset]);
  return html`
    <h1>Reservations${agentId ? html` of <code>${agentId}</code>` : ''}</h1>
    <${StateFilter} label="State" states=${STATES} value=${status} onChange=${(value) => { setStatus(value); setOffset(0); }} />
    <${Problem} error=${error} />
    <${Loading} data=${reservations} error=${error} />
    ${reservations && html`
      <table>
        <thead><tr><th>Reservation</th><th>Agent</th><th>Provider</th><th>GPUs × minutes</th><th class="num">Amount</th><th>Created</th><th>State</th></tr></thead>
        <tbody>
          ${reservations.map((reservation) => html`
            <tr key=${reservation.reservationId} data-reservation=${reservation.reservationId}>
              <td><${Link} to=${`/reservations/${segment(reservation.reservationId)}`}>${reservation.reservationId}<//></td>
              <td><${Link} to=${`/agents/${segment(reservation.agentId)}`}>${reservation.agentId}<//></td>
              <td>${reservation.provider}</td>
              <td>${reservation.gpuCount} × ${reservation.durationMinutes}</td>
              <td class="num">${reservation.amount}</td>
              <td><${Time} at=${reservation.createdAt} /></td>
              <td><${Status} value=${reservation.status} /></td>
            </tr>`)}
        </tbody>
      </table>
      <${Pager} offset=${offset} shown=${reservations.length} onOffset=${setOffset} />`}`;
}

export function ReservationPage({ reservationId }) {
  const path = `/reservations/${segment(reservationId)}`;
  const [reservation, error, reload] = usePoll(() => get(path), [reservationId]);
  const [jobs] = usePoll(() => get(`/jobs${query({ reservationId })}`), [reservationId], 3000);
  const [act, busy, refused] = useAction(reload);
  const [answer, setAnswer] = useState(null);
  const cancel = () => {
    if (window.confirm(`Cancel ${reservationId}? What was paid and not used goes back to the agent.`)) {
      act(async () => setAnswer(await post(`${path}/cancel`)));
    }
  };
  const job = (jobs ?? [])[0];
  return html`
    <p><${Link} to="/reservations">← Reservations<//></p>
    <h1>Reservation <code>${reservationId}</code></h1>
    <${Problem} error=${refused ?? error} />
    <${Loading} data=${reservation} error=${error} />
    ${reservation && html`
      <dl class="facts">
        <dt>State</dt><dd><${Status} value=${reservation.status} />${reservation.statusReason ? html` <span class="muted">${reservation.statusReason}</span>` : ''}</dd>
        <dt>Agent</dt><dd><${Link} to=${`/agents/${segment(reservation.agentId)}`}>${reservation.agentId}<//></dd>
        <dt>Offer</dt><dd>${reservation.provider} · <code>${reservation.offerId}</code> · ${reservation.gpuCount} GPU × ${reservation.durationMinutes} min</dd>
        <dt>Amount</dt><dd>${reservation.amount} USDC</dd>
        <dt>Created</dt><dd><${Time} at=${reservation.createdAt} /></dd>
        <dt>Hold expires</dt><dd><${Time} at=${reservation.holdExpiresAt} /></dd>
        <dt>Payment</dt><dd>${reservation.paymentId ?? html`<span class="muted">none</span>`}</dd>
        <dt>Job</dt><dd>${job ? html`<${Link} to=${`/jobs/${segment(job.jobId)}`}>${job.jobId}<//> (${job.status})` : html`<span class="muted">none</span>`}</dd>
      </dl>
      <button class="danger" disabled=${busy} onClick=${cancel}>Cancel reservation</button>
      ${answer && html`<p role="status">${answer.status}${answer.refund ? ` · refund: ${answer.refund}` : ''}</p>`}`}`;
}
