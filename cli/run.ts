// Entry point of `opampctl`: one line on stderr and exit status 1 on any failure.
import { CliError } from './api-client.js';
import { main } from './opampctl.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

try {
  await main(process.argv.slice(2));
} catch (error) {
  const message = error instanceof CliError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ? (error as Error).message
    : `unexpected error: ${(error as Error).message}`;
  console.error(`opampctl: ${message}`);
  process.exitCode = 1;
}
