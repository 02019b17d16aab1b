import { useEffect, useState, useCallback, useRef } from 'preact/hooks';
import { html } from './html.js';

/**
 * Loads with {@code load} now and again every {@code everyMs} while the page is shown, so that what the operator sees
 * follows what agents do (an approval appearing, a job completing) without reloading. Answers [data, error, reload].
 */
export function usePoll(load, deps, everyMs = 2000) {
  const [state, setState] = useState({ data: undefined, error: null });
  const latest = useRef(load);
  latest.current = load;
  const reload = useCallback(() => {
    latest.current().then(
      (data) => setState({ data, error: null }),
      (error) => setState((previous) => ({ data: previous.data, error })),
    );
  }, []);
  useEffect(() => {
    setState({ data: undefined, error: null });
    reload();
    const timer = everyMs ? setInterval(reload, everyMs) : null;
    return () => timer && clearInterval(timer);
  }, deps);
  return [state.data, state.error, reload];
}

/** Runs an action (a button press), showing its refusal instead of losing it. */
export function useAction(onDone) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const run = async (action) => {
    setBusy(true);
    setError(null);
    try {
      const result = await action();
      onDone?.(result);
      return result;
    } catch (refused) {
      setError(refused);
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return [run, busy, error];
}

export function Problem({ error }) {
  if (!error) {
    return null;
  }
  const field = error.problem?.field ?? error.problem?.parameter;
  return html`<p class="problem" role="alert">${error.message}${field ? html` <span class="field">(${field})</span>` : ''}</p>`;
}

export function Loading({ data, error }) {
  if (data === undefined && !error) {
    return html`<p class="muted">Loading…</p>`;
  }
  return null;
}

export function Time({ at }) {
  if (!at) {
    return html`<span class="muted">—</span>`;
  }
  const date = new Date(typeof at === 'number' ? at * 1000 : at);
  return html`<time datetime=${date.toISOString()} title=${date.toISOString()}>${date.toLocaleString()}</time>`;
}

export function Usdc({ amount }) {
  return amount === null || amount === undefined ? html`<span class="muted">no limit</span>` : html`<span class="usdc">${amount} USDC</span>`;
}

/** How much of a limit is used: a bar, with the figures in words for screen readers and tests. */
export function UsageBar({ label, used, limit }) {
  const usedValue = Number(used ?? 0);
  const limitValue = limit === null || limit === undefined ? null : Number(limit);
  const share = limitValue ? Math.min(1, usedValue / limitValue) : 0;
  const level = share >= 1 ? 'full' : share >= 0.8 ? 'high' : 'ok';
  const text = limitValue === null ? `${used} USDC used, no limit` : `${used} of ${limit} USDC used (${Math.round(share * 100)} %)`;
  return html`
    <div class="usage" data-usage=${label}>
      <div class="usage-label"><span>${label}</span><span>${text}</span></div>
      <div class="bar ${level}" role="meter" aria-label=${label} aria-valuemin="0" aria-valuemax=${limitValue ?? usedValue}
           aria-valuenow=${usedValue} aria-valuetext=${text}>
        <div class="bar-fill" style=${{ width: `${(limitValue === null ? 0 : share) * 100}%` }}></div>
      </div>
    </div>`;
}

export function Status({ value }) {
  return html`<span class="status status-${String(value).replace(/[^a-z_]/g, '')}">${value}</span>`;
}

/** An id that links to its page. */
export function Link({ to, children }) {
  return html`<a href=${`#${to}`}>${children}</a>`;
}

/** Pages of {@code size} rows by offset: newer goes back, older goes on while the last page was full. */
export const PAGE_SIZE = 50;

export function Pager({ offset, shown, onOffset }) {
  return html`
    <div class="pager">
      <button class="secondary" disabled=${offset === 0} onClick=${() => onOffset(Math.max(0, offset - PAGE_SIZE))}>Newer</button>
      <button class="secondary" disabled=${shown < PAGE_SIZE} onClick=${() => onOffset(offset + PAGE_SIZE)}>Older</button>
    </div>`;
}

/** A filter by state; '' stands for all. */
export function StateFilter({ label, states, value, onChange }) {
  return html`
    <label>${label} <select value=${value} onChange=${(event) => onChange(event.target.value)}>
      ${states.map((state) => html`<option value=${state}>${state || 'all'}</option>`)}
    </select></label>`;
}
