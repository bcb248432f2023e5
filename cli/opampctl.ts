import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { ApiClient, CliError, resolveApiTarget } from './api-client.js';
import { consoleCommand } from './console.js';
import { table } from './table.js';
import { configFileSpec, validateArguments } from './validate.js';

const USAGE = `opampctl: manage an OpAMP fleet through its fleet API

Usage: opampctl <command> [arguments] [options]

Commands:
  agents [--selector k=v,...] [--liveness online|stale|disconnected] [--limit n]
                                  list agents
  agent <instance-uid>            show one agent
  configs                         list configurations
  config show <name>              show one configuration
  config upload <name> <file>... [--content-type <type>]
                                  upload files as configuration <name> (replaces its files);
                                  a file may be given as path=name to choose its name
  config delete <name>            remove a configuration
  assignments                     list assignments
  assign <assignment> [--config <name>] [--package <name>=<version>]... [--settings <name>]
         (--selector k=v,... [--priority n] | --agent <uid> | nothing, for the "default" assignment)
                                  create or replace an assignment (any of configuration, package set
                                  and connection settings)
  unassign <assignment>           remove an assignment
  rollout <config>                where a configuration's rollout stands
  packages                        list package versions in the bucket
  package upload <name> <version> <file> [--signature <file.sig>]
                                  upload a package version (<name> _agent is the agent itself)
  package delete <name> <version> remove a package version
  package rollout <name> <version>
                                  where a package version's rollout stands
  settings                        list connection settings documents
  settings show <name>            show one settings document, where it applies and what it lacks
  settings upload <name> <file.json>
                                  upload a settings document (settings "default" applies to every
                                  agent no assignment gives settings)
  settings delete <name>          remove a settings document
  certificates                    list certificates in the bucket
  certificate upload <name> --cert <cert.pem> [--key <key.pem>] [--ca <ca.pem>]
                                  upload a certificate (replaces its files); settings refer to it
                                  by <name>
  certificate delete <name>       remove a certificate
  restart <instance-uid>          restart one agent on its next poll
  restart --selector k=v,...      restart every matching agent that accepts restarts
  message send <instance-uid> --capability <c> --type <t> [--data <text> | --data-file <path>]
                                  queue a custom message for an agent
  messages <instance-uid>         custom messages an agent sent, and those queued for it
  tokens                          list agent tokens, the agents using them and the settings
                                  handing them out
  token create <name> [--deliverable]
                                  create an agent token (shown once); --deliverable keeps it on the
                                  server, so that settings ("opamp": {"token": <name>}) can hand it
                                  to agents
  token agents <name>             the agents that last authenticated with a token
  token revoke <name> [--force]   revoke an agent token (refused while agents or settings use it,
                                  unless --force)
  console [--port n]              the fleet console in your browser, on this machine (default port
                                  4321), calling the fleet API with your AWS credentials
  bucket rejected                 bucket objects the server would not accept (bad names or layout),
                                  newest first

Options:
  --api <url>       fleet API URL (default: $OPAMP_API_URL, else http://127.0.0.1:4320)
  --stack <name>    read the fleet API URL from this CloudFormation stack's outputs
  --region <name>   AWS region for --stack and request signing
  --json            print JSON instead of tables
  --wait <seconds>  how long upload, delete, assign and unassign wait to see the change recorded
                    (default 30; 0: do not wait)
  -h, --help        this text
`;

interface Options {
  json: boolean;
  waitSeconds: number;
}

export async function main(argv: string[], out: (line: string) => void = console.log): Promise<void> {
  if (argv[0] === 'console') return consoleCommand(argv.slice(1), out);
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      api: { type: 'string' },
      stack: { type: 'string' },
      region: { type: 'string' },
      json: { type: 'boolean', default: false },
      wait: { type: 'string', default: '30' },
      selector: { type: 'string' },
      liveness: { type: 'string' },
      limit: { type: 'string' },
      config: { type: 'string' },
      package: { type: 'string', multiple: true },
      signature: { type: 'string' },
      capability: { type: 'string' },
      type: { type: 'string' },
      data: { type: 'string' },
      'data-file': { type: 'string' },
      priority: { type: 'string' },
      agent: { type: 'string' },
      'content-type': { type: 'string' },
      settings: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      ca: { type: 'string' },
      deliverable: { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, ...args] = positionals;
  if (values.help || !command) {
    out(USAGE);
    return;
  }
  const waitSeconds = Number(values.wait);
  if (!Number.isFinite(waitSeconds) || waitSeconds < 0) throw new CliError('--wait takes a number of seconds');
  const options: Options = { json: values.json, waitSeconds };
  validateArguments(command, args, values);
  const api = new ApiClient(await resolveApiTarget({ api: values.api, stack: values.stack, region: values.region }));
  const print = (data: unknown, human: () => string) => out(options.json ? JSON.stringify(data, null, 2) : human());

  switch (command) {
    case 'agents': {
      const query = new URLSearchParams();
      if (values.selector) query.set('selector', values.selector);
      if (values.liveness) query.set('liveness', values.liveness);
      const limit = values.limit ? Number(values.limit) : Infinity;
      const agents: AgentSummary[] = [];
      let cursor: string | undefined;
      do {
        const page = new URLSearchParams(query);
        page.set('limit', String(Math.min(1000, limit - agents.length)));
        if (cursor) page.set('cursor', cursor);
        const result = await api.request<{ agents: AgentSummary[]; nextCursor?: string }>('GET', `/api/v1/agents?${page}`);
        agents.push(...result.agents);
        cursor = result.nextCursor;
      } while (cursor && agents.length < limit);
      print({ agents }, () => table(
        ['INSTANCE UID', 'LIVENESS', 'HEALTHY', 'SERVICE', 'LAST SEEN'],
        agents.map((a) => [a.instanceUid, a.liveness, a.healthy === null ? '-' : String(a.healthy), a.attributes['service.name'] ?? '-', a.lastSeenAt]),
      ));
      return;
    }
    case 'agent': {
      const uid = required(args[0], 'agent <instance-uid>');
      const agent = await api.request<AgentDetail>('GET', `/api/v1/agents/${encodeURIComponent(uid)}`);
      print(agent, () => agentText(agent));
      return;
    }
    case 'configs': {
      const { configs } = await api.request<{ configs: ConfigView[] }>('GET', '/api/v1/configs');
      print({ configs }, () => table(
        ['NAME', 'HASH', 'FILES', 'ERRORS'],
        configs.map((c) => [c.name, c.hash ? c.hash.slice(0, 12) : '(not offered)', String(c.files.length), c.errors.join('; ') || '-']),
      ));
      return;
    }
    case 'config':
      return configCommand(api, args, values['content-type'], options, print);
    case 'assignments': {
      const { assignments } = await api.request<{ assignments: AssignmentView[] }>('GET', '/api/v1/assignments');
      print({ assignments }, () => table(
        ['NAME', 'CONFIG', 'PACKAGES', 'SETTINGS', 'TARGET', 'PRIORITY', 'ERROR'],
        assignments.map((a) => [
          a.name,
          a.config ?? '-',
          a.packages ? Object.entries(a.packages).map(([n, v]) => `${n}=${v}`).join(',') : '-',
          a.settings ?? '-',
          a.instanceUid ?? a.selector ?? (a.name === 'default' ? '(every agent)' : '-'),
          a.priority === null ? '-' : String(a.priority),
          a.error ?? '-',
        ]),
      ));
      return;
    }
    case 'assign': {
      const name = required(args[0], 'assign <assignment> [--config <name>] [--package <name>=<version>]... [--settings <name>] (--selector ... | --agent <uid>)');
      if (values.selector !== undefined && values.agent !== undefined) throw new CliError('give at most one of --selector and --agent');
      if (values.config === undefined && values.package === undefined && values.settings === undefined) {
        throw new CliError('give at least one of --config, --package and --settings');
      }
      const packages = values.package === undefined ? undefined : Object.fromEntries(values.package.map((spec) => {
        const eq = spec.indexOf('=');
        if (eq <= 0) throw new CliError(`--package takes <name>=<version>, got ${spec}`);
        return [spec.slice(0, eq), spec.slice(eq + 1)];
      }));
      const document = {
        ...(values.config !== undefined ? { config: values.config } : {}),
        ...(packages !== undefined ? { packages } : {}),
        ...(values.settings !== undefined ? { settings: values.settings } : {}),
        ...(values.selector !== undefined ? { selector: values.selector } : {}),
        ...(values.agent !== undefined ? { instanceUid: values.agent } : {}),
        ...(values.priority !== undefined ? { priority: integer(values.priority, '--priority') } : {}),
      };
      await api.request('PUT', `/api/v1/assignments/${encodeURIComponent(name)}`, document);
      await waitFor(options, `assignment ${name}`, async () => {
        const a = await api.request<AssignmentView>('GET', `/api/v1/assignments/${encodeURIComponent(name)}`).catch(() => undefined);
        return a !== undefined && a.error === null && (a.config ?? undefined) === values.config &&
          JSON.stringify(a.packages ?? undefined) === JSON.stringify(packages) && (a.settings ?? undefined) === values.settings &&
          (a.selector ?? undefined) === normalizeSelector(values.selector) && (a.instanceUid ?? undefined) === values.agent?.toLowerCase();
      });
      const target = values.agent ?? values.selector ?? 'every agent (fallback)';
      const what = [
        values.config && `configuration ${values.config}`,
        packages && `packages ${Object.entries(packages).map(([n, v]) => `${n}=${v}`).join(', ')}`,
        values.settings && `settings ${values.settings}`,
      ].filter(Boolean).join(' and ');
      print({ name, ...document, status: 'recorded' }, () => `assignment ${name}: ${what} for ${target}`);
      return;
    }
    case 'unassign': {
      const name = required(args[0], 'unassign <assignment>');
      await api.request('DELETE', `/api/v1/assignments/${encodeURIComponent(name)}`);
      await waitFor(options, `removal of assignment ${name}`, async () =>
        (await api.request('GET', `/api/v1/assignments/${encodeURIComponent(name)}`).then(() => false, () => true)));
      print({ name, status: 'removed' }, () => `assignment ${name} removed`);
      return;
    }
    case 'rollout': {
      const name = required(args[0], 'rollout <config>');
      const rollout = await api.request<Rollout>('GET', `/api/v1/configs/${encodeURIComponent(name)}/rollout`);
      print(rollout, () => rolloutText(rollout));
      return;
    }
    case 'packages': {
      const { packages } = await api.request<{ packages: PackageView[] }>('GET', '/api/v1/packages');
      print({ packages }, () => table(
        ['PACKAGE', 'VERSION', 'FILE', 'SIZE', 'SIGNED', 'ERROR'],
        packages.map((p) => [p.name, p.version, p.file, String(p.size), p.signed ? 'yes' : 'no', p.error ?? '-']),
      ));
      return;
    }
    case 'package':
      return packageCommand(api, args, values.signature, options, print);
    case 'settings':
      if (args.length === 0) {
        const { settings } = await api.request<{ settings: SettingsView[] }>('GET', '/api/v1/settings');
        print({ settings }, () => table(
          ['NAME', 'IN FORCE', 'APPLIES TO', 'CERTIFICATES', 'PROBLEMS'],
          settings.map((d) => [
            d.name,
            d.inForce ? 'yes' : 'no',
            settingsReach(d),
            d.certificates.join(',') || '-',
            [...(d.error !== null ? [d.error] : []), ...d.problems].join('; ') || '-',
          ]),
        ));
        return;
      }
      return settingsCommand(api, args, options, print);
    case 'certificates': {
      const { certificates } = await api.request<{ certificates: CertificateView[] }>('GET', '/api/v1/certificates');
      print({ certificates }, () => table(
        ['NAME', 'SUBJECT', 'NOT AFTER', 'FINGERPRINT', 'FILES', 'SETTINGS', 'ERROR'],
        certificates.map((c) => [
          c.name,
          c.subject ?? '-',
          c.notAfter ?? '-',
          c.fingerprint ? c.fingerprint.slice(0, 12) : '-',
          certificateFiles(c),
          c.settings.join(',') || '-',
          c.error ?? '-',
        ]),
      ));
      return;
    }
    case 'certificate':
      return certificateCommand(api, args, { cert: values.cert, key: values.key, ca: values.ca }, options, print);
    case 'restart': {
      if (values.selector !== undefined) {
        const result = await api.request<{ queued: Array<{ instanceUid: string }>; skipped: Array<{ instanceUid: string; reason: string }> }>(
          'POST', '/api/v1/restarts', { selector: values.selector });
        print(result, () => [
          `restart queued for ${result.queued.length} agent(s)`,
          ...result.skipped.map((s) => `skipped ${s.instanceUid}: ${s.reason}`),
        ].join('\n'));
        return;
      }
      const uid = required(args[0], 'restart <instance-uid> | restart --selector k=v,...');
      const queued = await api.request<{ id: string; expiresAt: string }>('POST', `/api/v1/agents/${encodeURIComponent(uid)}/restart`);
      print({ instanceUid: uid, ...queued }, () => `restart queued for ${uid}; delivered on its next poll (expires ${queued.expiresAt})`);
      return;
    }
    case 'message': {
      if (args[0] !== 'send') throw new CliError('message takes send');
      const uid = required(args[1], 'message send <instance-uid> --capability <c> --type <t>');
      const body = {
        capability: required(values.capability, '--capability <name>'),
        type: required(values.type, '--type <name>'),
        ...(values['data-file'] !== undefined
          ? { dataBase64: (await readFile(values['data-file']).catch((e: Error) => { throw new CliError(`cannot read ${values['data-file']}: ${e.message}`); })).toString('base64') }
          : { data: values.data ?? '' }),
      };
      const queued = await api.request<{ id: string; expiresAt: string }>('POST', `/api/v1/agents/${encodeURIComponent(uid)}/messages`, body);
      print({ instanceUid: uid, ...queued }, () => `message queued for ${uid}; delivered on its next poll`);
      return;
    }
    case 'messages': {
      const uid = required(args[0], 'messages <instance-uid>');
      const box = await api.request<{ received: ReceivedView[]; queued: Array<{ capability: string; type: string; queuedAt: number }> }>(
        'GET', `/api/v1/agents/${encodeURIComponent(uid)}/messages`);
      print(box, () => [
        table(['RECEIVED', 'CAPABILITY', 'TYPE', 'DATA'], box.received.map((m) => [
          new Date(m.receivedAt).toISOString(), m.capability, m.type, printable(m.data) + (m.truncated ? ' (truncated)' : ''),
        ])),
        box.queued.length > 0 ? `${box.queued.length} message(s) waiting for the agent's next poll` : '',
      ].filter(Boolean).join('\n'));
      return;
    }
    case 'tokens': {
      const { tokens } = await api.request<{ tokens: TokenView[] }>('GET', '/api/v1/tokens');
      print({ tokens }, () => table(
        ['NAME', 'CREATED', 'FINGERPRINT', 'DELIVERABLE', 'AGENTS', 'SETTINGS'],
        tokens.map((t) => [
          t.name,
          t.createdAt,
          t.fingerprint,
          t.deliverable ? 'yes' : 'no',
          t.agents === undefined ? '-' : String(t.agents),
          t.settings?.join(',') || '-',
        ]),
      ));
      return;
    }
    case 'token': {
      const [sub, name] = args;
      const tokenName = required(name, `token ${sub ?? 'create|agents|revoke'} <name>`);
      const at = `/api/v1/tokens/${encodeURIComponent(tokenName)}`;
      if (sub === 'create') {
        const created = await api.request<{ name: string; token: string; deliverable: boolean }>(
          'POST', '/api/v1/tokens', { name: tokenName, ...(values.deliverable ? { deliverable: true } : {}) });
        print(created, () => [
          `token ${created.name} (shown only now; agents send it as "Authorization: Bearer <token>"):`,
          created.token,
          ...(created.deliverable ? [`deliverable: the server keeps it; settings with "opamp": {"token": "${created.name}"} hand it to agents`] : []),
        ].join('\n'));
      } else if (sub === 'agents') {
        const using = await api.request<{ name: string; agents: string[] }>('GET', `${at}/agents`);
        print(using, () => (using.agents.length === 0 ? `no agent last authenticated with token ${using.name}` : using.agents.join('\n')));
      } else if (sub === 'revoke') {
        await api.request('DELETE', `${at}${values.force ? '?force=true' : ''}`).catch((error: unknown) => {
          // 409: agents or settings still use the token; the server says which.
          if (error instanceof CliError && error.message.startsWith('409 ')) {
            throw new CliError(`${error.message} (opampctl token revoke ${tokenName} --force revokes it anyway)`);
          }
          throw error;
        });
        print({ name: tokenName, status: 'revoked' }, () => `token ${tokenName} revoked`);
      } else {
        throw new CliError('token takes create, agents or revoke');
      }
      return;
    }
    case 'bucket': {
      if (args[0] !== 'rejected') throw new CliError('bucket takes rejected');
      const { rejected } = await api.request<{ rejected: Array<{ key: string; reason: string; at: string }> }>('GET', '/api/v1/bucket/rejected');
      print({ rejected }, () => (rejected.length === 0
        ? 'no rejected bucket objects'
        : table(['KEY', 'REASON', 'AT'], rejected.map((r) => [JSON.stringify(r.key), r.reason, r.at]))));
      return;
    }
    default:
      throw new CliError(`unknown command "${command}" (opampctl --help lists them)`);
  }
}

async function configCommand(
  api: ApiClient,
  args: string[],
  contentType: string | undefined,
  options: Options,
  print: (data: unknown, human: () => string) => void,
): Promise<void> {
  const [sub, name, ...files] = args;
  switch (sub) {
    case 'show': {
      const config = await api.request<ConfigView>('GET', `/api/v1/configs/${encodeURIComponent(required(name, 'config show <name>'))}`);
      print(config, () => [
        `${config.name}  hash ${config.hash ?? '(not offered)'}`,
        table(['FILE', 'SIZE', 'CONTENT TYPE', 'ERROR'], config.files.map((f) => [f.name, String(f.size), f.contentType, f.error ?? '-'])),
      ].join('\n'));
      return;
    }
    case 'upload': {
      const configName = required(name, 'config upload <name> <file>...');
      if (files.length === 0) throw new CliError('config upload needs at least one file');
      const body: Record<string, { contentBase64: string; contentType?: string }> = {};
      for (const spec of files) {
        const { path, fileName } = configFileSpec(spec);
        const bytes = await readFile(path).catch((error: Error) => {
          throw new CliError(`cannot read ${path}: ${error.message}`);
        });
        body[fileName] = { contentBase64: bytes.toString('base64'), ...(contentType ? { contentType } : {}) };
      }
      const accepted = await api.request<{ hash: string }>('PUT', `/api/v1/configs/${encodeURIComponent(configName)}`, { files: body });
      await waitFor(options, `configuration ${configName}`, async () =>
        (await api.request<ConfigView>('GET', `/api/v1/configs/${encodeURIComponent(configName)}`).catch(() => undefined))?.hash === accepted.hash);
      print({ name: configName, hash: accepted.hash, files: Object.keys(body), status: options.waitSeconds > 0 ? 'recorded' : 'accepted' },
        () => `configuration ${configName} uploaded (${Object.keys(body).length} file(s), hash ${accepted.hash.slice(0, 12)})`);
      return;
    }
    case 'delete': {
      const configName = required(name, 'config delete <name>');
      await api.request('DELETE', `/api/v1/configs/${encodeURIComponent(configName)}`);
      await waitFor(options, `removal of configuration ${configName}`, async () =>
        api.request('GET', `/api/v1/configs/${encodeURIComponent(configName)}`).then(() => false, () => true));
      print({ name: configName, status: 'removed' }, () => `configuration ${configName} removed`);
      return;
    }
    default:
      throw new CliError('config takes show, upload or delete');
  }
}

async function packageCommand(
  api: ApiClient,
  args: string[],
  signaturePath: string | undefined,
  options: Options,
  print: (data: unknown, human: () => string) => void,
): Promise<void> {
  const [sub, name, version, path] = args;
  const pkg = required(name, `package ${sub ?? 'upload|delete|rollout'} <name> <version>`);
  const ver = required(version, `package ${sub} <name> <version>`);
  const at = `/api/v1/packages/${encodeURIComponent(pkg)}/${encodeURIComponent(ver)}`;
  switch (sub) {
    case 'upload': {
      const file = required(path, 'package upload <name> <version> <file>');
      const bytes = await readFile(file).catch((e: Error) => { throw new CliError(`cannot read ${file}: ${e.message}`); });
      const signature = signaturePath === undefined
        ? undefined
        : await readFile(signaturePath).catch((e: Error) => { throw new CliError(`cannot read ${signaturePath}: ${e.message}`); });
      const urls = await api.request<{ file: string; signature?: string }>('POST', `${at}/upload`, { file: basename(file), signature: signature !== undefined });
      // The file goes straight to the bucket through a presigned URL: packages can be large.
      if (signature && urls.signature) await putTo(urls.signature, signature);
      await putTo(urls.file, bytes);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      await waitFor(options, `package ${pkg} ${ver}`, async () => {
        const { packages } = await api.request<{ packages: PackageView[] }>('GET', '/api/v1/packages');
        const found = packages.find((p) => p.name === pkg && p.version === ver);
        return found?.sha256 === sha256 && found.signed === (signature !== undefined);
      });
      print({ name: pkg, version: ver, file: basename(file), sha256, signed: signature !== undefined },
        () => `package ${pkg} ${ver} uploaded (${bytes.length} bytes, sha256 ${sha256.slice(0, 12)}${signature ? ', signed' : ''})`);
      return;
    }
    case 'delete': {
      await api.request('DELETE', at);
      print({ name: pkg, version: ver, status: 'removed' }, () => `package ${pkg} ${ver} removed`);
      return;
    }
    case 'rollout': {
      const r = await api.request<PackageRollout>('GET', `${at}/rollout`);
      print(r, () => {
        const head = `${r.name} ${r.version}\nmatched ${r.matched}  installed ${r.installed}  installing ${r.installing}  failed ${r.failed}  pending ${r.pending}` +
          (r.matched > 0 && r.installed === r.matched ? '  (complete)' : '');
        return r.agents.length === 0 ? head : `${head}\n\n${table(['INSTANCE UID', 'STATE', 'STATUS', 'ERROR'], r.agents.map((a) => [a.instanceUid, a.state, a.status, a.error || '-']))}`;
      });
      return;
    }
    default:
      throw new CliError('package takes upload, delete or rollout');
  }
}

async function settingsCommand(
  api: ApiClient,
  args: string[],
  options: Options,
  print: (data: unknown, human: () => string) => void,
): Promise<void> {
  const [sub, name, path] = args;
  const at = (settingsName: string) => `/api/v1/settings/${encodeURIComponent(settingsName)}`;
  switch (sub) {
    case 'show': {
      const view = await api.request<SettingsView>('GET', at(required(name, 'settings show <name>')));
      print(view, () => [
        `${view.name}  ${view.inForce ? 'in force' : 'not in force'}, applies to ${settingsReach(view)}`,
        ...(view.error !== null ? [`error           ${view.error} (at ${view.errorAt})`] : []),
        ...view.problems.map((p) => `problem         ${p}`),
        ...(view.settings !== null ? [JSON.stringify(view.settings, null, 2)] : []),
      ].join('\n'));
      return;
    }
    case 'upload': {
      const settingsName = required(name, 'settings upload <name> <file.json>');
      const file = required(path, 'settings upload <name> <file.json>');
      const text = await readFile(file, 'utf8').catch((error: Error) => {
        throw new CliError(`cannot read ${file}: ${error.message}`);
      });
      let document: unknown;
      try {
        document = JSON.parse(text);
      } catch (error) {
        throw new CliError(`${file} is not valid JSON: ${(error as Error).message}`);
      }
      const accepted = await api.request<{ settings: unknown }>('PUT', at(settingsName), document);
      await waitFor(options, `settings ${settingsName}`, async () => {
        const view = await api.request<SettingsView>('GET', at(settingsName)).catch(() => undefined);
        return view !== undefined && view.error === null && sortedJson(view.settings) === sortedJson(accepted.settings);
      });
      print({ name: settingsName, settings: accepted.settings, status: options.waitSeconds > 0 ? 'recorded' : 'accepted' },
        () => `settings ${settingsName} uploaded`);
      return;
    }
    case 'delete': {
      const settingsName = required(name, 'settings delete <name>');
      await api.request('DELETE', at(settingsName));
      await waitFor(options, `removal of settings ${settingsName}`, async () =>
        api.request('GET', at(settingsName)).then(() => false, () => true));
      print({ name: settingsName, status: 'removed' }, () => `settings ${settingsName} removed`);
      return;
    }
    default:
      throw new CliError('settings takes show, upload or delete (or nothing, to list them)');
  }
}

async function certificateCommand(
  api: ApiClient,
  args: string[],
  paths: { cert: string | undefined; key: string | undefined; ca: string | undefined },
  options: Options,
  print: (data: unknown, human: () => string) => void,
): Promise<void> {
  const [sub, name] = args;
  const certificateName = required(name, `certificate ${sub ?? 'upload|delete'} <name>`);
  const at = `/api/v1/certificates/${encodeURIComponent(certificateName)}`;
  const listed = async () =>
    (await api.request<{ certificates: CertificateView[] }>('GET', '/api/v1/certificates')).certificates.find((c) => c.name === certificateName);
  switch (sub) {
    case 'upload': {
      const certPath = required(paths.cert, 'certificate upload <name> --cert <cert.pem> [--key <key.pem>] [--ca <ca.pem>]');
      const read = (path: string) => readFile(path, 'utf8').catch((error: Error) => {
        throw new CliError(`cannot read ${path}: ${error.message}`);
      });
      const material = {
        cert: await read(certPath),
        ...(paths.key !== undefined ? { key: await read(paths.key) } : {}),
        ...(paths.ca !== undefined ? { ca: await read(paths.ca) } : {}),
      };
      const accepted = await api.request<{ fingerprint: string; subject: string; notAfter: string }>('PUT', at, material);
      await waitFor(options, `certificate ${certificateName}`, async () => {
        const found = await listed();
        return found?.fingerprint === accepted.fingerprint && found.files.key === (material.key !== undefined) && found.files.ca === (material.ca !== undefined);
      });
      print({ name: certificateName, ...accepted, status: options.waitSeconds > 0 ? 'recorded' : 'accepted' },
        () => `certificate ${certificateName} uploaded (${accepted.subject}, valid until ${accepted.notAfter}, sha256 ${accepted.fingerprint.slice(0, 12)})`);
      return;
    }
    case 'delete': {
      await api.request('DELETE', at);
      await waitFor(options, `removal of certificate ${certificateName}`, async () => (await listed()) === undefined);
      print({ name: certificateName, status: 'removed' }, () => `certificate ${certificateName} removed`);
      return;
    }
    default:
      throw new CliError('certificate takes upload or delete');
  }
}

/** Who a settings document reaches: the assignments giving it, and every other agent for `default`. */
function settingsReach(view: SettingsView): string {
  const reach = [...view.assignments.map((a) => `assignment ${a}`), ...(view.isDefault ? ['every agent no assignment gives settings'] : [])];
  return reach.join(', ') || 'no agent (no assignment names it)';
}

function certificateFiles(view: CertificateView): string {
  return (['cert', 'key', 'ca'] as const).filter((role) => view.files[role]).map((role) => `${role}.pem`).join(',') || '-';
}

/** JSON with object keys sorted, to compare documents whatever order their keys come in. */
function sortedJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v);
}

async function putTo(url: string, body: Uint8Array): Promise<void> {
  const response = await fetch(url, { method: 'PUT', body }).catch((error: Error) => {
    throw new CliError(`upload failed: ${error.message}`);
  });
  if (!response.ok) throw new CliError(`upload failed: ${response.status} ${(await response.text()).slice(0, 200)}`);
}

function printable(base64: string): string {
  const text = Buffer.from(base64, 'base64').toString('utf8');
  return /^[\x20-\x7e\n\t]*$/.test(text) ? text.replace(/\n/g, ' ').slice(0, 60) : `(${Buffer.from(base64, 'base64').length} bytes)`;
}

/** Writes go to the bucket first; this waits until the ingest has recorded them. */
async function waitFor(options: Options, what: string, done: () => Promise<boolean>): Promise<void> {
  if (options.waitSeconds === 0) return;
  const deadline = Date.now() + options.waitSeconds * 1000;
  while (!(await done())) {
    if (Date.now() > deadline) throw new CliError(`${what} was accepted but not recorded within ${options.waitSeconds}s (is the bucket ingest running?)`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function required(value: string | undefined, usage: string): string {
  if (!value) throw new CliError(`missing argument: ${usage}`);
  return value;
}

function integer(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n)) throw new CliError(`${flag} takes an integer`);
  return n;
}

function normalizeSelector(selector: string | undefined): string | undefined {
  return selector?.split(',').map((t) => t.trim()).filter(Boolean).map((t) => {
    const eq = t.indexOf('=');
    return `${t.slice(0, eq).trim()}=${t.slice(eq + 1).trim()}`;
  }).join(',');
}

interface AgentSummary {
  instanceUid: string;
  liveness: string;
  healthy: boolean | null;
  attributes: Record<string, string>;
  lastSeenAt: string;
}

interface AgentDetail extends AgentSummary {
  capabilities: string[];
  sequenceNum: string;
  firstSeenAt: string;
  health: { lastError?: string } | null;
  remoteConfigStatus: { hash: string; status: string; errorMessage: string } | null;
  remoteConfig?: { desired: { config: string; via: string } | null; state: string; offer: { rollbackMessage: string | null } | null };
}

interface ConfigView {
  name: string;
  hash: string | null;
  files: Array<{ name: string; size: number; contentType: string; error?: string }>;
  errors: string[];
}

interface PackageView {
  name: string;
  version: string;
  file: string;
  size: number;
  sha256: string;
  signed: boolean;
  error: string | null;
}

interface PackageRollout {
  name: string;
  version: string;
  matched: number;
  installed: number;
  installing: number;
  failed: number;
  pending: number;
  agents: Array<{ instanceUid: string; state: string; status: string; error: string }>;
}

interface ReceivedView {
  capability: string;
  type: string;
  data: string;
  truncated: boolean;
  receivedAt: number;
}

interface AssignmentView {
  name: string;
  config: string | null;
  packages: Record<string, string> | null;
  settings: string | null;
  selector: string | null;
  instanceUid: string | null;
  priority: number | null;
  error: string | null;
}

interface SettingsView {
  name: string;
  settings: unknown;
  inForce: boolean;
  error: string | null;
  errorAt: string | null;
  isDefault: boolean;
  assignments: string[];
  certificates: string[];
  problems: string[];
}

interface CertificateView {
  name: string;
  fingerprint: string | null;
  subject: string | null;
  notAfter: string | null;
  files: { cert: boolean; key: boolean; ca: boolean };
  error: string | null;
  settings: string[];
}

interface TokenView {
  name: string;
  createdAt: string;
  fingerprint: string;
  deliverable: boolean;
  agents?: number;
  settings?: string[];
}

interface Rollout {
  config: string;
  hash: string | null;
  matched: number;
  applied: number;
  applying: number;
  failed: number;
  pending: number;
  agents: Array<{ instanceUid: string; state: string; errorMessage: string }>;
}

function agentText(a: AgentDetail): string {
  const lines = [
    `instance uid    ${a.instanceUid}`,
    `liveness        ${a.liveness} (last seen ${a.lastSeenAt}, first seen ${a.firstSeenAt})`,
    `healthy         ${a.healthy === null ? '-' : a.healthy}${a.health?.lastError ? ` (${a.health.lastError})` : ''}`,
    `sequence        ${a.sequenceNum}`,
    `capabilities    ${a.capabilities.join(', ')}`,
    ...Object.entries(a.attributes).map(([k, v], i) => `${i === 0 ? 'attributes      ' : '                '}${k}=${v}`),
  ];
  if (a.remoteConfig) {
    const rc = a.remoteConfig;
    lines.push(`config          ${rc.desired ? `${rc.desired.config} (via ${rc.desired.via})` : '-'}: ${rc.state}`);
    if (a.remoteConfigStatus?.errorMessage) lines.push(`config error    ${a.remoteConfigStatus.errorMessage}`);
    if (rc.offer?.rollbackMessage) lines.push(`rolled back     ${rc.offer.rollbackMessage}`);
  }
  return lines.join('\n');
}

function rolloutText(r: Rollout): string {
  const head = `${r.config}  hash ${r.hash ?? '(not offered)'}\n` +
    `matched ${r.matched}  applied ${r.applied}  applying ${r.applying}  failed ${r.failed}  pending ${r.pending}` +
    (r.matched > 0 && r.applied === r.matched ? '  (complete)' : '');
  if (r.agents.length === 0) return head;
  return `${head}\n\n${table(['INSTANCE UID', 'STATE', 'ERROR'], r.agents.map((a) => [a.instanceUid, a.state, a.errorMessage || '-']))}`;
}
