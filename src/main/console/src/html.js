// Preact with htm tagged templates: components without a JSX build step. Text put into a template is always set
// as text (never parsed as HTML), which matters here: job logs, agent names and audit details come from agents.
import { h } from 'preact';
import htm from 'htm';

export const html = htm.bind(h);
