// Entry point of `opampctl`: one line on stderr and exit status 1 on any failure;
// wrong use of a command (exit status 2) also prints that command's usage.
import { CliError } from './api-client.js';
import { main, UsageError } from './opampctl.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

try {
  await main(process.argv.slice(2));
} catch (error) {
  const message = error instanceof CliError ? error.message : `unexpected error: ${(error as Error).message}`;
  console.error(`opampctl: ${message}`);
  if (error instanceof UsageError) console.error(`\n${error.usage}`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
}
