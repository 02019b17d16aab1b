import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { html } from '../html.js';
import { get, put, segment, query } from '../api.js';
import { usePoll, useAction, Problem, Loading, Time, UsageBar, Link } from '../common.js';

/** The most the admin API gives in one page: the ledger and chart show the newest this many lines. */
const LEDGER_LINES = 500;

const AMOUNTS = [
  ['maxPerReservation', 'Most per reservation'],
  ['dailyLimit', 'Daily limit (rolling 24 h)'],
  ['totalLimit', 'Total limit'],
  ['maxPricePerGpuHour', 'Highest price per GPU-hour'],
  ['approvalThreshold', 'Ask me above'],
];
const NAMES = [
  ['allowedProviders', 'Allowed providers'],
  ['allowedGpus', 'Allowed GPUs'],
];

/** The form holds strings; the API takes decimals as strings, null for "no limit", and lists of names. */
function toPolicy(form) {
  const policy = {};
  for (const [field] of AMOUNTS) {
    const value = form.get(field).trim();
    policy[field] = value === '' ? null : value;
  }
  for (const [field] of NAMES) {
    const names = form.get(field).split(',').map((name) => name.trim()).filter(Boolean);
    policy[field] = names.length ? names : null;
  }
  policy.frozen = form.get('frozen') === 'on';
  return policy;
}

function PolicyForm({ agentId, policy, onSaved }) {
  const [act, busy, refused] = useAction(onSaved);
  const [saved, setSaved] = useState(false);
  const save = (event) => {
    event.preventDefault();
    const next = toPolicy(new FormData(event.target));
    act(async () => {
      // A PUT replaces the whole policy, frozen included: if someone changed it since this page read it (froze the
      // agent, set a limit), saving would silently undo that. Refuse, and show the policy as it is now.
      const now = await get(`/agents/${segment(agentId)}/policy`);
      if (JSON.stringify(now) !== JSON.stringify(policy)) {
        onSaved?.();
        throw new Error('The policy changed since this page read it (frozen, or a limit): it is shown as it is now; '
          + 'check your changes and save again.');
      }
      const stored = await put(`/agents/${segment(agentId)}/policy`, next);
      setSaved(true);
      return stored;
    });
  };
  return html`
    <form class="policy" onSubmit=${save} onInput=${() => setSaved(false)} aria-label="Spend policy">
      ${AMOUNTS.map(([field, label]) => html`
        <label>${label}
          <input name=${field} defaultValue=${policy[field] ?? ''} placeholder="no limit" inputmode="decimal"
                 pattern="[0-9]{1,12}(\\.[0-9]{1,6})?" />
        </label>`)}
      ${NAMES.map(([field, label]) => html`
        <label>${label}
          <input name=${field} defaultValue=${(policy[field] ?? []).join(', ')} placeholder="all (comma-separated names)" />
        </label>`)}
      <label class="check"><input type="checkbox" name="frozen" defaultChecked=${policy.frozen} /> Frozen (no new spending)</label>
      <div>
        <button type="submit" disabled=${busy}>Save policy</button>
        ${saved && html`<span class="ok" role="status">Saved; it applies to the agent's next call.</span>`}
      </div>
      <${Problem} error=${refused} />
    </form>`;
}

/**
 * Money the agent has spent: what settlements paid to sellers for its reservations, added up over time, from zero
 * at its first ledger line to now (a step for each settlement).
 */
export function spendSeries(lines, now = Date.now() / 1000) {
  const spends = lines
    .filter((line) => line.account.startsWith('seller:'))
    .map((line) => ({ at: Date.parse(line.createdAt) / 1000, micros: Math.round(Number(line.amount) * 1e6) }))
    .sort((a, b) => a.at - b.at);
  if (spends.length === 0) {
    return [[], []];
  }
  const first = Math.min(...lines.map((line) => Date.parse(line.createdAt) / 1000));
  const times = [first];
  const totals = [0];
  let micros = 0;
  for (const spend of spends) {
    micros += spend.micros;
    times.push(spend.at);
    totals.push(micros / 1e6);
  }
  times.push(Math.max(now, times[times.length - 1]));
  totals.push(micros / 1e6);
  return [times, totals];
}

/** USDC with as many decimals as it needs (at most 6): 0.000334, 1.5, 12. */
const usdc = (value) => (value == null ? '—' : String(Number(value.toFixed(6))));

function SpendChart({ lines, complete }) {
  const target = useRef(null);
  const [times, totals] = spendSeries(lines);
  const points = Math.max(0, times.length - 2);
  useEffect(() => {
    if (!target.current || times.length === 0) {
      return undefined;
    }
    const chart = new uPlot({
      width: Math.min(760, target.current.clientWidth || 760),
      height: 240,
      scales: { x: { time: true } },
      series: [{}, { label: 'Spent (USDC)', stroke: '#2f6fde', fill: 'rgba(47,111,222,0.12)', width: 2,
        paths: uPlot.paths.stepped({ align: 1 }), value: (u, value) => `${usdc(value)} USDC` }],
      axes: [{}, { size: 80, values: (u, values) => values.map(usdc) }],
    }, [times, totals], target.current);
    return () => chart.destroy();
  }, [JSON.stringify(times), JSON.stringify(totals)]);
  if (times.length === 0) {
    return html`<p class="muted" data-testid="spend-chart-empty">Nothing spent yet.</p>`;
  }
  return html`
    <div class="chart" ref=${target} data-testid="spend-chart" data-settlements=${points}
      aria-label=${`Spent over time: ${totals[totals.length - 1]} USDC settled in the lines shown`}></div>
    ${!complete && html`<p class="muted">Drawn from the newest ${lines.length} ledger lines, so it starts later than the
      agent's first payment; the settled total is under "Limits used".</p>`}`;
}

function Ledger({ lines }) {
  if (lines.length === 0) {
    return html`<p class="muted">No ledger lines yet.</p>`;
  }
  return html`
    <table class="ledger">
      <thead><tr><th>When</th><th>Entry</th><th>Account</th><th>D/C</th><th class="num">Amount</th><th>Reservation</th><th>Origin</th></tr></thead>
      <tbody>
        ${lines.map((line) => html`
          <tr key=${`${line.entryId}/${line.account}/${line.direction}`} data-reservation=${line.reservationId}>
            <td><${Time} at=${line.createdAt} /></td>
            <td><code>${line.entryId}</code></td>
            <td><code>${line.account}</code></td>
            <td>${line.direction}</td>
            <td class="num">${line.amount}</td>
            <td>${line.reservationId ? html`<${Link} to=${`/reservations/${segment(line.reservationId)}`}>${line.reservationId}<//>` : ''}</td>
            <td>${line.txHash ? html`<code class="tx" title=${line.txHash}>${line.txHash.slice(0, 12)}…</code>` : line.reason}</td>
          </tr>`)}
      </tbody>
    </table>`;
}

export function AgentPage({ agentId }) {
  const base = `/agents/${segment(agentId)}`;
  const [agent, agentError] = usePoll(() => get(base), [agentId], 0);
  const [policy, policyError, reloadPolicy] = usePoll(() => get(`${base}/policy`), [agentId], 0);
  const [usage, usageError] = usePoll(() => get(`${base}/usage`), [agentId]);
  const [lines, ledgerError] = usePoll(() => get(`${base}/ledger${query({ limit: LEDGER_LINES })}`), [agentId], 3000);
  const error = agentError ?? policyError ?? usageError ?? ledgerError;
  return html`
    <p><${Link} to="/agents">← Agents<//></p>
    <h1>${agent ? agent.name : agentId}</h1>
    <${Problem} error=${error} />
    ${agent && html`<p class="muted"><code>${agent.agentId}</code> · wallet <code>${agent.walletAddress}</code>${' '}
      (${agent.walletCustody}) · <${Link} to=${`/reservations?agent=${segment(agentId)}`}>reservations<//></p>`}
    <h2>Limits used</h2>
    <${Loading} data=${usage && policy} error=${error} />
    ${usage && policy && html`
      <div class="usages">
        <${UsageBar} label="Daily limit" used=${usage.committedLast24Hours} limit=${policy.dailyLimit} />
        <${UsageBar} label="Total limit" used=${usage.committedTotal} limit=${policy.totalLimit} />
        <p class="muted">Held now (reservations not yet settled, counted in full): ${usage.held} USDC ·
          settled in all: ${usage.spentTotal} USDC · settled in the last 24 hours: ${usage.spentLast24Hours} USDC</p>
      </div>`}
    <h2>Spend policy</h2>
    ${policy && html`<${PolicyForm} agentId=${agentId} policy=${policy} onSaved=${reloadPolicy} />`}
    <h2>Spent over time</h2>
    ${lines && html`<${SpendChart} lines=${lines} complete=${lines.length < LEDGER_LINES} />`}
    <h2>Ledger</h2>
    ${lines && html`<${Ledger} lines=${lines} />`}`;
}
