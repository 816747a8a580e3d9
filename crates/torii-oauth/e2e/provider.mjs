// A real OpenID Provider (oidc-provider) for Torii's end-to-end OAuth tests.
//
// Started by crates/torii-oauth/tests/it/e2e.rs on 127.0.0.1 with one static client. There is no
// login page: the login interaction signs in the account described by the environment at once, and
// consent is granted up front, so a flow runs without a human. The issuer and signing key are fresh
// per process. With TAMPER set, ID tokens leaving the token endpoint are re-signed with the real key
// after one claim is changed (aud, iss or nonce), to prove that the relying party checks each one.
//
// Environment: PORT (0 picks a free one), CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, ACCOUNT_SUB,
// ACCOUNT_EMAIL, ACCOUNT_EMAIL_VERIFIED (true/false), TAMPER (aud|iss|nonce, optional).
// Prints "READY <issuer>" once it listens.

import http from 'node:http';
import { randomUUID } from 'node:crypto';
import * as jose from 'jose';
import Provider from 'oidc-provider';

const env = (name, fallback) => process.env[name] ?? fallback;
const account = {
  sub: env('ACCOUNT_SUB', 'user-1'),
  email: env('ACCOUNT_EMAIL', 'ada@example.com'),
  email_verified: env('ACCOUNT_EMAIL_VERIFIED', 'true') === 'true',
  name: 'Ada Lovelace',
};
const tamper = env('TAMPER', '');

const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
const signingKey = { ...(await jose.exportJWK(privateKey)), kid: randomUUID(), alg: 'RS256', use: 'sig' };

const server = http.createServer();
await new Promise((resolve) => server.listen(Number(env('PORT', '0')), '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: env('CLIENT_ID', 'torii-e2e'),
      client_secret: env('CLIENT_SECRET', 'torii-e2e-secret'),
      redirect_uris: [env('REDIRECT_URI')],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomUUID()] },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  features: { devInteractions: { enabled: false } },
  pkce: { required: () => true },
  ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 600, IdToken: 600, Interaction: 600, Session: 600 },
  async findAccount(_ctx, sub) {
    if (sub !== account.sub) return undefined;
    return { accountId: sub, claims: async () => ({ ...account }) };
  },
  // Consent is granted without asking: the test plays a user who always agrees.
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    return grant;
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
});

// The tampering step: runs after the token endpoint built its response.
provider.use(async (ctx, next) => {
  await next();
  if (!tamper || ctx.oidc?.route !== 'token' || !ctx.body?.id_token) return;
  const claims = jose.decodeJwt(ctx.body.id_token);
  if (tamper === 'aud') claims.aud = 'another-client';
  if (tamper === 'iss') claims.iss = 'http://127.0.0.1:1/not-the-issuer';
  if (tamper === 'nonce') claims.nonce = 'not-the-nonce';
  ctx.body.id_token = await new jose.SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: signingKey.kid, typ: 'JWT' })
    .sign(privateKey);
});

const callback = provider.callback();
server.on('request', async (req, res) => {
  const match = req.url.match(/^\/interaction\/([^/?]+)/);
  if (!match) return callback(req, res);
  try {
    const details = await provider.interactionDetails(req, res);
    if (details.prompt.name !== 'login') throw new Error(`unexpected prompt ${details.prompt.name}`);
    await provider.interactionFinished(req, res, { login: { accountId: account.sub } }, { mergeWithLastSubmission: false });
  } catch (err) {
    res.statusCode = 500;
    res.end(String(err));
  }
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
console.log(`READY ${issuer}`);
