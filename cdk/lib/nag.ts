import type { IConstruct } from 'constructs';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { NagPack } from 'cdk-nag';

/** The cdk-nag packs the app is checked against (cdk/bin/app.ts attaches them; the tests run them). */
export function nagPacks(app: IConstruct): NagPack[] {
  return [new AwsSolutionsChecks(app), new ServerlessChecks(app)];
}
