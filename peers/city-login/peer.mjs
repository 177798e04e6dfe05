// Local peer of the city platform's unified login (一网通办统一身份认证) for Tongban's tests:
// a certified OpenID Connect provider (panva/oidc-provider) with a login page and the accounts
// given in PEER_ACCOUNTS. It prints one JSON line {"issuer": ...} once it listens.
//
// Environment: PEER_REDIRECT_URI (Tongban's callback), PEER_CLIENT_SECRET,
// PEER_ACCOUNTS = {"<login>": {"password": "...", "claims": {"name": ..., "phone_number": ...}}}.
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const accounts = JSON.parse(process.env.PEER_ACCOUNTS ?? '{}');
const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'tongban',
    client_secret: process.env.PEER_CLIENT_SECRET,
    redirect_uris: [process.env.PEER_REDIRECT_URI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  claims: {
    openid: ['sub'],
    profile: ['name'],
    phone: ['phone_number', 'phone_number_verified'],
    // The platform's real-name attribute: the resident identity card number.
    idcard: ['id_card'],
  },
  scopes: ['openid', 'profile', 'phone', 'idcard'],
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  cookies: { keys: ['city-login-peer'] },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...account.claims }) };
  },
  // Tongban is a first-party client of the platform: no consent screen, every requested scope.
  async loadExistingGrant(ctx) {
    const { client, session, params } = ctx.oidc;
    const existing = session.grantIdFor(client.clientId);
    if (existing) return ctx.oidc.provider.Grant.find(existing);
    const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
    grant.addOIDCScope(String(params.scope));
    await grant.save();
    return grant;
  },
});
provider.proxy = false;

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(res, status, body) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
  res.end(`<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>一网通办统一身份认证</title></head><body>${body}</body></html>`);
}

function loginForm(res, uid, error) {
  page(res, error ? 401 : 200, `<h1>一网通办统一身份认证</h1>${error ? `<p class="error">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
<label>账号 <input name="login"></label><label>密码 <input name="password" type="password"></label>
<button type="submit">登录</button></form>`);
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

const oidc = provider.callback();
server.on('request', async (req, res) => {
  const match = req.url.match(/^\/interaction\/([^/?]+)(\/login)?/);
  if (!match) return oidc(req, res);
  try {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== match[1]) return page(res, 400, '会话不匹配');
    if (!match[2]) return loginForm(res, details.uid);
    const form = await readForm(req);
    const account = accounts[form.get('login')];
    if (!account || account.password !== form.get('password')) {
      return loginForm(res, details.uid, '账号或密码错误');
    }
    await provider.interactionFinished(req, res, { login: { accountId: form.get('login') } }, { mergeWithLastSubmission: false });
  } catch (err) {
    page(res, 400, `<p class="error">${escape(err.message)}</p>`);
  }
});

process.stdout.write(`${JSON.stringify({ issuer })}\n`);
