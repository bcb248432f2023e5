import { Hono } from 'hono';
import { csrf } from 'hono/csrf';
import { html } from 'hono/html';
import type { Context } from 'hono';
import { agentPage } from './agent-page.js';
import { agentsPage } from './agents-page.js';
import { configsPage } from './configs-page.js';
import { versionHref, versionPage, versionsPage } from './config-history-page.js';
import { rolloutsPage } from './rollouts-page.js';
import { credentialsPage } from './credentials-page.js';
import { ApiError, FleetClient } from './fleet-client.js';
import type { FetchLike } from './fleet-client.js';
import { page } from './layout.js';
import type { Html } from './layout.js';
import { overviewPage } from './overview-page.js';

export interface ConsoleOptions {
  /** Reaches the fleet API (in-process locally, SigV4-signed from `opampctl console`). */
  fetch: FetchLike;
  /** The fleet API's base URL (without `/api/v1`). */
  apiBaseUrl: string;
  now?: () => number;
  /**
   * Answer only requests addressed to this machine by name (127.0.0.1,
   * localhost), so a web page cannot reach a console that holds AWS
   * credentials by rebinding its own host name to 127.0.0.1.
   */
  localOnly?: boolean;
  /** Rows on one page of the agents table. */
  agentsPerPage?: number;
}

const LOCAL_HOST = /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/;

/** The paths the console answers, so a server that also serves the API can route between them. */
export function isConsolePath(path: string): boolean {
  return path === '/' || /^\/(agents|configs|assignments|credentials|rollouts)(\/|$)/.test(path);
}

/**
 * The fleet console: server-rendered pages over the fleet API. Forms post
 * here, the console calls the API, then redirects back with what happened
 * (so reloading a page never repeats an action).
 */
export function createConsoleApp(options: ConsoleOptions): Hono {
  const client = new FleetClient(options.fetch, options.apiBaseUrl);
  const now = options.now ?? Date.now;
  const app = new Hono();
  if (options.localOnly) {
    app.use('*', async (c, next) => {
      if (!LOCAL_HOST.test(c.req.header('host') ?? '')) return c.text('this console answers only on 127.0.0.1 and localhost', 403);
      return next();
    });
  }
  // Actions are plain form posts: other sites' pages must not be able to make them.
  app.use('*', csrf());

  const render = async (c: Context, title: string, path: string, build: () => Promise<Html>) => {
    const flash = { notice: c.req.query('notice'), error: c.req.query('error') };
    try {
      return c.html(page({ title, path, ...flash }, await build()));
    } catch (error) {
      // What the page names (an agent, a version, a filter) is unknown or malformed: the API's 404 or 400; anything else is the API failing.
      const status = error instanceof ApiError && (error.status === 404 || error.status === 400) ? error.status : 502;
      const message = error instanceof ApiError ? `The fleet API answered ${error.message}` : `The page failed: ${(error as Error).message}`;
      return c.html(page({ title, path, error: message }, html``), status);
    }
  };
  const back = (c: Context, to: string, result: { ok: boolean; error?: string | undefined }, done: string) => {
    const query = result.ok ? `notice=${encodeURIComponent(done)}` : `error=${encodeURIComponent(result.error ?? 'failed')}`;
    return c.redirect(`${to}${to.includes('?') ? '&' : '?'}${query}`, 303);
  };

  app.get('/', (c) => render(c, 'Fleet overview', '/', () => overviewPage(client)));
  app.get('/agents', (c) =>
    render(c, 'Agents', '/agents', () =>
      agentsPage(client, {
        selector: c.req.query('selector'),
        liveness: c.req.query('liveness') || undefined,
        token: c.req.query('token'),
        cursor: c.req.query('cursor'),
        perPage: options.agentsPerPage,
      }),
    ),
  );
  app.get('/agents/:uid', (c) => render(c, `Agent ${c.req.param('uid')}`, '/agents', () => agentPage(client, c.req.param('uid'))));
  app.post('/agents/:uid/restart', async (c) => {
    const uid = c.req.param('uid');
    const result = await client.call('POST', `/agents/${encodeURIComponent(uid)}/restart`);
    return back(c, `/agents/${encodeURIComponent(uid)}`, result, 'Restart queued: the agent gets it on its next poll.');
  });
  app.post('/agents/:uid/message', async (c) => {
    const uid = c.req.param('uid');
    const form = await c.req.parseBody();
    const body = { capability: String(form.capability ?? ''), type: String(form.type ?? ''), data: String(form.data ?? '') };
    const result = await client.call('POST', `/agents/${encodeURIComponent(uid)}/messages`, body);
    return back(c, `/agents/${encodeURIComponent(uid)}`, result, 'Message queued: the agent gets it on its next poll.');
  });
  app.get('/configs', (c) => render(c, 'Configurations and assignments', '/configs', () => configsPage(client)));
  app.post('/configs', async (c) => {
    const form = await c.req.parseBody();
    const name = String(form.name ?? '').trim();
    const file = String(form.file ?? '').trim();
    if (!name || !file) return back(c, '/configs', { ok: false, error: 'a configuration name and a file name are needed' }, '');
    // Browsers send textarea line ends as CRLF; agents expect the file as written.
    const content = String(form.content ?? '').replace(/\r\n/g, '\n');
    const result = await client.call<{ hash: string }>('PUT', `/configs/${encodeURIComponent(name)}`, { files: { [file]: { content } } });
    return back(c, '/configs', result, `Configuration ${name} uploaded (hash ${result.body?.hash?.slice(0, 12) ?? ''}); agents get it on their next polls.`);
  });
  app.get('/configs/:name/versions', (c) => {
    const name = c.req.param('name');
    return render(c, `History of configuration ${name}`, '/configs', () => versionsPage(client, name, c.req.query('cursor')));
  });
  app.get('/configs/:name/versions/:hash', (c) => {
    const { name, hash } = c.req.param();
    return render(c, `Configuration ${name}: version ${hash.slice(0, 12)}`, '/configs', () => versionPage(client, name, hash, c.req.query('against') || undefined));
  });
  app.post('/configs/:name/versions/:hash/restore', async (c) => {
    const { name, hash } = c.req.param();
    const result = await client.call('POST', `/configs/${encodeURIComponent(name)}/versions/${encodeURIComponent(hash)}/restore`);
    return back(c, versionHref(name, hash), result, `Version ${hash.slice(0, 12)} of ${name} restored: it becomes the newest version once ingested, and agents get it on their next polls.`);
  });
  app.post('/assignments', async (c) => {
    const form = await c.req.parseBody();
    const name = String(form.name ?? '').trim();
    if (!name) return back(c, '/configs', { ok: false, error: 'an assignment name is needed' }, '');
    const priority = Number(form.priority ?? 0);
    const doc = { config: String(form.config ?? ''), selector: String(form.selector ?? ''), ...(Number.isInteger(priority) && priority !== 0 ? { priority } : {}) };
    const result = await client.call('PUT', `/assignments/${encodeURIComponent(name)}`, doc);
    return back(c, '/configs', result, `Assignment ${name} saved.`);
  });
  app.get('/rollouts', (c) => render(c, 'Staged rollouts', '/rollouts', () => rolloutsPage(client)));
  app.post('/rollouts/:assignment/:aspect/:action', async (c) => {
    const { assignment, aspect, action } = c.req.param();
    const result = await client.call<{ state: string }>('POST', `/rollouts/${encodeURIComponent(assignment)}/${encodeURIComponent(aspect)}/${encodeURIComponent(action)}`);
    return back(c, '/rollouts', result, `Rollout of ${assignment} (${aspect}) is ${result.body?.state ?? 'changed'}.`);
  });
  app.get('/credentials', (c) => render(c, 'Tokens and certificates', '/credentials', () => credentialsPage(client, now())));
  return app;
}
