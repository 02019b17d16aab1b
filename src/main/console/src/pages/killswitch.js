import { html } from '../html.js';
import { get, put } from '../api.js';
import { usePoll, useAction, Problem, Loading } from '../common.js';

/** One switch that stops all new spending by every agent at once; what is running goes on and is billed. */
export function KillSwitchPage() {
  const [state, error, reload] = usePoll(() => get('/kill-switch'), []);
  const [act, busy, refused] = useAction(reload);
  const flip = () => {
    const next = !state.on;
    if (window.confirm(next ? 'Stop all new spending by every agent?' : 'Let agents spend again?')) {
      act(() => put('/kill-switch', { on: next }));
    }
  };
  return html`
    <h1>Kill switch</h1>
    <${Problem} error=${refused ?? error} />
    <${Loading} data=${state} error=${error} />
    ${state && html`
      <section class=${state.on ? 'verdict mismatched' : 'verdict clean'} data-testid="kill-switch" data-on=${String(state.on)}>
        <h2>${state.on ? 'ON: no agent can reserve or pay' : 'Off: agents spend within their policies'}</h2>
        <p>On, it refuses every new reservation and payment of every agent; jobs already running go on and are billed.</p>
      </section>
      <button class=${state.on ? '' : 'danger'} disabled=${busy} onClick=${flip}>${state.on ? 'Turn off' : 'Turn on'}</button>`}`;
}
