// A real OpenID provider (oidc-provider, a certified implementation) for
// tests/integration/oidc.sh, on 127.0.0.1 only, issuing JWT access tokens
// with the client-credentials grant and resource indicators (RFC 8707).
//
//   node provider.mjs PORT STATEDIR RESOURCE
//
// Its signing keys are generated at start; each key's private and public
// PEM is written to STATEDIR/<kid>.pem and <kid>.pub.pem (for tokens the
// test forges with tests/tools/jwt_mint), the current kid to
// STATEDIR/kid. In front of the provider, a few /_test/ routes let the
// test count key set requests, rotate keys and break the key set:
//   GET  /_test/stats              {"jwks": N, "kid": "..."}
//   POST /_test/rotate[?drop=1]    a new signing key (the old one still
//                                  published unless drop=1)
//   POST /_test/jwks?mode=ok|garbage|error
// Plain http on loopback: oidc-provider accepts it outside production,
// and mod_paa accepts http:// key sets on loopback only.
import http from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync, renameSync } from 'node:fs';
import Provider from 'oidc-provider';

const [port, stateDir, resource] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;
let keys = [];
let jwksRequests = 0;
let jwksMode = 'ok';

function newKey() {
  const kid = `k-${randomBytes(6).toString('hex')}`;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(`${stateDir}/${kid}.pem`, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(`${stateDir}/${kid}.pub.pem`, publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(`${stateDir}/kid.tmp`, kid);
  renameSync(`${stateDir}/kid.tmp`, `${stateDir}/kid`);
  return { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
}

function makeProvider() {
  const provider = new Provider(issuer, {
    clients: [{
      client_id: 'mcp-client',
      client_secret: 'oidc-test-client-secret-not-a-real-one',
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      scope: 'mcp:tools mcp:other',
    }],
    jwks: { keys },
    scopes: ['openid', 'mcp:tools', 'mcp:other'],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resource,
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, indicator) => ({
          scope: 'mcp:tools mcp:other',
          audience: indicator,
          accessTokenTTL: 600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
    // Roles as Keycloak puts them, for PAAJWTRolesClaim realm_access.roles.
    extraTokenClaims: () => ({ realm_access: { roles: ['mcp-user', 'offline'] } }),
  });
  provider.on('server_error', (ctx, err) => console.error('server_error', err));
  return provider;
}

keys = [newKey()];
let provider = makeProvider();

const server = http.createServer((req, res) => {
  const url = new URL(req.url, issuer);
  if (url.pathname === '/_test/stats') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ jwks: jwksRequests, kid: keys[0].kid }));
    return;
  }
  if (url.pathname === '/_test/rotate' && req.method === 'POST') {
    keys = url.searchParams.get('drop') ? [newKey()] : [newKey(), keys[0]];
    provider = makeProvider();
    res.end(keys[0].kid);
    return;
  }
  if (url.pathname === '/_test/jwks' && req.method === 'POST') {
    jwksMode = url.searchParams.get('mode') || 'ok';
    res.end(jwksMode);
    return;
  }
  if (url.pathname === '/jwks') {
    jwksRequests += 1;
    if (jwksMode === 'garbage') {
      res.setHeader('content-type', 'application/json');
      res.end('{"keys": "this is not a key set"');
      return;
    }
    if (jwksMode === 'error') {
      res.statusCode = 503;
      res.end('down for maintenance');
      return;
    }
  }
  provider.callback()(req, res);
});
server.on('error', (err) => {
  console.error(`cannot listen on ${port}: ${err.message}`);
  process.exit(3);
});
server.listen(Number(port), '127.0.0.1', () => {
  writeFileSync(`${stateDir}/ready`, String(process.pid));
});
