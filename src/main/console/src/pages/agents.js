import { useState } from 'preact/hooks';
import { html } from '../html.js';
import { get, post, query, segment } from '../api.js';
import { Pager, PAGE_SIZE, usePoll, useAction, Problem, Loading, Time, Link } from '../common.js';

/**
 * A new API key, shown once: it lives in this component's state only, is never stored, and is gone once the
 * operator dismisses it (or leaves the page). The broker keeps only its hash.
 */
export function NewKey({ created, onDismiss }) {
  if (!created) {
    return null;
  }
  return html`
    <section class="new-key" role="status">
      <h3>API key of ${created.name} (${created.agentId})</h3>
      <p>Shown only now; the broker keeps only its hash. Give it to the agent as <code>GPUBROKER_AGENT_KEY</code> or as${' '}
        <code>Authorization: Bearer …</code> on /mcp.</p>
      <code class="secret" data-testid="new-api-key">${created.apiKey}</code>
      <button onClick=${onDismiss}>I have stored it</button>
    </section>`;
}

export function AgentsPage() {
  const [offset, setOffset] = useState(0);
  const [agents, error, reload] = usePoll(() => get(`/agents${query({ limit: PAGE_SIZE, offset })}`), [offset]);
  const [created, setCreated] = useState(null);
  const [act, busy, refused] = useAction(reload);

  const create = (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const walletAddress = form.get('walletAddress').trim();
    act(async () => {
      const agent = await post('/agents', { name: form.get('name').trim(), walletAddress: walletAddress || null });
      setCreated(agent);
      event.target.reset();
    });
  };
  const rotate = (agent) => {
    if (window.confirm(`Rotate the key of ${agent.name}? Its current key stops working at once.`)) {
      act(async () => setCreated(await post(`/agents/${segment(agent.agentId)}/rotate-key`)));
    }
  };
  const freeze = (agent) => act(() => post(`/agents/${segment(agent.agentId)}/${agent.frozen ? 'unfreeze' : 'freeze'}`));

  return html`
    <h1>Agents</h1>
    <${NewKey} created=${created} onDismiss=${() => setCreated(null)} />
    <form class="inline" onSubmit=${create} aria-label="Create an agent">
      <label>Name <input name="name" required maxlength="64" /></label>
      <label>Own wallet address <input name="walletAddress" placeholder="0x… (empty: the broker keeps a wallet)"
        pattern="0x[0-9a-fA-F]{40}" size="44" /></label>
      <button type="submit" disabled=${busy}>Create agent</button>
    </form>
    <${Problem} error=${refused ?? error} />
    <${Loading} data=${agents} error=${error} />
    ${agents && html`
      <table>
        <thead><tr><th>Name</th><th>Agent</th><th>Wallet</th><th>Custody</th><th>Created</th><th>State</th><th></th></tr></thead>
        <tbody>
          ${agents.map((agent) => html`
            <tr key=${agent.agentId} data-agent=${agent.agentId}>
              <td><${Link} to=${`/agents/${segment(agent.agentId)}`}>${agent.name}<//></td>
              <td><code>${agent.agentId}</code></td>
              <td><code class="address">${agent.walletAddress}</code></td>
              <td>${agent.walletCustody}</td>
              <td><${Time} at=${agent.createdAt} /></td>
              <td>${agent.frozen ? html`<span class="status status-frozen">frozen</span>` : 'active'}</td>
              <td class="actions">
                <button class="secondary" disabled=${busy} onClick=${() => freeze(agent)}>${agent.frozen ? 'Unfreeze' : 'Freeze'}</button>
                <button class="secondary" disabled=${busy} onClick=${() => rotate(agent)}>Rotate key</button>
              </td>
            </tr>`)}
        </tbody>
      </table>
      <${Pager} offset=${offset} shown=${agents.length} onOffset=${setOffset} />`}`;
}
