// A real OpenID Provider for Parley's tests: the certified `oidc-provider` package, on
// 127.0.0.1 and a free port, with a small login form of its own (name and password
// checked against OIDC_ACCOUNTS) instead of the package's development screens.
//
// Environment:
//   OIDC_CLIENTS   JSON list of clients: [{"client_id", "client_secret", "redirect_uris"}]
//   OIDC_ACCOUNTS  JSON object: {"<login>": {"password": "...", "claims": {...}}}; the
//                  login is the subject (sub) unless the claims name another
//
// Prints one line of JSON, {"issuer": "http://127.0.0.1:PORT"}, once it is listening,
// and stops when its standard input closes (the test that started it went away).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const clients = JSON.parse(process.env.OIDC_CLIENTS || '[]');
const accounts = JSON.parse(process.env.OIDC_ACCOUNTS || '{}');

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function loginPage(uid, problem) {
  const note = problem ? `<p role="alert">${escapeHtml(problem)}</p>` : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test provider sign-in</title></head>
<body><h1>Test provider</h1>${note}
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<label>Login <input name="login" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button></form></body></html>`;
}

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 16384) throw new Error('form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function send(res, status, html) {
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(html);
}

const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const signing = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const provider = new Provider(issuer, {
    clients: clients.map((c) => ({
      client_id: c.client_id,
      client_secret: c.client_secret,
      redirect_uris: c.redirect_uris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
    })),
    jwks: { keys: [{ ...signing.export({ format: 'jwk' }), kid: 'test-1', alg: 'RS256', use: 'sig' }] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    claims: {
      openid: ['sub'],
      profile: ['preferred_username', 'name'],
      email: ['email', 'email_verified'],
    },
    features: { devInteractions: { enabled: false } },
    // Every client must use PKCE (S256), as Parley does.
    pkce: { required: () => true },
    async findAccount(_ctx, sub) {
      const entry = Object.entries(accounts).find(([login, a]) => (a.claims?.sub ?? login) === sub);
      if (!entry) return undefined;
      return { accountId: sub, claims: async () => ({ ...entry[1].claims, sub }) };
    },
  });
  provider.on('server_error', (_ctx, err) => console.error('provider error:', err));
  const handle = provider.callback();

  server.on('request', async (req, res) => {
    const url = new URL(req.url, issuer);
    const match = url.pathname.match(/^\/interaction\/([A-Za-z0-9_-]+)(\/login)?$/);
    if (!match) {
      handle(req, res);
      return;
    }
    try {
      const details = await provider.interactionDetails(req, res);
      if (details.prompt.name === 'consent') {
        // A first-party client: its scopes are granted without asking.
        const grant = details.grantId
          ? await provider.Grant.find(details.grantId)
          : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
        const missing = details.prompt.details;
        if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
        if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
        const grantId = await grant.save();
        await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
        return;
      }
      if (req.method === 'GET' && !match[2]) {
        send(res, 200, loginPage(details.uid));
        return;
      }
      if (req.method === 'POST' && match[2]) {
        const form = await readForm(req);
        const login = form.get('login') || '';
        const account = accounts[login];
        if (!account || account.password !== form.get('password')) {
          send(res, 200, loginPage(details.uid, 'Wrong login or password.'));
          return;
        }
        const accountId = account.claims?.sub ?? login;
        await provider.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
        return;
      }
      send(res, 405, 'method not allowed');
    } catch (err) {
      send(res, 400, `interaction failed: ${escapeHtml(err.message)}`);
    }
  });
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

process.stdin.on('end', () => server.close(() => process.exit(0)));
process.stdin.resume();
