import type { Context } from 'hono';

/** The part of a Lambda Function URL event (payload 2.0, AWS_IAM auth) that names the caller. */
interface IamAuthorizedEnv {
  event?: { requestContext?: { authorizer?: { iam?: { userArn?: string | null; callerId?: string | null } | null } | null } };
}

/**
 * Who made a fleet API request. Behind the IAM-authenticated Function URL,
 * `hono/aws-lambda` hands the app the Lambda event as `c.env.event`, and AWS
 * puts the signer in its `requestContext.authorizer.iam`: the ARN of the user
 * or assumed role (`arn:aws:sts::123456789012:assumed-role/ops/alice`), else
 * its caller id. Elsewhere there is no such event and `fallback` is the
 * principal (the local backend: `local`).
 */
export function requestPrincipal(c: Context, fallback: string): string {
  const iam = (c.env as IamAuthorizedEnv | undefined)?.event?.requestContext?.authorizer?.iam;
  return iam?.userArn || iam?.callerId || fallback;
}
