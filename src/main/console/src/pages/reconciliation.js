import { html } from '../html.js';
import { get } from '../api.js';
import { usePoll, Problem, Loading, Time } from '../common.js';

/** Ledger against chain: every escrow event on chain has its ledger entry and the other way round. */
export function ReconciliationPage() {
  const [report, error, reload] = usePoll(() => get('/reconciliation'), [], 10000);
  const clean = report && report.mismatches.length === 0;
  return html`
    <h1>Reconciliation</h1>
    <${Problem} error=${error} />
    <${Loading} data=${report} error=${error} />
    ${report && html`
      <section class=${clean ? 'verdict clean' : 'verdict mismatched'} data-testid="reconciliation" data-clean=${String(clean)}>
        <h2>${clean ? 'Ledger = chain' : `${report.mismatches.length} mismatch(es) between ledger and chain`}</h2>
        <p>Checked <${Time} at=${report.checkedAt} /> up to block ${report.toBlock}: ${report.escrowEvents} escrow
          events on chain, ${report.ledgerEntries} ledger entries.</p>
      </section>
      ${!clean && html`
        <table>
          <thead><tr><th>Kind</th><th>Transaction</th><th>Log</th><th>Detail</th></tr></thead>
          <tbody>${report.mismatches.map((mismatch, index) => html`
            <tr key=${index}><td>${mismatch.kind}</td><td><code>${mismatch.txHash ?? ''}</code></td>
              <td>${mismatch.logIndex ?? ''}</td><td>${mismatch.detail}</td></tr>`)}
          </tbody>
        </table>`}
      <button class="secondary" onClick=${reload}>Check again</button>`}`;
}
